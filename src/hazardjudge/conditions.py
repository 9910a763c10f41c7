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

from .models import AllOf, AnyOf, Condition, FactRef, Leaf, NotOf

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
}

MAX_CONJUNCTIONS = 64


class ConditionTooLarge(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Atom:
    """One comparison on a known answer: ``fact op value`` (value may be a FactRef)."""

    fact: str
    op: str  # eq ne lt lte gt gte contains not_contains
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
    if op in ("in", "not_in"):
        members = list(leaf.value)
        wants_member = (op == "in") == positive
        if wants_member:
            return [(Atom(leaf.fact, "eq", v),) for v in members]
        return [tuple(Atom(leaf.fact, "ne", v) for v in members)]
    return [(Atom(leaf.fact, op if positive else NEGATE[op], leaf.value),)]


def _product(parts: list[DNF]) -> DNF:
    out: DNF = []
    for combo in product(*parts):
        conj: list[Atom] = []
        for c in combo:
            for atom in c:
                if atom not in conj:
                    conj.append(atom)
        out.append(tuple(conj))
        if len(out) > MAX_CONJUNCTIONS:
            raise ConditionTooLarge(f"条件展开后超过 {MAX_CONJUNCTIONS} 个分支，请拆分规则")
    return out


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
    out: DNF = []
    for p in parts:
        for conj in p:
            if conj not in out:
                out.append(conj)
    if len(out) > MAX_CONJUNCTIONS:
        raise ConditionTooLarge(f"条件展开后超过 {MAX_CONJUNCTIONS} 个分支，请拆分规则")
    return out


def true_dnf(cond: Condition | None) -> DNF:
    """Conjunctions of atoms, any one of which makes ``cond`` true on known answers."""
    return [()] if cond is None else _dnf(cond, True)


def false_dnf(cond: Condition | None) -> DNF:
    """Conjunctions of atoms, any one of which makes ``cond`` false on known answers."""
    return [] if cond is None else _dnf(cond, False)


def conjoin(a: DNF, b: DNF) -> DNF:
    return _product([a, b])


def to_scalar(value: Any) -> Any:
    """The comparable form of an answer inside the engine (dates become day numbers)."""
    if isinstance(value, dt.date):
        return value.toordinal()
    return value
