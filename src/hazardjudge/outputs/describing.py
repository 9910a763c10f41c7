"""Human-readable Chinese renderings of conditions, shared by coverage, explain and diff."""

from __future__ import annotations

from typing import Any

from hazardjudge.engine.answers import display_value
from hazardjudge.engine.conditions import Atom
from hazardjudge.engine.models import FactDef, FactRef, FactType

OP_SYMBOL = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "lte": "≤",
    "gt": ">",
    "gte": "≥",
    "in": "属于",
    "not_in": "不属于",
    "contains": "包含",
    "not_contains": "不包含",
    "answered": "已回答",
    "present": "已回答",
    "absent": "未回答",
}


def show_value(fact: FactDef | None, value: Any) -> str:
    if isinstance(value, FactRef):
        scale = "" if value.times == 1 else f"{value.times:g} × "
        shift = "" if value.plus == 0 else f" + {value.plus:g}"
        return f"{scale}{value.fact}{shift}"
    if isinstance(value, list):
        return "、".join(show_value(fact, v) for v in value)
    if fact is None:
        return str(value)
    if fact.type is FactType.set:
        return (fact.values or {}).get(value, str(value))
    return display_value(fact, value)


def describe_atom(atom: Atom, facts: dict[str, FactDef]) -> str:
    fact = facts.get(atom.fact)
    if atom.op in ("present", "absent"):
        return f"{atom.fact} {OP_SYMBOL[atom.op]}"
    return f"{atom.fact} {OP_SYMBOL[atom.op]} {show_value(fact, atom.value)}"


def describe_branch(branch: tuple[Atom, ...], facts: dict[str, FactDef]) -> str:
    parts = [describe_atom(a, facts) for a in branch if not a.fact.startswith("_named.")]
    return " 且 ".join(parts) if parts else "（无条件）"
