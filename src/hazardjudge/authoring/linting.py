"""Checks on a bundle that loads but may still be wrong: logic that can never fire,
duplicated encodings, and rules that rest on clauses nobody has verified.

Loading (``loading.py``) refuses what is malformed; this module reports what is
well-formed but suspicious, for ``hazardjudge lint``.
"""

from __future__ import annotations

import math
from collections import defaultdict

from hazardjudge.engine.conditions import DNF, Atom, conjoin, false_dnf, true_dnf
from hazardjudge.engine.loading import Bundle
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


def _live(dnf: DNF, facts: dict[str, FactDef]) -> list[tuple[Atom, ...]]:
    return [c for c in dnf if satisfiable(c, facts)]


def semantic_problems(bundle: Bundle) -> list[Problem]:
    problems: list[Problem] = []
    facts = bundle.facts
    # A question without help leaves each inspector to settle its borderline cases alone (thing absent,
    # partly failing, records missing), so the same site gets different answers.
    for fid, fact in facts.items():
        if not (fact.help or "").strip():
            problems.append(
                Problem("fact.no_help", f"问题 {fid} 没有帮助说明（help），检查人员不知道该查什么、模糊情形如何回答", bundle.fact_pos.get(fid), severity="warning")
            )
    encodings: dict[tuple[str, str, frozenset], str] = {}
    for item_id, src in bundle.items.items():
        item = src.item
        if not isinstance(item, Rule):
            continue
        applies = true_dnf(item.when)
        if not _live(conjoin(applies, true_dnf(item.condition)), facts):
            problems.append(Problem("logic.never_triggers", f"规则 {item_id} 的条件自相矛盾，永远不会触发", src.pos("condition")))
        elif not _live(conjoin(applies, false_dnf(item.condition)), facts):
            problems.append(
                Problem("logic.always_triggers", f"规则 {item_id} 适用时条件恒成立，永远不会“未触发”", src.pos("condition"), severity="warning")
            )
        if item.when is not None and not _live(applies, facts):
            problems.append(Problem("logic.never_applies", f"规则 {item_id} 的适用条件自相矛盾，永远不适用", src.pos("when")))
        shape = frozenset(frozenset(c) for c in _live(conjoin(applies, true_dnf(item.condition)), facts))
        doc = f"{src.file.model.document}@{src.file.model.version}"
        for clause in item.cites:
            other = encodings.setdefault((doc, clause, shape), item_id)
            if other != item_id:
                problems.append(
                    Problem("logic.duplicate_encoding", f"规则 {item_id} 与 {other} 对条款 {clause} 的编码完全相同", src.pos("id"), severity="warning")
                )
        version = bundle.documents.get(doc)
        for j, clause in enumerate(item.cites):
            entry = version.clauses.get(clause) if version else None
            if entry is not None and entry.clause.verification.status == "unverified":
                problems.append(
                    Problem("logic.cites_unverified", f"规则 {item_id} 引用了未经原文核验的条款 {clause}", src.pos("cites", j), severity="warning")
                )
    return problems
