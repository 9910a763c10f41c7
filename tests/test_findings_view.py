"""The batch's findings view built from a decisive-only verdict is, byte for byte, the one built
from the full verdict.

``Engine.judge(decisive_only=True)`` skips the results a findings line never reads (clauses not
triggered, not applicable, excluded, exclusions, non-major items) and the questions. Every
shipped example and every YAML rule case is judged both ways, by the same shared engine, and
the two findings lines must be identical; so must the outcome and label of the verdict and of
each document.
"""

from __future__ import annotations

from pathlib import Path

from hazardjudge.authoring.testing import case_date, iter_cases
from hazardjudge.batch.views import findings_line
from hazardjudge.engine.models import Outcome
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "notice.yaml")


def _inputs(engine) -> list[tuple[str, tuple, dict]]:
    out = [(p.name, (parse_inspection(p.read_text(encoding="utf-8")).inspection,), {}) for p in EXAMPLES]
    for case in iter_cases(engine):
        sectors = case.case.sectors if case.case.sectors is not None else [case.source.sector]
        out.append((case.id, (case.facts,), {"on": case_date(engine, case), "sectors": sectors}))
    return out


def test_decisive_only_verdicts_give_the_same_findings_lines(shipped):
    inputs = _inputs(shipped)
    assert len(inputs) > len(EXAMPLES) + 1000
    differing, judged, lean_smaller = [], 0, 0
    for line, (name, args, kwargs) in enumerate(inputs, 1):
        try:
            full = shipped.judge(*args, **kwargs)
        except InputError:
            continue
        lean = shipped.judge(*args, decisive_only=True, **kwargs)
        judged += 1
        want = findings_line(name, line, full).model_dump_json()
        got = findings_line(name, line, lean).model_dump_json()
        heads = lambda v: (v.outcome, v.outcome_label, v.pending, v.provisional, [(d.outcome, d.outcome_label) for d in v.documents])
        if got != want or heads(lean) != heads(full):
            differing.append(name)
        # What it leaves out is only what a findings line does not read.
        for d in lean.documents:
            for r in d.results:
                assert r.kind != "exclusion" and r.major and r.outcome in (Outcome.triggered, Outcome.undetermined), (name, r.rule)
        lean_smaller += sum(len(d.results) for d in lean.documents) < sum(len(d.results) for d in full.documents)
    assert judged > 1000
    assert lean_smaller > 0
    assert differing == []
