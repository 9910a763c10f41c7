"""教育 (《教育系统重大事故隐患判定指南》教发厅函〔2024〕20号): the nine items read of 第三条（一）, the declared gaps
and the version boundary, beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest
from boundaries import check_version_boundary

from hazardjudge.engine.models import DocumentOutcome, FactType, OverallOutcome, Outcome

ON = dt.date(2026, 11, 20)
ITEMS = [f"第三条（一）{n}" for n in range(1, 10)]
SINGLE_SOURCE = {"第三条（一）8", "第三条（一）9"}


def education(verdict):
    return next(d for d in verdict.documents if d.sector == "education")


def clean(shipped):
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("edu.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["school"], "edu.exit_width_total_m": 12, "edu.exit_width_required_m": 10})
    return facts


def judge(shipped, facts, on=ON):
    return education(shipped.judge(facts, on=on, sectors=["education"]))


def test_the_nine_items_read_are_encoded_once(shipped):
    doc = judge(shipped, {"site.kinds": ["school"]})
    assert doc.document.number == "教发厅函〔2024〕20号" and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS)
    status = {c.clause: c.verification for r in doc.results for c in r.citations}
    assert {k for k, v in status.items() if v == "single_source"} == SINGLE_SOURCE
    assert {k for k, v in status.items() if v == "verified"} == set(ITEMS) - SINGLE_SOURCE


def test_a_clean_school_is_never_none(shipped):
    # 第三条（一）10 onward and every later article were not read: the document stays open.
    doc = judge(shipped, clean(shipped))
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined and doc.gaps
    assert any("10" in g.clause for g in doc.gaps)


def test_one_item_met_is_a_major_hazard(shipped):
    facts = clean(shipped) | {"edu.ebike_in_building": True}
    verdict = shipped.judge(facts, on=ON, sectors=["education"])
    doc = education(verdict)
    assert doc.outcome is DocumentOutcome.major and verdict.outcome is OverallOutcome.major
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第三条（一）6"]


@pytest.mark.parametrize("width, major", [(7.99, True), (8, False), (8.01, False)])
def test_exit_width_boundary_at_80_percent(shipped, width, major):
    facts = clean(shipped) | {"edu.exit_width_total_m": width, "edu.exit_width_required_m": 10}
    (result,) = [r for r in judge(shipped, facts).results if r.rule == "edu2024.3-1-8"]
    assert result.outcome is (Outcome.triggered if major else Outcome.not_triggered)


def test_a_single_source_item_says_so_when_cited(shipped):
    facts = clean(shipped) | {"edu.crowded_place_window_obstacles": True}
    doc = judge(shipped, facts)
    (result,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.verification for c in result.citations] == ["single_source"]


@pytest.mark.parametrize("day, version", [(dt.date(2024, 6, 23), None), (dt.date(2024, 6, 24), "2024"), (ON, "2024")])
def test_version_boundaries(shipped, day, version):
    # 2024-06-24 (the publication date, effective date unverified) is the first day; nothing before it is recorded.
    facts = clean(shipped) | {"edu.ebike_in_building": True}
    check_version_boundary(shipped, "education", facts, day, version, "第三条（一）6")


@pytest.mark.parametrize("kinds", [["other"], ["industry_trade"], ["water_conservancy"]])
def test_other_units_are_not_applicable(shipped, kinds):
    doc = education(shipped.judge({"site.kinds": kinds, "edu.ebike_in_building": True}, on=ON))
    assert doc.outcome is DocumentOutcome.not_applicable and "学校" in doc.outcome_label


def test_a_school_is_asked_the_encoded_questions(shipped):
    verdict = shipped.judge({"site.kinds": ["school"], "fire.in_scope": False}, on=ON)
    asked = {q.id for q in verdict.questions}
    assert {"edu.ebike_in_building", "edu.exit_width_total_m", "edu.exit_width_required_m"} <= asked
