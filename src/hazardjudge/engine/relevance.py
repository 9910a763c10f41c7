"""Which unanswered questions could still change a verdict, and which way it can still go.

Nothing here decides a clause: the engine's outcomes are read as given. For every
clause the engine left undetermined, the compiled DNF forms of its `when` and its
condition (``TargetInfo.when`` / ``.condition``, built once per bundle) are read
against the answers so far. A conjunction with an atom already false can never
match; the unanswered facts of the conjunctions still *live* are the only ones
whose answer can move the clause, and they are split by direction:

* *up*: the facts that could make it triggered (for a guarded clause, also the
  facts that could make each open exclusion false; for a combination, the facts
  of the elements and place categories of the variants that can still be met);
* *down*: the facts that could decide it as not triggered, not applicable or
  excluded.

"Can go up" / "can go down" are false only when no live conjunction is left, so
they over-approximate what further answers can reach, and the fact sets contain
every fact that can move a clause in that direction. The verdict then lists:

* while a sector's scope is open: only its scope questions, and while a rule's `when`
  is open: only the `when` questions (no answer to a clause's condition can decide it
  before its gates are known, so those questions come once they are);
* while the overall outcome is undetermined: the *up* facts of every open major
  clause (any one triggered makes the outcome major); the *down* facts of a
  document's open clauses only if that document could still conclude "none" and
  every other document in play could still end "none" or "not applicable" (else
  no answer to them can make the outcome "none"); a sector scope's facts when
  anything in its document still matters;
* when it is already major: no questions (a triggered clause stays triggered),
  and as ``further_questions`` the *up* facts that could add another finding.

Ranking, most decisive first: (0) exclusion questions of clauses already met,
(1) applicability questions (a sector scope, a rule's `when`, a combination's
place category), (2) the rest; within a rank, the more open clauses an answer
could decide the earlier; ties in clause order (documents in verdict order,
clauses in rule-file order), then by question id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hazardjudge.engine.compiling import NAMED_PREFIX, CompiledBundle, Forms, TargetInfo
from hazardjudge.engine.conditions import atom_truth
from hazardjudge.engine.evaluating import TargetOutcome
from hazardjudge.engine.models import Outcome, OverallOutcome, Question, QuestionRole, QuestionTarget

T, F, NA, X, U = Outcome.triggered, Outcome.not_triggered, Outcome.not_applicable, Outcome.excluded, Outcome.undetermined
EXCL, GATE, COND = QuestionRole.exclusion, QuestionRole.applicability, QuestionRole.condition

# fact id → (role, via): via names the element or exclusion through which the fact reaches the clause
Facts = dict[str, tuple[QuestionRole, str | None]]


def live(dnf: tuple, values: dict) -> tuple[bool, list[str]]:
    """Whether any conjunction can still match, and the unanswered facts of those that can."""
    possible = False
    facts: list[str] = []
    for conj in dnf:
        missing = []
        for atom in conj:
            if atom.fact not in values:  # the common case on a partial inspection: no comparison needed
                missing += [f for f in atom.facts() if f not in values]
                continue
            t = atom_truth(atom, values)
            if t is False:
                break
            if t is None:
                missing += [f for f in atom.facts() if f not in values]
        else:
            possible = True
            facts += missing
    return possible, facts


def _add(into: Facts, facts, role: QuestionRole, via: str | None = None) -> None:
    for f in facts:
        if f not in into:
            into[f] = (role, via)


def _merge(into: Facts, other: Facts) -> None:
    for f, rv in other.items():
        if f not in into:
            into[f] = rv


@dataclass
class State:
    """What further answers can still do to one undetermined clause."""

    can_up: bool
    can_down: bool
    up: Facts = field(default_factory=dict)
    down: Facts = field(default_factory=dict)
    met: bool = False  # own condition met, exclusions open


_NO_GATE = Forms(((),), ())
_UNSEEN = object()
_MAX_SHARED = 50_000


def _form_facts(info: TargetInfo) -> tuple[str, ...]:
    """Every fact the forms of a clause's `when` and condition read."""
    return tuple(
        dict.fromkeys(
            f
            for forms in (info.when, info.condition)
            for dnf in (forms.true, forms.false)
            for conj in dnf
            for atom in conj
            for f in atom.facts()
        )
    )
_DECIDED_UP = State(True, False)
_DECIDED_DOWN = State(False, True)


class DocumentRelevance:
    """The states of one document's open clauses, and what the document can still become."""

    def __init__(
        self,
        compiled: CompiledBundle,
        targets: dict[str, TargetInfo] | None,
        scope: TargetInfo,
        scope_out: TargetOutcome | None,
        group: dict[str, TargetOutcome],
        values: dict,
        shared: dict | None = None,
        key: str = "",
    ) -> None:
        self.targets = targets or {}
        self._shared = shared
        self._key = key
        self.group = group
        self.values = values
        self.scope_open = scope_out is None
        if self.scope_open:
            self.s_true, st = live(scope.condition.true, values)
            self.s_false, sf = live(scope.condition.false, values)
            self.scope_facts: list[str] = list(dict.fromkeys(f for f in st + sf if not f.startswith(NAMED_PREFIX)))
        else:
            self.s_true = scope_out.outcome is T
            self.s_false = scope_out.outcome is NA
            self.scope_facts = []
        self._raw: dict[str, State] = {}
        self._state: dict[str, State] = {}
        self._excl: dict[str, State] = {}

    def _live(self, dnf: tuple) -> tuple[bool, list[str]]:
        return live(dnf, self.values)

    # ----------------------------------------------------------------- one clause, before exclusions

    def raw(self, tid: str) -> State:
        state = self._raw.get(tid)
        if state is None:
            state = self._raw[tid] = self._compute_raw(tid)
        return state

    def _compute_raw(self, tid: str) -> State:
        out = self.group.get(tid)
        if out is not None:
            if out.outcome in (T, X) or out.pending:
                return _DECIDED_UP
            if out.outcome in (F, NA):
                return _DECIDED_DOWN
        info = self.targets[tid]
        if info.variants:
            return self._combination(info)
        shared = self._shared
        if shared is None:
            return self._gated(info.when, info.condition)
        # A plain clause's state reads nothing but its forms' answers and whether its scope holds:
        # the same for every verdict with those answers (most of a batch leaves a clause's facts
        # unanswered), and most of the time to build a verdict of a large document. States are
        # never mutated once made, so verdicts share them.
        facts = shared.get((self._key, tid))
        if facts is None:
            facts = shared[(self._key, tid)] = _form_facts(info)
        values = self.values
        try:
            key = (self._key, tid, self.s_true, self.s_false, tuple((type(v), v) for v in (values.get(f, _UNSEEN) for f in facts)))
            state = shared.get(key)
        except TypeError:  # an unhashable answer: compute it
            return self._gated(info.when, info.condition)
        if state is None:
            if len(shared) >= _MAX_SHARED:
                shared.clear()  # bounded: numeric answers make many keys in a long batch
            state = shared[key] = self._gated(info.when, info.condition)
        return state

    def _gated(self, when: Forms, condition: Forms, role: QuestionRole = COND, via: str | None = None) -> State:
        w_true, wt = self._live(when.true)
        w_false, wf = self._live(when.false)
        applies = self.s_true and w_true
        c_true, ct = self._live(condition.true) if applies else (False, [])
        c_false, cf = self._live(condition.false) if applies else (False, [])
        up: Facts = {}
        down: Facts = {}
        # Until the rule's `when` is known to hold, no answer to its condition can decide it:
        # the gate is asked first and the condition's questions once it holds.
        gate_known = any(all(atom_truth(a, self.values) is True for a in conj) for conj in when.true)
        if applies and c_true:
            _add(up, wt, GATE if role is COND else role, via)
            if gate_known:
                _add(up, ct, role, via)
        if applies and c_false:
            _add(down, wt, GATE if role is COND else role, via)
            if gate_known:
                _add(down, cf, role, via)
        if w_false:
            _add(down, wf, GATE if role is COND else role, via)
        return State(applies and c_true, (applies and c_false) or self.s_false or w_false, up, down)

    def _combination(self, info: TargetInfo) -> State:
        up: Facts = {}
        down: Facts = {}
        can_up = False
        all_can_fail = True
        for v in info.variants:
            vout = self.group.get(v.key)
            raws = [(e, self.raw(e)) for e in v.elements]
            yes = sum(1 for e, r in raws if r is _DECIDED_UP)
            no = sum(1 for e, r in raws if r is _DECIDED_DOWN)
            open_ = [(e, r) for e, r in raws if r is not _DECIDED_UP and r is not _DECIDED_DOWN]
            need_no = len(v.elements) - v.at_least + 1
            if (vout is not None and vout.outcome is NA) or no >= need_no:
                continue  # this variant already failed
            if vout is None:
                va_true, wt = self._live(v.when.true) if self.s_true else (False, [])
                va_false, wf = self._live(v.when.false)
                va_false = va_false or self.s_false
            else:
                va_true, wt, va_false, wf = True, [], False, []
            rising = [(e, r) for e, r in open_ if r.can_up]
            if va_true and yes + len(rising) >= v.at_least:
                can_up = True
                _add(up, wt, GATE)
                for e, r in rising:
                    _add(up, r.up, COND, e)
            falling = [(e, r) for e, r in open_ if r.can_down]
            if va_false or no + len(falling) >= need_no:
                _add(down, wf, GATE)
                for e, r in falling:
                    _add(down, r.down, COND, e)
            else:
                all_can_fail = False
        partial = info.source is not None and getattr(info.source.item, "partial", False)
        return State(can_up, all_can_fail and not partial, up, down)

    # ----------------------------------------------------------------- with its exclusions

    def state(self, tid: str) -> State:
        state = self._state.get(tid)
        if state is None:
            state = self._state[tid] = self._compute_state(tid)
        return state

    def _compute_state(self, tid: str) -> State:
        info = self.targets[tid]
        out = self.group.get(tid)
        if out is not None and out.outcome is not U:
            return _DECIDED_UP if out.outcome is T else _DECIDED_DOWN
        if info.kind == "exclusion":
            return self._gated(_NO_GATE, info.condition)
        raw = self.raw(tid)
        if not info.guards:
            return raw
        met = out is not None and bool(out.pending)
        xs = [(x, self.group.get(x)) for x in info.guards]
        if any(o is not None and o.outcome is T for x, o in xs):
            # Held back whatever its own answers: any decision of its condition decides it.
            down: Facts = {}
            _merge(down, raw.up)
            _merge(down, raw.down)
            return State(False, True, {}, down)
        up: Facts = {} if met else dict(raw.up)
        down = {} if met else dict(raw.down)
        all_can_fail = True
        any_can_hold = False
        role = EXCL
        hold: Facts = {}
        for x, o in xs:
            if o is not None:
                continue  # known not to apply
            xs_state = self._excl.get(x)
            if xs_state is None:
                xs_state = self._excl[x] = self._gated(_NO_GATE, self.targets[x].condition, role, x)
            all_can_fail = all_can_fail and xs_state.can_down
            _merge(up, xs_state.down)
            if xs_state.can_up:
                any_can_hold = True
                _merge(hold, xs_state.up)
        can_up = (met or raw.can_up) and all_can_fail
        if not can_up:
            up = {}
        if any_can_hold:
            _merge(down, raw.up)
            _merge(down, hold)
        return State(can_up, (not met and raw.can_down) or any_can_hold, up, down, met)

    # ----------------------------------------------------------------- the document

    def missing(self, tid: str) -> list[str]:
        """Unanswered facts whose answer could still decide this clause (its scope's included)."""
        s = self.state(tid)
        facts = dict.fromkeys(self.scope_facts) if self.scope_open else {}
        facts.update(dict.fromkeys(s.up))
        facts.update(dict.fromkeys(s.down))
        return [f for f in facts if not f.startswith(NAMED_PREFIX)]


@dataclass
class DocumentView:
    """One document of the verdict as the global relevance needs it."""

    index: int
    scope: str  # the sector's scope target, "scope:<sector>"
    title: str
    document: str
    version: str
    outcome: str  # DocumentOutcome value
    gaps: bool
    decisive: list[str]  # open major clauses (rule and combination ids), in clause order
    rel: DocumentRelevance | None
    # A provisional reference version: its answers are asked (they can add labelled items) but
    # it can make the verdict neither major nor none.
    reference: bool = False

    @property
    def can_major(self) -> bool:
        return not self.reference and self.rel is not None and self.rel.s_true and any(self.rel.state(t).can_up for t in self.decisive)

    @property
    def can_none(self) -> bool:
        if self.outcome == "none":
            return True
        if self.reference or self.outcome != "undetermined" or self.rel is None or self.gaps or not self.rel.s_true:
            return False
        return all(self.rel.state(t).can_down for t in self.decisive)

    @property
    def can_na(self) -> bool:
        if self.outcome == "not_applicable":
            return True
        return self.rel is not None and self.rel.scope_open and self.rel.s_false


class Relevance:
    """The verdict's ranked questions, further questions and possible outcomes."""

    def __init__(self, compiled: CompiledBundle, docs: list[DocumentView], outcome: OverallOutcome):
        self.compiled = compiled
        self.docs = docs
        self.outcome = outcome
        self._targets: dict[tuple, tuple[QuestionTarget, list[str]]] = {}  # shared by the questions that cite them

    def possible_outcomes(self) -> list[OverallOutcome]:
        if self.outcome is not OverallOutcome.undetermined:
            return [self.outcome]
        out = [OverallOutcome.undetermined]
        in_play = [d for d in self.docs if d.outcome != "not_applicable"]
        if any(d.can_major for d in in_play):
            out.append(OverallOutcome.major)
        if in_play and all(d.can_none or d.can_na for d in in_play) and any(d.can_none for d in in_play):
            out.append(OverallOutcome.none)
        return out

    def collect(self, further: bool) -> dict[str, list]:
        """fact id → [(rank, order, doc, target id, role, via)] over the clauses it could decide."""
        entries: dict[str, list] = {}
        in_play = [d for d in self.docs if d.outcome != "not_applicable"]

        def put(facts: Facts, d: DocumentView, order: int, tid: str, met: bool) -> None:
            for f, (role, via) in facts.items():
                if f.startswith(NAMED_PREFIX):
                    continue
                rank = 0 if role is EXCL and met else 1 if role is GATE else 2
                entries.setdefault(f, []).append((rank, (d.index, order), d, tid, role, via))

        for d in in_play:
            rel = d.rel
            if rel is None or d.outcome not in (("undetermined", "major") if further else ("undetermined", "no_version_in_force")):
                continue
            others = [o for o in in_play if o is not d]
            others_allow_none = all(o.can_none or o.can_na for o in others)
            down_matters = not further and d.can_none and others_allow_none
            na_matters = not further and d.can_na and others_allow_none and any(o.can_none for o in others)
            anything = False
            # While the sector's scope is open no answer to its clauses can decide one of them
            # (each needs the scope known): only the scope questions are asked, and the clauses'
            # own questions follow once it is answered.
            scope_first = rel.scope_open
            for order, tid in enumerate(d.decisive):
                s = rel.state(tid)
                if s.can_up and rel.s_true:
                    if not scope_first:
                        put(s.up, d, order, tid, s.met)
                    anything = True
                if down_matters and s.can_down:
                    if not scope_first:
                        put(s.down, d, order, tid, s.met)
                    anything = True
            if rel.scope_open and (anything or down_matters or na_matters):
                for f in rel.scope_facts:
                    entries.setdefault(f, []).append((1, (d.index, -1), d, None, GATE, None))
        return entries

    def questions(self, further: bool) -> list[Question]:
        entries = self.collect(further)
        facts = self.compiled.bundle.facts
        ranked = []
        for fid, items in entries.items():
            rank = min(i[0] for i in items)
            first = min(i[1] for i in items)
            clauses = {(i[2].index, i[3]) for i in items if i[3] is not None}
            scopes = {i[2].index for i in items if i[3] is None}
            count = len(clauses) + sum(len(self.docs[k].decisive) for k in scopes)
            ranked.append(((rank, -count, first, fid), fid, items))
        ranked.sort(key=lambda r: r[0])
        out = []
        for key, fid, items in ranked:
            fact = facts[fid]
            decides, reason = self._explain(items)
            role = EXCL if key[0] == 0 else GATE if key[0] == 1 else COND
            out.append(
                Question.trusted(
                    id=fid,
                    question=fact.question,
                    type=fact.type,
                    help=fact.help,
                    unit=fact.unit,
                    values=fact.values,
                    role=role,
                    reason=reason,
                    decides=decides,
                )
            )
        return out

    def _explain(self, items: list) -> tuple[list[QuestionTarget], str]:
        scopes: list[QuestionTarget] = []
        decides: list[QuestionTarget] = []
        seen = set()
        scope_titles: list[str] = []
        excl: dict[str, list[str]] = {}  # exclusion clauses → met clauses they could exclude
        gate: list[str] = []
        cond: list[str] = []
        # Entries come in clause order (documents in verdict order); scopes are shown first.
        for rank, order, d, tid, role, via in items:
            if tid is None:
                if d.title not in scope_titles:
                    scope_titles.append(d.title)
                    scopes.append(
                        QuestionTarget.trusted(document=d.document, version=d.version, rule=d.scope, clauses=[], role=GATE)
                    )
                continue
            key = (d.index, tid, via)
            if key in seen:
                continue
            seen.add(key)
            targets = d.rel.targets
            built = self._targets.get((d.index, tid, via, role))
            if built is None:
                cites = list(targets[tid].cites)
                if via is not None and role is not EXCL:
                    cites = [c for c in targets[via].cites if c not in cites] + cites
                target = QuestionTarget.trusted(document=d.document, version=d.version, rule=tid, clauses=cites, role=role)
                built = self._targets[(d.index, tid, via, role)] = (target, cites)
            decides.append(built[0])
            cites = built[1]
            if role is EXCL and rank == 0:
                excl.setdefault("、".join(targets[via].cites), []).extend(cites)
            elif role is GATE:
                gate.extend(cites)
            else:
                cond.extend(cites)
        parts = [f"决定是否适用《{t}》" for t in scope_titles]
        for x, met in excl.items():
            parts.append(f"决定已符合的 {_few(met)} 是否属于 {x} 所列排除情形")
        if gate:
            parts.append(f"决定 {_few(gate)} 是否适用")
        if cond:
            parts.append(f"可判定 {_few(cond)}")
        reason = "；".join(parts)
        if any(i[2].reference and i[3] is not None for i in items):
            reason += f"（参照判定：{'、'.join(dict.fromkeys(i[2].title for i in items if i[2].reference))}）"
        return scopes + decides, reason


def _few(clauses: list[str], shown: int = 4) -> str:
    unique = list(dict.fromkeys(clauses))
    if len(unique) <= shown:
        return "、".join(unique)
    return "、".join(unique[:shown]) + f" 等 {len(unique)} 条"
