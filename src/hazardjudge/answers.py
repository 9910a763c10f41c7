"""Turn raw answers (from YAML, JSON or a caller's dict) into typed, checked values.

An answer is either a valid value of its fact's type or explicitly unknown.
Anything else is an :class:`~hazardjudge.errors.InputError` naming the
question, the text given and what would be accepted: a bad answer is never
dropped and never read as 否.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .conditions import evaluate
from .errors import InputError, Problem, suggest
from .models import FactDef, FactType

UNKNOWN_WORDS = {"", "?", "？", "unknown", "未知", "不清楚", "不确定", "未检查", "未查", "不适用", "待查", "n/a", "na", "null", "none"}
TRUE_WORDS = {"true", "yes", "y", "是", "是的", "有", "对", "√", "✓", "存在", "已", "1"}
YES_PREFIXES = {"是", "有", "已", "对"}
NO_PREFIXES = {"否", "无", "没", "未", "不"}
FALSE_WORDS = {"false", "no", "n", "否", "不是", "无", "没有", "错", "×", "✗", "不存在", "未", "0"}
NEGATION = re.compile("[未不没无]")



@dataclass
class Answers:
    """Known values by fact id; every other declared fact is unknown."""

    values: dict[str, Any] = field(default_factory=dict)


def display_value(fact: FactDef, value: Any) -> str:
    if value is None:
        return "未回答"
    if fact.type is FactType.boolean:
        return "是" if value else "否"
    if fact.type is FactType.enum:
        return (fact.values or {}).get(value, str(value))
    if fact.type is FactType.set:
        labels = [(fact.values or {}).get(v, v) for v in sorted(value)]
        return "、".join(labels) if labels else "（无）"
    if fact.type in (FactType.integer, FactType.number):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{text}{fact.unit or ''}" if not fact.unit or fact.unit in ("%",) else f"{text} {fact.unit}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _split_choices(text: str, values: dict[str, str]) -> list[str]:
    """Split a multiple-choice answer; 、 separates choices but may also sit inside a label."""
    known = set(values) | set(values.values())
    out: list[str] = []
    for token in re.split(r"[,，;；/\s]+", text.strip()):
        parts = [p for p in token.split("、") if p]
        i = 0
        while i < len(parts):
            # The longest run of parts that names a choice wins (托儿所、幼儿园的儿童用房).
            for j in range(len(parts), i, -1):
                candidate = "、".join(parts[i:j])
                if candidate in known or j == i + 1:
                    out.append(candidate)
                    i = j
                    break
    return out


def _is_unknown(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in UNKNOWN_WORDS)


def _coerce(fact: FactDef, raw: Any) -> Any:
    """Return the typed value or raise ValueError with a Chinese reason."""
    t = fact.type
    if t is FactType.boolean:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            word = raw.strip().rstrip("。．.!！~～").strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            predicate = fact.question.split("是否", 1)[1] if "是否" in fact.question else ""
            # An answer that restates the question's own predicate affirms it:
            # “是否不满足设计要求？” — “不满足”; “安全锁是否失效？” — “失效”.
            if len(word) >= 2 and predicate.startswith(word):
                return True
            # Chat answers are often short phrases: 已建立、有的、没有设置、不存在. When the question
            # asks about a failure in negative words (“是否未采取防失稳措施？”), “已采取” denies it and
            # “未采取” affirms it, so prefix guessing would invert the answer: only 是/否 are taken.
            if not NEGATION.search(predicate):
                if word[:1] in YES_PREFIXES and len(word) <= 6:
                    return True
                if word[:1] in NO_PREFIXES and len(word) <= 6:
                    return False
            raise ValueError("这是否定式提问，短语回答容易读反，请直接回答 是/否")
        raise ValueError("应回答 是/否（true/false）")
    if t in (FactType.integer, FactType.number):
        value = _number(fact, raw)
        if t is FactType.integer:
            if value != int(value):
                raise ValueError("应为整数")
            value = int(value)
        if fact.min is not None and value < fact.min:
            raise ValueError(f"不能小于 {fact.min:g}{fact.unit or ''}")
        if fact.max is not None and value > fact.max:
            raise ValueError(f"不能大于 {fact.max:g}{fact.unit or ''}（请核对数值和单位）")
        return value
    if t is FactType.enum:
        values = fact.values or {}
        if isinstance(raw, str):
            key = raw.strip()
            if key in values:
                return key
            for k, label in values.items():
                if label == key:
                    return k
        raise ValueError("可选值：" + "、".join(f"{k}（{v}）" for k, v in values.items()))
    if t is FactType.set:
        values = fact.values or {}
        if isinstance(raw, list):
            items = [str(i).strip() for i in raw if i not in ("", None)]
        elif isinstance(raw, str):
            items = _split_choices(raw, values)
        else:
            raise ValueError("应为可选值的列表")
        chosen = set()
        for key in items:
            match = key if key in values else next((k for k, v in values.items() if v == key), None)
            if match is None:
                raise ValueError(f"{key!r} 不是可选值；可选值：" + "、".join(f"{k}（{v}）" for k, v in values.items()))
            chosen.add(match)
        return frozenset(chosen)
    if t is FactType.date:
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
        raise ValueError("应为日期，如 2026-05-01")
    if t is FactType.text:
        if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
            text = str(raw)
            if len(text) > fact.max_length:
                raise ValueError(f"文字过长（{len(text)} 字，上限 {fact.max_length} 字）")
            return text
        raise ValueError("应为文字")
    raise ValueError(f"未知类型 {t}")  # pragma: no cover - FactType is closed


# Units inspectors write, as (canonical unit, factor to it).
UNIT_ALIASES: dict[str, tuple[str, float]] = {
    "m": ("m", 1.0), "米": ("m", 1.0), "公尺": ("m", 1.0),
    "cm": ("m", 0.01), "厘米": ("m", 0.01),
    "mm": ("m", 0.001), "毫米": ("m", 0.001),
    "km": ("m", 1000.0), "千米": ("m", 1000.0), "公里": ("m", 1000.0),
    "%": ("%", 1.0), "％": ("%", 1.0),
    "kpa": ("kPa", 1.0), "千帕": ("kPa", 1.0),
    "mpa": ("kPa", 1000.0), "兆帕": ("kPa", 1000.0),
    "pa": ("kPa", 0.001), "帕": ("kPa", 0.001),
}
# Counting words carry no unit: 三个, 5处, 12人.
COUNT_WORDS = {"个", "处", "项", "人", "名", "台", "套", "只", "条", "座", "间", "层", "次", "具"}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_LEADING_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万]+)\s*(.*?)\s*$")


def _chinese_number(text: str) -> int:
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + digit) * unit
                section = digit = 0
            else:
                section += (digit or 1) * unit
                digit = 0
    return total + section + digit


def _number(fact: FactDef, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("应为数字，而不是 是/否")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        m = _LEADING_NUMBER.match(raw)
        if not m:
            raise ValueError("应为数字" + (f"（单位：{fact.unit}）" if fact.unit else ""))
        text, unit = m.group(1), m.group(2).strip()
        value = float(text) if text[0] in "+-0123456789" else float(_chinese_number(text))
        value = _convert(fact, value, unit)
    else:
        raise ValueError("应为数字")
    if math.isnan(value) or math.isinf(value):
        raise ValueError("不是有效数字")
    return value


def _convert(fact: FactDef, value: float, unit: str) -> float:
    """Bring a number written with ``unit`` into the fact's unit, or say why not."""
    if not unit or unit == fact.unit or unit in COUNT_WORDS:
        return value
    alias = UNIT_ALIASES.get(unit.lower()) or UNIT_ALIASES.get(unit)
    if alias is None:
        raise ValueError(f"无法识别的单位“{unit}”" + (f"（应为 {fact.unit}）" if fact.unit else ""))
    canonical, factor = alias
    if canonical == (fact.unit or ""):
        # Rounded so that a converted answer lands on the decimal the inspector meant
        # (2.01 MPa is 2010 kPa, not 2009.9999999999998) before it is compared with a limit.
        return round(value * factor, 9)
    if canonical == "%" and not fact.unit:
        return value / 100  # a ratio asked as a number, answered as a percentage
    raise ValueError(f"单位应为 {fact.unit or '无'}，不是 {unit}")


def coerce(fact: FactDef, raw: Any) -> Any:
    """The typed value of one answer; None when the answer says it is unknown. ValueError otherwise."""
    # A declared choice wins over the unknown words: an enumeration may have a value like "none".
    if fact.values and isinstance(raw, str) and (raw.strip() in fact.values or raw.strip() in fact.values.values()):
        return _coerce(fact, raw)
    if _is_unknown(raw):
        return None
    return _coerce(fact, raw)


def read_answers(
    raw: dict[str, Any],
    facts: dict[str, FactDef],
    constraints: Iterable[Any] = (),
    positions: dict[str, Any] | None = None,
) -> Answers:
    """Check every answer; raise InputError listing all problems at once."""
    problems: list[Problem] = []
    answers = Answers()
    positions = positions or {}
    for key, value in raw.items():
        fact = facts.get(key)
        pos = positions.get(key)
        if fact is None:
            problems.append(Problem("answer.unknown_question", f"未知的问题编号 {key!r}", pos, suggest(key, facts)))
            continue
        try:
            value_read = coerce(fact, value)
        except ValueError as exc:
            shown = repr(value) if not isinstance(value, str) else f"“{value[:60]}”"
            problems.append(Problem("answer.invalid", f"{key}（{fact.question}）的回答 {shown} 无法识别：{exc}", pos))
            continue
        if value_read is not None:
            answers.values[key] = value_read
    if not problems:
        for constraint in constraints:
            if evaluate(constraint.condition, answers.values) is True:
                problems.append(Problem("answer.contradiction", f"回答相互矛盾：{constraint.message}", None))
    if problems:
        raise InputError(problems)
    return answers
