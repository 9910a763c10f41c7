"""一般隐患: what an inspector records that no question asks, kept as text beside the verdict.

A general hazard is never judged and never cited to a clause. It is validated,
echoed in the verdict and listed on the notice. When its category (or a phrase
of its description) names an observation class of the catalogue
(``rules/observations.yaml``) that a question decides, the verdict carries a
hint to answer that question — the judgement itself stays with the rules.

Text is stored as written. :func:`printable` makes control characters visible
for plain-text outputs (a newline in a description must not forge a report
line); HTML is autoescaped and Markdown escaped by the notice templates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import ValidationError

from hazardjudge.engine.answers import printable
from hazardjudge.engine.models import (
    HAZARD_FIELD_ZH,
    MAX_GENERAL_HAZARDS,
    DocumentOutcome,
    GeneralHazard,
    HazardHint,
    Observation,
    Verdict,
)
from hazardjudge.engine.normalising import parse_date_text
from hazardjudge.engine.yamlio import position_of
from hazardjudge.errors import InputError, Position, Problem, suggest, validation_message_zh

if TYPE_CHECKING:
    from hazardjudge.engine.answers import Answers
    from hazardjudge.engine.loading import Bundle

#: ``一般隐患：…``, ``一般隐患1：…``, ``其他隐患：…`` (optionally numbered or bulleted)
LINE = re.compile(
    r"^\s*(?:[-*•·●◆▪]+\s*|[（(]?[0-9一二三四五六七八九十]+[）)]\s*|[0-9]+\s*[.、．]\s*)?"
    r"(?:一般隐患|其他隐患)\s*[（(]?[0-9一二三四五六七八九十]*[）)]?\s*[:：]\s*(?P<rest>.*)$"
)
#: the key cell of a table row carrying a general hazard
ROW_KEYS = {"一般隐患", "其他隐患"}
_SEPARATOR = re.compile(r"([；;，])")
_PART = re.compile(r"^\s*(位置|地点|部位|期限|整改期限|照片|图片|类别)\s*[:：]\s*(.*)$", re.S)
_PART_FIELD = {"位置": "location", "地点": "location", "部位": "location", "期限": "deadline", "整改期限": "deadline",
               "照片": "photo", "图片": "photo", "类别": "category"}


# --------------------------------------------------------------------------- reading


def _messages(exc: ValidationError) -> list[tuple[tuple, str]]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = str(loc[0]) if loc else ""
        label = HAZARD_FIELD_ZH.get(field, field)
        kind = err["type"]
        if kind == "missing":
            msg = f"一般隐患缺少{label}（{field}）"
        elif kind == "extra_forbidden":
            msg = f"一般隐患中未知的键 {field!r}（可用：description、location、photo、deadline、category）"
        elif field == "deadline":
            msg = f"整改期限“{err.get('input')}”无法识别，请写成 2026-12-31 的形式"
        elif kind.startswith("hazard_"):
            msg = err["msg"]
        elif kind == "string_type":
            msg = f"一般隐患的{label}必须是文字"
        elif kind == "model_type":
            msg = "每条一般隐患必须是映射（description、location、photo、deadline、category），或一段文字"
        else:
            msg = f"一般隐患的{label}有误：{validation_message_zh(err)}"
        out.append((loc, msg))
    return out


def from_data(raw: Any, data: Any, name: str) -> list[GeneralHazard]:
    """The ``general_hazards:`` list of an inspection file; every bad entry is reported with its place."""
    if raw is None:
        return []
    fallback = Position(name, 1, 1)
    if not isinstance(raw, list):
        raise InputError([Problem("input.shape", "general_hazards 必须是列表（每项一条一般隐患）", position_of(data, ("general_hazards",), fallback))])
    if len(raw) > MAX_GENERAL_HAZARDS:
        raise InputError([Problem("input.too_many", f"一般隐患不能超过 {MAX_GENERAL_HAZARDS} 条", position_of(data, ("general_hazards",), fallback))])
    out, problems = [], []
    for i, item in enumerate(raw):
        try:
            out.append(GeneralHazard.model_validate({"description": item} if isinstance(item, str) else item))
        except ValidationError as exc:
            for loc, msg in _messages(exc):
                where = position_of(data, ("general_hazards", i, *loc[:1]), fallback)
                problems.append(Problem("input.general_hazard", f"第 {i + 1} 条一般隐患：{msg}", where))
    if problems:
        raise InputError(problems)
    return out


def parse_deadline(text: str) -> dt.date:
    try:
        return parse_date_text(text)
    except ValueError as exc:
        reason = str(exc)
        # The shared reader says 日期“…”…; here the date is a deadline.
        raise ValueError("整改期限" + reason[2:] if reason.startswith("日期") else f"整改期限：{reason}") from None


def read_text(rest: str) -> tuple[GeneralHazard | None, list[str]]:
    """One hazard from ``描述；位置：…；期限：…；照片：…；类别：…``, and what could not be read.

    Parts are split on ；, ; and ，; a part that does not start with a known label
    belongs to the description, with its separator, so commas in a description stay.
    """
    pieces = _SEPARATOR.split(rest)
    description: list[str] = []
    values: dict[str, Any] = {}
    errors: list[str] = []
    for k in range(0, len(pieces), 2):
        part, sep = pieces[k], (pieces[k + 1] if k + 1 < len(pieces) else "")
        m = _PART.match(part)
        if m is None:
            description.append(part + sep)
            continue
        field, value = _PART_FIELD[m.group(1)], m.group(2).strip()
        if field == "deadline":
            try:
                values[field] = parse_deadline(value)
            except ValueError as exc:
                errors.append(str(exc))
        elif value:
            values[field] = value
    text = "".join(description).strip().rstrip("；;，").strip()
    try:
        return GeneralHazard(description=text, **values), errors
    except ValidationError as exc:
        return None, errors + [msg for _, msg in _messages(exc)]


def take_line(line: str, number: int, result: Any, source: str) -> bool:
    """If ``line`` is a 一般隐患 line, record it (or its problems) on ``result`` and say so."""
    m = LINE.match(line)
    if m is None:
        return False
    _record(m.group("rest"), number, line, result, source)
    return True


def take_row(key: str, answer: str, number: int, result: Any, source: str) -> bool:
    """A table row whose key cell is 一般隐患: the answer cell holds the description (and parts)."""
    if key.strip() not in ROW_KEYS:
        return False
    _record(answer, number, answer, result, source)
    return True


def _record(rest: str, number: int, text: str, result: Any, source: str) -> None:
    pos = Position(source, number, 1)
    if len(result.general_hazards) >= MAX_GENERAL_HAZARDS:
        result.problems.append(Problem("paste.too_many_hazards", f"一般隐患超过 {MAX_GENERAL_HAZARDS} 条，本条未记录", pos))
        return
    hazard, errors = read_text(rest)
    for e in errors:
        result.problems.append(Problem("paste.general_hazard", f"“{printable(text.strip())[:40]}”：{e}", pos))
    if hazard is not None:
        result.general_hazards.append(hazard)


# --------------------------------------------------------------------------- catalogue


def catalogue(bundle: "Bundle") -> list[Observation]:
    return list(bundle.observations.model.observations) if bundle.observations else []


def check_categories(hazards: Iterable[GeneralHazard], bundle: "Bundle") -> list[Problem]:
    """A category must name a catalogue entry (by id or Chinese label)."""
    entries = catalogue(bundle)
    names = {o.id for o in entries} | {o.label for o in entries}
    return [
        Problem(
            "input.unknown_category",
            f"第 {i + 1} 条一般隐患的类别“{printable(h.category)[:40]}”不在一般隐患类别目录中",
            None,
            suggest(h.category, names),
        )
        for i, h in enumerate(hazards)
        if h.category is not None and h.category not in names
    ]


def drop_unknown_categories(hazards: list[GeneralHazard], bundle: "Bundle", problems: list[Problem]) -> list[GeneralHazard]:
    """Lenient (pasted) input: a mistyped category is reported and loses the category, never the hazard."""
    problems.extend(
        Problem(p.code, p.message + "，已按未分类记录", None, p.hint) for p in check_categories(hazards, bundle)
    )
    names = {o.id for o in catalogue(bundle)} | {o.label for o in catalogue(bundle)}
    return [h if h.category is None or h.category in names else h.model_copy(update={"category": None}) for h in hazards]


def classify(hazard: GeneralHazard, entries: list[Observation]) -> Observation | None:
    """The catalogue entry a hazard names: its category, else the first phrase its description contains."""
    if hazard.category is not None:
        return next((o for o in entries if hazard.category in (o.id, o.label)), None)
    return next((o for o in entries if any(p in hazard.description for p in o.match)), None)


def hints(hazards: list[GeneralHazard], bundle: "Bundle", answers: "Answers", verdict: Verdict) -> list[HazardHint]:
    """Questions that would decide a recorded observation under a clause in force and judged.

    Only questions still unanswered are named: an answered one has already been judged.
    """
    entries = catalogue(bundle)
    # A clause of a sector found not to apply would only send the inspector to a question that cannot matter.
    judged = {
        f"{d.document.document}@{d.document.version}": d.document.number
        for d in verdict.documents
        if d.document and d.outcome is not DocumentOutcome.not_applicable
    }
    out: list[HazardHint] = []
    for i, hazard in enumerate(hazards):
        obs = classify(hazard, entries)
        if obs is None:
            continue
        for cov in obs.covered_by:
            if cov.document not in judged or cov.fact in answers.values:
                continue
            fact = bundle.facts[cov.fact]
            where = f"{judged[cov.document]} {cov.clause}"
            message = f"该情形对应问题 {cov.fact}（{where}），请回答该问题以判定是否构成重大隐患"
            if cov.partial:
                message += "（该条款只涵盖这一情形的一部分）"
            out.append(
                HazardHint.trusted(
                    hazard=i, observation=obs.id, fact=cov.fact, question=fact.question,
                    document=cov.document, clause=cov.clause, partial=cov.partial, message=message,
                )
            )
    return out


def attach(verdict: Verdict, hazards: list[GeneralHazard], bundle: "Bundle", answers: "Answers") -> Verdict:
    """The verdict with the hazards echoed and its hints; outcome and findings untouched."""
    if not hazards:
        return verdict
    return verdict.model_copy(
        update={"general_hazards": list(hazards), "general_hazard_hints": hints(hazards, bundle, answers, verdict)}
    )
