"""公路水运工程 (《公路水运工程生产安全重大事故隐患判定标准》交办安监〔2025〕28号, 2025-04-14): whole-document
behaviour beyond each rule's YAML cases. Two reposts were read, each cut off early: 第四条（一） (verified) and
第四条（二） (single_source) are encoded; 第四条（三） onward and every later article are declared under unread_parts.
So a violation of an encoded item is found, and no answers whatever can make the document conclude "none"."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs import checklists
from hazardjudge.inputs.inspections import parse_inspection

from boundaries import check_version_boundary

ON = dt.date(2026, 11, 20)
SECTOR = "highway_waterway_construction"
KEY = "highway_waterway_construction_major_hazard@2025"
ITEMS = ["第四条（一）", "第四条（二）"]


def project(verdict):
    return next(d for d in verdict.documents if d.sector == SECTOR)


def judge(shipped, facts, on=ON):
    return project(shipped.judge(facts, on=on, sectors=[SECTOR]))


def clean(shipped):
    """Every encoded question answered with no failure."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("hwc.") and f.type is FactType.boolean}
    facts["site.kinds"] = [SECTOR]
    return facts


def test_the_items_read_are_encoded_once_with_their_verification(shipped):
    doc = judge(shipped, {"site.kinds": [SECTOR]})
    assert doc.document.version == "2025" and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS)
    by_clause = {c.clause: c.verification for r in doc.results for c in r.citations}
    assert by_clause == {"第四条（一）": "verified", "第四条（二）": "single_source"}


def test_a_clean_fully_answered_project_is_never_none(shipped):
    # 第四条（三） onward and 第五条 onward were not read: they stay gaps whatever is answered.
    parts = shipped.bundle.documents[KEY].doc.unread_parts
    assert len(parts) == 2 and parts[0].startswith("第四条（三）") and parts[1].startswith("第五条")
    doc = judge(shipped, clean(shipped))
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined and doc.gaps
    verdict = shipped.judge({**clean(shipped), "fire.in_scope": False}, on=ON)
    assert verdict.outcome is not OverallOutcome.none and OverallOutcome.none not in verdict.possible_outcomes


@pytest.mark.parametrize("fact, clause", [("hwc.contractor_unlicensed", "第四条（一）"), ("hwc.key_staff_uncertified", "第四条（二）")])
def test_an_encoded_violation_is_a_major_hazard(shipped, fact, clause):
    facts = clean(shipped)
    facts[fact] = True
    doc = judge(shipped, facts)
    assert doc.outcome is DocumentOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == [clause]


def test_unanswered_questions_are_undetermined_not_a_finding(shipped):
    doc = judge(shipped, {"site.kinds": [SECTOR], "hwc.key_staff_uncertified": False})
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert by_clause == {"第四条（一）": Outcome.undetermined, "第四条（二）": Outcome.not_triggered}
    assert doc.outcome is DocumentOutcome.undetermined


@pytest.mark.parametrize("day, version", [(dt.date(2025, 4, 13), None), (dt.date(2025, 4, 14), "2025")])
def test_version_boundaries(shipped, day, version):
    check_version_boundary(shipped, SECTOR, {"hwc.contractor_unlicensed": True}, day, version, "第四条（一）")


def test_the_project_is_asked_the_encoded_questions_and_the_checklist_has_no_identity_note(shipped):
    verdict = shipped.judge({"site.kinds": [SECTOR], "fire.in_scope": False}, on=ON)
    asked = {q.id for q in verdict.questions}
    assert {"hwc.contractor_unlicensed", "hwc.key_staff_uncertified"} <= asked
    assert "本工具尚未编码其条文" not in verdict.outcome_label
    cl = checklists.build(shipped, ON, None, {"site.kinds": [SECTOR], "fire.in_scope": False})
    assert {"hwc.contractor_unlicensed", "hwc.key_staff_uncertified"} <= {i.fact for i in cl.items}
    assert not cl.notes  # partly encoded, not identity-only


def test_a_building_site_is_not_asked(shipped):
    verdict = shipped.judge({"site.kinds": ["construction_site"], "fire.in_scope": False}, on=ON)
    assert not {q.id for q in verdict.questions} & {"hwc.contractor_unlicensed", "hwc.key_staff_uncertified"}


def test_the_example_is_a_major_hazard(shipped):
    parsed = parse_inspection((example_dir() / "highway_waterway_construction.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = project(verdict)
    assert doc.document.version == "2025" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第四条（一）"]
    assert all(r.outcome is Outcome.not_triggered for r in doc.results if r is not hit)
