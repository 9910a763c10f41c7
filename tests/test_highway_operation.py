"""公路运营 (《公路运营领域重大事故隐患判定标准》交办公路〔2023〕59号, 2023-10-08): whole-document behaviour beyond
each rule's YAML cases. Two copies were read up to 第七条（二）'s first words: 第五条, 第六条 and 第七条（一） are
encoded and verified; 第七条（二） onward and the 违法违规行为 article are declared under unread_parts. So a violation
of an encoded item is found, a unit is asked about bridges and tunnels only if it has them (ho.parts), and no answers
whatever can make the document conclude "none"."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs import checklists
from hazardjudge.inputs.inspections import parse_inspection

ON = dt.date(2026, 11, 20)
KEY = "highway_operation_major_hazard@2023"
ITEMS = ["第五条", "第六条", "第七条（一）"]


def highway(verdict):
    return next(d for d in verdict.documents if d.sector == "highway_operation")


def judge(shipped, facts, on=ON):
    return highway(shipped.judge(facts, on=on, sectors=["highway_operation"]))


def clean(shipped, parts=("bridge", "tunnel")):
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("ho.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["highway_operator"], "ho.parts": list(parts)})
    return facts


def test_the_items_read_are_encoded_once_and_verified(shipped):
    doc = judge(shipped, {"site.kinds": ["highway_operator"]})
    assert doc.document.version == "2023" and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS)
    assert {c.verification for r in doc.results for c in r.citations} == {"verified"}


@pytest.mark.parametrize("parts", [("bridge", "tunnel"), ("bridge",), ()])
def test_a_clean_fully_answered_unit_is_never_none(shipped, parts):
    # 第七条（二） onward and 第八条 were not read: they stay gaps whatever is answered.
    assert len(shipped.bundle.documents[KEY].doc.unread_parts) == 2
    doc = judge(shipped, clean(shipped, parts))
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined and doc.gaps
    verdict = shipped.judge({**clean(shipped, parts), "fire.in_scope": False}, on=ON)
    assert OverallOutcome.none not in verdict.possible_outcomes


@pytest.mark.parametrize("day, version", [(dt.date(2023, 10, 7), None), (dt.date(2023, 10, 8), "2023")])
def test_version_boundaries(shipped, day, version):
    verdict = shipped.judge({"ho.parts": ["bridge"], "ho.class5_bridge_open": True}, on=day, sectors=["highway_operation"])
    (doc,) = verdict.documents
    if version is None:
        assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None
    else:
        assert doc.document.version == version and doc.outcome is DocumentOutcome.major
        (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
        assert [c.clause for c in hit.citations] == ["第五条"]


def test_a_unit_without_tunnels_is_not_asked_article_six(shipped):
    verdict = shipped.judge({"site.kinds": ["highway_operator"], "fire.in_scope": False, "ho.parts": ["bridge"]}, on=ON)
    asked = {q.id for q in verdict.questions}
    assert {"ho.class5_bridge_open", "ho.roadside_facility_unprotected"} <= asked and "ho.class5_tunnel_open" not in asked
    cl = checklists.build(shipped, ON, None, {"site.kinds": ["highway_operator"], "fire.in_scope": False, "ho.parts": ["tunnel"]})
    facts = {i.fact for i in cl.items}
    assert "ho.class5_tunnel_open" in facts and "ho.class5_bridge_open" not in facts
    assert not cl.notes


def test_unknown_parts_are_neither_a_finding_nor_not_applicable(shipped):
    facts = clean(shipped)
    del facts["ho.parts"]
    facts["ho.class5_tunnel_open"] = True
    by_clause = {r.citations[0].clause: r.outcome for r in judge(shipped, facts).results}
    assert by_clause["第五条"] is Outcome.undetermined and by_clause["第六条"] is Outcome.undetermined


def test_the_example_is_a_major_hazard(shipped):
    parsed = parse_inspection((example_dir() / "highway_operation.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = highway(verdict)
    assert doc.document.version == "2023" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第六条"]
