"""The verdict asks only what can still change it, most decisive first, and says which way it can go."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import DATES, answers, consistent, sectors

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import OverallOutcome, QuestionRole
from hazardjudge.engine.oracle import OracleEvaluator
from hazardjudge.engine.verdicts import VerdictBuilder
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection

# Most of a partial inspection answered, often enough, for outcomes that need nearly every answer ("none").
SHARE = st.one_of(st.floats(0.0, 1.0), st.floats(0.85, 1.0))
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def judge_or_none(engine, facts, on, chosen):
    """A verdict, or None where the merged answers break one of the bundle's constraints."""
    try:
        return engine.judge(engine.read(facts), on=on, sectors=chosen)
    except InputError:
        return None


def first_look(engine, full, seed, share, on, chosen):
    """Consistent answers, a random part of them (the rest answered later), and its verdict."""
    full = consistent(engine, full, chosen)
    rng = random.Random(seed)
    partial = {k: v for k, v in full.items() if rng.random() < share}
    return full, partial, engine.judge(partial, on=on, sectors=chosen)


@pytest.mark.parametrize("bundle", ["shipped", "demo"])
def test_answering_unlisted_questions_never_changes_the_outcome(bundle, request):
    engine = request.getfixturevalue(bundle)

    @SETTINGS
    @given(answers(engine), st.integers(0, 2**32 - 1), SHARE, st.sampled_from(DATES), sectors(engine))
    def run(full, seed, share, on, chosen):
        full, partial, first = first_look(engine, full, seed, share, on, chosen)
        listed = {q.id for q in first.questions}
        extra = {k: v for k, v in full.items() if k not in partial and k not in listed}
        second = judge_or_none(engine, {**partial, **extra}, on, chosen)
        assume(second is not None)
        assert second.outcome is first.outcome, (sorted(extra), first.outcome_label, second.outcome_label)

    run()


@pytest.mark.parametrize("bundle", ["shipped", "demo"])
def test_answering_the_listed_questions_reaches_only_a_possible_outcome(bundle, request):
    engine = request.getfixturevalue(bundle)

    @SETTINGS
    @given(answers(engine), st.integers(0, 2**32 - 1), SHARE, st.sampled_from(DATES), sectors(engine))
    def run(full, seed, share, on, chosen):
        full, partial, first = first_look(engine, full, seed, share, on, chosen)
        assert first.possible_outcomes[0] is first.outcome
        listed = {q.id for q in first.questions}
        answered = {k: v for k, v in full.items() if k in listed}
        second = judge_or_none(engine, {**partial, **answered}, on, chosen)
        assume(second is not None)
        assert second.outcome in first.possible_outcomes, (first.possible_outcomes, second.outcome_label)
        # Any answers at all (listed or not) stay within the possible outcomes too.
        third = judge_or_none(engine, full, on, chosen)
        if third is not None:
            assert third.outcome in first.possible_outcomes

    run()


@pytest.mark.parametrize("bundle", ["shipped", "demo"])
def test_same_facts_same_questions_in_the_same_order(bundle, request):
    engine = request.getfixturevalue(bundle)

    @SETTINGS
    @given(answers(engine), st.sampled_from(DATES), sectors(engine))
    def run(facts, on, chosen):
        facts = consistent(engine, facts, chosen)
        a = engine.judge(facts, on=on, sectors=chosen)
        b = engine.judge(dict(reversed(list(facts.items()))), on=on, sectors=chosen)
        assert [q.id for q in a.questions] == [q.id for q in b.questions]
        assert a.questions == b.questions and a.further_questions == b.further_questions
        assert a.possible_outcomes == b.possible_outcomes
        # Built on the oracle's outcomes (pending exclusions included), the same questions come out.
        parsed = engine.read(facts)
        ev, chosen_, named = engine.evaluate(parsed, on, chosen, evaluator=OracleEvaluator(engine.compiled))
        by_oracle = VerdictBuilder(engine.compiled, parsed, on, named).build(ev, chosen_)
        assert by_oracle.questions == a.questions and by_oracle.possible_outcomes == a.possible_outcomes
        assert by_oracle.further_questions == a.further_questions and by_oracle.pending == a.pending
        # Nothing is asked twice, nothing answered is asked, and every question says why.
        ids = [q.id for q in a.questions + a.further_questions]
        assert len(ids) == len(set(ids))
        assert not set(ids) & set(engine.read(facts).values)
        assert all(q.reason and q.decides for q in a.questions + a.further_questions)
        if a.outcome is OverallOutcome.major:
            assert a.questions == [] and a.possible_outcomes == [OverallOutcome.major]
        else:
            assert a.further_questions == []

    run()


def ranks(questions):
    order = {QuestionRole.exclusion: 0, QuestionRole.applicability: 1, QuestionRole.condition: 2}
    return [order[q.role] for q in questions]


def test_questions_are_ranked_applicability_first_then_by_reach(shipped):
    verdict = shipped.judge({}, on=dt.date(2026, 11, 18), sectors=["fire"])
    r = ranks(verdict.questions)
    assert r == sorted(r)
    assert verdict.questions[0].id == "fire.place_types"
    assert "是否适用" in verdict.questions[0].reason
    conditions = [q for q in verdict.questions if q.role is QuestionRole.condition]
    reach = [len({t.rule for t in q.decides}) for q in conditions]
    assert reach == sorted(reach, reverse=True)
    assert set(verdict.possible_outcomes) == {OverallOutcome.undetermined, OverallOutcome.major, OverallOutcome.none}


def test_an_unknown_scope_is_asked_first_and_says_which_document(shipped):
    verdict = shipped.judge({}, on=dt.date(2026, 11, 18))
    first = verdict.questions[0]
    assert first.id == "site.kinds" and first.role is QuestionRole.applicability
    assert "决定是否适用《" in first.reason
    assert any(t.rule.startswith("scope:") for t in first.decides)


def test_a_when_gate_is_asked_before_the_clause_it_opens(shipped):
    on = dt.date(2026, 11, 18)
    only_highrise = "fire.children_no_independent_exit"  # 5.3 d) asks it only for a high-rise building
    before = {q.id: q for q in shipped.judge({}, on=on, sectors=["fire"]).questions}
    assert only_highrise not in before and before["fire.building_highrise"].role is QuestionRole.applicability
    children = {"fire.place_types": ["children"]}
    assert only_highrise not in {q.id for q in shipped.judge(children, on=on, sectors=["fire"]).questions}
    opened = shipped.judge({**children, "fire.building_highrise": True}, on=on, sectors=["fire"])
    assert only_highrise in {q.id for q in opened.questions}
    closed = shipped.judge({**children, "fire.building_highrise": False}, on=on, sectors=["fire"])
    assert only_highrise not in {q.id for q in closed.questions}


def test_an_open_scope_asks_only_the_scope(shipped):
    verdict = shipped.judge({}, on=dt.date(2026, 11, 18))
    assert {q.role for q in verdict.questions} == {QuestionRole.applicability}
    assert {"site.kinds", "fire.in_scope"} <= {q.id for q in verdict.questions}
    assert len(verdict.questions) < 10


def test_a_gapped_document_asks_only_what_could_make_it_major(demo):
    # demo 2025 has an unverified and an unencoded deciding clause: it can never conclude "none".
    verdict = demo.judge({"demo.kinds": ["demo_place"]}, on=dt.date(2026, 1, 1))
    assert OverallOutcome.none not in verdict.possible_outcomes
    assert verdict.questions


@pytest.mark.parametrize("name", ["city_gas_station.yaml", "construction_site.yaml", "fire_hotel.yaml", "fireworks_retail.yaml", "coal_mine.yaml", "fishing_vessel.yaml", "civil_explosives.yaml", "metal_mine_underground.yaml", "industry_trade_2022.yaml", "power_plant.yaml", "special_equipment.yaml", "road_transport.yaml", "highway_operation.yaml"])
def test_a_major_example_asks_nothing_but_may_look_further(shipped, name):
    parsed = parse_inspection((example_dir() / name).read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    assert verdict.outcome is OverallOutcome.major
    assert verdict.questions == [] and verdict.possible_outcomes == [OverallOutcome.major]
    for q in verdict.further_questions:
        assert q.decides and q.reason


def test_a_triggered_result_lists_nothing_missing(shipped):
    parsed = parse_inspection((example_dir() / "city_gas_station.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    for d in verdict.documents:
        for r in d.results:
            if r.outcome.value != "undetermined":
                assert r.missing == []


def clean_city_gas(shipped):
    parsed = parse_inspection((example_dir() / "city_gas_station.yaml").read_text(encoding="utf-8"))
    facts = dict(parsed.inspection.facts)
    facts.update({"gas.tank_overlimit_alarm": True, "gas.sells_non_owned_filled": False, "gas.user_heavy_gas_underground_handled": True})
    on = dt.date(2026, 11, 18)
    assert shipped.judge(facts, on=on).outcome is OverallOutcome.none
    return facts, on


def test_a_nearly_clean_inspection_lists_what_could_still_rule_out_a_hazard(shipped):
    """Toward "none" too: leaving out answers of a clean site, the unlisted ones never change the outcome."""
    facts, on = clean_city_gas(shipped)
    keys = sorted(facts)

    @SETTINGS
    @given(st.sets(st.sampled_from(keys), max_size=6))
    def run(dropped):
        partial = {k: v for k, v in facts.items() if k not in dropped}
        first = shipped.judge(partial, on=on)
        listed = {q.id for q in first.questions}
        assert OverallOutcome.none in first.possible_outcomes
        rest = {k: facts[k] for k in dropped if k not in listed}
        assert shipped.judge({**partial, **rest}, on=on).outcome is first.outcome
        # and answering the listed ones as the clean site did gives "none"
        assert shipped.judge(facts, on=on).outcome in first.possible_outcomes

    run()
