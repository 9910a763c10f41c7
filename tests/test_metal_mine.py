"""金属非金属矿山 (矿安〔2022〕88号, then the same items with its 补充情形 矿安〔2024〕41号 from 2024-04-23):
whole-document behaviour beyond each rule's YAML cases. All 64 items of 88号 and the supplement's 8 are encoded,
so a fully answered clean unit concludes 未发现 under either version; 88号's items are judged the same way in both
(the 2024 version inherits them by `extends:`, see tests/test_version_inheritance.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs.inspections import parse_inspection

from boundaries import check_version_boundary

BEFORE_SUPPLEMENT = dt.date(2023, 6, 1)  # 88号 alone
WITH_SUPPLEMENT = dt.date(2025, 6, 1)  # 88号 with 41号
UNDERGROUND = ["一（一）1", "一（一）2", "一（一）3", "一（一）4", "一（一）5", "一（二）", "一（三）", "一（四）1", "一（四）2", "一（四）3", "一（四）4",
               "一（四）5", "一（五）1", "一（五）2", "一（五）3", "一（六）", "一（七）1", "一（七）2", "一（七）3", "一（七）4", "一（八）", "一（九）1",
               "一（九）2", "一（九）3", "一（十）1", "一（十）2", "一（十一）1", "一（十一）2", "一（十二）", "一（十三）1", "一（十三）2", "一（十三）3",
               "一（十四）", "一（十五）1", "一（十五）2", "一（十六）1", "一（十六）2", "一（十六）3", "一（十七）", "一（十八）1", "一（十八）2", "一（十八）3",
               "一（十九）", "一（二十）", "一（二十）1", "一（二十）2", "一（二十）3", "一（二十）4", "一（二十）5", "一（二十）6", "一（二十一）", "一（二十二）1",
               "一（二十二）2", "一（二十二）3", "一（二十二）4", "一（二十二）5", "一（二十三）1", "一（二十三）2", "一（二十三）3", "一（二十三）4", "一（二十四）",
               "一（二十五）", "一（二十六）", "一（二十七）1", "一（二十七）2", "一（二十八）1", "一（二十八）2", "一（二十九）", "一（三十）", "一（三十一）", "一（三十二）"]
OPEN_PIT = ["二（一）", "二（二）", "二（三）", "二（四）", "二（五）", "二（六）", "二（七）1", "二（七）2", "二（七）3", "二（八）1", "二（八）2", "二（八）3",
            "二（九）", "二（十）", "二（十一）1", "二（十一）2", "二（十一）3", "二（十二）", "二（十三）"]
TAILINGS = ["三（一）", "三（二）1", "三（二）2", "三（二）3", "三（三）", "三（四）", "三（五）", "三（六）", "三（七）", "三（八）", "三（九）1", "三（九）2",
            "三（九）3", "三（十）", "三（十一）", "三（十二）", "三（十三）1", "三（十三）2", "三（十三）3", "三（十四）1", "三（十四）2", "三（十四）3", "三（十四）4",
            "三（十五）", "三（十六）", "三（十七）1", "三（十七）2", "三（十七）3", "三（十八）", "三（十九）"]
SUPPLEMENT = ["补充情形一（一）", "补充情形一（二）", "补充情形一（三）", "补充情形一（四）", "补充情形二（一）", "补充情形二（二）",
              "补充情形三（一）", "补充情形三（二）"]
VERIFIED = {"一（一）1", "一（一）2", "一（一）3", "一（一）4", "一（一）5", "一（二）", "一（三）", "一（四）3", "一（四）4", "一（二十一）", "二（一）", "二（二）",
            "二（三）", "二（四）", "二（七）3", "二（八）1", "一（四）1", "一（四）2", "一（四）5", "一（五）1", "一（五）2", "一（五）3", "二（五）", "二（六）",
            "二（七）1", "二（七）2", "二（八）2", "二（十）", "一（六）", "一（七）3", "一（七）4", "一（八）", "一（九）2", "一（十）2", "一（十一）2", "一（十二）",
            "一（十六）1", "一（十八）1", "一（二十）", "一（二十二）2", "一（二十三）2", "一（二十七）2", "三（一）", "三（三）", "三（四）", "三（九）3", "三（十三）2"}


def mine(verdict):
    return next(d for d in verdict.documents if d.sector == "metal_mine")


def judge(shipped, facts, on):
    return mine(shipped.judge(facts, on=on, sectors=["metal_mine"]))


def clean(shipped, parts=("underground", "open_pit", "tailings_pond")):
    """Every encoded question answered 否, gates included (so gated sub-items are not applicable), except the premises
    that open the most items: an underground mine that was an open pit and is mechanically ventilated."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("mm.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["metal_mine"], "mm.parts": list(parts), "mm.ug_open_pit_to_underground": True})
    return facts


@pytest.mark.parametrize("on, version", [(BEFORE_SUPPLEMENT, "2022"), (WITH_SUPPLEMENT, "2022+2024")])
def test_every_item_is_encoded_once_in_each_version(shipped, on, version):
    doc = judge(shipped, {"site.kinds": ["metal_mine"]}, on)
    assert doc.document.version == version and not doc.identity_only
    supplement = SUPPLEMENT if on == WITH_SUPPLEMENT else []
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(UNDERGROUND + OPEN_PIT + TAILINGS + supplement)
    status = {c.clause: c.verification for r in doc.results for c in r.citations}
    assert {k for k, v in status.items() if v == "verified"} == VERIFIED


def test_the_supplement_version_writes_only_its_8_items_and_inherits_88(shipped):
    key = "metal_mine_major_hazard@2022+2024"
    (rf,) = [loc for loc in shipped.bundle.rule_files if f"{loc.model.document}@{loc.model.version}" == key]
    assert rf.model.extends.version == "2022" and len(rf.inherited) == 120
    own = [s.item for s in shipped.bundle.items_of(key) if s.item.id not in rf.inherited]
    assert [c for item in own for c in item.cites] == SUPPLEMENT
    version = shipped.bundle.documents[key]
    assert version.doc.extends.version == "2022" and version.located.bases[-1].name == "kuangan-2022-88.yaml"


@pytest.mark.parametrize("on", [BEFORE_SUPPLEMENT, WITH_SUPPLEMENT])
def test_no_part_is_left_as_a_gap(shipped, on):
    assert not judge(shipped, {"site.kinds": ["metal_mine"]}, on).gaps


@pytest.mark.parametrize(
    "day, version",
    [(dt.date(2022, 8, 31), None), (dt.date(2022, 9, 1), "2022"), (dt.date(2024, 4, 22), "2022"), (dt.date(2024, 4, 23), "2022+2024")],
)
def test_version_boundaries(shipped, day, version):
    # Before 88号 took effect the 2017 trial is not recorded here: no version, never a finding.
    facts = {"mm.parts": ["underground"], "mm.ug_exits_obstructed": True}
    check_version_boundary(shipped, "metal_mine", facts, day, version, "一（一）5")


@pytest.mark.parametrize("on", [BEFORE_SUPPLEMENT, WITH_SUPPLEMENT])
def test_a_clean_fully_answered_mine_is_none(shipped, on):
    doc = judge(shipped, clean(shipped), on)
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results)
    assert doc.outcome is DocumentOutcome.none


def test_the_supplement_decides_only_from_its_date(shipped):
    facts = clean(shipped)
    facts["mm.tp_extreme_weather_no_stop"] = True
    assert judge(shipped, facts, BEFORE_SUPPLEMENT).outcome is DocumentOutcome.none
    doc = judge(shipped, facts, WITH_SUPPLEMENT)
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["补充情形三（二）"] and doc.outcome is DocumentOutcome.major


def test_an_unanswered_gate_leaves_its_sub_items_open(shipped):
    facts = clean(shipped)
    del facts["mm.tp_dry_stack"]
    doc = judge(shipped, facts, BEFORE_SUPPLEMENT)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert {c for c, o in by_clause.items() if o is Outcome.undetermined} == {"三（十四）1", "三（十四）2", "三（十四）3", "三（十四）4"}
    assert doc.outcome is DocumentOutcome.undetermined


def test_mechanical_ventilation_decides_itself_and_opens_its_sub_items(shipped):
    facts = clean(shipped, parts=("underground",))
    facts["mm.ug_no_mechanical_ventilation"] = True
    doc = judge(shipped, facts, BEFORE_SUPPLEMENT)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert by_clause["一（二十）"] is Outcome.triggered and doc.outcome is DocumentOutcome.major
    assert all(by_clause[f"一（二十）{n}"] is Outcome.not_applicable for n in range(1, 7))


def test_both_versions_judge_the_same_answers_alike(shipped):
    facts = clean(shipped)
    facts.update({"mm.op_slope_radial_cracks": True, "mm.otu_joint_sequence_mismatch": True, "mm.tp_phreatic_too_shallow": True})
    facts.pop("mm.ug_banned_equipment")
    outcomes = []
    for on in (BEFORE_SUPPLEMENT, WITH_SUPPLEMENT):
        doc = judge(shipped, facts, on)
        # 88号's items only: the supplement is judged from its own date.
        outcomes.append(sorted((r.citations[0].clause, r.outcome.value) for r in doc.results if not r.citations[0].clause.startswith("补充")))
        assert doc.outcome is DocumentOutcome.major
    assert outcomes[0] == outcomes[1]
    assert ("二（八）1", "triggered") in outcomes[0] and ("一（五）2", "triggered") in outcomes[0]
    assert ("三（七）", "triggered") in outcomes[0] and ("一（二）", "undetermined") in outcomes[0]


def test_items_are_gated_on_the_part_of_the_mine(shipped):
    # An open pit only: the underground and tailings items do not apply, whatever their answers.
    facts = clean(shipped, parts=("open_pit",))
    facts.update({"mm.ug_exits_obstructed": True, "mm.tp_dam_piping": True})
    doc = judge(shipped, facts, BEFORE_SUPPLEMENT)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert all(by_clause[c] is Outcome.not_applicable for c in UNDERGROUND + TAILINGS)
    assert all(by_clause[c] is Outcome.not_triggered for c in OPEN_PIT)
    assert doc.outcome is DocumentOutcome.none


def test_a_tailings_pond_is_judged_under_part_three(shipped):
    verdict = shipped.judge(
        {"site.kinds": ["tailings_pond"], "fire.in_scope": False, "mm.parts": ["tailings_pond"], "mm.tp_over_height_capacity": True},
        on=WITH_SUPPLEMENT,
    )
    doc = mine(verdict)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert all(by_clause[c] is Outcome.not_applicable for c in UNDERGROUND + OPEN_PIT + SUPPLEMENT[:6])
    assert by_clause["三（四）"] is Outcome.triggered and doc.outcome is DocumentOutcome.major
    assert verdict.outcome is OverallOutcome.major


def test_an_unknown_part_of_the_mine_is_neither_a_finding_nor_none(shipped):
    facts = clean(shipped)
    del facts["mm.parts"]
    facts["mm.ug_exits_obstructed"] = True
    doc = judge(shipped, facts, BEFORE_SUPPLEMENT)
    assert not [r for r in doc.results if r.outcome is Outcome.triggered]
    assert doc.outcome is DocumentOutcome.undetermined


def test_the_example_is_a_major_hazard_under_the_version_in_force(shipped):
    parsed = parse_inspection((example_dir() / "metal_mine_underground.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = mine(verdict)
    assert doc.document.version == "2022+2024" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["一（一）5"]
    # The example answers the first items only; the rest stay open, which cannot undo a finding.
    assert all(r.outcome is not Outcome.triggered for r in doc.results if r is not hit)
