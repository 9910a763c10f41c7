"""Run the YAML test cases that sit beside each rule.

A case names facts and the outcome expected for *its own* rule (or
combination, or exclusion). By default the case names the rule's sector, so
it does not have to answer the sector's scope questions, and is judged on the
first day the rule's document version is in force. The file's ``test_facts``
are the starting answers of every case in it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Iterator
from xml.etree import ElementTree as ET

from hazardjudge.api import Engine
from hazardjudge.engine.loading import RuleSource
from hazardjudge.engine.models import Outcome, TestCase
from hazardjudge.errors import InputError, Position


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

    @property
    def document_key(self) -> str:
        rf = self.source.file.model
        return f"{rf.document}@{rf.version}"


@dataclass
class CaseResult:
    case: Case
    actual: str
    passed: bool
    message: str = ""
    fired: set[str] = field(default_factory=set)
    seconds: float = 0.0


def iter_cases(engine: Engine) -> Iterator[Case]:
    for src in engine.bundle.items.values():
        for i, case in enumerate(src.item.tests):
            yield Case(src, case, i)


def case_date(engine: Engine, case: Case) -> dt.date:
    return engine.bundle.documents[case.document_key].doc.effective


def outcome_of(engine: Engine, case: Case) -> tuple[str, set[str]]:
    """The case's target outcome as the engine decides it, and the durable rules that fired."""
    sectors = case.case.sectors if case.case.sectors is not None else [case.source.sector]
    answers = engine.read(case.facts)
    evaluation, _, _ = engine.evaluate(answers, case_date(engine, case), sectors)
    group = evaluation.groups.get(case.document_key)
    if group is None:
        return "absent", evaluation.fired
    out = group.get(case.source.item.id)
    return (out.outcome.value if out else Outcome.undetermined.value), evaluation.fired


def run_case(engine: Engine, case: Case) -> CaseResult:
    start = time.perf_counter()
    try:
        actual, fired = outcome_of(engine, case)
    except InputError as exc:
        return CaseResult(case, "input_error", False, "测试用例的事实无效：" + "；".join(p.message for p in exc.problems))
    elapsed = time.perf_counter() - start
    if actual == "absent":
        return CaseResult(case, actual, False, f"{case.document_key} 在该日期未被判定（版本不在施行期？）", fired, elapsed)
    ok = actual == case.case.expect.value
    msg = "" if ok else f"期望 {case.case.expect.value}，实际 {actual}"
    base_id = case.source.file.inherited.get(case.source.item.id)
    if not ok and base_id is not None:
        # Its line is in the base file, where the case passes or fails under the base's version on its own.
        msg += f"（{case.document_key} 继承的 {base_id} 的用例）"
    return CaseResult(case, actual, ok, msg, fired, elapsed)


def run_all(engine: Engine) -> list[CaseResult]:
    return [run_case(engine, case) for case in iter_cases(engine)]


def junit_xml(results: list[CaseResult]) -> str:
    """JUnit XML for CI systems: one testsuite per rule file, one testcase per YAML case."""
    suites: dict[str, list[CaseResult]] = {}
    for r in results:
        suites.setdefault(str(r.case.source.file.path), []).append(r)
    root = ET.Element("testsuites", name="hazardjudge", tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)))
    for path, rs in suites.items():
        suite = ET.SubElement(root, "testsuite", name=path, tests=str(len(rs)),
                              failures=str(sum(not r.passed for r in rs)))
        for r in rs:
            # file and line name where the case is written (an inherited case: in its base file).
            pos = r.case.position
            tc = ET.SubElement(suite, "testcase", classname=r.case.source.item.id, name=r.case.case.name,
                               file=pos.file if pos else path, line=str(pos.line if pos else 0),
                               time=f"{r.seconds:.6f}")
            if not r.passed:
                failure = ET.SubElement(tc, "failure", message=r.message)
                failure.text = f"{r.case.position}: {r.case.id}: {r.message}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
