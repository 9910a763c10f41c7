"""Condition trees: three-valued (Kleene) reading and the split into DNF atoms.

Two consumers read a condition in two independent ways, on purpose:

* :func:`evaluate` walks the tree with Kleene logic; the oracle uses it.
* :func:`true_dnf` / :func:`false_dnf` rewrite the tree into disjunctions of
  atoms that hold only on *known* answers; the compiler turns each conjunction
  into one durable_rules pattern. "Undetermined" is then simply neither the
  true- nor the false-form matching, so a missing answer can never read as
  "condition false".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import Any, Iterator

from hazardjudge.engine.models import AllOf, AnyOf, Condition, FactRef, Leaf, NotOf, Sector

# The negation of each comparison on a *known* value.
NEGATE = {
    "eq": "ne",
    "ne": "eq",
    "lt": "gte",
    "gte": "lt",
    "lte": "gt",
    "gt": "lte",
    "contains": "not_contains",
    "not_contains": "contains",
    "present": "absent",
    "absent": "present",
}

# Atoms that test whether a question was answered, not what the answer was.
PRESENCE = frozenset({"present", "absent"})

MAX_CONJUNCTIONS = 64
MAX_JOINED = 2 * MAX_CONJUNCTIONS


class ConditionTooLarge(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Atom:
    """One comparison on a known answer: ``fact op value`` (value may be a FactRef)."""

    fact: str
    op: str  # eq ne lt lte gt gte contains not_contains present absent
    value: Any

    def facts(self) -> tuple[str, ...]:
        if isinstance(self.value, FactRef):
            return (self.fact, self.value.fact)
        return (self.fact,)


Conjunction = tuple[Atom, ...]
DNF = list[Conjunction]


def iter_leaves(cond: Condition) -> Iterator[Leaf]:
    if isinstance(cond, Leaf):
        yield cond
    elif isinstance(cond, AllOf):
        for c in cond.all:
            yield from iter_leaves(c)
    elif isinstance(cond, AnyOf):
        for c in cond.any:
            yield from iter_leaves(c)
    elif isinstance(cond, NotOf):
        yield from iter_leaves(cond.not_)


def referenced_facts(cond: Condition | None) -> list[str]:
    """Fact ids a condition reads, in first-use order, without repeats."""
    if cond is None:
        return []
    seen: dict[str, None] = {}
    for leaf in iter_leaves(cond):
        seen.setdefault(leaf.fact)
        if isinstance(leaf.value, FactRef):
            seen.setdefault(leaf.value.fact)
    return list(seen)


# --------------------------------------------------------------------------- Kleene


def _resolve(value: Any, values: dict[str, Any]) -> Any:
    if isinstance(value, FactRef):
        other = values.get(value.fact)
        if other is None:
            return None
        # Decimal, as the numbers were written: 4.8 m against 80 % of 6 m is exactly at
        # the limit, while binary floats make 6 × 0.8 = 4.800000000000001.
        return _decimal(other) * _decimal(value.times) + _decimal(value.plus)
    return value


def _decimal(x: Any) -> Decimal:
    return Decimal(str(x))


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    if op == "gte":
        return left >= right
    if op == "in":
        return left in right
    if op == "not_in":
        return left not in right
    if op == "contains":
        return right in left
    if op == "not_contains":
        return right not in left
    raise ValueError(op)


def evaluate(cond: Condition | None, values: dict[str, Any]) -> bool | None:
    """Kleene evaluation; ``values`` holds only known answers (absent = unknown)."""
    if cond is None:
        return True
    if isinstance(cond, Leaf):
        if cond.op == "answered":
            # Never unknown: whether a question was answered is always known. The loader
            # only accepts it as a guard beside a comparison (check_presence_guarded).
            return (values.get(cond.fact) is not None) == cond.value
        left = values.get(cond.fact)
        right = _resolve(cond.value, values)
        if left is None or right is None:
            return None
        if isinstance(cond.value, FactRef):
            left = _decimal(left)
        return _compare(cond.op, left, right)
    if isinstance(cond, NotOf):
        inner = evaluate(cond.not_, values)
        return None if inner is None else not inner
    if isinstance(cond, AllOf):
        result: bool | None = True
        for c in cond.all:
            r = evaluate(c, values)
            if r is False:
                return False
            if r is None:
                result = None
        return result
    if isinstance(cond, AnyOf):
        result = False
        for c in cond.any:
            r = evaluate(c, values)
            if r is True:
                return True
            if r is None:
                result = None
        return result
    raise TypeError(type(cond))


# --------------------------------------------------------------------------- DNF


def _leaf_dnf(leaf: Leaf, positive: bool) -> DNF:
    op = leaf.op
    if op == "answered":
        return [(Atom(leaf.fact, "present" if leaf.value == positive else "absent", True),)]
    if op in ("in", "not_in"):
        members = list(leaf.value)
        wants_member = (op == "in") == positive
        if wants_member:
            return [(Atom(leaf.fact, "eq", v),) for v in members]
        return [tuple(Atom(leaf.fact, "ne", v) for v in members)]
    op = op if positive else NEGATE[op]
    if op == "ne" and isinstance(leaf.value, bool):
        # A known yes/no answer that is not "yes" is "no": one form lets contradictions
        # between branches be seen and pruned.
        return [(Atom(leaf.fact, "eq", not leaf.value),)]
    return [(Atom(leaf.fact, op, leaf.value),)]


def _product(parts: list[DNF], limit: int = MAX_CONJUNCTIONS) -> DNF:
    size = 1
    for p in parts:
        size *= len(p)
    # Bound the work before simplifying: far beyond what simplification could bring back.
    if size > limit**2:
        raise ConditionTooLarge(f"条件展开后超过 {limit} 个分支，请拆分规则")
    out: DNF = []
    for combo in product(*parts):
        conj: list[Atom] = []
        for c in combo:
            for atom in c:
                if atom not in conj:
                    conj.append(atom)
        # A branch that asks one answer to be two things can never fire: dropping it keeps
        # rules such as "required → failed" for several systems within the size limit.
        if _contradictory(conj):
            continue
        out.append(tuple(conj))
    return _absorb(out, limit)


def _absorb(dnf: DNF, limit: int = MAX_CONJUNCTIONS) -> DNF:
    """Drop repeats and every branch that contains another (A or (A and B) is A)."""
    sets = [frozenset(c) for c in dnf]
    out: DNF = []
    kept: list[frozenset[Atom]] = []
    for conj, atoms in zip(dnf, sets):
        if atoms in kept or any(other < atoms for other in sets):
            continue
        kept.append(atoms)
        out.append(conj)
    if len(out) > limit:
        raise ConditionTooLarge(f"条件展开后超过 {limit} 个分支，请拆分规则")
    return out


def _contradictory(conj: list[Atom]) -> bool:
    absent = {a.fact for a in conj if a.op == "absent"}
    if absent and any(f in absent for a in conj if a.op != "absent" for f in a.facts()):
        return True  # an unanswered question compared with something
    equal: dict[str, Any] = {}
    for atom in conj:
        if atom.op == "eq" and not isinstance(atom.value, FactRef):
            if atom.fact in equal and equal[atom.fact] != atom.value:
                return True
            equal[atom.fact] = atom.value
    return any(
        atom.op == "ne" and atom.fact in equal and equal[atom.fact] == atom.value and not isinstance(atom.value, FactRef)
        for atom in conj
    )


def _dnf(cond: Condition, positive: bool) -> DNF:
    if isinstance(cond, Leaf):
        return _leaf_dnf(cond, positive)
    if isinstance(cond, NotOf):
        return _dnf(cond.not_, not positive)
    children = cond.all if isinstance(cond, AllOf) else cond.any
    conjunctive = isinstance(cond, AllOf) == positive
    parts = [_dnf(c, positive) for c in children]
    if conjunctive:
        return _product(parts)
    return _absorb([conj for p in parts for conj in p])


def true_dnf(cond: Condition | None) -> DNF:
    """Conjunctions of atoms, any one of which makes ``cond`` true on known answers."""
    return [()] if cond is None else _memo(cond, True)


def false_dnf(cond: Condition | None) -> DNF:
    """Conjunctions of atoms, any one of which makes ``cond`` false on known answers."""
    return [] if cond is None else _memo(cond, False)


def _memo(cond: Condition, positive: bool) -> DNF:
    memo = cond._dnf
    if positive not in memo:
        memo[positive] = _dnf(cond, positive)
    return list(memo[positive])


def unguarded_branches(cond: Condition) -> list[Conjunction]:
    """Branches of either form that rest on no answer's value, only on which questions were
    answered: such a branch would decide from missing answers, so the loader refuses it."""
    return [c for c in true_dnf(cond) + false_dnf(cond) if all(a.op in PRESENCE for a in c)]


def conjoin(a: DNF, b: DNF) -> DNF:
    """A rule's applicability joined to its condition: each branch becomes one engine rule.
    The limit is the condition's own times two, room for a sector scope that may be named by
    the caller or found in the answers; the engine's real bound is how many branches match
    one inspection at once (about 64, error 303), which branches of one rule never approach."""
    return _product([a, b], MAX_JOINED)


def to_scalar(value: Any) -> Any:
    """The comparable form of an answer inside the engine (dates become day numbers)."""
    if isinstance(value, dt.date):
        return value.toordinal()
    return value


# The answer a caller sets by naming a sector: "judge this site under city gas" applies the
# sector whatever its own scope question says.
NAMED_PREFIX = "_named."


def scope_condition(sector: Sector) -> Condition:
    """A sector applies when the caller named it or its own condition holds."""
    named = Leaf(fact=NAMED_PREFIX + sector.id, op="eq", value=True)
    return AnyOf(any=[named, sector.applies_when])


def atom_truth(atom: Atom, values: dict[str, Any]) -> bool | None:
    """An atom on the answers given so far: None while a fact it reads is unanswered.

    Compares as :func:`evaluate` does (exact decimals for fact-to-fact comparisons), so
    a conjunction found false here is false in the oracle and in the engine.
    """
    if atom.op in PRESENCE:
        # Whether a question was answered is always known, unlike its answer.
        return (atom.fact in values) == (atom.op == "present")
    left = values.get(atom.fact)
    if left is None:
        return None
    right = _resolve(atom.value, values)
    if right is None:
        return None
    if isinstance(atom.value, FactRef):
        left = _decimal(left)
    return _compare(atom.op, left, right)
