"""Confined space: one set of answers, routed by the unit type to the right document and clauses."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.models import DocumentOutcome, Outcome

NO_GUARDIAN = {
    "cs.has_work": True, "cs.poison_risk": True, "cs.identified": True, "cs.ledger": True, "cs.warning_signs": True,
    "cs.approval": True, "cs.training": True, "cs.ventilate_test_first": True, "cs.guardian": False,
    "cs.safety_officer": True, "cs.equipment": True,
}


def triggered(verdict):
    return {(d.sector, c.clause) for d in verdict.documents for r in d.results if r.outcome is Outcome.triggered for c in r.citations}


@pytest.mark.parametrize(
    ("kind", "on", "expected"),
    [
        ("industry_trade", dt.date(2026, 11, 1), {("industry_trade", "第十三条"), ("industry_trade", "第十三条（二）")}),
        ("construction_site", dt.date(2026, 11, 1), {("construction", "第十一条（三）")}),
        ("construction_site", dt.date(2024, 6, 1), {("construction", "第十一条（二）")}),
    ],
)
def test_the_same_answers_reach_the_document_that_applies(shipped, kind, on, expected):
    verdict = shipped.judge({"site.kinds": [kind], "fire.in_scope": False, **NO_GUARDIAN}, on=on)
    assert triggered(verdict) == expected
    applied = [d for d in verdict.documents if d.outcome is DocumentOutcome.major]
    assert len(applied) == 1
    # The verdict says why this document applied: the unit type it read.
    assert [f.id for f in applied[0].applicability_facts] == ["site.kinds"]
    others = [d for d in verdict.documents if d.sector in ("industry_trade", "construction") and d not in applied]
    assert all(d.outcome is DocumentOutcome.not_applicable for d in others)


@pytest.mark.parametrize(("on", "version"), [(dt.date(2024, 12, 12), "2022"), (dt.date(2024, 12, 13), "2024")])
def test_construction_date_boundary(shipped, on, version):
    doc = next(d for d in shipped.judge({"site.kinds": ["construction_site"]}, on=on).documents if d.sector == "construction")
    assert doc.document.version == version


# Before 2023-05-15 the 2017 工贸 standard applies: it has no guardian item, so the same answers stay open.
@pytest.mark.parametrize(("on", "version", "outcome"),
                         [(dt.date(2023, 5, 14), "2017", "undetermined"), (dt.date(2023, 5, 15), "2023", "major")])
def test_industry_trade_date_boundary(shipped, on, version, outcome):
    verdict = shipped.judge({"site.kinds": ["industry_trade"], **NO_GUARDIAN}, on=on)
    doc = next(d for d in verdict.documents if d.sector == "industry_trade")
    assert (doc.document.version, doc.outcome.value) == (version, outcome)


def test_13_1_needs_both_halves(shipped):
    base = {"site.kinds": ["industry_trade"], "cs.poison_risk": True}
    doc = lambda facts: next(d for d in shipped.judge({**base, **facts}, on=dt.date(2026, 1, 1)).documents if d.sector == "industry_trade")
    rule = lambda d: next(r for r in d.results if r.rule == "ind2023.13-1").outcome
    assert rule(doc({"cs.identified": False, "cs.warning_signs": True})) is Outcome.not_triggered
    assert rule(doc({"cs.identified": True, "cs.ledger": True, "cs.warning_signs": False})) is Outcome.not_triggered
    assert rule(doc({"cs.identified": False, "cs.warning_signs": False})) is Outcome.triggered


def test_confined_space_answers_alone_do_not_make_the_document_none(shipped):
    # Every article of 令第10号 is encoded now: 第三条, 第十三条 and 第十四条 answered clean still leave the
    # industry, dust and ammonia articles open, so the document stays undetermined and asks for them.
    all_ok = {k: (v if k != "cs.guardian" else True) for k, v in NO_GUARDIAN.items()}
    verdict = shipped.judge({
        "site.kinds": ["industry_trade"], "site.special_workers_certified": True, "ind.leaders_assessed": True,
        "ind.contractor_coordination": True, "ind.contractor_inspection": True, "ind.listed_device_failed": False,
        "ind.metal_smelting": False, **all_ok,
    }, on=dt.date(2026, 1, 1))
    doc = next(d for d in verdict.documents if d.sector == "industry_trade")
    assert not doc.gaps
    undecided = {r.rule for r in doc.results if r.outcome is Outcome.undetermined}
    assert doc.outcome is DocumentOutcome.undetermined and {"ind2023.4-1", "ind2023.11-1", "ind2023.12-1"} <= undecided
    assert {"ind.industries", "ind.dust_explosion_risk", "ind.ammonia_refrigeration"} <= {q.id for q in verdict.questions}
