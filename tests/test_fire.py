"""Fire (GB 35181): version by date, direct elements, exclusions, and the gaps that block "none"."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.models import DocumentOutcome, Outcome, OverallOutcome
from hazardjudge.outputs.rendering import render_text

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
    # A crowded hotel: a) (3 of its range) and c) (4 of any) apply; b) and d) do not.
    applicable = [(c.variant, c.counted, c.threshold) for c in combo.counts if c.applies.value == "applicable"]
    assert applicable == [("crowded", 2, 3), ("key_places", 2, 4)]
    # Still open: cited under the conditions that apply to a crowded hotel, not b) or d).
    assert [c.clause for c in combo.citations] == ["5.3.3", "5.3.3 a)", "5.3.3 c)"]
    text = render_text(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    assert "一般火灾隐患" in text and "该条文仅部分取得" in text
    answers["fire.independent_exit_missing"] = True
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    combo = result(doc, "fire2017.5-3-3")
    assert combo.outcome is Outcome.triggered and doc.outcome is DocumentOutcome.major
    assert combo.counts[0].clauses == ["7.3.1", "7.3.3", "7.3.4"]
    assert [c.clause for c in combo.citations] == ["5.3.3", "5.3.3 a)"]


def test_2017_smoke_control_counts_toward_the_crowded_place_condition(shipped):
    # 5.3.3 a) names 7.5 in its range: two evacuation elements and missing smoke control are major.
    answers = _clean_2017_answers(shipped.bundle) | {
        "fire.refuge_noncompliant": True, "fire.exits_blocked": True, "fire.smoke_control_missing": True}
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    combo = result(doc, "fire2017.5-3-3")
    assert combo.outcome is Outcome.triggered and doc.outcome is DocumentOutcome.major
    crowded = next(c for c in combo.counts if c.variant == "crowded")
    assert (crowded.counted, crowded.threshold) == (3, 3) and "7.5" in crowded.clauses
    # Cited under the condition that was met, not under the other place categories'.
    assert [c.clause for c in combo.citations] == ["5.3.3", "5.3.3 a)"]


@pytest.mark.parametrize(
    ("categories", "true_facts", "outcome", "variant"),
    [
        # b): the three 7.1 elements at a flammable-goods place
        (["flammable_goods"], ["fire.fire_lane_deficient", "fire.building_spacing_occupied", "fire.mixed_residence_use",
                               "fire.mixed_use_ga703_noncompliant"], Outcome.triggered, "flammable"),
        # c): four elements of any section at an important place; three are not enough to decide
        (["important"], ["fire.fire_lane_deficient", "fire.compartment_altered_over_limit", "fire.refuge_noncompliant",
                         "fire.independent_exit_missing"], Outcome.triggered, "key_places"),
        (["important"], ["fire.fire_lane_deficient", "fire.compartment_altered_over_limit", "fire.refuge_noncompliant"],
         Outcome.undetermined, "key_places"),
        # d): six at another place; five are not enough to decide
        (["other"], ["fire.fire_lane_deficient", "fire.metro_station_commercial", "fire.compartment_altered_over_limit",
                     "fire.refuge_noncompliant", "fire.independent_exit_missing", "fire.exits_blocked"], Outcome.triggered, "other"),
        (["other"], ["fire.fire_lane_deficient", "fire.metro_station_commercial", "fire.compartment_altered_over_limit",
                     "fire.refuge_noncompliant", "fire.independent_exit_missing"], Outcome.undetermined, "other"),
    ],
)
def test_2017_each_place_category_has_its_own_count(shipped, categories, true_facts, outcome, variant):
    answers = _clean_2017_answers(shipped.bundle) | {"fire.place_categories": categories} | dict.fromkeys(true_facts, True)
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    combo = result(doc, "fire2017.5-3-3")
    assert combo.outcome is outcome
    count = next(c for c in combo.counts if c.variant == variant)
    assert count.applies.value == "applicable"
    assert (count.counted >= count.threshold) is (outcome is Outcome.triggered)
    # Partly read: falling short leaves the whole document open, never "none".
    assert doc.outcome is (DocumentOutcome.major if outcome is Outcome.triggered else DocumentOutcome.undetermined)


def test_2017_a_count_on_2025_10_31_is_not_carried_to_2025_11_01(shipped):
    # Three counted elements at a crowded place decide under 2017 up to its last day; from 2025-11-01
    # the 2025 edition judges and its own six-element rule needs more.
    answers = _clean_2017_answers(shipped.bundle) | {
        "fire.refuge_noncompliant": True, "fire.exits_blocked": True, "fire.smoke_control_missing": True}
    doc = fire_doc(shipped.judge(answers, on=dt.date(2025, 10, 31)))
    assert doc.document.version == "2017" and result(doc, "fire2017.5-3-3").outcome is Outcome.triggered
    doc = fire_doc(shipped.judge(answers, on=dt.date(2025, 11, 1)))
    assert doc.document.version == "2025" and all(not r.rule.startswith("fire2017.") for r in doc.results)


NOT_EXCLUDED_2025 = {"fire.due_to_standard_revision": False, "fire.place_stopped": False, "fire.corrected_on_spot": False}
ON_2025 = dt.date(2026, 11, 22)


def _clean_2025_answers(bundle, place_types):
    """Every GB 35181-2025 question answered "no problem" for the given place types."""
    answers = {}
    for fid, d in bundle.facts.items():
        if fid.startswith("fire."):
            answers[fid] = {"boolean": False, "integer": 0, "number": 10}.get(d.type.value)
    answers.update({"fire.in_scope": True, "fire.place_types": place_types, **NOT_EXCLUDED_2025})
    answers.update({"fire.hydrant_system_required": True, "fire.auto_extinguishing_required": True, "fire.alarm_system_required": True})
    return {k: v for k, v in answers.items() if v is not None}


def test_2025_is_fully_encoded_and_a_clean_site_concludes_none(shipped):
    verdict = shipped.judge(_clean_2025_answers(shipped.bundle, ["hotel", "underground_crowded"]), on=ON_2025)
    doc = fire_doc(verdict)
    assert doc.document.version == "2025" and doc.gaps == []
    assert [r.rule for r in doc.results if r.outcome is Outcome.undetermined] == []
    assert doc.outcome is DocumentOutcome.none and doc.outcome_label == "未发现重大火灾隐患"


def test_2025_one_unanswered_question_keeps_it_open(shipped):
    answers = _clean_2025_answers(shipped.bundle, ["hotel"])
    del answers["fire.rescue_opening_obstructed"]
    doc = fire_doc(shipped.judge(answers, on=ON_2025))
    assert doc.outcome is DocumentOutcome.undetermined
    assert result(doc, "fire2025.5-2-e").missing == ["fire.rescue_opening_obstructed"]


@pytest.mark.parametrize(("count", "outcome"), [(5, Outcome.not_triggered), (6, Outcome.triggered), (7, Outcome.triggered)])
def test_2025_six_comprehensive_elements_make_it_major(shipped, count, outcome):
    elements = ["fire.control_room_noncompliant", "fire.compartment_doors_damaged", "fire.stair_finish_combustible",
                "fire.no_dedicated_fire_circuit", "fire.wiring_on_combustible", "fire.terminals_burnt", "fire.pump_cabinet_in_manual"]
    answers = _clean_2025_answers(shipped.bundle, ["none"]) | {e: True for e in elements[:count]}
    verdict = shipped.judge(answers, on=ON_2025)
    doc = fire_doc(verdict)
    combo = result(doc, "fire2025.4-1-c")
    assert combo.outcome is outcome
    assert [(c.counted, c.threshold) for c in combo.counts] == [(count, 6)]
    text = render_text(verdict)
    if outcome is Outcome.triggered:
        assert doc.outcome is DocumentOutcome.major and "4.1 c)" in text
    else:
        # Below the threshold the elements are still reported, as general fire hazards.
        assert doc.outcome is DocumentOutcome.none and "一般火灾隐患" in text and "6.5.4" in text


def test_2025_the_same_element_found_twice_counts_once(shipped):
    # 5 distinct elements, one of them (6.3.3) seen at several doors: still 5.
    answers = _clean_2025_answers(shipped.bundle, ["none"]) | {
        "fire.control_room_noncompliant": True, "fire.compartment_doors_damaged": True, "fire.stair_finish_combustible": True,
        "fire.no_dedicated_fire_circuit": True, "fire.stair_doors_damaged": 4, "fire.stair_doors_total": 12}
    # The clean answers' 2017 record of the same doors (a rate of 10 %) would contradict 4 of 12.
    answers.pop("fire.stair_doors_damaged_pct")
    combo = result(fire_doc(shipped.judge(answers, on=ON_2025)), "fire2025.4-1-c")
    assert combo.outcome is Outcome.not_triggered and combo.counts[0].counted == 5


@pytest.mark.parametrize(("exclusion", "facts"), [
    ("fire2025.x_revision", {"fire.due_to_standard_revision": True}),
    ("fire2025.x_stopped", {"fire.place_stopped": True, "fire.stopped_no_actual_risk": True}),
    ("fire2025.x_corrected", {"fire.corrected_on_spot": True}),
])
def test_2025_exclusions_are_applied_cited_and_shown(shipped, exclusion, facts):
    answers = _clean_2025_answers(shipped.bundle, ["shop"]) | {"fire.rescue_opening_obstructed": True} | facts
    verdict = shipped.judge(answers, on=ON_2025)
    doc = fire_doc(verdict)
    assert result(doc, "fire2025.5-2-e").outcome is Outcome.excluded
    assert result(doc, "fire2025.5-2-e").excluded_by == [exclusion]
    assert verdict.outcome is not OverallOutcome.major
    assert result(doc, exclusion).citations[0].clause in render_text(verdict)


def test_2025_a_stopped_place_with_real_risk_is_not_excluded(shipped):
    answers = _clean_2025_answers(shipped.bundle, ["shop"]) | {"fire.rescue_opening_obstructed": True,
                                                               "fire.place_stopped": True, "fire.stopped_no_actual_risk": False}
    assert fire_doc(shipped.judge(answers, on=ON_2025)).outcome is DocumentOutcome.major


@pytest.mark.parametrize(("on", "rule"), [(dt.date(2025, 10, 31), "fire2017.6-4"), (dt.date(2025, 11, 1), "fire2025.5-1-a")])
def test_the_date_boundary_cites_the_version_in_force(shipped, on, rule):
    answers = {"fire.in_scope": True, "fire.class_ab_in_basement": True, "fire.basement_special_process": False,
               **NOT_EXCLUDED, **NOT_EXCLUDED_2025}
    doc = fire_doc(shipped.judge(answers, on=on))
    assert doc.outcome is DocumentOutcome.major
    finding = result(doc, rule)
    assert finding.outcome is Outcome.triggered and finding.citations[0].number == doc.document.number


def test_2025_annex_a_needs_a_failure_in_each_required_system(shipped):
    base = _clean_2025_answers(shipped.bundle, ["hospital"])
    both_required = base | {"fire.hydrant_system_required": False, "fire.alarm_installed": True, "fire.alarm_not_working": True}
    doc = fire_doc(shipped.judge(both_required | {"fire.alarm_system_failure": True}, on=ON_2025))
    assert result(doc, "fire2025.5-3-e-failing").outcome is Outcome.not_triggered
    doc = fire_doc(shipped.judge(both_required | {"fire.alarm_system_failure": True, "fire.gas_system_installed": True,
                                                  "fire.gas_agent_net_kg": 44.9, "fire.gas_agent_design_kg": 50}, on=ON_2025))
    failing = result(doc, "fire2025.5-3-e-failing")
    assert failing.outcome is Outcome.triggered and [c.clause for c in failing.citations] == ["5.3 e)", "A.4"]


def test_2025_an_annex_a_failure_cannot_be_answered_as_working(shipped):
    from hazardjudge.errors import InputError

    answers = _clean_2025_answers(shipped.bundle, ["hotel"]) | {"fire.hydrant_system_failure": True}
    with pytest.raises(InputError, match="消火栓系统存在附录A所列情形"):
        shipped.judge(answers, on=ON_2025)


@pytest.mark.parametrize(("facts", "outcome"), [
    ({"fire.separation_devices_damage_compliance": "是"}, None),  # 是 answers no 符合/不符合 question: refused
    ({"fire.separation_devices_damage_compliance": "不符合"}, Outcome.triggered),
    ({"fire.separation_devices_damaged_pct": "60%"}, Outcome.triggered),
    ({"fire.separation_devices_damaged_pct": "50%"}, Outcome.not_triggered),
    ({"fire.separation_devices_damaged": 4, "fire.separation_devices_total": 6}, Outcome.triggered),
    ({"fire.separation_devices_damaged": 0}, Outcome.not_triggered),
    ({"fire.separation_devices_damaged": 4}, Outcome.undetermined),
])
def test_2017_a_damage_rate_is_read_from_whichever_record_was_made(shipped, facts, outcome):
    from hazardjudge.errors import InputError

    answers = {"fire.in_scope": True, "fire.place_categories": ["other"], **facts}
    if outcome is None:
        with pytest.raises(InputError):
            shipped.judge(answers, on=dt.date(2020, 6, 1))
        return
    doc = fire_doc(shipped.judge(answers, on=dt.date(2020, 6, 1)))
    assert result(doc, "fire2017.7-2-2").outcome is outcome


def test_2017_records_of_one_rate_that_disagree_are_refused(shipped):
    from hazardjudge.errors import InputError

    with pytest.raises(InputError) as info:
        shipped.judge({"fire.stair_doors_damaged_pct": 60, "fire.stair_doors_damaged": 1, "fire.stair_doors_total": 10}, on=dt.date(2020, 6, 1))
    assert "楼梯间门的损坏樘数、损坏率" in str(info.value)


def test_the_2017_ktv_example_is_major_by_5_3_3_a_and_the_oracle_agrees(shipped):
    from hazardjudge.engine.loading import example_dir
    from hazardjudge.engine.oracle import OracleEvaluator
    from hazardjudge.inputs.inspections import parse_inspection

    parsed = parse_inspection((example_dir() / "fire_ktv_2021.yaml").read_text(encoding="utf-8"))
    facts, on = dict(parsed.inspection.facts), parsed.inspection.on
    engine_view, _, _ = shipped.evaluate(shipped.read(facts), on, None)
    oracle_view, _, _ = shipped.evaluate(shipped.read(facts), on, None, evaluator=OracleEvaluator(shipped.compiled))
    assert {g: {t: o.outcome for t, o in ts.items()} for g, ts in engine_view.groups.items()} == {
        g: {t: o.outcome for t, o in ts.items()} for g, ts in oracle_view.groups.items()}
    verdict = shipped.judge(parsed.inspection)
    assert verdict.outcome is OverallOutcome.major
    combo = result(fire_doc(verdict), "fire2017.5-3-3")
    crowded = next(c for c in combo.counts if c.variant == "crowded")
    assert combo.outcome is Outcome.triggered and crowded.clauses == ["7.3.2", "7.3.3", "7.5"]
    # Every question of the read part is answered, yet the unread part keeps the other results open only
    # through the gaps: no element of the read part is undetermined.
    assert [r.rule for r in fire_doc(verdict).results if r.outcome is Outcome.undetermined] == []
    assert fire_doc(verdict).gaps
