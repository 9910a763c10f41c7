"""渔业船舶 (《渔业船舶重大事故隐患判定标准（试行）》, 农渔发〔2022〕11号): whole-document behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome

ON = dt.date(2026, 10, 12)
ITEMS = ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）", "（七）", "（八）"]


def fishing(verdict):
    return next(d for d in verdict.documents if d.sector == "fishing_vessel")


def clean(shipped):
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("fv.") and f.type is FactType.boolean}
    facts["site.kinds"] = ["fishing_vessel"]
    return facts


def test_every_published_item_is_encoded_once_and_verified(shipped):
    doc = fishing(shipped.judge({"site.kinds": ["fishing_vessel"]}, on=ON, sectors=["fishing_vessel"]))
    cited = [c.clause for r in doc.results for c in r.citations]
    assert sorted(cited) == sorted(ITEMS) and len(cited) == 8
    assert doc.document.number == "农渔发〔2022〕11号" and doc.gaps == [] and not doc.identity_only
    assert {c.verification for r in doc.results for c in r.citations} == {"verified"}


def test_a_clean_fully_answered_vessel_concludes_none(shipped):
    verdict = shipped.judge(clean(shipped), on=ON, sectors=["fishing_vessel"])
    doc = fishing(verdict)
    assert doc.outcome is DocumentOutcome.none
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert "未发现" in doc.outcome_label


@pytest.mark.parametrize("fact", ["fv.positioning_tampered", "fv.disobeyed_typhoon_orders"])
def test_one_unanswered_question_keeps_it_undetermined(shipped, fact):
    facts = clean(shipped)
    del facts[fact]
    verdict = shipped.judge(facts, on=ON, sectors=["fishing_vessel"])
    assert fishing(verdict).outcome is DocumentOutcome.undetermined
    assert fact in [q.id for q in verdict.questions]


def test_one_failure_is_a_major_hazard_citing_its_item(shipped):
    facts = clean(shipped) | {"fv.over_complement_or_passengers": True}
    doc = fishing(shipped.judge(facts, on=ON, sectors=["fishing_vessel"]))
    assert doc.outcome is DocumentOutcome.major
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["（七）"]


@pytest.mark.parametrize("on, in_force", [(dt.date(2022, 4, 1), False), (dt.date(2022, 4, 2), True)])
def test_version_boundary_at_issue(shipped, on, in_force):
    facts = clean(shipped) | {"fv.safety_equipment_not_good": True}
    doc = fishing(shipped.judge(facts, on=on, sectors=["fishing_vessel"]))
    if in_force:
        assert doc.outcome is DocumentOutcome.major and doc.document.version == "2022"
    else:
        assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None


@pytest.mark.parametrize("kinds", [["other"], ["coal_mine"], ["road_transport"]])
def test_other_units_are_not_applicable(shipped, kinds):
    doc = fishing(shipped.judge({"site.kinds": kinds, "fv.safety_equipment_not_good": True}, on=ON))
    assert doc.outcome is DocumentOutcome.not_applicable
    assert "渔业船舶" in doc.outcome_label


def test_cli_judges_the_fishing_vessel_example(capsys):
    assert main(["judge", str(example_dir() / "fishing_vessel.yaml")]) == 1
    out = capsys.readouterr().out
    assert "农渔发〔2022〕11号" in out and "【（二）】" in out
