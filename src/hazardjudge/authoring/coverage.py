"""What the YAML test cases cover: clauses per document version, and condition branches per rule.

A branch is one conjunction the compiler turned into a durable rule; a test
exercises it when that durable rule fired during the case. Branches for
"not applicable" and for the sector scope count too, since each is a way the
clause can be decided.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, select_autoescape

from hazardjudge import clock
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
    sector: str = ""
    sector_title: str = ""
    issuer: str = ""
    effective: dt.date | None = None
    superseded: dt.date | None = None
    in_force: bool = False  # on the report's date
    layer: str = ""
    # Parts recorded as unread or not encoded (beyond the deciding clauses): each a gap.
    parts: list[str] = field(default_factory=list)
    identity: str = "unrecorded"  # how the document's own facts were checked
    identity_unverified: list[str] = field(default_factory=list)

    @property
    def deciding(self) -> list[ClauseCoverage]:
        return [c for c in self.clauses if c.decides]

    @property
    def encoded(self) -> int:
        return sum(bool(c.rules) for c in self.deciding)

    @property
    def verified(self) -> int:
        return sum(c.verification == "verified" for c in self.deciding)

    @property
    def gaps(self) -> int:
        """Deciding clauses that are unverified or encoded by no rule, and unread or unencoded parts."""
        return sum(c.verification == "unverified" or not c.rules for c in self.deciding) + len(self.parts)

    @property
    def identity_only(self) -> bool:
        return not self.rules and not any(c.rules for c in self.clauses)

    @property
    def status(self) -> str:
        if self.identity_only:
            return "仅登记，未编码"
        return "已编码" if not self.gaps else "部分编码"


def compute(engine: Engine, results: list[CaseResult] | None = None, on: dt.date | None = None) -> list[VersionCoverage]:
    """Coverage of every document version with a sector, in sector order; ``in_force`` on ``on`` (today)."""
    on = on or clock.today()
    results = results if results is not None else run_all(engine)
    fired: set[str] = set()
    for r in results:
        fired |= r.fired
    tested: dict[tuple[str, str], dict[str, int]] = {}
    for r in results:
        if not r.passed:
            continue
        for clause in r.case.source.item.all_cites:
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
            for c in info.source.item.all_cites if info.source else info.cites:
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
        doc = version.doc
        sector = engine.bundle.sectors[compiled.sector].model
        out.append(
            VersionCoverage(
                key, doc.title, doc.number, clauses, rules,
                sector=compiled.sector, sector_title=sector.title, issuer=doc.issuer,
                effective=doc.effective, superseded=doc.superseded, in_force=doc.in_force(on),
                layer=version.located.layer, parts=list(doc.unread_parts) + list(doc.not_encoded),
                identity=doc.identity.status if doc.identity else "unrecorded",
                identity_unverified=list(doc.identity.unverified) if doc.identity else [],
            )
        )
    out.sort(key=lambda v: (v.sector, v.effective))
    return out


STATUS = {"verified": "已核验", "single_source": "单一来源", "unverified": "未核验", "unrecorded": "未记录"}


def in_force_lines(report: list[VersionCoverage]) -> list[str]:
    """One line per version in force: the list the README's sector list must match."""
    lines = []
    for v in report:
        if not v.in_force:
            continue
        layer = f"，{v.layer} 层" if v.layer not in ("shipped", "base") else ""
        unverified = f"（未核实：{'、'.join(v.identity_unverified)}）" if v.identity_unverified else ""
        lines.append(
            f"  {v.sector_title}（{v.sector}）《{v.title}》{v.number}，{v.effective.isoformat()} 起：{v.status}；"
            f"判定条款 {len(v.deciding)} 项，已编码 {v.encoded}，已核验 {v.verified}，缺口 {v.gaps}；"
            f"文件信息{STATUS[v.identity]}{unverified}{layer}"
        )
    return lines


def render_text(report: list[VersionCoverage], on: dt.date | None = None) -> str:
    current = in_force_lines(report)
    lines = [f"现行判定标准（{(on or clock.today()).isoformat()}，{len(current)} 个）：", *current, ""]
    for v in report:
        deciding = v.deciding
        lines.append(f"{v.key}《{v.title}》{v.number}")
        lines.append(
            f"  判定条款 {len(deciding)} 项：已编码 {sum(bool(c.rules) for c in deciding)}，"
            f"已核验 {sum(c.verification == 'verified' for c in deciding)}，"
            f"单一来源 {sum(c.verification == 'single_source' for c in deciding)}，"
            f"未核验 {sum(c.verification == 'unverified' for c in deciding)}，"
            f"测试完整 {sum(c.complete for c in deciding)}"
            + (f"；另有未取得或未编码的部分 {len(v.parts)} 处" if v.parts else "")
        )
        for part in v.parts:
            lines.append(f"  ✗ {part}")
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
