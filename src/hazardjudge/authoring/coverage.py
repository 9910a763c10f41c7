"""What the YAML test cases cover: clauses per document version, and condition branches per rule.

A branch is one conjunction the compiler turned into a durable rule; a test
exercises it when that durable rule fired during the case. Branches for
"not applicable" and for the sector scope count too, since each is a way the
clause can be decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, select_autoescape

from hazardjudge.api import Engine
from hazardjudge.authoring.testing import CaseResult, run_all
from hazardjudge.engine.compiling import NAMED_PREFIX
from hazardjudge.engine.models import Outcome
from hazardjudge.outputs.describing import describe_branch


@dataclass
class Branch:
    outcome: str
    description: str
    hit: bool


@dataclass
class RuleCoverage:
    rule: str
    cites: list[str]
    branches: list[Branch]

    @property
    def hit(self) -> int:
        return sum(b.hit for b in self.branches)


@dataclass
class ClauseCoverage:
    clause: str
    summary: str
    decides: bool
    verification: str
    rules: list[str]
    tested: dict[str, int] = field(default_factory=dict)  # expected outcome → passing cases

    @property
    def complete(self) -> bool:
        if not self.decides:
            return True
        need = {Outcome.triggered.value, Outcome.not_triggered.value}
        return bool(self.rules) and self.verification != "unverified" and need <= {k for k, v in self.tested.items() if v}


@dataclass
class VersionCoverage:
    key: str
    title: str
    number: str
    clauses: list[ClauseCoverage]
    rules: list[RuleCoverage]

    @property
    def deciding(self) -> list[ClauseCoverage]:
        return [c for c in self.clauses if c.decides]


def compute(engine: Engine, results: list[CaseResult] | None = None) -> list[VersionCoverage]:
    results = results if results is not None else run_all(engine)
    fired: set[str] = set()
    for r in results:
        fired |= r.fired
    tested: dict[tuple[str, str], dict[str, int]] = {}
    for r in results:
        if not r.passed:
            continue
        for clause in r.case.source.item.cites:
            counts = tested.setdefault((r.case.document_key, clause), {})
            counts[r.case.case.expect.value] = counts.get(r.case.case.expect.value, 0) + 1
    facts = engine.bundle.facts
    out = []
    for key, version in engine.bundle.documents.items():
        compiled = engine.compiled.documents.get(key)
        if compiled is None:
            continue
        encoded: dict[str, list[str]] = {}
        for info in compiled.targets.values():
            for c in info.cites:
                encoded.setdefault(c, []).append(info.id)
        # The sector scope is part of every pattern (asked, or named by the caller); it is
        # tested once for the sector, not per rule, so branches are compared without it.
        scope = set(engine.compiled.scope_targets[f"scope:{compiled.sector}"].reads) | {NAMED_PREFIX + compiled.sector}
        rules = []
        for info in compiled.targets.values():
            seen: dict[tuple, Branch] = {}
            for rs in compiled.element_rulesets:
                for name, fire in rs.fires.items():
                    if fire.target != info.id or fire.outcome is None:
                        continue
                    own = tuple(a for a in fire.branch if a.fact not in scope)
                    if not own and fire.outcome is Outcome.not_applicable:
                        continue
                    branch_key = (fire.outcome, frozenset(own))
                    branch = seen.setdefault(branch_key, Branch(fire.outcome.value, describe_branch(own, facts), False))
                    branch.hit = branch.hit or name in fired
            if seen:
                rules.append(RuleCoverage(info.id, list(info.cites), list(seen.values())))
        clauses = [
            ClauseCoverage(
                clause=cid,
                summary=entry.clause.summary,
                decides=entry.clause.decides,
                verification=entry.clause.verification.status,
                rules=encoded.get(cid, []),
                tested=tested.get((key, cid), {}),
            )
            for cid, entry in version.clauses.items()
        ]
        out.append(VersionCoverage(key, version.doc.title, version.doc.number, clauses, rules))
    return out


STATUS = {"verified": "已核验", "single_source": "单一来源", "unverified": "未核验"}


def render_text(report: list[VersionCoverage]) -> str:
    lines = []
    for v in report:
        deciding = v.deciding
        lines.append(f"{v.key}《{v.title}》{v.number}")
        lines.append(
            f"  判定条款 {len(deciding)} 项：已编码 {sum(bool(c.rules) for c in deciding)}，"
            f"已核验 {sum(c.verification == 'verified' for c in deciding)}，"
            f"单一来源 {sum(c.verification == 'single_source' for c in deciding)}，"
            f"未核验 {sum(c.verification == 'unverified' for c in deciding)}，"
            f"测试完整 {sum(c.complete for c in deciding)}"
        )
        for c in deciding:
            t = c.tested
            tests = f"触发 {t.get('triggered', 0)} / 未触发 {t.get('not_triggered', 0)} / 无法判定 {t.get('undetermined', 0)}"
            mark = "✓" if c.complete else "✗"
            lines.append(f"  {mark} {c.clause:<10} {STATUS[c.verification]:<5} {', '.join(c.rules) or '（未编码）'}  {tests}")
        total = sum(len(r.branches) for r in v.rules)
        hit = sum(r.hit for r in v.rules)
        lines.append(f"  条件分支覆盖：{hit}/{total}")
        for r in v.rules:
            for b in r.branches:
                if not b.hit:
                    lines.append(f"    未覆盖 {r.rule} → {b.outcome}：{b.description}")
        lines.append("")
    return "\n".join(lines)


_env = Environment(loader=PackageLoader("hazardjudge.authoring", "templates"), autoescape=select_autoescape(["html"]))


def render_html(report: list[VersionCoverage]) -> str:
    return _env.get_template("coverage.html").render(report=report, status=STATUS)
