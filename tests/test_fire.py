"""Fire (GB 35181): version by date, direct elements, exclusions, and the gaps that block "none"."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.models import DocumentOutcome, Outcome, OverallOutcome
from hazardjudge.rendering import render_text

NOT_EXCLUDED = {
    "fire.correctable_immediately": False,
    "fire.expert_review_with_measures": False,
    "fire.place_stopped": False,
    "fire.insufficient_for_major": False,
}


def fire_doc(verdict):
    return next(d for d in verdict.documents if d.sector == "fire")


def result(doc, rule):
    return next(r for r in doc.results if r.rule == rule)


@pytest.mark.parametrize(("on", "version"), [(dt.date(2025, 10, 31), "2017"), (dt.date(2025, 11, 1), "2025")])
def test_the_inspection_date_picks_the_version(shipped, on, version):
    doc = fire_doc(shipped.judge({"fire.in_scope": True}, on=on))
    assert doc.document.version == version
    assert doc.document.number == f"GB 35181-{version}"


def test_before_2018_07_01_no_fire_version_is_in_force(shipped):
    doc = fire_doc(shipped.judge({"fire.in_scope": True}, on=dt.date(2018, 6, 30)))
    assert doc.outcome is DocumentOutcome.no_version_in_force


def test_a_direct_element_is_major_and_cited(shipped):
    facts = {"fire.in_scope": True, "fire.place_categories": ["public_entertainment", "crowded"], "fire.alarm_required_missing": True, **NOT_EXCLUDED}
    verdict = shipped.judge(facts, on=dt.date(2020, 6, 1), sectors=["fire"])
    assert verdict.outcome is OverallOutcome.major
    assert verdict.outcome_label == "存在重大火灾隐患"
    finding = result(fire_doc(verdict), "fire2017.6-6")
    assert [c.clause for c in finding.citations] == ["6.6"]
    assert {f.id for f in finding.facts} >= {"fire.place_categories", "fire.alarm_required_missing"}


def test_measured_and_required_values_both_appear_in_the_finding(shipped):
    facts = {"fire.place_categories": ["shop"], "fire.exits_too_few": False, "fire.exit_width_total_m": "3.1 m", "fire.exit_width_required_m": 4, **NOT_EXCLUDED}
    finding = result(fire_doc(shipped.judge(facts, on=dt.date(2020, 6, 1), sectors=["fire"])), "fire2017.6-5")
    assert finding.outcome is Outcome.triggered
    assert "3.1 m" in finding.finding and "4 m" in finding.finding


def test_every_category_that_fits_is_applied(shipped):
    facts = {"fire.place_categories": ["public_entertainment", "hotel", "crowded"], "fire.exits_too_few": True,
             "fire.sprinkler_required_missing": True, "fire.flammable_goods_in_crowded_place": True, **NOT_EXCLUDED}
    doc = fire_doc(shipped.judge(facts, on=dt.date(2020, 6, 1), sectors=["fire"]))
    assert {r.rule for r in doc.results if r.outcome is Outcome.triggered} >= {"fire2017.6-5", "fire2017.6-6", "fire2017.6-8"}


def test_an_exclusion_is_applied_cited_and_shown(shipped):
    facts = {"fire.class_ab_in_basement": True, **NOT_EXCLUDED, "fire.place_stopped": True}
    verdict = shipped.judge(facts, on=dt.date(2020, 6, 1), sectors=["fire"])
    doc = fire_doc(verdict)
    excluded = result(doc, "fire2017.6-4")
    assert excluded.outcome is Outcome.excluded and excluded.excluded_by == ["fire2017.x_stopped"]
    applied = result(doc, "fire2017.x_stopped")
    assert applied.outcome is Outcome.triggered and applied.citations[0].clause == "5.1.3 b)"
    assert verdict.outcome is not OverallOutcome.major
    text = render_text(verdict)
    assert "5.1.3 b)" in text and "依排除情形不判定为重大火灾隐患" in text


def test_an_unanswered_exclusion_keeps_a_direct_element_undetermined(shipped):
    facts = {"fire.class_ab_in_basement": True, **NOT_EXCLUDED}
    del facts["fire.place_stopped"]
    doc = fire_doc(shipped.judge(facts, on=dt.date(2020, 6, 1), sectors=["fire"]))
    assert result(doc, "fire2017.6-4").outcome is Outcome.undetermined
    assert "fire.place_stopped" in result(doc, "fire2017.6-4").missing


def _clean_2017_answers(bundle):
    """Every fire question answered with "no problem": booleans false, counts 0, each
    measured value equal to its required value (at the limit is not beyond it)."""
    answers = {}
    for fid, d in bundle.facts.items():
        if fid.startswith("fire."):
            answers[fid] = {"boolean": False, "integer": 0, "number": 10}.get(d.type.value)
    answers.update({"fire.in_scope": True, "fire.place_categories": ["crowded", "hotel"]})
    return {k: v for k, v in answers.items() if v is not None}


def test_2017_never_concludes_none_while_chapter_7_is_partly_read(shipped):
    doc = fire_doc(shipped.judge(_clean_2017_answers(shipped.bundle), on=dt.date(2020, 6, 1)))
    open_ = [r for r in doc.results if r.outcome is Outcome.undetermined]
    # Below its threshold the partly read 5.3.3 proves nothing: it alone stays open.
    assert [r.rule for r in open_] == ["fire2017.5-3-3"] and open_[0].partial and not open_[0].missing
    assert doc.outcome is DocumentOutcome.undetermined
    assert {g.clause for g in doc.gaps} == set(shipped.bundle.documents["gb35181@2017"].doc.unread_parts)


def test_2017_three_evacuation_elements_at_a_crowded_place_are_major(shipped):
    answers = _clean_2017_answers(shipped.bundle) | {"fire.refuge_noncompliant": True, "fire.exits_blocked": True}
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    combo = result(doc, "fire2017.5-3-3")
    assert combo.outcome is Outcome.undetermined
    assert [(c.counted, c.threshold) for c in combo.counts] == [(2, 3)]
    text = render_text(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    assert "一般火灾隐患" in text and "该条文仅部分取得" in text
    answers["fire.independent_exit_missing"] = True
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    combo = result(doc, "fire2017.5-3-3")
    assert combo.outcome is Outcome.triggered and doc.outcome is DocumentOutcome.major
    assert combo.counts[0].clauses == ["7.3.1", "7.3.3", "7.3.4"]


def test_2025_reports_its_unread_clauses_as_gaps(shipped):
    verdict = shipped.judge({"fire.in_scope": True}, on=dt.date(2026, 11, 22))
    doc = fire_doc(verdict)
    assert doc.outcome is DocumentOutcome.undetermined
    assert {g.clause for g in doc.gaps} == {"4.2", "5", "6"}
    assert all(g.reason.value == "unverified" for g in doc.gaps)
    assert "尚未编码或未经核验" in render_text(verdict)
