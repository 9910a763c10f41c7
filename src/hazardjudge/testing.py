"""Run the YAML test cases that sit beside each rule.

A case names facts and the outcome expected for *its own* rule (or
combination, or exclusion). By default the case names the rule's sector, so
it does not have to answer the sector's scope questions, and is judged on the
first day the rule's document version is in force.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

from .api import Engine
from .errors import InputError
from .loading import RuleSource
from .models import TestCase
from .yamlio import Position


@dataclass
class Case:
    source: RuleSource
    case: TestCase
    index: int

    @property
    def id(self) -> str:
        return f"{self.source.item.id}::{self.case.name}"

    @property
    def facts(self) -> dict:
        return {**self.source.file.model.test_facts, **self.case.facts}

    @property
    def position(self) -> Position | None:
        return self.source.pos("tests", self.index)


@dataclass
class CaseResult:
    case: Case
    actual: str
    passed: bool
    message: str = ""


def iter_cases(engine: Engine) -> Iterator[Case]:
    for src in engine.bundle.items.values():
        for i, case in enumerate(src.item.tests):
            yield Case(src, case, i)


def case_date(engine: Engine, case: Case) -> dt.date:
    rf = case.source.file.model
    return engine.bundle.documents[f"{rf.document}@{rf.version}"].doc.effective


def run_case(engine: Engine, case: Case) -> CaseResult:
    sectors = case.case.sectors if case.case.sectors is not None else [case.source.sector]
    try:
        verdict = engine.judge(case.facts, on=case_date(engine, case), sectors=sectors)
    except InputError as exc:
        return CaseResult(case, "input_error", False, "测试用例的事实无效：" + "；".join(p.message for p in exc.problems))
    target = case.source.item.id
    for doc in verdict.documents:
        for result in doc.results:
            if result.rule == target:
                ok = result.outcome is case.case.expect
                msg = "" if ok else f"期望 {case.case.expect.value}，实际 {result.outcome.value}"
                return CaseResult(case, result.outcome.value, ok, msg)
    return CaseResult(case, "absent", False, f"判定结果中没有 {target}（文件版本不在该日期生效？）")


def run_all(engine: Engine) -> list[CaseResult]:
    return [run_case(engine, case) for case in iter_cases(engine)]
