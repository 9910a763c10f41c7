"""特种设备 (GB 45067-2024, from 2024-12-01): whole-document behaviour beyond each rule's YAML cases.
All 47 lettered items of chapter 4 were read in one copy, so the 46 that decide are encoded, every one
single_source, and 4.1 d) (a cross-reference to 4.2–4.10) decides nothing. The items of 4.2–4.10 are judged
only for the kinds of equipment in se.kinds, so a unit is asked only about the equipment it has."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs.inspections import parse_inspection

from boundaries import check_version_boundary

ON = dt.date(2026, 11, 20)
#: lettered items per section, as the knowledge base's catalog counts them (47 in all, 4.1 d) included)
SECTIONS = {"4.1": "abcd", "4.2": "abcdefg", "4.3": "abcdef", "4.4": "ab", "4.5": "abc",
            "4.6": "abcde", "4.7": "abcde", "4.8": "abcde", "4.9": "abcde", "4.10": "abcde"}
KIND = {"4.2": "boiler", "4.3": "pressure_vessel", "4.4": "pressure_piping", "4.5": "filling", "4.6": "elevator",
        "4.7": "crane", "4.8": "ropeway", "4.9": "amusement_ride", "4.10": "site_vehicle"}
LETTERED = [f"{s} {letter})" for s, letters in SECTIONS.items() for letter in letters]
DECIDING = [c for c in LETTERED if c != "4.1 d)"]


def special(verdict):
    return next(d for d in verdict.documents if d.sector == "special_equipment")


def judge(shipped, facts, on=ON):
    return special(shipped.judge(facts, on=on, sectors=["special_equipment"]))


def clean(shipped, kinds=tuple(KIND.values())):
    """Every question answered 否, for a unit with these kinds of equipment."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("se.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["special_equipment_user"], "se.kinds": list(kinds)})
    return facts


def test_every_deciding_item_is_encoded_once_and_flagged_single_source(shipped):
    doc = judge(shipped, {"se.kinds": sorted(KIND.values())})
    assert doc.document.version == "GB45067-2024" and not doc.identity_only
    cited = sorted(c.clause for r in doc.results for c in r.citations)
    assert cited == sorted(DECIDING) and len(LETTERED) == 47
    assert {c.verification for r in doc.results for c in r.citations} == {"single_source"}
    assert not doc.gaps  # the whole of chapter 4 was read: nothing is declared unread


def test_the_cross_reference_item_decides_nothing(shipped):
    version = shipped.bundle.documents["special_equipment_major_hazard@GB45067-2024"].doc
    clauses = {c.id: c for top in version.clauses for c in [top, *top.clauses]}
    assert set(clauses) == set(SECTIONS) | set(LETTERED)
    assert not clauses["4.1 d)"].decides and all(clauses[c].decides for c in DECIDING)
    assert not any(clauses[s].decides for s in SECTIONS)


def test_a_clean_fully_answered_unit_is_none(shipped):
    doc = judge(shipped, clean(shipped))
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert doc.outcome is DocumentOutcome.none


def test_one_unanswered_question_leaves_it_open(shipped):
    facts = clean(shipped)
    del facts["se.crane_limiters_failed"]
    doc = judge(shipped, facts)
    (open_,) = [r for r in doc.results if r.outcome is Outcome.undetermined]
    assert [c.clause for c in open_.citations] == ["4.7 d)"]
    assert doc.outcome is DocumentOutcome.undetermined


def test_unknown_kinds_of_equipment_are_neither_a_finding_nor_none(shipped):
    facts = clean(shipped)
    del facts["se.kinds"]
    facts["se.elevator_door_lock_bypassed"] = True
    doc = judge(shipped, facts)
    assert not [r for r in doc.results if r.outcome is Outcome.triggered]
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert all(by_clause[c] is Outcome.not_triggered for c in ("4.1 a)", "4.1 b)", "4.1 c)"))
    assert doc.outcome is DocumentOutcome.undetermined


@pytest.mark.parametrize("section", sorted(KIND))
def test_items_are_gated_on_the_kind_of_equipment(shipped, section):
    kind = KIND[section]
    facts = clean(shipped, kinds=[kind])
    facts.update({fid: True for fid in shipped.bundle.facts if fid.startswith("se.") and fid not in ("se.kinds",)
                  and not fid.startswith(("se.unlicensed", "se.accident", "se.supervision"))})
    doc = judge(shipped, facts)
    for r in doc.results:
        s = r.citations[0].clause.split(" ")[0]
        if s == "4.1":
            assert r.outcome is Outcome.not_triggered
        elif s == section:
            assert r.outcome is Outcome.triggered
        else:
            assert r.outcome is Outcome.not_applicable, r.citations[0].clause


def test_a_unit_without_an_elevator_is_not_asked_elevator_questions(shipped):
    asked = {q.id for q in shipped.judge({"site.kinds": ["special_equipment_user"], "se.kinds": ["crane"], "fire.in_scope": False}, on=ON).questions}
    assert "se.crane_limiters_failed" in asked and "se.accident_not_inspected" in asked
    assert not {q for q in asked if q.startswith(("se.elevator", "se.escalator", "se.boiler", "se.ride"))}
    # Answering its own questions 否 is enough for 未发现: the other kinds' items do not apply.
    facts = {"site.kinds": ["special_equipment_user"], "se.kinds": ["crane"]}
    facts.update({q: False for q in asked if q.startswith("se.") and q != "se.kinds"})
    doc = judge(shipped, facts)
    assert doc.outcome is DocumentOutcome.none


def test_filling_items_apply_to_a_filling_unit(shipped):
    facts = clean(shipped, kinds=["filling"])
    facts["se.filling_wrong_medium"] = True
    doc = judge(shipped, facts)
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["4.5 b)"] and doc.outcome is DocumentOutcome.major


@pytest.mark.parametrize("day, version", [(dt.date(2024, 11, 30), None), (dt.date(2024, 12, 1), "GB45067-2024")])
def test_version_boundaries(shipped, day, version):
    facts = {"se.kinds": ["elevator"], "se.escalator_stop_switch_failed": True}
    check_version_boundary(shipped, "special_equipment", facts, day, version)


def test_the_example_is_a_major_hazard(shipped):
    parsed = parse_inspection((example_dir() / "special_equipment.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = special(verdict)
    assert verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["4.6 d)"]
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results if r is not hit)
