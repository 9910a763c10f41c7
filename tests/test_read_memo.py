"""An engine reading many inspections remembers how each answer read, and checks only the
constraints an inspection's answers touch; neither may change what an inspection reads as."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hazardjudge
from hazardjudge.engine.models import AllOf, Leaf
from hazardjudge.errors import InputError, Position
from hazardjudge.inputs.reading import Constraints, ReadMemo, read_answers

POS = Position("answers.yaml", 3, 1)


@pytest.fixture(scope="module")
def engine() -> hazardjudge.Engine:
    return hazardjudge.load()


def _fresh(engine, raw):
    constraints = [c for loc in engine.bundle.constraints for c in loc.model.constraints]
    return read_answers(dict(raw), engine.bundle.facts, constraints, None, engine.bundle.vocabulary)


ANSWERS = st.sampled_from(
    ["是", "否", "不知道", "有", "没有", "2.5 m", "250cm", "3", "三", True, False, 0, 1, 7.5, "", "甲", ["over"], "2024-05-01"]
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["gas.odorized", "gas.license_held", "gas.user_gas_relative_density",
                                        "site.kinds", "gas.user_gas_kind"]), ANSWERS, max_size=5))
def test_remembered_answers_read_exactly_as_fresh_ones(engine, raw):
    def outcome(read):
        try:
            return read().values
        except InputError as exc:
            return [(p.code, p.message) for p in exc.problems]

    fresh = outcome(lambda: _fresh(engine, raw))
    assert outcome(lambda: engine.read(raw)) == fresh
    assert outcome(lambda: engine.read(raw)) == fresh  # the second time from the memo


def test_an_invalid_answer_is_reported_every_time_with_its_position(engine):
    for _ in range(2):
        with pytest.raises(InputError) as err:
            engine.read({"gas.odorized": "大概吧"}, positions={"gas.odorized": POS})
        assert [p.position for p in err.value.problems] == [POS]


def test_a_contradiction_is_found_whichever_answer_was_remembered(engine):
    engine.read({"gas.user_gas_kind": "lpg"})
    engine.read({"gas.user_gas_relative_density": 0.6})
    with pytest.raises(InputError, match="相互矛盾"):
        engine.read({"gas.user_gas_kind": "lpg", "gas.user_gas_relative_density": 0.6})


def test_mutable_readings_are_not_shared():
    memo = ReadMemo()
    memo.put(("t.x", list, ("a",)), ["a"])  # a list: never kept
    memo.put(memo.key("t.x", "1"), 1.0)
    assert list(memo.values.values()) == [1.0]
    assert memo.key("t.x", {"a": 1}) is None and memo.key("t.x", [1]) is None


def test_constraints_testing_whether_a_question_was_answered_are_always_checked():
    class C:
        def __init__(self, condition):
            self.condition, self.message = condition, "m"

    presence = C(AllOf(all=[Leaf(fact="a", op="answered", value=False), Leaf(fact="b", op="eq", value=True)]))
    plain = C(Leaf(fact="a", op="eq", value=True))
    prepared = Constraints([presence, plain])
    assert [reads for _, reads in prepared.items] == [None, frozenset({"a"})]
    assert list(prepared.violated({"b": True})) == [presence]  # a unanswered: checked although a is not read
    assert list(prepared.violated({"a": True})) == [plain]


def test_pasted_contradictory_answers_are_reported_and_left_unanswered(engine):
    text = "该用户使用的是哪种燃气？：液化石油气\n该用户所用燃气的相对密度是多少？：0.6\n"
    answers, pasted = engine.paste(text, on=dt.date(2026, 11, 18), sectors=["city_gas"])
    assert [p.code for p in pasted.problems if p.code == "paste.contradiction"] == ["paste.contradiction"]
    assert "gas.user_gas_kind" not in answers.values and "gas.user_gas_relative_density" not in answers.values
