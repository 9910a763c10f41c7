"""The speed-ups change no verdict: every shipped example and every YAML rule case gives, byte
for byte, the JSON verdict of the reference path.

The reference is the engine as it ran before kept sessions and per-engine memos: a fresh
durable_rules session for every ruleset of every evaluation, the joining ones included
(deleted afterwards), and nothing remembered between verdicts. The engine under test is the shared one, which has judged many
other inspections first, in another order, so a leftover fact or a stale memo would show.
(When this file was written, the same verdicts were also compared with the main branch's
code: all 1,421 identical.)
"""

from __future__ import annotations

import itertools
from pathlib import Path

import durable_rules_engine as dre
import pytest

import hazardjudge
from hazardjudge.authoring.testing import case_date, iter_cases
from hazardjudge.engine.evaluating import DurableEvaluator
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.name != "notice.yaml")


class FreshSessions(DurableEvaluator):
    """Every ruleset in a new session per evaluation, deleted afterwards."""

    _fresh = itertools.count()

    def _assert_kept(self, h, answers, named, recorder, pending, fired) -> None:
        sid = f"r{next(self._fresh)}"
        ran: list[str] = []  # delete_state is safe only once an action ran for the sid
        try:
            message = self._message(h.compiled.name, answers, named, sid)
            self._assert(h, message, sid, recorder, pending, fired, inline=False, log=ran)
        finally:
            if ran:
                dre.delete_state(h.handle, sid)
                self._started[h.handle].discard(sid)

    def _run_final(self, h, recorder, pending, fired) -> None:
        sid = f"r{next(self._fresh)}"
        ran: list[str] = []
        try:
            self._assert(h, f'{{"t":"i","sid":"{sid}"}}', sid, recorder, pending, fired, inline=True, log=ran)
            for emitted in list(pending):
                self._assert(h, f'{{"sid":"{sid}",{emitted}}}', sid, recorder, pending, fired, inline=True, log=ran)
        finally:
            if ran:
                dre.delete_state(h.handle, sid)
                self._started[h.handle].discard(sid)


@pytest.fixture(scope="module")
def reference() -> hazardjudge.Engine:
    engine = hazardjudge.load()
    engine._evaluator = FreshSessions(engine.compiled)
    return engine


def _reference_json(reference: hazardjudge.Engine, *args, **kwargs) -> str:
    reference._memo = {}  # nothing remembered from an earlier verdict
    return reference.judge(*args, **kwargs).model_dump_json()


def _inputs(engine: hazardjudge.Engine) -> list[tuple[str, tuple, dict]]:
    out = []
    for path in EXAMPLES:
        out.append((path.name, (parse_inspection(path.read_text(encoding="utf-8")).inspection,), {}))
    for case in iter_cases(engine):
        sectors = case.case.sectors if case.case.sectors is not None else [case.source.sector]
        out.append((case.id, (case.facts,), {"on": case_date(engine, case), "sectors": sectors}))
    return out


def test_examples_and_rule_cases_give_the_reference_verdicts(shipped, reference):
    inputs = _inputs(shipped)
    assert len(inputs) > len(EXAMPLES) + 1000
    # The shared engine first judges everything once in reverse order: its kept sessions and
    # memos then hold whatever the other inspections left.
    for _, args, kwargs in reversed(inputs):
        try:
            shipped.judge(*args, **kwargs)
        except InputError:
            pass
    differing = []
    for name, args, kwargs in inputs:
        try:
            got = shipped.judge(*args, **kwargs).model_dump_json()
        except InputError as exc:
            got = f"InputError {exc}"
        try:
            want = _reference_json(reference, *args, **kwargs)
        except InputError as exc:
            want = f"InputError {exc}"
        if got != want:
            differing.append(name)
    assert differing == []
