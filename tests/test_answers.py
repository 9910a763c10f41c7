"""Answers that cannot be read are errors that name the question; they are never dropped or read as 否."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection

ON = dt.date(2026, 11, 1)


def problems(engine, facts):
    with pytest.raises(InputError) as info:
        engine.judge(facts, on=ON)
    return info.value.problems


def test_unknown_question_suggests_the_closest(shipped):
    (p,) = problems(shipped, {"gas.licence_held": False})
    assert p.code == "answer.unknown_question"
    assert "gas.license_held" in p.hint


@pytest.mark.parametrize("value", ["maybe", 3, [True]])
def test_wrong_type_for_a_yes_no_question(shipped, value):
    (p,) = problems(shipped, {"gas.license_held": value})
    assert p.code == "answer.invalid" and "是/否" in p.message


@pytest.mark.parametrize("value", [-1, 11, float("nan"), float("inf"), "1e309", True, "1.6 kg"])
def test_absurd_or_mistyped_numbers(shipped, value):
    (p,) = problems(shipped, {"gas.user_gas_relative_density": value})
    assert p.code == "answer.invalid"


def test_numbers_with_their_unit_are_read(demo):
    verdict = demo.judge({"demo.exit_width": "1.0 m", "demo.exit_width_required": "1.4m", "demo.closed": "否"}, on=dt.date(2020, 1, 1), sectors=["demo"])
    exit_rule = next(r for d in verdict.documents for r in d.results if r.rule == "demo.exit")
    assert exit_rule.outcome.value == "triggered"


def test_wrong_unit_is_an_error(demo):
    with pytest.raises(InputError) as info:
        demo.judge({"demo.exit_width": "1.0 kg"}, on=dt.date(2020, 1, 1), sectors=["demo"])
    assert "单位" in info.value.problems[0].message


@pytest.mark.parametrize(("text", "metres"), [("8米", 8.0), ("8 m", 8.0), ("80厘米", 0.8), ("1500毫米", 1.5), ("1.05", 1.05)])
def test_lengths_are_converted_to_the_fact_unit(demo, text, metres):
    assert demo.read({"demo.exit_width": text}).values["demo.exit_width"] == pytest.approx(metres)


@pytest.mark.parametrize(("text", "kpa"), [("30kPa", 30.0), ("30 kpa", 30.0), ("30千帕", 30.0), ("0.03MPa", 30.0), ("0.0301 兆帕", 30.1), ("30000Pa", 30.0)])
def test_pressures_are_converted_to_kpa_exactly(shipped, text, kpa):
    # Exactly, not approximately: a converted answer is compared with a limit (0.0301 × 1000 is not 30.1 in floats).
    assert shipped.read({"ind.gas_water_seal_block_pressure": text}).values["ind.gas_water_seal_block_pressure"] == kpa


@pytest.mark.parametrize(("text", "count"), [("三个", 3), ("十二", 12), ("两百人", 200), ("600", 600)])
def test_counts_in_chinese_numerals(demo, text, count):
    assert demo.read({"demo.people": text}).values["demo.people"] == count


def test_enum_value_not_allowed_lists_the_allowed(demo):
    with pytest.raises(InputError) as info:
        demo.judge({"demo.grade": "z"}, on=dt.date(2026, 1, 1), sectors=["demo"])
    assert "可选值" in info.value.problems[0].message and "a（甲）" in info.value.problems[0].message


def test_enum_accepts_its_chinese_label(demo):
    verdict = demo.judge({"demo.grade": "甲", "demo.people": 600}, on=dt.date(2026, 1, 1), sectors=["demo"])
    assert verdict.documents[0].results[0].outcome.value == "triggered"


def test_contradicting_answers_are_an_error(shipped):
    (p,) = problems(shipped, {"site.kinds": ["gas_operator", "other"]})
    assert p.code == "answer.contradiction"


@pytest.mark.parametrize("word", ["未检查", "不清楚", "不适用", None, ""])
def test_unknown_words_are_unknown_not_no(shipped, word):
    verdict = shipped.judge({"site.kinds": ["gas_operator"], "gas.license_held": word}, on=ON)
    rule = next(r for d in verdict.documents for r in d.results if r.rule == "city_gas.4-1")
    assert rule.outcome.value == "undetermined"
    assert "gas.license_held" in rule.missing


def test_every_bad_answer_is_reported_at_once(shipped):
    found = problems(shipped, {"gas.license_held": "maybe", "gas.nope": 1, "gas.user_gas_relative_density": -5})
    assert len(found) == 3


def test_overlong_text_is_refused(shipped):
    (p,) = problems(shipped, {"gas.other_serious_violation_description": "字" * 5000})
    assert "过长" in p.message


def test_json_input_duplicate_key_is_an_error():
    with pytest.raises(InputError) as info:
        parse_inspection('{"facts": {"gas.odorized": true, "gas.odorized": false}}', "x.json")
    assert info.value.problems[0].code == "json.duplicate_key"


def test_yaml_input_positions_reach_answer_errors(shipped):
    parsed = parse_inspection("facts:\n  gas.license_held: true\n  gas.odorized: perhaps\n", "in.yaml")
    with pytest.raises(InputError) as info:
        shipped.read(parsed.inspection.facts, parsed.positions)
    assert info.value.problems[0].position.line == 3


def test_unknown_top_level_key_in_structured_input():
    with pytest.raises(InputError) as info:
        parse_inspection("facts: {}\ndaet: 2026-01-01\n", "in.yaml")
    assert info.value.problems[0].position.line == 2


def test_unknown_sector_is_an_error_with_suggestion(shipped):
    with pytest.raises(InputError) as info:
        shipped.judge({}, on=ON, sectors=["city_gaz"])
    assert "city_gas" in info.value.problems[0].hint


@pytest.mark.parametrize(
    ("fact", "text", "read"),
    [
        # The answer restates the question's predicate: it affirms the failure.
        ("con.scaffold_foundation_fail", "不满足", True),
        ("con.truss_no_stability_measures", "未采取", True),
        ("con.gondola_lock_failed", "失效", True),
        # Short phrases still read by their prefix when the question asks positively.
        ("con.gondola_lock_failed", "未失效", False),
        ("gas.license_held", "已取得", True),
        ("gas.license_held", "没有取得", False),
    ],
)
def test_phrases_are_read_against_the_questions_polarity(shipped, fact, text, read):
    assert shipped.read({fact: text}).values[fact] is read


@pytest.mark.parametrize(("fact", "text"), [("con.truss_no_stability_measures", "已采取"), ("con.scaffold_foundation_fail", "满足"), ("con.key_staff_uncertified", "未取得")])
def test_phrases_that_could_invert_a_negative_question_are_refused(shipped, fact, text):
    # “是否未采取防失稳措施？” answered “已采取” means no failure; guessing from 已 would say there is one.
    (p,) = problems(shipped, {fact: text})
    assert p.code == "answer.invalid" and "是/否" in p.message


@pytest.mark.parametrize(("text", "read"), [("是的", True), ("不是", False)])
def test_plain_yes_no_words_need_no_guessing_on_a_negative_question(shipped, text, read):
    assert shipped.read({"con.truss_no_stability_measures": text}).values["con.truss_no_stability_measures"] is read
