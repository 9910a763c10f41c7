"""道路运输和城市客运 (《道路运输企业和城市客运企业安全生产重大事故隐患判定标准（试行）》, 2023-10-01): whole-document
behaviour beyond each rule's YAML cases. Only part of the text could be read: 第三条（一）–（五）, 第四条（一） and
第六条（二） are encoded (each single_source); the rest is declared under unread_parts. So a violation of an encoded
item is found, what a unit does (rt.kinds) decides which articles it is asked, and no answers whatever can make the
document conclude "none"."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs import checklists
from hazardjudge.inputs.inspections import parse_inspection

from boundaries import check_version_boundary

ON = dt.date(2026, 11, 20)
KEY = "road_transport_major_hazard@2023"
COMMON = ["第三条（一）", "第三条（二）", "第三条（三）", "第三条（四）", "第三条（五）"]
ITEMS = COMMON + ["第四条（一）", "第六条（二）"]
ALL_KINDS = ["passenger", "dangerous_goods", "freight", "bus_station", "driver_training", "vehicle_repair",
             "urban_bus", "urban_rail", "taxi"]


def road(verdict):
    return next(d for d in verdict.documents if d.sector == "road_transport")


def judge(shipped, facts, on=ON):
    return road(shipped.judge(facts, on=on, sectors=["road_transport"]))


def clean(shipped, kinds=ALL_KINDS):
    """Every encoded question answered with no failure."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("rt.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["road_transport"], "rt.kinds": list(kinds)})
    return facts


def test_the_items_read_are_encoded_once_and_flagged_single_source(shipped):
    doc = judge(shipped, {"site.kinds": ["road_transport"]})
    assert doc.document.version == "2023" and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS)
    assert {c.verification for r in doc.results for c in r.citations} == {"single_source"}


def test_the_unread_parts_are_declared_gaps(shipped):
    parts = shipped.bundle.documents[KEY].doc.unread_parts
    assert len(parts) == 5
    assert any(p.startswith("第四条（二）") for p in parts) and any(p.startswith("第七条") for p in parts)
    doc = judge(shipped, clean(shipped))
    assert doc.gaps


@pytest.mark.parametrize("kinds", [ALL_KINDS, ["passenger"], ["dangerous_goods"], ["urban_rail"], ["taxi", "freight"]])
def test_a_clean_fully_answered_unit_is_never_none(shipped, kinds):
    # The text is partial: whatever is answered, the unread parts keep the document undetermined.
    doc = judge(shipped, clean(shipped, kinds))
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined
    verdict = shipped.judge({**clean(shipped, kinds), "fire.in_scope": False}, on=ON)
    assert verdict.outcome is not OverallOutcome.none and OverallOutcome.none not in verdict.possible_outcomes


def test_an_encoded_violation_is_a_major_hazard(shipped):
    facts = clean(shipped, ["passenger"])
    facts["rt.unlicensed_operation"] = True
    doc = judge(shipped, facts)
    assert doc.outcome is DocumentOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第三条（一）"]


@pytest.mark.parametrize("day, version", [(dt.date(2023, 9, 30), None), (dt.date(2023, 10, 1), "2023")])
def test_version_boundaries(shipped, day, version):
    facts = {"rt.kinds": ["dangerous_goods"], "rt.tank_medium_or_overload": True}
    check_version_boundary(shipped, "road_transport", facts, day, version, "第六条（二）")


def test_the_kinds_decide_which_articles_apply(shipped):
    facts = clean(shipped, ["taxi"])
    facts.update({"rt.long_route_risk_or_night_rule": True, "rt.tank_medium_or_overload": True})  # answered, but not a taxi's
    doc = judge(shipped, facts)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert {c for c, o in by_clause.items() if o is Outcome.not_triggered} == set(COMMON)
    assert by_clause["第四条（一）"] is Outcome.not_applicable and by_clause["第六条（二）"] is Outcome.not_applicable


def test_unknown_kinds_are_neither_a_finding_nor_not_applicable(shipped):
    facts = clean(shipped)
    del facts["rt.kinds"]
    facts["rt.tank_medium_or_overload"] = True
    doc = judge(shipped, facts)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert by_clause["第六条（二）"] is Outcome.undetermined and by_clause["第四条（一）"] is Outcome.undetermined
    assert doc.outcome is DocumentOutcome.undetermined


def test_a_freight_company_is_not_asked_passenger_or_tank_questions(shipped):
    verdict = shipped.judge({"site.kinds": ["road_transport"], "fire.in_scope": False, "rt.kinds": ["freight"]}, on=ON)
    asked = {q.id for q in verdict.questions}
    assert {"rt.unlicensed_operation", "rt.ran_during_severe_warning", "rt.other_legal_major_hazard"} <= asked
    assert not asked & {"rt.long_route_risk_or_night_rule", "rt.tank_medium_or_overload"}


def test_the_checklist_asks_a_dangerous_goods_carrier_what_concerns_it(shipped):
    cl = checklists.build(shipped, ON, None, {"site.kinds": ["road_transport"], "fire.in_scope": False, "rt.kinds": ["dangerous_goods"]})
    facts = {i.fact for i in cl.items}
    assert {"rt.tank_medium_or_overload", "rt.noncompliant_vehicles_or_equipment", "rt.violations_unhandled"} <= facts
    assert "rt.long_route_risk_or_night_rule" not in facts
    assert not cl.notes  # partly encoded, not identity-only: no "尚未编码其条文" note


def test_the_catch_all_is_the_inspectors_and_shows_the_description(shipped):
    facts = clean(shipped, ["urban_bus"])
    facts.update({"rt.other_legal_major_hazard": True, "rt.other_legal_major_hazard_description": "某条例规定的情形经查属实"})
    doc = judge(shipped, facts)
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第三条（五）"] and "某条例规定的情形经查属实" in hit.finding
    assert doc.outcome is DocumentOutcome.major


def test_the_example_is_a_major_hazard(shipped):
    parsed = parse_inspection((example_dir() / "road_transport.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = road(verdict)
    assert doc.document.version == "2023" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第四条（一）"]
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results if r is not hit)
