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
TRUE_WORDS = {"true", "yes", "y", "是", "有", "对", "√", "✓", "存在", "已", "1"}
FALSE_WORDS = {"false", "no", "n", "否", "无", "没有", "错", "×", "✗", "不存在", "未", "0"}

_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(%|％)?\s*([^\d\s].*)?$")


@dataclass
class Answers:
    """Known values by fact id; every other declared fact is unknown."""

    values: dict[str, Any] = field(default_factory=dict)
    given_unknown: set[str] = field(default_factory=set)  # answered explicitly as unknown

    def display(self, fact: FactDef) -> str:
        return display_value(fact, self.values.get(fact.id))


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


def _is_unknown(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip().lower() in UNKNOWN_WORDS)


def _coerce(fact: FactDef, raw: Any) -> Any:
    """Return the typed value or raise ValueError with a Chinese reason."""
    t = fact.type
    if t is FactType.boolean:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS:
            return True
        if isinstance(raw, str) and raw.strip().lower() in FALSE_WORDS:
            return False
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
        items = raw if isinstance(raw, list) else re.split(r"[,，、;；\s]+", raw.strip()) if isinstance(raw, str) else None
        if items is None:
            raise ValueError("应为可选值的列表")
        chosen = set()
        for item in items:
            if item in ("", None):
                continue
            key = item.strip() if isinstance(item, str) else item
            match = key if key in values else next((k for k, v in values.items() if v == key), None)
            if match is None:
                raise ValueError(f"{item!r} 不是可选值；可选值：" + "、".join(f"{k}（{v}）" for k, v in values.items()))
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


def _number(fact: FactDef, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("应为数字，而不是 是/否")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        m = _NUMBER.match(raw)
        if not m:
            raise ValueError("应为数字" + (f"（单位：{fact.unit}）" if fact.unit else ""))
        value = float(m.group(1))
        percent, unit = m.group(2), (m.group(3) or "").strip()
        if percent:
            if fact.unit != "%":
                raise ValueError(f"单位应为 {fact.unit or '无'}，不是 %")
        elif unit and unit != fact.unit:
            raise ValueError(f"单位应为 {fact.unit or '无'}，不是 {unit}")
    else:
        raise ValueError("应为数字")
    if math.isnan(value) or math.isinf(value):
        raise ValueError("不是有效数字")
    return value


def read_answers(
    raw: dict[str, Any],
    facts: dict[str, FactDef],
    constraints: Iterable[Any] = (),
    source: str = "<facts>",
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
        if _is_unknown(value):
            answers.given_unknown.add(key)
            continue
        try:
            answers.values[key] = _coerce(fact, value)
        except ValueError as exc:
            shown = repr(value) if not isinstance(value, str) else f"“{value[:60]}”"
            problems.append(Problem("answer.invalid", f"{key}（{fact.question}）的回答 {shown} 无法识别：{exc}", pos))
    if not problems:
        for constraint in constraints:
            if evaluate(constraint.condition, answers.values) is True:
                problems.append(Problem("answer.contradiction", f"回答相互矛盾：{constraint.message}", None))
    if problems:
        raise InputError(problems)
    return answers
