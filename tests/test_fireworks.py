"""烟花爆竹 (安监总管三〔2017〕121号, second attachment): whole-document behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome

ON = dt.date(2026, 12, 2)
CLAUSES = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七",
           "十八", "十九", "二十"]
# The failures asked as "是否…已经…？" are the ones where 是 is the compliant answer.
COMPLIANT_IS_TRUE = {"fw.leaders_assessed", "site.special_workers_certified"}


def fw(verdict):
    return next(d for d in verdict.documents if d.sector == "fireworks")


@pytest.fixture(scope="module")
def clean_unit(shipped):
    """A unit that produces, wholesales and retails, every question answered with no failure present."""
    facts = {fid: fid in COMPLIANT_IS_TRUE for fid, f in shipped.bundle.facts.items()
             if fid.startswith("fw.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["fireworks"], "site.special_workers_certified": True,
                  "fw.business": ["production", "wholesale", "retail"]})
    return facts


def test_every_published_item_is_encoded_once_and_verified(shipped):
    doc = fw(shipped.judge({"site.kinds": ["fireworks"]}, on=ON, sectors=["fireworks"]))
    cited = [c.clause for r in doc.results for c in r.citations]
    assert sorted(cited, key=CLAUSES.index) == CLAUSES
    assert {c.verification for r in doc.results for c in r.citations} == {"verified"}
    assert doc.document.number == "安监总管三〔2017〕121号" and doc.gaps == []


def test_clean_unit_concludes_none(shipped, clean_unit):
    doc = fw(shipped.judge(clean_unit, on=ON, sectors=["fireworks"]))
    assert doc.outcome is DocumentOutcome.none
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)


def test_one_unanswered_question_keeps_it_undetermined(shipped, clean_unit):
    facts = {k: v for k, v in clean_unit.items() if k != "fw.retail_open_flame"}
    verdict = shipped.judge(facts, on=ON, sectors=["fireworks"])
    doc = fw(verdict)
    assert doc.outcome is DocumentOutcome.undetermined
    assert "fw.retail_open_flame" in [q.id for q in verdict.questions]


def test_unknown_business_keeps_the_gated_items_open(shipped, clean_unit):
    facts = {k: v for k, v in clean_unit.items() if k != "fw.business"}
    doc = fw(shipped.judge(facts, on=ON, sectors=["fireworks"]))
    assert doc.outcome is DocumentOutcome.undetermined
    assert {r.rule for r in doc.results if r.outcome is Outcome.undetermined} == {"fw2017.9", "fw2017.12", "fw2017.20"}


@pytest.mark.parametrize("kinds", [["other"], ["hc_trading"], ["industry_trade"]])
def test_units_that_are_not_fireworks_are_not_applicable(shipped, kinds):
    verdict = shipped.judge({"site.kinds": kinds, "fw.retail_open_flame": True}, on=ON)
    doc = fw(verdict)
    assert doc.outcome is DocumentOutcome.not_applicable
    assert "烟花爆竹" in doc.outcome_label
    assert all(r.outcome is not Outcome.triggered for r in doc.results)


def test_fireworks_and_other_are_contradictory(shipped):
    from hazardjudge.errors import InputError

    with pytest.raises(InputError, match="其他单位"):
        shipped.judge({"site.kinds": ["fireworks", "other"]}, on=ON)


@pytest.mark.parametrize(
    ("business", "expected"),
    [(["retail"], Outcome.triggered), (["wholesale", "retail"], Outcome.triggered),
     (["production"], Outcome.not_applicable), (["wholesale"], Outcome.not_applicable)],
)
def test_item_twenty_concerns_retail_only(shipped, business, expected):
    facts = {"site.kinds": ["fireworks"], "fw.business": business, "fw.retail_in_residential_building": True}
    doc = fw(shipped.judge(facts, on=ON, sectors=["fireworks"]))
    rule = next(r for r in doc.results if r.rule == "fw2017.20")
    assert rule.outcome is expected
    if expected is Outcome.triggered:
        assert doc.outcome is DocumentOutcome.major
        assert [c.clause for c in rule.citations] == ["二十"]


def test_retail_only_unit_is_not_asked_about_the_factory(shipped, clean_unit):
    facts = {k: v for k, v in clean_unit.items() if k not in {"fw.factory_wall_missing", "fw.zoning_noncompliant", "fw.storage_capacity_mismatch"}}
    facts["fw.business"] = ["retail"]
    doc = fw(shipped.judge(facts, on=ON, sectors=["fireworks"]))
    assert doc.outcome is DocumentOutcome.none
    assert {r.rule for r in doc.results if r.outcome is Outcome.not_applicable} == {"fw2017.9", "fw2017.12"}


def test_cli_judges_the_retail_example(capsys):
    assert main(["judge", str(example_dir() / "fireworks_retail.yaml")]) == 1
    out = capsys.readouterr().out
    assert "烟花爆竹生产经营单位重大生产安全事故隐患判定标准（试行）" in out
    assert "【二十】" in out and "使用明火：是" in out
