"""Answers pasted as inspectors have them: chat lines, Excel/WPS rows, CSV, a filled XLSX checklist.

Every line that carries an answer ends either as a typed value or as a
problem with its line, its text and the reason. A problem never becomes a
value: the question stays unanswered (unknown), so the clauses it decides are
reported as undetermined. Two different answers to one question are a
problem, never last-one-wins.

A filled checklist carries what chose it (检查表编号, 检查日期, 判定行业 and
the site answers): those lines and rows are read as the inspection's
metadata. Answers keyed by checklist number (``3. 是``, ``第11题：是``,
``（六）：是``) are resolved against the checklist its 检查表编号 names, rebuilt
and compared; a number that checklist does not have, or numbers that cannot be
tied to a matching checklist, are problems, never another question's answer.

Reading is two passes: the first splits lines and rows into keyed entries and
metadata, the second (once the numbering checklist is known) resolves them.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

from rapidfuzz.distance import LCSseq

from hazardjudge.engine.models import FactDef, GeneralHazard
from hazardjudge.engine.normalising import chinese_integer
from hazardjudge.engine.vocabulary import Vocabulary
from hazardjudge.errors import InputError, Position, Problem, suggest
from hazardjudge.inputs import observations
from hazardjudge.inputs.checklists import CSV_HEADER, INSTRUCTIONS, NOTE_LABEL, Checklist, help_line
from hazardjudge.inputs.inspections import META_LABELS, decode_text, detect, is_blank, parse_date
from hazardjudge.inputs.reading import MAX_SUGGESTIONS, coerce

MAX_LINES = 5000
MAX_XLSX_EXPANDED = 32 * 1024 * 1024
MAX_XLSX_COLUMNS = 32
#: parts of a workbook (a checklist's has about ten): 40,000 empty ones took openpyxl 4 s
MAX_XLSX_ENTRIES = 200

_AR = r"[0-9]{1,4}"
_CN = r"[零〇一二两三四五六七八九十百]{1,6}"
# Numbering in front of a line. Named groups: the forms that may stand before an answer without a
# colon (``3. 是``, ``第11项 是``, ``(6) 是``); ``cn``/``bare`` only before a colon (``（六）：是``,
# ``11：是``), since ``一、基本情况`` and ``（一）燃气经营许可证`` are headings and wording.
_NUMBERED = re.compile(
    rf"^(?:第\s*(?P<nth>{_AR}|{_CN})\s*[题项]"
    rf"|(?P<nq>{_AR})\s*[题项]"
    rf"|[（(]\s*(?P<par>{_AR})\s*[）)]"
    rf"|[（(]\s*(?P<cn>{_CN})\s*[）)](?=\s*[:：])"
    rf"|(?P<dot>{_AR})\s*[.．、](?![0-9])"
    rf"|(?P<bare>{_AR}|{_CN})(?=\s*[:：]))"
)
_NUMBER_KEY = re.compile(rf"^(?:第\s*({_AR}|{_CN})\s*[题项]?|({_AR})\s*[题项.．、]?|[（(]\s*({_AR}|{_CN})\s*[）)]|({_CN})\s*[题项、]?)$")
_NUMBERING = re.compile(
    rf"^\s*(?:[-*•·●◆▪]+\s*|第\s*(?:{_AR}|{_CN})\s*[题项]\s*|[（(]?[0-9一二三四五六七八九十百]+[）)]\s*|[0-9]+\s*[.、．]\s*(?![0-9]))"
)
_BULLET = re.compile(r"^[-*•·●◆▪>]+\s*")
_SECTION = re.compile(r"^【[^】]*】$")
_COLON = re.compile(r"[:：]")
_FACT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+)+")
_PAREN_GROUP = re.compile(r"[（(]\s*([^（）()]*)\s*[）)]")
META_KEYS = set(META_LABELS.values())
PREFIX = 6  # question texts are indexed by their first characters


def chinese_number(text: str) -> int:
    """一 … 九百九十九 as written in question numbers (十一, 二十, 一百零五); ValueError otherwise."""
    return chinese_integer(text)


def _number(text: str) -> int | None:
    """A written question number, or None where it is no number (十百 is not 110)."""
    try:
        return int(text) if text.isdigit() else chinese_number(text)
    except ValueError:
        return None


def number_key(key: str) -> int | None:
    """The checklist number a key names on its own (``3``, ``3.``, ``第十一题``, ``（六）``), else None."""
    m = _NUMBER_KEY.match(key.strip())
    if not m:
        return None
    return _number(next(g for g in m.groups() if g))


@dataclass
class Match:
    line: int
    text: str
    fact: str
    how: str  # id | number | question
    score: float = 1.0


@dataclass
class Meta:
    """What a filled checklist says chose it."""

    identity: str | None = None
    date: dt.date | None = None
    sectors: list[str] | None = None
    #: metadata written twice with different values, or unreadable: it cannot be relied on
    unsure: set[str] = field(default_factory=set)


@dataclass
class Pasted:
    facts: dict[str, Any] = field(default_factory=dict)
    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    general_hazards: list[GeneralHazard] = field(default_factory=list)
    meta: Meta = field(default_factory=Meta)
    #: the identity of the checklist numbered answers were resolved against (None: none were read)
    numbered_by: str | None = None
    #: that checklist itself (its date, named sectors and site answers)
    numbering: Checklist | None = None
    #: the date and sectors to judge with (set by :meth:`Engine.paste`: options, else the metadata)
    on: dt.date | None = None
    sectors: list[str] | None = None


#: problems that mean nothing of the input was read (not one line or row left unread): the
#: whole input is refused, never judged as if it were an empty checklist (无法判定)
REFUSING = frozenset({"paste.empty", "paste.too_long", "paste.too_large", "paste.xlsx", "paste.table", "input.encoding", "input.binary"})


def refused(pasted: Pasted) -> list[Problem]:
    return [p for p in pasted.problems if p.code in REFUSING]


@dataclass
class _Entry:
    key: str | None
    raw: Any
    line: int
    text: str
    number: int | None = None


MATCH_THRESHOLD = 0.6
MATCH_MARGIN = 0.05

Default = Callable[[Meta], "Checklist | None"]
Rebuild = Callable[[str], "Checklist | None"]


def _score(matched: int, key: str, question: str) -> float:
    return 0.75 * matched / len(key) + 0.25 * matched / len(question)


def _similarity(key: str, question: str) -> float:
    """How well pasted wording names a question: mostly how much of the key the question contains, in order."""
    if not key or not question:
        return 0.0
    matched = sum(b.size for b in difflib.SequenceMatcher(None, key, question, autojunk=False).get_matching_blocks())
    return _score(matched, key, question)


def _closest(key: str, questions: list[str]) -> list[tuple[float, str]]:
    """The questions that can be best or within MATCH_MARGIN of best, by exact score, best first.

    Scoring every question with difflib cost about 10 ms a pasted line (1,500 lines: 15 s
    on one server worker). difflib's matching blocks form a common subsequence, so the
    longest common subsequence (rapidfuzz, in C) bounds each score from above: questions
    are scored exactly in order of that bound, and the walk stops once no bound left can
    reach the best score found (less the margin) or the threshold. The answer is the same
    as scoring them all.
    """
    if not key:
        return []
    bounds = sorted(
        ((_score(LCSseq.similarity(key, q), key, q), q) for q in questions if q), reverse=True
    )
    scored: list[tuple[float, str]] = []
    best = 0.0
    for bound, q in bounds:
        if bound < best - MATCH_MARGIN or (bound < MATCH_THRESHOLD and best < MATCH_THRESHOLD):
            break
        score = _similarity(key, q)
        scored.append((score, q))
        best = max(best, score)
    return sorted(scored, reverse=True)


def _skip_parens(text: str) -> str:
    """``text`` without the parenthesised notes it starts with (nested ones too)."""
    rest = text.lstrip()
    while rest[:1] in ("（", "("):
        depth = 0
        for i, ch in enumerate(rest):
            depth += ch in "（("
            depth -= ch in "）)"
            if depth == 0:
                rest = rest[i + 1 :].lstrip()
                break
        else:
            return rest
    return rest


def choose_numbering(meta: Meta, default: Checklist | None, rebuild: Rebuild | None) -> tuple[Checklist | None, str | None]:
    """The checklist numbered answers refer to, or why numbers cannot be read."""
    if "checklist" in meta.unsure:
        return None, "检查表编号写了两个不同的值，按题号的回答无法确定对应哪一题，未采用；请只保留一个检查表编号"
    if not meta.identity:
        if default is None:
            return None, "按题号的回答需要对应的检查表：请粘贴检查表编号，或给出检查日期和单位类型（或行业）"
        return default, None
    if default is not None and default.identity == meta.identity:
        return default, None
    rebuilt = rebuild(meta.identity) if rebuild else None
    if rebuilt is None:
        return None, f"检查表编号“{meta.identity}”无法识别，按题号的回答无法确定对应哪一题，未采用；请按问题文字或问题编号（如 gas.license_held）回答"
    if rebuilt.identity != meta.identity:
        return None, (
            f"检查表编号“{meta.identity}”与按其日期、行业和单位类型重新生成的检查表（{rebuilt.identity}）不一致："
            "判定规则或问题已更新，或编号被改动，题号可能已对应到别的问题，按题号的回答未采用；请按问题文字或问题编号回答，或使用新的检查表"
        )
    return rebuilt, None


class Reader:
    """Collects keyed entries and metadata, then resolves keys (id, checklist number, question text) and reads values."""

    def __init__(self, facts: dict[str, FactDef], source: str, vocabulary: Vocabulary | None = None) -> None:
        self.facts = facts
        self.vocabulary = vocabulary
        self.by_question = {f.question: fid for fid, f in facts.items()}
        self.questions = list(self.by_question)
        self.prefixes: dict[str, list[str]] = {}
        for q in sorted(self.by_question, key=len, reverse=True):
            self.prefixes.setdefault(q[:PREFIX], []).append(q)
        self.echoes = set(INSTRUCTIONS) | {help_line(f.help) for f in facts.values() if f.help}
        self.source = source
        self.result = Pasted()
        self.entries: list[_Entry] = []
        self.meta_lines: dict[str, int] = {}
        self.seen: dict[str, tuple[Any, int]] = {}
        self.numbers: dict[int, str] = {}
        self.numbering: Checklist | None = None
        self.refusal: str | None = None
        self.ambiguous: list[str] = []
        self.suggested = 0

    # ------------------------------------------------------------- first pass

    def question_prefix(self, text: str) -> str | None:
        """The longest question text ``text`` starts with."""
        for q in self.prefixes.get(text[:PREFIX], ()):
            if text.startswith(q):
                return q
        return None

    def add(self, key: str, raw: Any, line: int, text: str) -> None:
        if not self._meta(key, raw, line):
            self.entries.append(_Entry(key, raw, line, text))

    def add_number(self, number: int, raw: Any, line: int, text: str) -> None:
        self.entries.append(_Entry(None, raw, line, text, number))

    def _meta(self, key: str, raw: Any, line: int) -> bool:
        label = _PAREN_GROUP.sub("", _BULLET.sub("", key.strip())).strip()
        machine = [g.strip() for g in _PAREN_GROUP.findall(key)]
        if label == NOTE_LABEL:
            return True  # the checklist's note on a standard not encoded, coming back
        which = META_LABELS.get(label) or next((m for m in machine if m in META_KEYS), None)
        if which is None:
            return False
        value = str(raw).strip().strip("`").strip() if raw is not None else ""
        if not value:
            return True
        pos = Position(self.source, line, 1)
        if which == "date":
            try:
                parsed: Any = parse_date(value)
            except InputError as exc:
                self.result.meta.unsure.add("date")
                self.result.problems.extend(Problem("paste.meta_date", f"检查日期：{p.message}", pos, p.hint) for p in exc.problems)
                return True
        elif which == "sectors":
            parsed = [s for s in re.split(r"[、,，;；\s+]+", value) if s]
        else:
            parsed = value
        attr = {"checklist": "identity"}.get(which, which)
        old = getattr(self.result.meta, attr)
        if old is not None and old != parsed:
            self.result.meta.unsure.add(which)
            self.result.problems.append(
                Problem("paste.meta_conflict", f"{label or which} 写了两次且不同（第 {self.meta_lines[which]} 行与第 {line} 行），请只保留一个", pos)
            )
            return True
        setattr(self.result.meta, attr, parsed)
        self.meta_lines[which] = line
        return True

    # ------------------------------------------------------------- second pass

    def finish(self, checklist: Checklist | None, default: Default | None, rebuild: Rebuild | None) -> Pasted:
        if any(e.number is not None or number_key(e.key or "") is not None for e in self.entries):
            fallback = default(self.result.meta) if default else checklist
            self.numbering, self.refusal = choose_numbering(self.result.meta, fallback, rebuild)
            if self.numbering is not None:
                self.numbers = {i.number: i.fact for i in self.numbering.items}
        for e in self.entries:
            number = e.number if e.number is not None else number_key(e.key or "")
            if number is not None:
                self.answer_number(number, e.raw, e.line, e.text)
            else:
                self.answer(e.key or "", e.raw, e.line, e.text)
        return self.result

    def resolve(self, key: str) -> tuple[str, str, float] | None:
        key = key.strip().strip("`").strip()
        if key in self.facts:
            return key, "id", 1.0
        named = {m for m in _FACT_ID.findall(key) if m in self.facts}
        if len(named) == 1:
            return named.pop(), "id", 1.0
        stripped = _NUMBERING.sub("", key).strip()
        if stripped in self.facts:
            return stripped, "id", 1.0
        if stripped in self.by_question:
            return self.by_question[stripped], "question", 1.0
        q = self.question_prefix(stripped)
        if q and not _skip_parens(stripped[len(q) :]):
            return self.by_question[q], "question", 1.0  # the question with the checklist's notes after it
        ranked = _closest(stripped, self.questions)
        if len(stripped) >= 2 and ranked and ranked[0][0] >= MATCH_THRESHOLD:
            best, second = ranked[0][0], (ranked[1][0] if len(ranked) > 1 else 0.0)
            if best - second < MATCH_MARGIN:
                self.ambiguous = [q for score, q in ranked[:3] if best - score < MATCH_MARGIN]
                return None
            return self.by_question[ranked[0][1]], "question", round(best, 2)
        return None

    def answer_number(self, number: int, raw: Any, line: int, text: str) -> None:
        pos = Position(self.source, line, 1)
        if self.refusal:
            self.result.problems.append(Problem("paste.numbering_refused", f"第 {number} 题：{self.refusal}", pos))
            return
        fid = self.numbers.get(number)
        if fid is None:
            assert self.numbering is not None
            self.result.problems.append(
                Problem(
                    "paste.unknown_number",
                    f"检查表 {self.numbering.identity} 没有第 {number} 题（共 {len(self.numbering.items)} 题），这一行未采用：“{text.strip()[:80]}”",
                    pos,
                )
            )
            return
        self.result.numbering = self.numbering
        self.result.numbered_by = self.numbering.identity if self.numbering else None
        self._read(fid, "number", 1.0, raw, line, text)

    def answer(self, key: str, raw: Any, line: int, text: str) -> None:
        pos = Position(self.source, line, 1)
        self.ambiguous = []
        resolved = self.resolve(key)
        if resolved is None and self.ambiguous:
            options = "；".join(f"{self.by_question[q]}（{q}）" for q in self.ambiguous)
            self.result.problems.append(Problem("paste.ambiguous_question", f"“{key.strip()[:40]}”可能对应多个问题：{options}；请写问题编号", pos))
            return
        if resolved is None:
            # Each suggestion compares the key with every id and question (~2 ms): 4,000 unknown
            # rows took 8 s. The first ones get a hint; every one is still reported.
            self.suggested += 1
            hint = suggest(key.strip(), list(self.facts) + list(self.by_question)) if self.suggested <= MAX_SUGGESTIONS else None
            self.result.problems.append(Problem("paste.unknown_question", f"无法对应到任何问题：“{text.strip()[:80]}”", pos, hint))
            return
        self._read(*resolved, raw, line, text)

    def _read(self, fid: str, how: str, score: float, raw: Any, line: int, text: str) -> None:
        pos = Position(self.source, line, 1)
        fact = self.facts[fid]
        try:
            value = coerce(fact, raw, self.vocabulary)
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


def _collect_lines(reader: Reader, text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        _collect_line(reader, line, number)


def _collect_line(reader: Reader, line: str, number: int) -> None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return
    if observations.take_line(line, number, reader.result, reader.source):
        return
    body = _BULLET.sub("", stripped)
    if body in reader.echoes or _SECTION.match(body):
        return  # the checklist's own instructions, notes and section titles coming back
    m = _NUMBERED.match(body)
    if m:
        rest = body[m.end() :].lstrip()
        value = m.group("nth") or m.group("nq") or m.group("par") or m.group("cn") or m.group("dot") or m.group("bare")
        if _number(value) is None:
            reader.result.problems.append(
                Problem("paste.unknown_number", f"题号“{value}”无法识别，这一行未采用：“{stripped[:80]}”", Position(reader.source, number, 1))
            )
            return
        if rest[:1] in (":", "："):
            reader.add_number(_number(value), rest[1:].strip(), number, line)
            return
        q = reader.question_prefix(rest)
        if q is not None:
            # The question as the checklist printed it: unanswered, or with the answer after it.
            after = _skip_parens(rest[len(q) :]).lstrip(":：").strip()
            if after:
                reader.add(q, after, number, line)
            return
        no_colon_form = m.group("nth") or m.group("nq") or m.group("par") or m.group("dot")
        if no_colon_form and not _COLON.search(rest) and "\t" not in rest:
            if rest and not rest.endswith(("？", "?")):
                reader.add_number(_number(value), rest, number, line)
                return
    parts = _COLON.split(line, maxsplit=1) if _COLON.search(line) else line.split("\t", 1)
    if len(parts) != 2 or not parts[0].strip():
        reader.result.problems.append(
            Problem(
                "paste.no_answer",
                f"这一行没有“问题：回答”的形式，已跳过：“{stripped[:80]}”",
                Position(reader.source, number, 1),
                severity="warning",
            )
        )
        return
    if not parts[1].strip():
        return  # “问题：” with nothing after it (a blank 回答 line of a checklist): unanswered
    reader.add(parts[0], parts[1].strip(), number, line)


def parse_lines(
    text: str, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<粘贴>",
    default: Default | None = None, rebuild: Rebuild | None = None, vocabulary: Vocabulary | None = None,
) -> Pasted:
    reader = Reader(facts, source, vocabulary)
    if (problem := _too_long(text, source)) is not None:
        reader.result.problems.append(problem)
        return reader.result
    _collect_lines(reader, text)
    return reader.finish(checklist, default, rebuild)


def parse_table(
    text: str, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<表格>", delimiter: str = ",",
    default: Default | None = None, rebuild: Rebuild | None = None, vocabulary: Vocabulary | None = None,
) -> Pasted:
    """CSV or tab-separated rows in the checklist's layout (metadata rows and a header row are optional)."""
    reader = Reader(facts, source, vocabulary)
    if (problem := _too_long(text, source)) is not None:
        reader.result.problems.append(problem)
        return reader.result
    try:
        rows = _table_rows(list(io.StringIO(text.lstrip("\ufeff"), newline="")), delimiter, reader)
    except csv.Error as exc:
        reader.result.problems.append(Problem("paste.table", f"表格格式无法读取：{exc}", Position(source, 1, 1)))
        return reader.result
    _read_rows(reader, rows)
    return reader.finish(checklist, default, rebuild)


#: unclosed quotes reported before the rest of a table is given up (each costs a re-read of the rest)
MAX_UNCLOSED_QUOTES = 10


def _table_rows(lines: list[str], delimiter: str, reader: Reader) -> list[list[str]]:
    """The rows of CSV/TSV lines, one per line where no cell spans lines.

    A quote opened and never closed makes the csv module read every following line into
    that one cell, silently. Such a row, running to the end with an odd number of quotes,
    is reported and skipped, and reading goes on from the next line; an empty row keeps
    its place so that the line numbers reported for the rows after it stay right.
    """
    rows: list[list[str]] = []
    offset = 0  # lines before the part being read
    for _ in range(MAX_UNCLOSED_QUOTES + 1):
        rest = lines[offset:]
        parsed = csv.reader(rest, delimiter=delimiter)
        start = 1
        for row in parsed:
            end = parsed.line_num
            if end == len(rest) and end > start and "".join(rest[start - 1 :]).count('"') % 2:
                break
            rows.append(row)
            start = end + 1
        else:
            return rows
        at = offset + start
        reader.result.problems.append(
            Problem("paste.unclosed_quote", f"第 {at} 行的引号没有闭合，这一行未采用：“{lines[at - 1].strip()[:80]}”", Position(reader.source, at, 1))
        )
        rows.append([])
        offset = at
    reader.result.problems.append(
        Problem("paste.unclosed_quote", f"引号没有闭合的行超过 {MAX_UNCLOSED_QUOTES} 处，第 {offset + 1} 行起未采用", Position(reader.source, offset + 1, 1))
    )
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # A date Excel or WPS turned into a date cell when the inspector typed over it.
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_rows(reader: Reader, rows: list[list[Any]]) -> None:
    header_at = next((n for n, r in enumerate(rows) if [_cell(c).strip() for c in r[:2]] == CSV_HEADER[:2]), None)
    header = [_cell(c).strip() for c in rows[header_at]] if header_at is not None else []
    col = {name: header.index(name) for name in CSV_HEADER if name in header}
    for index, row in enumerate(rows):
        number = index + 1
        cells = [_cell(c) for c in row]
        if index == header_at or not any(c.strip() for c in cells):
            continue
        if (header_at is not None and index < header_at) or _is_meta_row(reader, cells):
            # 检查日期 | 2026-11-18 | date: a label, the value and the machine key
            label, value = cells[0], cells[1] if len(cells) > 1 else ""
            key = cells[2].strip() if len(cells) > 2 else ""
            if value.strip():
                reader.add(f"{label}（{key}）" if key else label, value, number, "\t".join(cells))
            continue
        filled = [c for c in cells if c.strip()]
        if header_at is None and len(filled) == 1:
            _collect_line(reader, filled[0], number)  # a chat line among tab-separated rows
            continue
        if header_at is not None:
            answer = cells[col["回答"]] if col.get("回答", len(cells)) < len(cells) else ""
            key = cells[col["问题编号"]] if col.get("问题编号", len(cells)) < len(cells) and cells[col["问题编号"]].strip() else cells[0]
        else:
            key, answer = (cells[0], cells[-1]) if len(cells) >= 2 else (cells[0], "")
        if not answer.strip():
            continue  # an empty answer cell is a question not answered: unknown
        if observations.take_row(key, answer, number, reader.result, reader.source):
            continue
        reader.add(key, answer, number, "\t".join(cells))


def _is_meta_row(reader: Reader, cells: list[str]) -> bool:
    """A metadata row pasted without the checklist's header (label, value, machine key)."""
    if len(cells) < 3:
        return False
    key = cells[2].strip()
    return cells[0].strip() in META_LABELS or key in META_KEYS or (key in reader.facts and cells[0].strip() == reader.facts[key].question)


def parse_xlsx(
    data: bytes, facts: dict[str, FactDef], checklist: Checklist | None = None, source: str = "<xlsx>",
    default: Default | None = None, rebuild: Rebuild | None = None, vocabulary: Vocabulary | None = None,
) -> Pasted:
    from openpyxl import load_workbook

    reader = Reader(facts, source, vocabulary)
    # A workbook is a zip: 1 MB of it can expand to a gigabyte of sheet XML, all parsed before
    # a row could be counted. The declared sizes are checked first, and rows are read only
    # up to the limit (a checklist has a few hundred rows and ten columns).
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            expanded = sum(info.file_size for info in entries)
    except zipfile.BadZipFile:
        entries, expanded = [], 0  # not a zip at all: openpyxl says so below
    if len(entries) > MAX_XLSX_ENTRIES:
        reader.result.problems.append(
            Problem("paste.too_large", f"Excel 文件内含 {len(entries)} 个部件（上限 {MAX_XLSX_ENTRIES}），不是检查表", Position(source, 1, 1))
        )
        return reader.result
    if expanded > MAX_XLSX_EXPANDED:
        reader.result.problems.append(
            Problem("paste.too_large", f"Excel 文件解压后超过 {MAX_XLSX_EXPANDED // (1024 * 1024)} MB，不是检查表", Position(source, 1, 1))
        )
        return reader.result
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = []
        for row in wb.worksheets[0].iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS):
            cells = list(row)
            while cells and cells[-1] is None:
                cells.pop()  # max_col pads every row to its width; a row ends at its last value
            rows.append(cells)
            if len(rows) > MAX_LINES:
                break
    except Exception as exc:  # openpyxl raises many types for a damaged file
        reader.result.problems.append(Problem("paste.xlsx", f"无法读取 Excel 文件：{exc}", Position(source, 1, 1)))
        return reader.result
    if len(rows) > MAX_LINES:
        reader.result.problems.append(Problem("paste.too_long", f"表格超过 {MAX_LINES} 行", Position(source, 1, 1)))
        return reader.result
    _read_rows(reader, rows)
    return reader.finish(checklist, default, rebuild)


def parse(
    data: bytes | str, facts: dict[str, FactDef], checklist: Checklist | None = None, fmt: str | None = None,
    source: str = "<粘贴>", default: Default | None = None, rebuild: Rebuild | None = None,
    vocabulary: Vocabulary | None = None,
) -> Pasted:
    """Read pasted answers. Numbered answers refer to the checklist the pasted 检查表编号 names
    (``rebuild`` builds it from the identity); without one, to ``default(meta)`` or ``checklist``."""
    encoding = None
    if isinstance(data, bytes) and not (fmt == "xlsx" or (fmt is None and data[:2] == b"PK")):
        # Decoded before detection: a GBK CSV read as UTF-8 loses the header that names it.
        try:
            data, encoding = decode_text(data, source)
        except InputError as exc:
            return Pasted(problems=list(exc.problems))  # nothing readable: reported, nothing answered
    if isinstance(data, str) and is_blank(data):
        return Pasted(problems=[Problem("paste.empty", "内容是空的，没有任何回答", Position(source, 1, 1))])
    fmt = fmt or detect(data)
    if fmt == "xlsx":
        if isinstance(data, str):
            raise InputError([Problem("paste.xlsx", "Excel 文件须以原始字节提供，不能是文字", Position(source, 1, 1))])
        return parse_xlsx(data, facts, checklist, source, default, rebuild, vocabulary)
    if fmt == "csv":
        pasted = parse_table(data, facts, checklist, source, ",", default, rebuild, vocabulary)
    elif fmt == "tsv":
        pasted = parse_table(data, facts, checklist, source, "\t", default, rebuild, vocabulary)
    else:
        pasted = parse_lines(data, facts, checklist, source, default, rebuild, vocabulary)
    if encoding:
        pasted.problems.append(Problem("paste.encoding", f"不是 UTF-8 编码，已按 {encoding} 读取", Position(source, 1, 1), severity="warning"))
    return pasted
