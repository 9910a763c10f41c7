"""金属非金属矿山 (矿安〔2022〕88号, then the same items with its 补充情形 矿安〔2024〕41号 from 2024-04-23):
whole-document behaviour beyond each rule's YAML cases. Only part of the public text was read, so no
unit concludes 未发现 under either version; what is encoded is judged the same way in both."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs.inspections import parse_inspection

BEFORE_SUPPLEMENT = dt.date(2023, 6, 1)  # 88号 alone
WITH_SUPPLEMENT = dt.date(2025, 6, 1)  # 88号 with 41号
UNDERGROUND = ["一（一）1", "一（一）2", "一（一）3", "一（一）4", "一（一）5", "一（二）", "一（三）",
               "一（四）1", "一（四）2", "一（四）3", "一（四）4", "一（四）5", "一（五）1", "一（五）2", "一（五）3", "一（二十一）"]
OPEN_PIT = ["二（一）", "二（二）", "二（三）", "二（四）", "二（五）", "二（六）", "二（七）1", "二（七）2", "二（七）3",
            "二（八）1", "二（八）2", "二（十）"]
VERIFIED = {"一（一）1", "一（一）2", "一（一）3", "一（一）4", "一（一）5", "一（二）", "一（三）", "一（四）3", "一（四）4",
            "一（二十一）", "二（一）", "二（二）", "二（三）", "二（四）", "二（七）3", "二（八）1"}


def mine(verdict):
    return next(d for d in verdict.documents if d.sector == "metal_mine")


def judge(shipped, facts, on):
    return mine(shipped.judge(facts, on=on, sectors=["metal_mine"]))


def clean(shipped, parts=("underground", "open_pit")):
    """Every encoded question answered 否: an underground mine that was an open pit, with a pit beside it."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("mm.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["metal_mine"], "mm.parts": list(parts), "mm.ug_open_pit_to_underground": True})
    return facts


@pytest.mark.parametrize("on, version", [(BEFORE_SUPPLEMENT, "2022"), (WITH_SUPPLEMENT, "2022+2024")])
def test_every_read_item_is_encoded_once_in_each_version(shipped, on, version):
    doc = judge(shipped, {"site.kinds": ["metal_mine"]}, on)
    assert doc.document.version == version and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(UNDERGROUND + OPEN_PIT)
    status = {c.clause: c.verification for r in doc.results for c in r.citations}
    assert {k for k, v in status.items() if v == "verified"} == VERIFIED


@pytest.mark.parametrize("on", [BEFORE_SUPPLEMENT, WITH_SUPPLEMENT])
def test_the_unread_parts_are_gaps(shipped, on):
    doc = judge(shipped, {"site.kinds": ["metal_mine"]}, on)
    gaps = " ".join(g.clause for g in doc.gaps)
    for part in ("一（六）", "二（八）3", "二（九）", "三、尾矿库"):
        assert part in gaps
    assert ("矿安〔2024〕41号" in gaps) is (on == WITH_SUPPLEMENT)


@pytest.mark.parametrize(
    "day, version",
    [(dt.date(2022, 8, 31), None), (dt.date(2022, 9, 1), "2022"), (dt.date(2024, 4, 22), "2022"), (dt.date(2024, 4, 23), "2022+2024")],
)
def test_version_boundaries(shipped, day, version):
    verdict = shipped.judge({"mm.parts": ["underground"], "mm.ug_exits_obstructed": True}, on=day, sectors=["metal_mine"])
    (doc,) = verdict.documents
    if version is None:
        # Before 88号 took effect (the 2017 trial is not recorded here): no version, never a finding.
        assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None
        assert verdict.outcome is not OverallOutcome.major
    else:
        assert doc.document.version == version and doc.outcome is DocumentOutcome.major
        (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
        assert [c.clause for c in hit.citations] == ["一（一）5"]


@pytest.mark.parametrize("on", [BEFORE_SUPPLEMENT, WITH_SUPPLEMENT])
def test_a_clean_fully_answered_mine_is_never_none(shipped, on):
    doc = judge(shipped, clean(shipped), on)
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined and doc.gaps


def test_both_versions_judge_the_same_answers_alike(shipped):
    facts = clean(shipped)
    facts.update({"mm.op_slope_radial_cracks": True, "mm.otu_joint_sequence_mismatch": True})
    facts.pop("mm.ug_banned_equipment")
    outcomes = []
    for on in (BEFORE_SUPPLEMENT, WITH_SUPPLEMENT):
        doc = judge(shipped, facts, on)
        outcomes.append(sorted((r.citations[0].clause, r.outcome.value) for r in doc.results))
        assert doc.outcome is DocumentOutcome.major
    assert outcomes[0] == outcomes[1]
    assert ("二（八）1", "triggered") in outcomes[0] and ("一（五）2", "triggered") in outcomes[0]
    assert ("一（二）", "undetermined") in outcomes[0]


def test_items_are_gated_on_the_part_of_the_mine(shipped):
    # An open pit only: the underground items do not apply, whatever their answers.
    facts = clean(shipped, parts=("open_pit",))
    facts["mm.ug_exits_obstructed"] = True
    doc = judge(shipped, facts, WITH_SUPPLEMENT)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert all(by_clause[c] is Outcome.not_applicable for c in UNDERGROUND)
    assert all(by_clause[c] is Outcome.not_triggered for c in OPEN_PIT)
    assert doc.outcome is DocumentOutcome.undetermined


def test_a_tailings_pond_is_routed_here_and_left_open(shipped):
    # Part 三 was not read: a tailings pond is told the standard but nothing encoded applies to it.
    verdict = shipped.judge({"site.kinds": ["tailings_pond"], "fire.in_scope": False, "mm.parts": ["tailings_pond"]}, on=WITH_SUPPLEMENT)
    doc = mine(verdict)
    assert all(r.outcome is Outcome.not_applicable for r in doc.results)
    assert doc.outcome is DocumentOutcome.undetermined and any("尾矿库" in g.clause for g in doc.gaps)
    assert verdict.outcome is OverallOutcome.undetermined


def test_an_unknown_part_of_the_mine_is_neither_a_finding_nor_none(shipped):
    facts = clean(shipped)
    del facts["mm.parts"]
    facts["mm.ug_exits_obstructed"] = True
    doc = judge(shipped, facts, WITH_SUPPLEMENT)
    assert not [r for r in doc.results if r.outcome is Outcome.triggered]
    assert doc.outcome is DocumentOutcome.undetermined


def test_the_example_is_a_major_hazard_under_the_version_in_force(shipped):
    parsed = parse_inspection((example_dir() / "metal_mine_underground.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = mine(verdict)
    assert doc.document.version == "2022+2024" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["一（一）5"]
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results if r is not hit)
