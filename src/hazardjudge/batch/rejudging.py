"""``rejudge``: judge stored inspections under an old and a new bundle and say what moves.

This is a province's impact report when criteria change: which inspections change
outcome, which clauses newly find or no longer find a major hazard, and how many per
sector and per kind of change. Each record is read once and judged by both engines in the
same worker; only the changes travel back, and the report keeps counts and the first
few examples, so a million records need no more memory than ten.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO

from pydantic import BaseModel, ConfigDict, Field

from hazardjudge.api import Engine
from hazardjudge.batch.judging import Record, judge_inspection, parse
from hazardjudge.batch.running import LineWriter, Summary, results
from hazardjudge.batch.sources import Source
from hazardjudge.batch.views import LineError
from hazardjudge.engine.models import DocumentOutcome, Outcome, Verdict
from hazardjudge.errors import HazardJudgeError

#: how many changed inspections the report itself lists (all of them go to --changes)
EXAMPLES = 20

CHANGE_KINDS = ("new_finding", "finding_dropped", "finding_now_open", "citation_changed", "now_open", "now_decided")


@dataclass(frozen=True)
class RejudgeJob:
    old: Engine
    new: Engine
    today: dt.date


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ClauseChange(_Frozen):
    """One rule or combination whose outcome (or cited clauses) differ between the bundles."""

    kind: str = Field(description="one of " + ", ".join(CHANGE_KINDS))
    sector: str
    rule: str
    old: str = Field(description="the rule's outcome under the old bundle, or absent")
    new: str
    old_citations: list[str] = Field(description="e.g. 'GB 35181-2017 4.2'")
    new_citations: list[str]


class SectorChange(_Frozen):
    sector: str
    old: str = Field(description="the document outcome, or absent when the bundle has no such sector")
    new: str


class InspectionChange(_Frozen):
    id: str | int | None
    line: int
    old: str = Field(description="overall outcome under the old bundle, or input_error")
    new: str
    sectors: list[SectorChange] = Field(default_factory=list)
    clauses: list[ClauseChange] = Field(default_factory=list)
    errors: list[LineError] = Field(default_factory=list, description="why a side could not judge it")


class Compared(NamedTuple):
    line: int
    id: Any
    old: str
    new: str
    change: InspectionChange | None  # None: the same outcome and clauses
    errors: list[dict[str, Any]]  # when neither bundle could judge it
    internal: bool


def _rules(v: Verdict) -> dict[tuple[str, str], tuple[str, list[str]]]:
    out = {}
    for d in v.documents:
        for r in d.results:
            if r.kind != "exclusion" and r.major:
                out[(d.sector, r.rule)] = (r.outcome.value, [f"{c.number} {c.clause}" for c in r.citations])
    return out


def _sectors(v: Verdict) -> dict[str, str]:
    return {d.sector: d.outcome.value for d in v.documents}


def _kind(old: str, new: str, same_citations: bool) -> str | None:
    t, u = Outcome.triggered.value, Outcome.undetermined.value
    if new == t:
        return "new_finding" if old != t else (None if same_citations else "citation_changed")
    if old == t:
        return "finding_now_open" if new == u else "finding_dropped"
    if new == u and old != u:
        return "now_open"
    if old == u and new != u:
        return "now_decided"
    return None


def compare(old: Verdict, new: Verdict) -> tuple[list[SectorChange], list[ClauseChange]]:
    a, b = _sectors(old), _sectors(new)
    sectors = [SectorChange(sector=s, old=a.get(s, "absent"), new=b.get(s, "absent")) for s in sorted(a.keys() | b.keys()) if a.get(s) != b.get(s)]
    ra, rb = _rules(old), _rules(new)
    clauses = []
    for key in sorted(ra.keys() | rb.keys()):
        (oa, ca), (ob, cb) = ra.get(key, ("absent", [])), rb.get(key, ("absent", []))
        kind = _kind(oa, ob, ca == cb)
        if kind:
            clauses.append(ClauseChange(kind=kind, sector=key[0], rule=key[1], old=oa, new=ob, old_citations=ca, new_citations=cb))
    return sectors, clauses


def _judge(engine: Engine, parsed, today: dt.date) -> Verdict | list[LineError]:
    try:
        return judge_inspection(engine, parsed, today)
    except HazardJudgeError as exc:
        return [LineError.of(p) for p in exc.problems]


def compare_record(job: RejudgeJob, record: Record) -> Compared:
    ident = record.id
    try:
        if record.form == "unreadable":
            return Compared(record.line, ident, "input_error", "input_error", None, [LineError(code="input.unreadable", message=record.text).model_dump()], False)
        try:
            ident, parsed = parse(record)
        except HazardJudgeError as exc:
            errors = [LineError.of(p).model_dump() for p in exc.problems]
            return Compared(record.line, getattr(exc, "id", ident), "input_error", "input_error", None, errors, False)
        old, new = _judge(job.old, parsed, job.today), _judge(job.new, parsed, job.today)
    except Exception as exc:  # a bug on one record must not lose the others
        message = f"内部错误（请连同此行输入一起报告）：{type(exc).__name__}：{exc}".splitlines()[0]
        return Compared(record.line, ident, "input_error", "input_error", None, [{"code": "batch.internal", "message": message, "hint": None}], True)
    if isinstance(old, list) and isinstance(new, list):
        return Compared(record.line, ident, "input_error", "input_error", None, [e.model_dump() for e in new], False)
    if isinstance(old, list) or isinstance(new, list):
        # Readable under one bundle only (a question added or removed): a change, with the reason.
        errors = old if isinstance(old, list) else new
        o = "input_error" if isinstance(old, list) else old.outcome.value
        n = "input_error" if isinstance(new, list) else new.outcome.value
        return Compared(record.line, ident, o, n, InspectionChange(id=ident, line=record.line, old=o, new=n, errors=errors), [], False)
    sectors, clauses = compare(old, new)
    o, n = old.outcome.value, new.outcome.value
    change = InspectionChange(id=ident, line=record.line, old=o, new=n, sectors=sectors, clauses=clauses) if (o != n or sectors or clauses) else None
    return Compared(record.line, ident, o, n, change, [], False)


def compare_chunk(job: RejudgeJob, records: list[Record]) -> list[Compared]:
    return [compare_record(job, r) for r in records]


# ---------------------------------------------------------------------------- the report


class RejudgeReport(BaseModel):
    old_bundle: str
    new_bundle: str
    inspections: int = Field(0, description="records read")
    failed: int = Field(0, description="records neither bundle could judge (listed in the error stream)")
    outcome_changed: int = 0
    clauses_changed: int = Field(0, description="same overall outcome, but some sector or clause changed")
    unchanged: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict, description="'old→new' overall outcome: inspections")
    by_kind: dict[str, int] = Field(default_factory=dict, description="change kind: clause changes")
    by_sector: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="sector: {change kind: clause changes, 'old→new' document outcome: inspections}"
    )
    examples: list[InspectionChange] = Field(default_factory=list, description=f"the first {EXAMPLES} changed inspections")


class Tally:
    """Counts as results stream by; the report at the end."""

    def __init__(self, old: Engine, new: Engine) -> None:
        self.report = RejudgeReport(old_bundle=old.bundle.fingerprint, new_bundle=new.bundle.fingerprint)
        self.outcomes: Counter = Counter()
        self.kinds: Counter = Counter()
        self.sectors: dict[str, Counter] = defaultdict(Counter)
        self.examples: list[InspectionChange] = []
        self.counts = Counter()

    def add(self, c: Compared) -> None:
        self.counts["inspections"] += 1
        if c.errors:
            self.counts["failed"] += 1
            return
        if c.change is None:
            self.counts["unchanged"] += 1
            return
        if c.old != c.new:
            self.counts["outcome_changed"] += 1
            self.outcomes[f"{c.old}→{c.new}"] += 1
        else:
            self.counts["clauses_changed"] += 1
        for s in c.change.sectors:
            self.sectors[s.sector][f"{s.old}→{s.new}"] += 1
        for cl in c.change.clauses:
            self.kinds[cl.kind] += 1
            self.sectors[cl.sector][cl.kind] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(c.change)

    def result(self) -> RejudgeReport:
        return self.report.model_copy(
            update={
                **{k: self.counts[k] for k in ("inspections", "failed", "outcome_changed", "clauses_changed", "unchanged")},
                "outcomes": dict(sorted(self.outcomes.items())),
                "by_kind": {k: self.kinds[k] for k in CHANGE_KINDS if self.kinds[k]},
                "by_sector": {s: dict(sorted(c.items())) for s, c in sorted(self.sectors.items())},
                "examples": self.examples,
            }
        )


OUTCOME_ZH = {
    "major": "存在重大隐患",
    "none": "未发现重大隐患",
    "undetermined": "无法判定",
    "input_error": "无法读取",
    "not_applicable": "不适用",
    "no_version_in_force": "无现行版本",
    "absent": "无此项",
    "triggered": "构成",
    "not_triggered": "不构成",
    "excluded": "属排除情形",
}
KIND_ZH = {
    "new_finding": "新增重大隐患",
    "finding_dropped": "不再构成重大隐患",
    "finding_now_open": "由构成变为无法判定",
    "citation_changed": "仍构成，但依据条款改变",
    "now_open": "变为无法判定",
    "now_decided": "由无法判定变为可判定（不构成）",
}


def _transition(key: str) -> str:
    old, new = key.split("→")
    return f"{OUTCOME_ZH.get(old, old)} → {OUTCOME_ZH.get(new, new)}"


def _clause_text(c: ClauseChange) -> str:
    cites = "、".join(c.new_citations or c.old_citations)
    return f"{KIND_ZH[c.kind]}：{cites}（{c.rule}，{OUTCOME_ZH.get(c.old, c.old)} → {OUTCOME_ZH.get(c.new, c.new)}）"


def render_text(report: RejudgeReport, sector_titles: dict[str, str] | None = None) -> str:
    titles = sector_titles or {}
    r = report
    lines = [
        f"重新判定 {r.inspections} 条检查记录（旧规则包 {r.old_bundle} → 新规则包 {r.new_bundle}）：",
        f"  结论改变 {r.outcome_changed} 条，结论未变但行业或条款改变 {r.clauses_changed} 条，无变化 {r.unchanged} 条，两版均无法读取 {r.failed} 条",
    ]
    if r.outcomes:
        lines.append("结论变化（检查记录数）：")
        lines += [f"  {_transition(k)}：{n}" for k, n in r.outcomes.items()]
    if r.by_kind:
        lines.append("条款变化（次数）：")
        lines += [f"  {KIND_ZH[k]}：{n}" for k, n in r.by_kind.items()]
    if r.by_sector:
        lines.append("按行业：")
        for sector, counts in r.by_sector.items():
            parts = [f"{KIND_ZH[k]} {n}" for k, n in counts.items() if k in KIND_ZH]
            parts += [f"结论 {_transition(k)} {n} 条" for k, n in counts.items() if "→" in k]
            title = f"（{titles[sector]}）" if sector in titles else ""
            lines.append(f"  {sector}{title}：" + "；".join(parts))
    if r.examples:
        lines.append(f"改变的检查记录（前 {len(r.examples)} 条）：")
        for ex in r.examples:
            lines.append(f"  {ex.id}（第 {ex.line} 行）：{OUTCOME_ZH.get(ex.old, ex.old)} → {OUTCOME_ZH.get(ex.new, ex.new)}")
            lines += [f"    {_clause_text(c)}" for c in ex.clauses]
            lines += [f"    {'旧' if ex.old == 'input_error' else '新'}规则包无法读取：[{e.code}] {e.message}" for e in ex.errors]
    return "\n".join(lines) + "\n"


def run_rejudge(
    source: Source, job: RejudgeJob, *, workers: int, dask: str | None, changes: str | None, errors: str | None, stderr: TextIO, progress: bool,
    own_process: bool = False,
) -> tuple[RejudgeReport, Summary]:
    """Compare every record; changed ones to ``changes`` (JSON Lines) as they come, in input order."""
    t = Tally(job.old, job.new)
    summary = Summary()
    started = time.monotonic()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=source.count(), unit="条", file=stderr, dynamic_ncols=True, smoothing=0.05)
    out = LineWriter(changes) if changes else None
    err = LineWriter(errors) if errors else None
    try:
        for c in results(compare_chunk, job, source.records(), workers, dask, own_process):
            t.add(c)
            if c.errors:
                summary.failed += 1
                summary.internal += c.internal
                if err:
                    err.write(json.dumps({"line": c.line, "id": c.id, "source": source.name, "errors": c.errors}, ensure_ascii=False))
                else:
                    for e in c.errors:
                        text = f"{source.name}:{c.line}: error: [{e['code']}] {e['message']}"
                        (bar.write(text, file=stderr) if bar else print(text, file=stderr))
            else:
                summary.outcomes[c.new] += 1
            if out and c.change is not None:
                out.write(c.change.model_dump_json())
            if bar:
                bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        for w in (out, err):
            if w:
                w.close()
        if bar:
            bar.close()
        summary.seconds = time.monotonic() - started
    return t.result(), summary
