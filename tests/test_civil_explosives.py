"""民用爆炸物品 (工信厅安全函〔2023〕337号 试行, then 工信部安全〔2024〕234号 from 2024-12-03): whole-document
behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome

ON = dt.date(2026, 11, 10)  # 234号 in force
TRIAL = dt.date(2024, 6, 1)  # 337号 in force
ITEMS_2024 = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五", "十六", "十七"]
ITEMS_2023 = ITEMS_2024[:8]


def explosives(verdict):
    return next(d for d in verdict.documents if d.sector == "civil_explosives")


def clean(shipped):
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("ce.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["civil_explosives"], "site.special_workers_certified": True})
    return facts


def judge(shipped, facts, on):
    return explosives(shipped.judge(facts, on=on, sectors=["civil_explosives"]))


def test_every_2024_item_is_encoded_once(shipped):
    doc = judge(shipped, {"site.kinds": ["civil_explosives"]}, ON)
    assert doc.document.number == "工信部安全〔2024〕234号" and doc.gaps == [] and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS_2024)
    status = {c.clause: c.verification for r in doc.results for c in r.citations}
    assert {k for k, v in status.items() if v == "verified"} == {"一", "二", "三", "四", "五", "十三"}


def test_the_trial_encodes_its_first_eight_items_and_declares_the_rest(shipped):
    doc = judge(shipped, {"site.kinds": ["civil_explosives"]}, TRIAL)
    assert doc.document.number == "工信厅安全函〔2023〕337号"
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS_2023)
    assert [g.clause for g in doc.gaps] and all("九" in g.clause for g in doc.gaps)


def test_a_clean_fully_answered_unit_concludes_none(shipped):
    doc = judge(shipped, clean(shipped), ON)
    assert doc.outcome is DocumentOutcome.none and "未发现" in doc.outcome_label
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)


def test_under_the_trial_a_clean_unit_is_never_none(shipped):
    # 九、 onward was not read: every read item answered "否" still leaves the document open.
    doc = judge(shipped, clean(shipped), TRIAL)
    assert doc.outcome is DocumentOutcome.undetermined
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)


def test_one_unanswered_question_keeps_it_undetermined(shipped):
    facts = clean(shipped)
    del facts["ce.new_equipment_without_procedure"]
    verdict = shipped.judge(facts, on=ON, sectors=["civil_explosives"])
    assert explosives(verdict).outcome is DocumentOutcome.undetermined
    assert "ce.new_equipment_without_procedure" in [q.id for q in verdict.questions]


@pytest.mark.parametrize(
    "on, version, rule",
    [(dt.date(2024, 12, 2), "2023试行", "ce2023.4"), (dt.date(2024, 12, 3), "2024", "ce2024.4")],
)
def test_version_boundary_at_234(shipped, on, version, rule):
    facts = clean(shipped) | {"ce.over_permitted_limits": True}
    doc = judge(shipped, facts, on)
    assert doc.document.version == version and doc.outcome is DocumentOutcome.major
    assert [r.rule for r in doc.results if r.outcome is Outcome.triggered] == [rule]


@pytest.mark.parametrize("on, major", [(dt.date(2024, 12, 2), False), (dt.date(2024, 12, 3), True)])
def test_an_item_new_in_2024_counts_only_from_its_day(shipped, on, major):
    facts = clean(shipped) | {"ce.unapproved_raw_material": True}
    doc = judge(shipped, facts, on)
    assert (doc.outcome is DocumentOutcome.major) is major
    if not major:
        assert doc.outcome is DocumentOutcome.undetermined  # the trial's gap, not 未发现


@pytest.mark.parametrize("on, major", [(dt.date(2024, 12, 2), True), (dt.date(2024, 12, 3), False)])
def test_the_trial_only_situations_end_with_it(shipped, on, major):
    # 2023 二 names 注册安全工程师 and 一 the 安全评价结论; 2024 names neither.
    facts = clean(shipped) | {"ce.no_registered_safety_engineer": True, "ce.safety_assessment_failed": True}
    doc = judge(shipped, facts, on)
    assert (doc.outcome is DocumentOutcome.major) is major
    if major:
        assert sorted(c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations) == ["一", "二"]


def test_the_six_month_limit_is_asked_only_from_2024(shipped):
    facts = clean(shipped) | {"ce.leaders_not_assessed": True}
    assert judge(shipped, facts, dt.date(2024, 12, 2)).outcome is DocumentOutcome.major
    assert judge(shipped, facts, dt.date(2024, 12, 3)).outcome is DocumentOutcome.none


def test_before_the_trial_no_version_is_in_force(shipped):
    doc = judge(shipped, clean(shipped) | {"ce.over_permitted_limits": True}, dt.date(2023, 11, 30))
    assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None


def test_special_workers_without_certificates_trigger_item_three_in_both(shipped):
    facts = clean(shipped) | {"site.special_workers_certified": False}
    for on in (TRIAL, ON):
        doc = judge(shipped, facts, on)
        assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["三"]


@pytest.mark.parametrize("kinds", [["other"], ["fireworks"], ["coal_mine"]])
def test_other_units_are_not_applicable(shipped, kinds):
    doc = explosives(shipped.judge({"site.kinds": kinds, "ce.over_permitted_limits": True}, on=ON))
    assert doc.outcome is DocumentOutcome.not_applicable and "民用爆炸物品" in doc.outcome_label


def test_cli_judges_the_civil_explosives_example(capsys):
    assert main(["judge", str(example_dir() / "civil_explosives.yaml")]) == 1
    out = capsys.readouterr().out
    assert "工信部安全〔2024〕234号" in out and "【十一】" in out and "出具文书前请对照原文" in out
