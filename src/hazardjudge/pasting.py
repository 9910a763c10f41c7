"""Answers pasted as inspectors have them: chat lines, Excel/WPS rows, CSV, a filled XLSX checklist.

Every line that carries an answer ends either as a typed value or as a
problem with its line, its text and the reason. A problem never becomes a
value: the question stays unanswered (unknown), so the clauses it decides are
reported as undetermined. Two different answers to one question are a
problem, never last-one-wins.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from . import observations
from .answers import coerce
from .checklists import CSV_HEADER, Checklist
from .inputs import detect
from .errors import Problem, suggest
from .models import FactDef, GeneralHazard
from .yamlio import Position

MAX_LINES = 5000

_NUMBERING = re.compile(r"^\s*(?:[-*•·●◆▪]+\s*|[（(]?[0-9一二三四五六七八九十百]+[）)]\s*|[0-9]+\s*[.、．]\s*(?![0-9]))")
_COLON = re.compile(r"[:：]")


@dataclass
class Match:
    line: int
    text: str
    fact: str
    how: str  # id | number | question
    score: float = 1.0


@dataclass
class Pasted:
    facts: dict[str, Any] = field(default_factory=dict)
    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    general_hazards: list[GeneralHazard] = field(default_factory=list)


MATCH_THRESHOLD = 0.6
MATCH_MARGIN = 0.05


def _similarity(key: str, question: str) -> float:
    """How well pasted wording names a question: mostly how much of the key the question contains, in order."""
    matched = sum(b.size for b in difflib.SequenceMatcher(None, key, question, autojunk=False).get_matching_blocks())
    if not key or not question:
        return 0.0
    return 0.75 * matched / len(key) + 0.25 * matched / len(question)


class Reader:
    """Resolves question keys (id, checklist number, question text) and reads values."""

    def __init__(self, facts: dict[str, FactDef], checklist: Checklist | None, source: str) -> None:
        self.facts = facts
        self.numbers = {str(i.number): i.fact for i in checklist.items} if checklist else {}
        self.by_question = {f.question: fid for fid, f in facts.items()}
        self.source = source
        self.result = Pasted()
        self.seen: dict[str, tuple[Any, int]] = {}

    def resolve(self, key: str) -> tuple[str, str, float] | None:
        key = key.strip().strip("`").strip()
        if key in self.facts:
            return key, "id", 1.0
        if key in self.numbers:
            return self.numbers[key], "number", 1.0
        stripped = _NUMBERING.sub("", key).strip()
        number = re.match(r"^[（(]?([0-9]+)[）)]?$", key.strip())
        if number and number.group(1) in self.numbers:
            return self.numbers[number.group(1)], "number", 1.0
        if stripped in self.facts:
            return stripped, "id", 1.0
        ranked = sorted(((_similarity(stripped, q), q) for q in self.by_question), reverse=True)
        if len(stripped) >= 2 and ranked and ranked[0][0] >= MATCH_THRESHOLD:
            best, second = ranked[0][0], (ranked[1][0] if len(ranked) > 1 else 0.0)
            if best - second < MATCH_MARGIN:
                self.ambiguous = [q for score, q in ranked[:3] if best - score < MATCH_MARGIN]
                return None
            return self.by_question[ranked[0][1]], "question", round(best, 2)
        return None

    def answer(self, key: str, raw: Any, line: int, text: str) -> None:
        pos = Position(self.source, line, 1)
        self.ambiguous: list[str] = []
        resolved = self.resolve(key)
        if resolved is None and self.ambiguous:
            options = "；".join(f"{self.by_question[q]}（{q}）" for q in self.ambiguous)
            self.result.problems.append(Problem("paste.ambiguous_question", f"“{key.strip()[:40]}”可能对应多个问题：{options}；请写问题编号", pos))
            return
        if resolved is None:
            hint = suggest(key.strip(), list(self.facts) + list(self.by_question))
            self.result.problems.append(Problem("paste.unknown_question", f"无法对应到任何问题：“{text.strip()[:80]}”", pos, hint))
            return
        fid, how, score = resolved
        fact = self.facts[fid]
        try:
            value = coerce(fact, raw)
        except ValueError as exc:
            self.result.problems.append(
                Problem("paste.invalid_answer", f"{fid}（{fact.question}）的回答“{str(raw).strip()[:60]}”无法识别：{exc}", pos)
            )
            return
        if fid in self.seen and self.seen[fid][0] != value:
            first = self.seen[fid][1]
            self.result.problems.append(
                Problem("paste.conflict", f"{fid} 有两个不同的回答（第 {first} 行与第 {line} 行），请只保留一个", pos)
            )
            self.result.facts.pop(fid, None)
            return
        self.seen[fid] = (value, line)
        self.result.matches.append(Match(line, text.strip(), fid, how, score))
        if value is not None:
            self.result.facts[fid] = value


def _too_long(text: str, source: str) -> Problem | None:
    if text.count("\n") > MAX_LINES:
        return Problem("paste.too_long", f"粘贴内容超过 {MAX_LINES} 行", Position(source, 1, 1))
    return None


def parse_lines(text: str, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<粘贴>") -> Pasted:
    reader = Reader(facts, checklist, source)
    if (problem := _too_long(text, source)) is not None:
        reader.result.problems.append(problem)
        return reader.result
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if observations.take_line(line, number, reader.result, source):
            continue
        parts = _COLON.split(line, maxsplit=1) if _COLON.search(line) else line.split("\t", 1)
        if len(parts) != 2 or not parts[0].strip():
            reader.result.problems.append(
                Problem(
                    "paste.no_answer",
                    f"这一行没有“问题：回答”的形式，已跳过：“{line.strip()[:80]}”",
                    Position(source, number, 1),
                    severity="warning",
                )
            )
            continue
        reader.answer(parts[0], parts[1].strip(), number, line)
    return reader.result


def parse_table(text: str, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<表格>", delimiter: str = ",") -> Pasted:
    """CSV or tab-separated rows in the checklist's layout (a header row is optional)."""
    reader = Reader(facts, checklist, source)
    if (problem := _too_long(text, source)) is not None:
        reader.result.problems.append(problem)
        return reader.result
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter))
    except csv.Error as exc:
        reader.result.problems.append(Problem("paste.table", f"表格格式无法读取：{exc}", Position(source, 1, 1)))
        return reader.result
    _read_rows(reader, rows)
    return reader.result


def _read_rows(reader: Reader, rows: list[list[Any]]) -> None:
    header = [str(c).strip() for c in rows[0]] if rows else []
    start = 1 if header[:2] == CSV_HEADER[:2] else 0
    col = {name: header.index(name) for name in CSV_HEADER if name in header} if start else {}
    for number, row in enumerate(rows[start:], start=start + 1):
        cells = ["" if c is None else str(c) for c in row]
        if not any(c.strip() for c in cells):
            continue
        if col:
            answer = cells[col["回答"]] if col.get("回答", len(cells)) < len(cells) else ""
            key = cells[col["问题编号"]] if col.get("问题编号", len(cells)) < len(cells) and cells[col["问题编号"]].strip() else cells[0]
        else:
            key, answer = (cells[0], cells[-1]) if len(cells) >= 2 else (cells[0], "")
        if not answer.strip():
            continue  # an empty answer cell is a question not answered: unknown
        if observations.take_row(key, answer, number, reader.result, reader.source):
            continue
        reader.answer(key, answer, number, "\t".join(cells))


def parse_xlsx(data: bytes, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<xlsx>") -> Pasted:
    from openpyxl import load_workbook

    reader = Reader(facts, checklist, source)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        reader.result.problems.append(Problem("paste.xlsx", f"无法读取 Excel 文件：{exc}", Position(source, 1, 1)))
        return reader.result
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    if len(rows) > MAX_LINES:
        reader.result.problems.append(Problem("paste.too_long", f"表格超过 {MAX_LINES} 行", Position(source, 1, 1)))
        return reader.result
    _read_rows(reader, rows)
    return reader.result


def parse(data: bytes | str, facts: dict[str, FactDef], checklist: Checklist | None = None, fmt: str | None = None, source: str = "<粘贴>") -> Pasted:
    fmt = fmt or detect(data)
    if fmt == "xlsx":
        if isinstance(data, str):
            raise ValueError("xlsx needs bytes")
        return parse_xlsx(data, facts, checklist, source)
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    if fmt == "csv":
        return parse_table(text, facts, checklist, source, ",")
    if fmt == "tsv":
        return parse_table(text, facts, checklist, source, "\t")
    return parse_lines(text, facts, checklist, source)
