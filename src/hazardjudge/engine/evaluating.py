"""Run compiled rulesets in durable_rules and read back what fired.

We drive the C core (``durable_rules_engine``, the module ``durable.engine``
wraps) directly instead of ``durable.engine.Host``: the Host runs actions on
two timer threads and round-trips the whole session state through JSON on
every firing (measured here: ~620 µs per 26 firings against ~50 µs driven
directly). The rulesets are the same JSON grammar; only the dispatch of
actions is ours, and an action does nothing but record which durable rule
fired and assert the derived facts the compiler attached to it.

Isolation: one :class:`DurableEvaluator` owns its ruleset handles; a lock
serialises evaluations on it (the C core holds the GIL, so threads would gain
nothing from running it concurrently).

Sessions: the C core allocates a session's whole state (8 KB per durable rule)
the first time a session id reaches a ruleset, and frees it on delete_state.
Element and scope rulesets hold only single-pattern rules, so their answer
fact is asserted into one kept session per ruleset and retracted once its
actions ran: nothing can join it with a later evaluation's fact (measured:
an evaluation of the GB 35181 hotel example took 40% of the time of fresh
sessions). The final ruleset joins and counts derived facts; it gets a fresh
session per evaluation, deleted afterwards. Memory stays flat either way.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine as dre

from hazardjudge.engine.answers import Answers
from hazardjudge.engine.compiling import NAMED_PREFIX, CompiledBundle, CompiledRuleset, Fire, TargetInfo, engine_json
from hazardjudge.engine.conditions import to_scalar
from hazardjudge.engine.heap import collector_paused
from hazardjudge.engine.models import FactType, Outcome
from hazardjudge.errors import EngineError

_engine_ids = itertools.count()
_SCALAR, _SET, _NAMED = 0, 1, 2  # how a read fact is encoded in a message
# Scope-answer combinations remembered per ruleset for replay (a handful occur in practice).
_REPLAYS = 16
_allocator_tuned = False

# glibc's M_TRIM_THRESHOLD (malloc.h). Every evaluation makes and deletes a
# session of a few hundred KB per ruleset in the C core; depending on heap
# layout, glibc returned that memory to the OS after each evaluation and the
# next one page-faulted it back (measured: ~480 minor faults and 4x the time,
# 690 us instead of 170 us, in processes that had loaded a larger bundle first).
# Keeping up to 64 MiB of free heap removes the faults.
# Setting any of these options also freezes glibc's mmap threshold at its 128 KiB start
# (it otherwise grows after the first large free): a session of a ruleset with ~140 durable
# rules allocates one array of ~1.1 MB, which was then mmapped, faulted in and unmapped
# on every evaluation (measured: 385 us instead of 70 us for that one assert). Large
# blocks stay on the heap up to glibc's maximum threshold.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_TRIM_BYTES = 64 * 1024 * 1024
_MMAP_BYTES = 32 * 1024 * 1024


def _tune_allocator() -> None:
    """Once per process, on glibc, unless HAZARDJUDGE_NO_MALLOPT is set."""
    global _allocator_tuned
    if _allocator_tuned or os.environ.get("HAZARDJUDGE_NO_MALLOPT"):
        return
    _allocator_tuned = True
    try:
        # The process's own symbols include libc's: ctypes.util.find_library would run
        # `ldconfig -p` in a subprocess just to name it (~5 ms of a CLI run).
        libc = ctypes.CDLL(None)
        if hasattr(libc, "mallopt"):
            libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES)
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)
    except (OSError, TypeError):  # pragma: no cover - no dlopen(NULL) here; nothing to tune
        pass


@dataclass
class TargetOutcome:
    outcome: Outcome
    facts: tuple[str, ...] = ()
    excluded_by: tuple[str, ...] = ()
    # Undetermined although the target's own condition is met: these guarding exclusions
    # are still unanswered. Never "excluded", never "triggered" until they are decided.
    pending: tuple[str, ...] = ()


@dataclass
class Evaluation:
    """Outcome per target, grouped by "scope" and by document version key."""

    groups: dict[str, dict[str, TargetOutcome]] = field(default_factory=dict)
    fired: set[str] = field(default_factory=set)  # durable rule names that fired (coverage)


def in_scope(compiled: CompiledBundle, scope: dict[str, TargetOutcome], documents: list[str]) -> list[str]:
    """Documents worth evaluating: those whose sector the scope rules did not decide as not applicable.

    Every rule of an out-of-scope document would only come out "not applicable" (the scope is
    part of each rule's pattern), and the verdict lists no results for such a document.
    """
    out = []
    for key in documents:
        decided = scope.get(f"scope:{compiled.documents.sector_of[key]}")
        if decided is None or decided.outcome is not Outcome.not_applicable:
            out.append(key)
    return out


class _Recorder:
    """Collects firings of one group; undetermined targets simply never appear."""

    def __init__(self) -> None:
        self.outcomes: dict[str, TargetOutcome] = {}
        self.facts: dict[str, dict[str, None]] = {}
        self.met: dict[str, None] = {}

    def record(self, fire: Fire) -> None:
        if not fire.target:
            return
        seen = self.facts.setdefault(fire.target, {})
        for f in fire.facts:
            seen.setdefault(f)
        if fire.outcome is None:
            if fire.met:
                self.met.setdefault(fire.target)
            return
        current = self.outcomes.get(fire.target)
        if current is None:
            self.outcomes[fire.target] = TargetOutcome(fire.outcome, (), (fire.excluded_by,) if fire.excluded_by else ())
        elif fire.excluded_by and fire.excluded_by not in current.excluded_by:
            current.excluded_by += (fire.excluded_by,)
        elif current.outcome is not fire.outcome and not fire.excluded_by:
            # Mutually exclusive by construction; two outcomes mean a compiler bug.
            raise EngineError(f"{fire.target}: 同时得到 {current.outcome.value} 和 {fire.outcome.value}")

    def result(self, targets: Mapping[str, TargetInfo]) -> dict[str, TargetOutcome]:
        outcomes = self.outcomes
        for target in self.met:
            if target not in outcomes:
                # Met, and the final ruleset joined no exclusion outcome that decides it.
                open_ = tuple(x for x in targets[target].guards if x not in outcomes)
                outcomes[target] = TargetOutcome(Outcome.undetermined, pending=open_)
        for target, out in outcomes.items():
            out.facts = tuple(self.facts.get(target, ()))
        return outcomes


@dataclass
class _Handle:
    compiled: CompiledRuleset
    handle: int
    # The kept session of a single-pattern ruleset. A new one is started if a fact could
    # not be retracted from it (an engine error mid-evaluation): a fact left behind would
    # make the next identical message "already observed" and fire nothing.
    session: int = 0
    # Facts the ruleset reads beyond its sector's scope (and named-sector flags). While none
    # of them is answered the message can only vary with the scope answers, so what durable
    # fired for it is replayed (see _assert_kept).
    own: tuple[str, ...] | None = None
    unanswered: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _release(created: list[int], started: dict[int, set[str]]) -> None:
    """Free an evaluator's rulesets in the C core: their sessions first (deleting a ruleset
    leaves its sessions' state allocated, ~24 MB for the shipped bundle's), then the rulesets."""
    for handle in created:
        for sid in started.get(handle, ()):
            try:
                dre.delete_state(handle, sid)
            except dre.error:  # pragma: no cover - a session this evaluator started
                pass
        try:
            dre.delete_ruleset(handle)
        except dre.error:  # pragma: no cover - a handle this evaluator created
            pass


class DurableEvaluator:
    def __init__(self, compiled: CompiledBundle) -> None:
        self.compiled = compiled
        self._lock = threading.Lock()
        self._prefix = f"e{next(_engine_ids)}"
        self._handles: dict[str, _Handle] = {}
        self._groups: dict[str, list[str]] = {}
        self._finals: dict[str, str] = {}
        self._reads: dict[str, list[tuple[str, int, Any]]] = {}  # per ruleset name
        self._pieces: dict[str, str] | None = None
        # The C core keeps a ruleset and its sessions (~75 MB for the shipped bundle) until
        # they are deleted: without this, every engine ever loaded stayed in memory, and a
        # test run or a service reloading bundles grew without bound. Only sessions in which
        # an action ran may be deleted (delete_state segfaults otherwise): ``_started``.
        self._created: list[int] = []
        self._started: dict[int, set[str]] = {}
        weakref.finalize(self, _release, self._created, self._started).atexit = False
        _tune_allocator()

    # ----------------------------------------------------------------- set-up

    def warm(self) -> None:
        """Create every ruleset now (a long-running service prefers to pay at start-up)."""
        with self._lock, collector_paused():
            self._ensure("scope")
            for key in self.compiled.documents:
                self._ensure(key)

    def _ensure(self, group: str) -> None:
        # Rulesets are created in the C core when a group is first evaluated: a one-off
        # judgement (the CLI) pays only for the document versions in force on its date.
        if group in self._groups:
            return
        with collector_paused():
            self._create_group(group)

    def _create_group(self, group: str) -> None:
        if group == "scope":
            self._create(self.compiled.scope)
            self._groups[group] = [self.compiled.scope.name]
            return
        doc = self.compiled.documents[group]
        scope_facts = set(self.compiled.scope_targets[f"scope:{doc.sector}"].reads)
        for rs in (*doc.element_rulesets, doc.final):
            self._create(rs, scope_facts)
        self._groups[group] = [rs.name for rs in doc.element_rulesets]
        self._finals[group] = doc.final.name

    def _create(self, rs: CompiledRuleset, scope_facts: set[str] | None = None) -> None:
        name = f"{self._prefix}:{rs.name}"
        try:
            handle = dre.create_ruleset(name, rs.engine_text())
        except dre.error as exc:  # pragma: no cover - compiler output is tested
            raise EngineError(f"durable_rules 拒绝了规则集 {rs.name}：{exc}") from exc
        self._created.append(handle)
        self._started[handle] = set()
        # The scope ruleset reads only scope facts: it is never replayed (own stays None).
        own = None if scope_facts is None else tuple(f for f in rs.reads if f not in scope_facts and not f.startswith(NAMED_PREFIX))
        self._handles[rs.name] = _Handle(rs, handle, own=own)
        self._reads[rs.name] = self._encoding(rs.reads)

    def _encoding(self, reads: dict[str, None]) -> list[tuple[str, int, Any]]:
        """How each fact a ruleset tests becomes attributes of the fact asserted into it.

        Each entry is (fact id, kind, key): a scalar's quoted key '"attr":'; a set fact's
        [(value, '"attr":'), …]; a named-sector flag's ('"attr":', sector). Prepared once so
        a message is a plain join on the hot path.
        """
        facts = self.compiled.bundle.facts
        attributes = self.compiled.attributes
        out: list[tuple[str, int, Any]] = []
        for fid in reads:
            fact = facts.get(fid)
            if fid.startswith(NAMED_PREFIX):
                out.append((fid, _NAMED, (f'"{attributes[fid]}":', fid[len(NAMED_PREFIX) :])))
            elif fact is not None and fact.type is FactType.set:
                out.append((fid, _SET, [(v, f'"{attributes[f"{fid}={v}"]}":') for v in fact.values or {}]))
            else:
                out.append((fid, _SCALAR, f'"{attributes[fid]}":'))
        return out

    # ----------------------------------------------------------------- evaluation

    def _message(self, ruleset: str, answers: Answers, named: set[str], sid: str) -> str:
        return f'{self._body(ruleset, answers, named)},"sid":"{sid}"}}'

    def _body(self, ruleset: str, answers: Answers, named: set[str]) -> str:
        """The answer fact for one ruleset, without its session id and closing brace.

        Each fact's attributes as text ("" when unanswered) are kept for the rest of the
        evaluation (``_pieces``): an attribute's name does not depend on the ruleset, and the
        scope facts go into every slice of a document.
        """
        pieces = self._pieces if self._pieces is not None else {}
        parts = ['{"t":"i"']
        values = answers.values
        for fid, kind, key in self._reads[ruleset]:
            piece = pieces.get(fid)
            if piece is None:
                if kind == _SCALAR:
                    piece = key + engine_json(to_scalar(values[fid])) if fid in values else ""
                elif kind == _SET:
                    value = values.get(fid)
                    piece = ",".join(k + ("true" if v in value else "false") for v, k in key) if fid in values else ""
                else:
                    attr, sector = key
                    piece = attr + ("true" if sector in named else "false")
                pieces[fid] = piece
            if piece:
                parts.append(piece)
        return ",".join(parts)

    def evaluate(self, answers: Answers, named: set[str], documents: list[str]) -> Evaluation:
        with self._lock:
            result = Evaluation()
            self._pieces = {}  # these answers' attribute texts, for this evaluation only
            try:
                scope = result.groups["scope"] = self._run_group("scope", answers, named, result.fired)
                for key in in_scope(self.compiled, scope, documents):
                    result.groups[key] = self._run_group(key, answers, named, result.fired)
            finally:
                self._pieces = None
            return result

    def _run_group(self, group: str, answers: Answers, named: set[str], fired: set[str]) -> dict[str, TargetOutcome]:
        self._ensure(group)
        recorder = _Recorder()
        pending: dict[str, None] = {}
        final_name = self._finals.get(group)
        for name in self._groups[group]:
            self._assert_kept(self._handles[name], answers, named, recorder, pending, fired)
        if final_name is not None:
            self._run_final(self._handles[final_name], recorder, pending, fired)
        return recorder.result(self.compiled.documents[group].targets if final_name is not None else {})

    def _run_final(self, h: _Handle, recorder: _Recorder, pending: dict[str, None], fired: set[str]) -> None:
        """The joining ruleset, in its kept session: every fact asserted is retracted afterwards.

        A fresh session per evaluation made the C core allocate and free the whole session
        (8 KB per durable rule: 1.1 MB for GB 35181-2025's 144) every time, over half of
        that document's engine time. Durable facts are not consumed by firing, so retracting
        each asserted fact leaves the session as clean as a new one; should a retraction
        fail, the session is abandoned (deleted) and the next evaluation starts a new one.
        """
        sid = f"f{h.session}"
        asserted: list[str] = []
        clean = False
        try:
            # The sentinel is the same message every time: "already observed" means a fact
            # outlived its retraction.
            self._assert(
                h, f'{{"t":"i","sid":"{sid}"}}', sid, recorder, pending, fired, inline=True, observed_ok=False, asserted=asserted
            )
            for emitted in list(pending):
                self._assert(h, f'{{"sid":"{sid}",{emitted}}}', sid, recorder, pending, fired, inline=True, asserted=asserted)
            try:
                for message in reversed(asserted):
                    dre.retract_fact(h.handle, message)
            except dre.error as exc:  # pragma: no cover - every message was just asserted
                raise EngineError(f"durable_rules 无法撤回规则集 {h.compiled.name} 的事实：{exc}") from exc
            clean = True
        finally:
            if not clean:
                self._abandon(h, sid)

    def _assert_kept(
        self,
        h: _Handle,
        answers: Answers,
        named: set[str],
        recorder: _Recorder,
        pending: dict[str, None],
        fired: set[str],
    ) -> None:
        """One answer fact through a single-pattern ruleset's kept session, retracted afterwards.

        A ruleset none of whose own facts is answered (a section of the criteria the inspection
        did not cover: the common case in a batch) can fire only on the scope answers. Its
        firings for that exact message, as durable_rules made them in a clean session, are
        replayed: the same message into the same clean session fires the same rules.
        """
        body = self._body(h.compiled.name, answers, named)
        values = answers.values
        replayable = h.own is not None and not any(f in values for f in h.own)
        if replayable and (names := h.unanswered.get(body)) is not None:
            fires = h.compiled.fires
            for name in names:
                fire = fires[name]
                fired.add(name)
                recorder.record(fire)
                for emitted in fire.emits:
                    pending.setdefault(emitted)
            return
        sid = f"k{h.session}"
        message = f'{body},"sid":"{sid}"}}'
        log: list[str] | None = [] if replayable and len(h.unanswered) < _REPLAYS else None
        clean = False
        try:
            # Nothing in the kept session can be "already observed": that would mean a fact
            # survived its retraction, and the ruleset would silently fire nothing.
            self._assert(h, message, sid, recorder, pending, fired, inline=False, observed_ok=False, log=log)
            try:
                dre.retract_fact(h.handle, message)
            except dre.error as exc:  # pragma: no cover - the fact was just stored
                raise EngineError(f"durable_rules 无法撤回规则集 {h.compiled.name} 的事实：{exc}") from exc
            clean = True
        finally:
            if not clean:
                self._abandon(h, sid)
        if log is not None:
            h.unanswered[body] = tuple(log)

    def _abandon(self, h: _Handle, sid: str) -> None:
        """Start a new kept session for this ruleset; free the old one if that is safe."""
        started = self._started[h.handle]
        if sid in started:
            started.discard(sid)
            try:
                dre.delete_state(h.handle, sid)
            except dre.error:  # pragma: no cover - never mask the error that abandoned the session
                pass
        h.session += 1

    def _assert(
        self,
        h: _Handle,
        message: str,
        sid: str,
        recorder: _Recorder,
        pending: dict[str, None],
        fired: set[str],
        inline: bool,
        observed_ok: bool = True,
        log: list[str] | None = None,
        asserted: list[str] | None = None,
    ) -> None:
        fires = h.compiled.fires
        try:
            code, state = dre.assert_fact(h.handle, message)
        except dre.error as exc:
            raise EngineError(f"durable_rules 无法处理规则集 {h.compiled.name} 的事实：{exc}") from exc
        if code == 2:  # already observed: a derived fact asserted twice
            if not observed_ok:
                raise EngineError(f"durable_rules 规则集 {h.compiled.name} 的会话中残留了上一次判定的事实")
            return
        if asserted is not None:
            asserted.append(message)
        action = dre.start_action_for_state(h.handle, state)
        if not action:
            return
        self._started[h.handle].add(sid)
        msg = action[1]
        while msg:
            name = msg[2 : msg.index('"', 2)]
            fire = fires[name]
            fired.add(name)
            recorder.record(fire)
            if log is not None:
                log.append(name)
            for emitted in fire.emits:
                if emitted in pending and inline:
                    continue
                if inline:
                    pending[emitted] = None
                    derived = f'{{"sid":"{sid}",{emitted}}}'
                    dre.assert_fact(h.handle, derived)
                    if asserted is not None:
                        asserted.append(derived)
                else:
                    pending.setdefault(emitted)
            msg = dre.complete_and_start_action(h.handle, state)
