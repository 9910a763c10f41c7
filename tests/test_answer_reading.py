"""Answers as inspectors write them: unknown is unanswered, only explicit phrases are 是/否,
numbers and dates in every everyday form, and the phrase lists are data (rules/answers.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hazardjudge
from hazardjudge.engine.loading import default_vocabulary
from hazardjudge.engine.models import FactDef, Inspection
from hazardjudge.engine.normalising import chinese_integer
from hazardjudge.errors import BundleError, InputError
from hazardjudge.inputs.inspections import parse_date, parse_inspection
from hazardjudge.inputs.reading import coerce

ROOT = Path(__file__).parents[1]
SHIPPED_LISTS = yaml.safe_load((ROOT / "rules" / "answers.yaml").read_text(encoding="utf-8"))
ON = dt.date(2026, 11, 18)

PLAIN = FactDef(id="t.alarm", type="boolean", question="是否设置了可燃气体报警装置？")
NEGATIVE = FactDef(id="t.no_measures", type="boolean", question="安装时是否未采取防失稳措施？")
METRES = FactDef(id="t.width", type="number", unit="m", min=0, max=100000, question="安全出口净宽度是多少米？")
COUNT = FactDef(id="t.doors", type="integer", min=0, max=100000, question="防火门有多少樘？")
PERCENT = FactDef(id="t.share", type="number", unit="%", min=0, max=100, question="占比是多少？")
RATIO = FactDef(id="t.ratio", type="number", min=0, max=1, question="占比（小数）是多少？")
GRADE = FactDef(id="t.grade", type="enum", values={"a": "甲", "b": "乙"}, question="场所等级")
KINDS = FactDef(id="t.kinds", type="set", values={"over": "架空管道", "buried": "埋地管道"}, question="管道类型（可多选）")
WHEN = FactDef(id="t.when", type="date", question="最近一次检验日期")
NOTE = FactDef(id="t.note", type="text", question="情况说明")
EVERY_TYPE = [PLAIN, NEGATIVE, METRES, COUNT, PERCENT, RATIO, GRADE, KINDS, WHEN]

# The brief's list, word for word: each must read as unanswered.
UNKNOWN = [
    "不知道", "没检查", "未检查", "不详", "不清楚", "无法确认", "待核实", "没看到", "未提供", "看不清",
    "现场未见资料", "未知", "不确定", "待查", "未查", "没查", "不了解", "说不清", "无法判断", "未核实",
    "待确认", "资料未提供", "未见资料", "看不到", "未能检查", "未检", "unknown", "?", "？", "n/a", "空",
]
VARIANTS = [
    "还不知道", "暂不清楚", "目前无法确认", "不知道。", "不知道！", "不 知 道", "（不清楚）", "【待核实】",
    "ＵＮＫＮＯＷＮ", "N/A", "Ｎ／Ａ", "不知道是否设置", "是？", "有?", "应该有，但不确定", "没看到资料", "现场未见相关资料",
    "", "   ", "。", "-", "/",
]


def refused(fact, text, vocabulary=None):
    with pytest.raises(ValueError) as info:
        coerce(fact, text, vocabulary)
    return str(info.value)


# --------------------------------------------------------------------------- unknown is unanswered


@pytest.mark.parametrize("fact", EVERY_TYPE, ids=lambda f: f.id)
@pytest.mark.parametrize("text", UNKNOWN + VARIANTS)
def test_unknown_phrases_are_unanswered_on_every_question_type(fact, text):
    assert coerce(fact, text) is None


@pytest.mark.parametrize("text", ["不知道", "没检查", "没看到", "未提供", "未见资料", "不知道是否设置"])
def test_unknown_phrases_once_read_as_no_now_leave_the_clause_undetermined(shipped, text):
    # These began with 不/没/未 and were read as 否: 燃气经营许可证 "否" is a major hazard.
    verdict = hazardjudge.load().judge({"site.kinds": ["gas_operator"], "gas.license_held": text}, on=ON)
    rule = next(r for d in verdict.documents for r in d.results if r.rule == "city_gas.4-1")
    assert rule.outcome.value == "undetermined"
    assert "gas.license_held" in rule.missing
    assert verdict.outcome.value != "none"


def test_free_text_mentioning_an_unknown_phrase_is_kept_as_text():
    assert coerce(NOTE, "通道堵塞，何时堵塞不清楚") == "通道堵塞，何时堵塞不清楚"
    assert coerce(NOTE, "不清楚。") is None


def test_a_choice_whose_label_holds_an_unknown_phrase_is_still_a_choice():
    fact = FactDef(id="t.scope", type="set", values={"na": "不适用", "x": "其他"}, question="适用范围")
    assert coerce(fact, "不适用") == frozenset({"na"})
    assert coerce(fact, "不适用、其他") == frozenset({"na", "x"})
    assert coerce(fact, "其他，不清楚") is None


# Hypothesis: surrounding punctuation and whitespace of both widths never turn an unknown phrase into a value.
SURROUNDINGS = st.text(alphabet=list(" \u3000\t。，,.！!、；;：:（）()【】“”\"'…~～?？-—《》「」/"), max_size=4)
ALL_UNKNOWN = SHIPPED_LISTS["unknown_answers"] + SHIPPED_LISTS["unknown_whole_answers"] + UNKNOWN


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(phrase=st.sampled_from(ALL_UNKNOWN), before=SURROUNDINGS, after=SURROUNDINGS, fact=st.sampled_from(EVERY_TYPE))
def test_no_unknown_phrase_with_any_surroundings_yields_a_value(phrase, before, after, fact):
    try:
        value = coerce(fact, before + phrase + after)
    except ValueError:
        return  # refused is fine: it stays unanswered
    assert value is None, (before + phrase + after, value)


@settings(max_examples=200)
@given(phrase=st.sampled_from(ALL_UNKNOWN), other=st.sampled_from(["是否设置", "有", "没有", "3米", "2026-11-20", "甲"]))
def test_an_answer_containing_an_unknown_phrase_is_never_a_value(phrase, other):
    if phrase in SHIPPED_LISTS["unknown_whole_answers"]:
        return  # whole-answer phrases (空) are ordinary characters inside words
    for fact in EVERY_TYPE:
        for text in (phrase + other, other + phrase):
            try:
                assert coerce(fact, text) is None, (fact.id, text)
            except ValueError:
                pass


# --------------------------------------------------------------------------- only explicit 是/否


YES = SHIPPED_LISTS["yes_answers"] + SHIPPED_LISTS["found_answers"]
NO = SHIPPED_LISTS["no_answers"] + SHIPPED_LISTS["not_found_answers"]


@given(phrase=st.sampled_from(YES), tail=st.sampled_from(["", "。", "！", " ", "\u3000", "!"]))
def test_every_yes_phrase_reads_yes_on_a_plainly_worded_question(phrase, tail):
    assert coerce(PLAIN, phrase + tail) is True


@given(phrase=st.sampled_from(NO), tail=st.sampled_from(["", "。", "！", " ", "\u3000", "!"]))
def test_every_no_phrase_reads_no_on_a_plainly_worded_question(phrase, tail):
    assert coerce(PLAIN, phrase + tail) is False


@pytest.mark.parametrize(("text", "read"), [("是", True), ("是的", True), ("否", False), ("不是", False), ("Ｙｅｓ", True), ("ＮＯ", False)])
def test_yes_no_words_answer_even_a_negatively_worded_question(text, read):
    assert coerce(NEGATIVE, text) is read


@pytest.mark.parametrize("text", ["没有", "无", "有", "未见", "未发现", "存在"])
def test_what_was_found_is_refused_on_a_negatively_worded_question(text):
    # “是否未采取防失稳措施？” — “没有” may mean “no such failure” or “no measures”.
    assert "是/否" in refused(NEGATIVE, text)


@pytest.mark.parametrize(("text", "read"), [("未见", False), ("未发现", False), ("没有发现", False), ("有", True)])
def test_not_seen_on_site_is_a_negative_but_documents_not_shown_are_unknown(text, read):
    assert coerce(PLAIN, text) is read
    assert coerce(PLAIN, "未见资料") is None and coerce(PLAIN, "现场未见资料") is None


@pytest.mark.parametrize("text", ["没弄", "不太好", "已整改", "有问题但已整改", "未按要求", "无所谓", "对对对吧", "是，但已过期", "maybe"])
def test_no_first_character_guessing(text):
    # Each begins with a character the old reader took as 是 or 否.
    message = refused(PLAIN, text)
    assert "是/否" in message and "不知道" in message


def test_the_refusal_names_what_is_accepted(shipped):
    with pytest.raises(InputError) as info:
        shipped.judge({"gas.license_held": "没弄"}, on=ON)
    (p,) = info.value.problems
    assert p.code == "answer.invalid"
    for word in ("是", "否", "没有", "不知道", "未回答"):
        assert word in p.message


@pytest.mark.parametrize(
    ("question", "text", "read"),
    [
        ("燃气经营者是否已取得燃气经营许可证？", "已取得", True),
        ("燃气经营者是否已取得燃气经营许可证？", "取得了", None),
        ("燃气经营者是否已取得燃气经营许可证？", "未取得", False),
        ("燃气经营者是否已取得燃气经营许可证？", "没有取得", False),
        ("高处作业吊篮的安全锁是否失效？", "失效", True),
        ("高处作业吊篮的安全锁是否失效？", "未失效", False),
        ("脚手架的基础承载力和变形是否不满足设计要求？", "不满足", True),
        ("脚手架的基础承载力和变形是否不满足设计要求？", "满足", None),
        ("是否未采取防失稳措施？", "已采取", None),
        ("是否有人未取得有效安全生产考核合格证书？", "没有人", False),
    ],
)
def test_an_answer_in_the_questions_own_words(question, text, read):
    fact = FactDef(id="t.q", type="boolean", question=question)
    if read is None:
        assert "是/否" in refused(fact, text)
    else:
        assert coerce(fact, text) is read


def test_unknown_wins_over_restating_the_predicate():
    fact = FactDef(id="t.q", type="boolean", question="气瓶是否未检查就充装？")
    assert coerce(fact, "未检查") is None
    assert coerce(fact, "未检查就充装") is None


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("fact", "text", "value"),
    [
        (METRES, "１．８米", 1.8),
        (METRES, "1.8 m", 1.8),
        (METRES, "二点五米", 2.5),
        (METRES, "1,200", 1200),
        (METRES, "1，200米", 1200),
        (METRES, "１２００ｍｍ", 1.2),
        (METRES, "1.8米。", 1.8),
        (COUNT, "３樘", 3),
        (COUNT, "十二", 12),
        (COUNT, "两处", 2),
        (COUNT, "三百五十", 350),
        (COUNT, "一千二百", 1200),
        (COUNT, "一千二", 1200),
        (COUNT, "一万零二", 10002),
        (COUNT, "三百零五个", 305),
        (COUNT, "1.2万", 12000),
        (COUNT, "5具", 5),
        (PERCENT, "50%", 50),
        (PERCENT, "５０％", 50),
        (PERCENT, "百分之五十", 50),
        (PERCENT, "50", 50),
        (RATIO, "50%", 0.5),
        (RATIO, "百分之五十", 0.5),
        (RATIO, "0.5", 0.5),
    ],
)
def test_numbers_as_inspectors_write_them(fact, text, value):
    assert coerce(fact, text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("fact", "text", "says"),
    [
        (METRES, "约2米", "确切"),
        (METRES, "2米左右", "确切"),
        (METRES, "大概1.5", "确切"),
        (COUNT, "十多个", "确切"),
        (COUNT, "3处以上", "确切"),
        (METRES, "2-3米", "范围"),
        (METRES, "2~3米", "范围"),
        (METRES, "２～３米", "范围"),
        (METRES, "2米-3米", "范围"),
        (COUNT, "二至三处", "范围"),
        (COUNT, "两三处", "估计"),
        (METRES, "1e999", "科学计数法"),
        (METRES, "1" * 40, "位数"),
        (METRES, "1,2", "千分位"),
        (METRES, "3处", "量词"),
        (METRES, "3 kg", "单位"),
        (COUNT, "十百", "中文数字"),
        (COUNT, "若干", "应为数字"),
    ],
)
def test_estimates_ranges_and_garbled_numbers_are_refused(fact, text, says):
    assert says in refused(fact, text)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 10**400, 1e300, "nan", "inf", "1e309"])
def test_absurd_numbers_are_refused_never_a_crash(value):
    refused(METRES, value)


def test_numbers_through_the_library(demo):
    answers = demo.read({"demo.people": "六百人", "demo.exit_width": "１．０米", "demo.exit_width_required": "１．４m"})
    assert answers.values == {"demo.people": 600, "demo.exit_width": 1.0, "demo.exit_width_required": 1.4}
    with pytest.raises(InputError) as info:
        demo.judge({"demo.exit_width": "约1米"}, on=dt.date(2020, 1, 1), sectors=["demo"])
    assert "确切" in info.value.problems[0].message


def _standard_chinese(n: int) -> str:
    """The standard written form, to check the reader against (一万零二, 三百五十, 一千零二十)."""
    digits = "零一二三四五六七八九"

    def section(v: int) -> str:
        out, zero = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = v // unit % 10
            if not d:
                zero = bool(out)
                continue
            out += ("零" if zero else "") + digits[d] + name
            zero = False
        return out

    if n == 0:
        return "零"
    out, gap = "", False
    for size, name in ((10**8, "亿"), (10**4, "万"), (1, "")):
        v = n // size % 10**4
        if not v:
            gap = bool(out)
            continue
        out += ("零" if out and (gap or v < 1000) else "") + section(v) + name
        gap = False
    return out[1:] if out.startswith("一十") else out


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_chinese_numerals_read_back_exactly(n):
    assert chinese_integer(_standard_chinese(n)) == n


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text",
    ["2026年11月20日", "2026年11月20号", "2026.11.20", "2026/11/20", "2026-11-20", "20261120", "２０２６－１１－２０",
     "２０２６年１１月２０日", "2026 年 11 月 20 日", "二〇二六年十一月二十日"],
)
def test_dates_as_inspectors_write_them(text):
    assert coerce(WHEN, text) == dt.date(2026, 11, 20)
    assert parse_date(text) == dt.date(2026, 11, 20)
    parsed = parse_inspection(f"facts: {{}}\ndate: '{text}'\n", "in.yaml")
    assert parsed.inspection.on == dt.date(2026, 11, 20)


@pytest.mark.parametrize(("text", "says"), [("2026-02-30", "只有 28 天"), ("2026年13月1日", "月份"), ("2026/11-20", "无法识别"), ("明天", "无法识别")])
def test_a_date_that_does_not_exist_is_refused_in_chinese(text, says):
    assert says in refused(WHEN, text)
    with pytest.raises(InputError) as info:
        parse_date(text)
    assert says in info.value.problems[0].message
    with pytest.raises(InputError) as info:
        parse_inspection(f"facts: {{}}\ndate: '{text}'\n", "in.yaml")
    message = info.value.problems[0].message
    assert says in message and "Value error" not in message


def test_inspection_date_from_the_library(shipped):
    verdict = shipped.judge(Inspection(facts={}, on="２０２６年１１月２０日"))
    assert verdict.inspection_date == dt.date(2026, 11, 20)


# --------------------------------------------------------------------------- the vocabulary file


def _write_vocabulary(root: Path, body: str) -> Path:
    path = root / "rules" / "answers.yaml"
    path.write_text("schema: hazardjudge/answers/1\n" + body, encoding="utf-8")
    return path


def test_an_office_vocabulary_adds_phrases(demo_copy):
    _write_vocabulary(demo_copy, "unknown_answers: [问过再说]\nyes_answers: [有滴]\n")
    office = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert office.read({"demo.closed": "还要问过再说", "demo.e1": "有滴"}).values == {"demo.e1": True}
    assert office.read({"demo.closed": "不知道"}).values == {}  # the shipped phrases still hold
    with pytest.raises(ValueError):
        coerce(PLAIN, "有滴")  # the shipped vocabulary has no such phrase
    assert office.bundle.fingerprint != hazardjudge.load(ROOT / "tests/fixtures/demo/criteria", ROOT / "tests/fixtures/demo/rules").bundle.fingerprint


def test_the_shipped_vocabulary_is_used_without_a_bundle():
    assert coerce(PLAIN, "未见") is False
    assert "有滴" not in default_vocabulary().words("yes_answers")


def test_a_vocabulary_error_names_file_and_line(demo_copy):
    path = _write_vocabulary(demo_copy, "yes_answers:\n  - 是\n  - yes\nmaybe_answers: [也许]\n")
    with pytest.raises(BundleError) as info:
        hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    found = {(p.code, p.position.line) for p in info.value.problems if p.position and p.position.file == str(path)}
    assert ("schema.phrase_type", 4) in found  # an unquoted yes is a boolean: quote it
    assert ("schema.extra_forbidden", 5) in found
    assert all("引号" in p.message for p in info.value.problems if p.code == "schema.phrase_type")


def test_one_phrase_in_two_lists_is_refused_with_both_positions(demo_copy):
    path = _write_vocabulary(demo_copy, "yes_answers: [还行]\nno_answers:\n  - 不行\n  - 还行\n")
    with pytest.raises(BundleError) as info:
        hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    (p,) = info.value.problems
    assert p.code == "answers.conflict"
    assert p.position.line == 5 and f"{path}:2:" in p.message


def test_an_office_phrase_clashing_with_a_shipped_one_is_refused(demo_copy):
    _write_vocabulary(demo_copy, "yes_answers: [不知道]\n")
    with pytest.raises(BundleError) as info:
        hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    (p,) = info.value.problems
    assert p.code == "answers.conflict" and "answers.yaml:" in p.message and p.position.line == 2


def test_a_yes_phrase_containing_an_unknown_phrase_is_refused(demo_copy):
    _write_vocabulary(demo_copy, "yes_answers: [有但不确定]\n")
    with pytest.raises(BundleError) as info:
        hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    (p,) = info.value.problems
    assert p.code == "answers.shadowed" and "不确定" in p.message


def test_shipped_lists_do_not_contain_each_other():
    vocab = default_vocabulary()
    for name in ("yes_answers", "no_answers", "found_answers", "not_found_answers"):
        for phrase in vocab.words(name):
            assert vocab.unknown_in(phrase) is None, (name, phrase)
