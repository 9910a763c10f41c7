"""Checks on a bundle that loads but may still be wrong: logic that can never fire,
duplicated encodings, and rules that rest on clauses nobody has verified.

Loading (``engine/loading.py``) refuses what is malformed, and compiling refuses a rule
that can never trigger or never apply (``engine/logic.py``); this module reports those
too, with what is well-formed but suspicious, for ``hazardjudge lint``.
"""

from __future__ import annotations

from hazardjudge.engine.conditions import conjoin, false_dnf, true_dnf
from hazardjudge.engine.loading import Bundle
from hazardjudge.engine.logic import live as _live
from hazardjudge.engine.logic import rule_contradictions
from hazardjudge.engine.models import Rule
from hazardjudge.errors import Problem


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
        contradictory = rule_contradictions(src, facts)
        problems += contradictory
        never = any(p.code == "logic.never_triggers" for p in contradictory)
        if not never and not _live(conjoin(applies, false_dnf(item.condition)), facts):
            problems.append(
                Problem("logic.always_triggers", f"规则 {item_id} 适用时条件恒成立，永远不会“未触发”", src.pos("condition"), severity="warning")
            )
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
