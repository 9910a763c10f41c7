"""Turn raw answers (from YAML, JSON or a caller's dict) into typed, checked values.

An answer is either a valid value of its fact's type or explicitly unknown.
Anything else is an :class:`~hazardjudge.errors.InputError` naming the
question, the text given and what would be accepted: a bad answer is never
dropped and never read as 否.

Which words mean 是, 否 and "unknown" is data (rules/answers.yaml, see
:mod:`hazardjudge.engine.vocabulary`); nothing is guessed from an answer's first character.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any, Iterable, Iterator

from hazardjudge.engine.answers import Answers
from hazardjudge.engine.conditions import evaluate, iter_leaves, referenced_facts
from hazardjudge.engine.models import FactDef, FactType
from hazardjudge.engine.normalising import MAX_MAGNITUDE, fold, parse_date_text, parse_number
from hazardjudge.engine.vocabulary import Vocabulary, normalise
from hazardjudge.errors import InputError, Problem, suggest


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


def _predicate(question: str) -> str | None:
    """What a yes/no question asks about: the words after 是否, without the question mark."""
    if "是否" not in question:
        return None
    return normalise(question.split("是否", 1)[1])


def _yes_no(fact: FactDef, raw: str, vocab: Vocabulary) -> bool:
    """Read a written yes/no answer; only phrases the vocabulary lists, or the question's own words."""
    word = normalise(raw)
    if word in vocab.words("yes_answers"):
        return True
    if word in vocab.words("no_answers"):
        return False
    predicate = _predicate(fact.question)
    negating = tuple(vocab.words("negating_prefixes"))
    if predicate is None:
        # Without 是否 the predicate cannot be found: any negation in the question may invert a phrase.
        negative = any(p in normalise(fact.question) for p in negating)
    else:
        negative = bool(negating) and predicate.startswith(negating)
    found = word in vocab.words("found_answers")
    if found or word in vocab.words("not_found_answers"):
        if negative:
            raise ValueError(_inverting(raw))
        return found
    if predicate:
        reading = _restated(word, predicate, negative, vocab)
        if reading is not None:
            return reading
    if negative and predicate:
        raise ValueError(_inverting(raw))
    raise ValueError(
        f"应回答 是/否：可写 {vocab.examples('yes_answers', 3)}、{vocab.examples('found_answers', 2)} "
        f"或 {vocab.examples('no_answers', 3)}、{vocab.examples('not_found_answers', 4)}；"
        "没有检查或不清楚时写“不知道”，按未回答处理"
    )


def _inverting(raw: str) -> str:
    return (
        f"这是否定式提问（问的是“未…/不…”），“{raw.strip()[:20]}”可能正好读反，请直接回答 是/否"
        "（是 = 存在所问的问题）；不清楚时写“不知道”"
    )


def _restated(word: str, predicate: str, negative: bool, vocab: Vocabulary) -> bool | None:
    """An answer in the question's own words: “是否不满足设计要求？” — “不满足” affirms it;
    “是否已取得许可证？” — “已取得” affirms and “未取得” denies it. Only the predicate's own
    words are read, and a reading both ways is no reading."""
    affirming = vocab.words("affirming_prefixes")
    # The predicate without its own aspect word: 已取得… is also asked by 取得….
    core = next((predicate[len(p):] for p in sorted(affirming, key=len, reverse=True) if predicate.startswith(p)), predicate)
    readings: set[bool] = set()
    if len(word) >= 2 and predicate.startswith(word):
        readings.add(True)
    for prefix in affirming:
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2 and (core.startswith(rest) or predicate.startswith(rest)):
            readings.add(True)
    if not negative:
        for prefix in vocab.words("negating_prefixes"):
            rest = word[len(prefix):]
            if word.startswith(prefix) and len(rest) >= 2 and (core.startswith(rest) or predicate.startswith(rest)):
                readings.add(False)
    return readings.pop() if len(readings) == 1 else None


def _coerce(fact: FactDef, raw: Any, vocab: Vocabulary) -> Any:
    """Return the typed value or raise ValueError with a Chinese reason."""
    t = fact.type
    if t is FactType.boolean:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str):
            return _yes_no(fact, raw, vocab)
        raise ValueError("应回答 是/否（true/false）")
    if t in (FactType.integer, FactType.number):
        value = _number(fact, raw, vocab)
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
            key = fold(raw).strip()
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
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # 20261120 from JSON or YAML
        if isinstance(raw, str):
            return parse_date_text(raw)
        raise ValueError("应为日期，如 2026-11-20 或 2026年11月20日")
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
    "%": ("%", 1.0),
    "kpa": ("kPa", 1.0), "千帕": ("kPa", 1.0),
    "mpa": ("kPa", 1000.0), "兆帕": ("kPa", 1000.0),
    "pa": ("kPa", 0.001), "帕": ("kPa", 0.001),
}


def _number(fact: FactDef, raw: Any, vocab: Vocabulary) -> float:
    if isinstance(raw, bool):
        raise ValueError("应为数字，而不是 是/否")
    if isinstance(raw, int):
        if abs(raw) >= MAX_MAGNITUDE:
            raise ValueError("数值过大，请核对")
        value = float(raw)
    elif isinstance(raw, float):
        if math.isnan(raw) or math.isinf(raw):
            raise ValueError("不是有效数字")
        if abs(raw) >= MAX_MAGNITUDE:
            raise ValueError("数值过大，请核对")
        value = raw
    elif isinstance(raw, str):
        try:
            number, unit = parse_number(raw, vocab.words("approximation_words"))
        except ValueError as exc:
            raise ValueError(f"{exc}" + (f"（单位：{fact.unit}）" if fact.unit and str(exc) == "应为数字" else "")) from None
        value = _convert(fact, number, unit, vocab)
    else:
        raise ValueError("应为数字")
    return value


def _convert(fact: FactDef, value: Decimal, unit: str, vocab: Vocabulary) -> float:
    """Bring a number written with ``unit`` into the fact's unit, or say why not."""
    if not unit or unit == fact.unit:
        return float(value)
    if unit in vocab.words("counting_words"):
        if fact.unit:
            raise ValueError(f"单位应为 {fact.unit}，“{unit}”是计数用的量词")
        return float(value)
    alias = UNIT_ALIASES.get(unit.lower())
    if alias is None:
        raise ValueError(f"无法识别的单位“{unit}”" + (f"（应为 {fact.unit}）" if fact.unit else ""))
    canonical, factor = alias
    if canonical == (fact.unit or ""):
        # Rounded so that a converted answer lands on the decimal the inspector meant
        # (2.01 MPa is 2010 kPa, not 2009.9999999999998) before it is compared with a limit.
        return round(float(value) * factor, 9)
    if canonical == "%" and not fact.unit:
        return float(value / 100)  # a ratio asked as a number, answered as a percentage
    raise ValueError(f"单位应为 {fact.unit or '无'}，不是 {unit}")


def _says_unknown(fact: FactDef, raw: Any, vocab: Vocabulary) -> bool:
    if raw is None:
        return True
    if not isinstance(raw, str):
        return False
    if fact.type is FactType.text:
        # A description may mention 不清楚 in passing; only an answer that is nothing else is unknown.
        return vocab.is_unknown(raw, anywhere=False)
    text = raw
    if fact.values:
        # A declared choice may hold an unknown phrase (“不适用” as a label): what is left decides.
        folded = normalise(raw)
        labels = {normalise(x) for pair in fact.values.items() for x in pair}
        for label in sorted((x for x in labels if x and vocab.unknown_in(x)), key=len, reverse=True):
            folded = folded.replace(label, "、")
        text = folded
        if not normalise(text) and normalise(raw):
            return False
    return vocab.is_unknown(text)


def coerce(fact: FactDef, raw: Any, vocabulary: Vocabulary | None = None) -> Any:
    """The typed value of one answer; None when the answer says it is unknown. ValueError otherwise.

    ``vocabulary`` is the bundle's (``engine.bundle.vocabulary``); without it the shipped one is used.
    """
    vocab = vocabulary if vocabulary is not None else _shipped()
    # A declared choice wins over the unknown words: an enumeration may have a value like "none".
    if fact.values and isinstance(raw, str) and (raw.strip() in fact.values or raw.strip() in fact.values.values()):
        return _coerce(fact, raw.strip(), vocab)
    if _says_unknown(fact, raw, vocab):
        return None
    return _coerce(fact, raw, vocab)


def _shipped() -> Vocabulary:
    from hazardjudge.engine.loading import default_vocabulary  # loading imports the models this module also needs

    return default_vocabulary()


#: unknown question ids reported one by one (with the closest names); the rest are counted
MAX_SUGGESTIONS = 50

#: answers remembered by a ReadMemo before it starts over (a long batch of numbers makes many)
MAX_MEMO = 50_000

_IMMUTABLE = (bool, int, float, str, dt.date, Decimal, frozenset, tuple)


class Constraints:
    """A bundle's answer constraints, each with the questions it reads, prepared once.

    A condition none of whose questions is answered is unknown or false, never true (every
    leaf is unknown), unless it tests whether a question was answered; so only constraints
    that read an answered question, or test answering, need evaluating.
    """

    def __init__(self, constraints: Iterable[Any]) -> None:
        self.items = []
        for c in constraints:
            presence = any(leaf.op == "answered" for leaf in iter_leaves(c.condition))
            self.items.append((c, None if presence else frozenset(referenced_facts(c.condition))))

    def violated(self, values: dict[str, Any]) -> Iterator[Any]:
        """The constraints ``values`` break, each tested as it is reached: a caller that drops the
        answers of one contradiction before asking for the next sees the next on what is left."""
        for c, reads in self.items:
            if (reads is None or not reads.isdisjoint(values)) and evaluate(c.condition, values) is True:
                yield c


class ReadMemo:
    """What each (question, raw answer) was read as, for an engine reading many inspections.

    Reading an answer (unknown words, yes/no phrases, units) is pure given the bundle, and a
    batch repeats the same answers; only hashable answers read to an immutable value are
    kept, and errors are not (they are rebuilt with the answer's position each time).
    """

    def __init__(self) -> None:
        self.values: dict[tuple, Any] = {}

    def key(self, fid: str, raw: Any) -> tuple | None:
        kind = type(raw)
        if kind is list:
            return (fid, kind, tuple(raw)) if all(type(x) is str for x in raw) else None
        return (fid, kind, raw) if kind in (str, bool, int, float) else None

    def put(self, key: tuple, value: Any) -> None:
        if value is None or isinstance(value, _IMMUTABLE):
            if len(self.values) >= MAX_MEMO:
                self.values.clear()
            self.values[key] = value


_MISS = object()


def read_answers(
    raw: dict[str, Any],
    facts: dict[str, FactDef],
    constraints: Constraints | Iterable[Any] = (),
    positions: dict[str, Any] | None = None,
    vocabulary: Vocabulary | None = None,
    memo: ReadMemo | None = None,
) -> Answers:
    """Check every answer; raise InputError listing all problems at once."""
    problems: list[Problem] = []
    answers = Answers()
    positions = positions or {}
    unknown = 0
    for key, value in raw.items():
        fact = facts.get(key)
        pos = positions.get(key)
        if fact is None:
            unknown += 1
            # Each suggestion compares the key with every question (~1 ms): 50,000 unknown ids
            # held a server worker for 25 s. The first ones say what is wrong; the rest are counted.
            if unknown <= MAX_SUGGESTIONS:
                problems.append(Problem("answer.unknown_question", f"未知的问题编号 {str(key)[:80]!r}", pos, suggest(key, facts)))
            continue
        mk = memo.key(key, value) if memo is not None else None
        value_read = memo.values.get(mk, _MISS) if mk is not None else _MISS
        if value_read is _MISS:
            try:
                value_read = coerce(fact, value, vocabulary)
            except ValueError as exc:
                shown = repr(value)[:60] if not isinstance(value, str) else f"“{value[:60]}”"
                problems.append(Problem("answer.invalid", f"{key}（{fact.question}）的回答 {shown} 无法识别：{exc}", pos))
                continue
            if mk is not None:
                memo.put(mk, value_read)
        if value_read is not None:
            answers.values[key] = value_read
    if unknown > MAX_SUGGESTIONS:
        problems.append(
            Problem("answer.unknown_question", f"另有 {unknown - MAX_SUGGESTIONS} 个未知的问题编号未逐一列出（共 {unknown} 个）", None)
        )
    if not problems:
        prepared = constraints if isinstance(constraints, Constraints) else Constraints(constraints)
        for constraint in prepared.violated(answers.values):
            problems.append(Problem("answer.contradiction", f"回答相互矛盾：{constraint.message}", None))
    if problems:
        raise InputError(problems)
    return answers
