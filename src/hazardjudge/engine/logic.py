"""Logic that makes a rule meaningless: a condition that can never hold.

A rule whose condition contradicts itself (``eq: true`` and ``eq: false`` on one fact)
never triggers, so a real hazard under it would come out 未发现: such a bundle is refused
for judging, as a syntax error is (``Compiler.document``), and ``lint`` reports the same.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from hazardjudge.engine.conditions import DNF, Atom, conjoin, true_dnf
from hazardjudge.engine.models import FactDef, FactRef, FactType, Rule
from hazardjudge.errors import Problem


def satisfiable(conj: tuple[Atom, ...], facts: dict[str, FactDef]) -> bool:
    """False only when the atoms on one fact contradict each other (fact-to-fact atoms are assumed possible)."""
    by_fact: dict[str, list[Atom]] = defaultdict(list)
    for atom in conj:
        if not isinstance(atom.value, FactRef):
            by_fact[atom.fact].append(atom)
    for fid, atoms in by_fact.items():
        fact = facts.get(fid)
        eq = {a.value for a in atoms if a.op == "eq"}
        ne = {a.value for a in atoms if a.op == "ne"}
        if len(eq) > 1 or eq & ne:
            return False
        has = {a.value for a in atoms if a.op == "contains"}
        lacks = {a.value for a in atoms if a.op == "not_contains"}
        if has & lacks:
            return False
        if fact is not None and fact.type is FactType.boolean and ne >= {True, False}:
            return False
        if fact is not None and fact.type is FactType.enum and not eq and ne >= set(fact.values or {}):
            return False
        lo, lo_open, hi, hi_open = -math.inf, False, math.inf, False
        for a in atoms:
            v = a.value
            if a.op in ("gt", "gte") and (v > lo or (v == lo and a.op == "gt")):
                lo, lo_open = v, a.op == "gt"
            if a.op in ("lt", "lte") and (v < hi or (v == hi and a.op == "lt")):
                hi, hi_open = v, a.op == "lt"
        if lo > hi or (lo == hi and (lo_open or hi_open)):
            return False
        for v in eq:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if v < lo or v > hi or (v == lo and lo_open) or (v == hi and hi_open):
                    return False
    return True


def live(dnf: DNF, facts: dict[str, FactDef]) -> list[tuple[Atom, ...]]:
    return [c for c in dnf if satisfiable(c, facts)]


def rule_contradictions(src: Any, facts: dict[str, FactDef]) -> list[Problem]:
    """Errors for a rule (a RuleSource) that can never trigger or whose ``when`` can never hold."""
    item = src.item
    if not isinstance(item, Rule):
        return []
    applies = true_dnf(item.when)
    problems = []
    if not live(conjoin(applies, true_dnf(item.condition)), facts):
        problems.append(Problem("logic.never_triggers", f"规则 {item.id} 的条件自相矛盾，永远不会触发", src.pos("condition")))
    if item.when is not None and not live(applies, facts):
        problems.append(Problem("logic.never_applies", f"规则 {item.id} 的适用条件自相矛盾，永远不适用", src.pos("when")))
    return problems
