"""A met clause whose exclusions are unanswered is undetermined, pending exclusion: never excluded, never major."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers, consistent

from hazardjudge.engine.models import DocumentOutcome, Exclusion, Outcome, OverallOutcome, QuestionRole
from hazardjudge.outputs import notices
from hazardjudge.outputs.explaining import explain
from hazardjudge.outputs.explaining import render_text as explain_text
from hazardjudge.outputs.rendering import render_text

# (date, met clause's rule, its answers, every exclusion answered "does not apply", one exclusion answered "applies")
CASES = {
    "2025": (
        dt.date(2026, 1, 1),
        "fire2025.5-1-a",
        {"fire.class_ab_in_basement": True, "fire.basement_special_process": False},
        {"fire.due_to_standard_revision": False, "fire.place_stopped": False, "fire.corrected_on_spot": False},
        {"fire.place_stopped": True, "fire.stopped_no_actual_risk": True},
    ),
    "2017": (
        dt.date(2020, 1, 1),
        "fire2017.6-1",
        {"fire.flammable_goods_facility": True, "fire.facility_in_safe_zone": False},
        {
            "fire.correctable_immediately": False,
            "fire.expert_review_with_measures": False,
            "fire.place_stopped": False,
            "fire.insufficient_for_major": False,
        },
        {"fire.insufficient_for_major": True},
    ),
}


def result(verdict, rule):
    return next(r for d in verdict.documents for r in d.results if r.rule == rule)


@pytest.mark.parametrize("edition", sorted(CASES))
def test_met_clause_with_exclusions_unanswered_is_pending(shipped, edition):
    on, rule, met, _, _ = CASES[edition]
    verdict = shipped.judge(met, on=on, sectors=["fire"])
    r = result(verdict, rule)
    assert r.outcome is Outcome.undetermined
    assert r.pending_exclusions and r.finding and r.pending_note
    assert r.pending_note.startswith(f"构成{verdict.documents[0].document.major_label}，除非")
    assert verdict.outcome is OverallOutcome.undetermined and verdict.pending == 1
    assert verdict.outcome_label == "无法判定：1 项待排除情形认定"
    assert verdict.documents[0].outcome_label == "无法判定：1 项待排除情形认定"
    assert r not in verdict.findings() and verdict.pending_findings() == [r]
    # The exclusion questions of the met clause come first.
    excluding = {f for x in r.pending_exclusions for f in _exclusion_facts(shipped, x)}
    first = [q for q in verdict.questions if q.role is QuestionRole.exclusion]
    assert first and verdict.questions[: len(first)] == first
    assert {q.id for q in first} <= excluding
    assert all("所列排除情形" in q.reason for q in first)
    # The wording of what is to be established is the exclusion's data.
    for x in r.pending_exclusions:
        note = _exclusion(shipped, x).pending_note
        assert note and note in r.pending_note


@pytest.mark.parametrize("edition", sorted(CASES))
def test_answered_exclusions_decide_the_pending_clause(shipped, edition):
    on, rule, met, none_apply, one_applies = CASES[edition]
    excluded = shipped.judge({**met, **none_apply, **one_applies}, on=on, sectors=["fire"])
    assert result(excluded, rule).outcome is Outcome.excluded and not result(excluded, rule).pending_exclusions
    major = shipped.judge({**met, **none_apply}, on=on, sectors=["fire"])
    assert result(major, rule).outcome is Outcome.triggered
    assert major.outcome is OverallOutcome.major and major.pending == 0


@pytest.mark.parametrize("edition", sorted(CASES))
def test_report_notice_and_trace_show_pending_apart_from_findings(shipped, edition):
    on, rule, met, _, _ = CASES[edition]
    verdict = shipped.judge(met, on=on, sectors=["fire"])
    r = result(verdict, rule)
    text = render_text(verdict)
    assert "待集体讨论/专家论证确认的事项（1 项" in text
    assert r.pending_note in text
    assert "发现的重大火灾隐患" not in text
    for fmt in ("txt", "md", "html"):
        notice = notices.build(verdict, notices.NoticeConfig(issue_date=on))
        assert notice.kind == "supplementary" and notice.items == []
        assert [p.finding for p in notice.pending] == [r.finding]
        rendered = notices.render(notice, fmt)
        assert "待集体讨论、专家论证等确认的事项" in rendered
        assert "【重大隐患】" not in rendered
    trace = explain_text(explain(shipped, met, on, ["fire"]))
    assert "待认定排除情形" in trace and "条件已成立" in trace
    data = verdict.model_dump(mode="json")
    assert data["pending"] == 1
    assert result(verdict, rule).pending_exclusions == next(
        x["pending_exclusions"] for d in data["documents"] for x in d["results"] if x["rule"] == rule
    )


def _exclusion(engine, xid) -> Exclusion:
    for key in engine.compiled.documents:
        info = engine.compiled.documents[key].targets.get(xid)
        if info is not None:
            return info.source.item
    raise KeyError(xid)


def _exclusion_facts(engine, xid):
    from hazardjudge.engine.conditions import referenced_facts

    return referenced_facts(_exclusion(engine, xid).condition)


def _fire_exclusion_facts(engine):
    out = set()
    for key in engine.compiled.documents:
        if engine.compiled.documents.sector_of[key] != "fire":
            continue
        for info in engine.compiled.documents[key].targets.values():
            if info.kind == "exclusion":
                out.update(_exclusion_facts(engine, info.id))
    return out


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_unanswered_exclusions_never_yield_excluded_or_major(shipped):
    exclusion_facts = _fire_exclusion_facts(shipped)

    @SETTINGS
    @given(answers(shipped), st.sampled_from([dt.date(2020, 1, 1), dt.date(2026, 1, 1)]))
    def run(facts, on):
        facts = consistent(shipped, {k: v for k, v in facts.items() if k not in exclusion_facts}, ["fire"])
        verdict = shipped.judge(facts, on=on, sectors=["fire"])
        doc = verdict.documents[0]
        assert doc.outcome is not DocumentOutcome.major
        assert all(r.outcome is not Outcome.excluded for r in doc.results)
        for r in doc.results:
            if r.pending_exclusions:
                assert r.outcome is Outcome.undetermined and r.finding

    run()
