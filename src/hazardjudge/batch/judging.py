"""Judging one input record as ``hazardjudge judge`` would, without stopping the run on a bad one.

This is what runs in a worker (the main process, a local worker process or a Dask
worker). A record travels as a plain tuple and its result comes back as the text of its
output line, so the main process only writes: parsing, judging and serialising happen
where the work is spread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from hazardjudge.api import Engine
from hazardjudge.engine.models import Verdict
from hazardjudge.engine.yamlio import load_json_text, load_yaml_text
from hazardjudge.errors import HazardJudgeError, InputError, Problem
from hazardjudge.inputs import observations
from hazardjudge.inputs.inspections import inspection_from_data
from hazardjudge.batch.views import LineError, render, render_failure


class Record(NamedTuple):
    """One input: its line (or place in the folder), where it came from, its form and text."""

    line: int
    source: str  # the input file (JSON Lines) or the file's path inside the folder
    form: str  # "jsonl" | "json" | "yaml" | "unreadable" (text: why)
    text: str
    id: str | int | None = None  # a folder's file is known by its path; a line carries its own


class Judged(NamedTuple):
    line: int
    id: str | int | None
    text: str  # the output line, without its newline
    outcome: str | None  # None: not judged (errors lists why)
    errors: list[dict[str, Any]]
    internal: bool  # an unexpected failure (a bug), not the input's fault


@dataclass(frozen=True)
class Job:
    """What every record of one run is judged with; pickled to each worker with the tasks."""

    engine: Engine
    view: str
    today: dt.date  # a record without a date is judged as of the run's start, in every worker alike


def valid_id(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and value != ""


def _ident(data: dict, record: Record) -> str | int | None:
    if record.form != "jsonl":
        return record.id
    ident = data.pop("id", None)
    if not valid_id(ident):
        raise InputError([Problem("batch.id", "每行须有 id（文本或整数），判定结果按 id 对应回输入", None, "如 {\"id\": \"2026-0001\", \"date\": …, \"facts\": {…}}")])
    return ident


def parse(record: Record) -> tuple[str | int | None, Any]:
    """The record's id and inspection; raises InputError (with the id when it was read)."""
    name = record.source
    data = load_yaml_text(record.text, name) if record.form == "yaml" else load_json_text(record.text, name)
    if not isinstance(data, dict):
        what = "每行须为一个 JSON 对象（检查记录）" if record.form == "jsonl" else "检查记录的顶层必须是映射"
        raise InputError([Problem("input.shape", what, None)])
    if record.form == "jsonl":
        data = dict(data)
    ident = _ident(data, record)
    try:
        # A line's keys are all on line 1: searching its text for each key's column (a
        # quadratic scan, ~1.5 ms for a fire inspection) would locate nothing worth it.
        return ident, inspection_from_data(data, name, "" if record.form == "jsonl" else record.text)
    except InputError as exc:
        exc.id = ident  # type: ignore[attr-defined]
        raise


def judge_inspection(engine: Engine, parsed, today: dt.date, decisive_only: bool = False) -> Verdict:
    """The CLI's path for a YAML/JSON inspection: strict reading, then the engine's judgement.

    ``decisive_only`` for the findings view, which reads only the results of major clauses
    triggered or open (see Engine.judge)."""
    inspection = parsed.inspection
    answers = engine.read(inspection.facts, parsed.positions)
    if problems := observations.check_categories(inspection.general_hazards, engine.bundle):
        raise InputError(problems)
    return engine.judge(
        answers, on=inspection.on or today, sectors=inspection.sectors, general_hazards=inspection.general_hazards,
        decisive_only=decisive_only,
    )


def _failure(job: Job, record: Record, ident, problems: list[LineError], internal: bool) -> Judged:
    text = render_failure(job.view, ident, record.line, job.engine.bundle.fingerprint, problems)
    return Judged(record.line, ident, text, None, [p.model_dump() for p in problems], internal)


def judge_record(job: Job, record: Record) -> Judged:
    ident = record.id
    if record.form == "unreadable":
        return _failure(job, record, ident, [LineError(code="input.unreadable", message=record.text)], False)
    try:
        ident, parsed = parse(record)
        verdict = judge_inspection(job.engine, parsed, job.today, decisive_only=job.view != "full")
    except HazardJudgeError as exc:
        ident = getattr(exc, "id", ident)
        return _failure(job, record, ident, [LineError.of(p) for p in exc.problems], False)
    except Exception as exc:  # a bug on one record must not lose the other million
        return _failure(job, record, ident, [LineError(code="batch.internal", message=f"内部错误（请连同此行输入一起报告）：{type(exc).__name__}：{exc}".splitlines()[0])], True)
    return Judged(record.line, ident, render(job.view, ident, record.line, verdict), verdict.outcome.value, [], False)


def judge_chunk(job: Job, records: list[Record]) -> list[Judged]:
    return [judge_record(job, r) for r in records]
