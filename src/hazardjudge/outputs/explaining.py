"""``explain``: the full trace of one judgement, for a person (Chinese) and a machine (JSON).

The outcome of each rule is the engine's. The trace beside it re-reads every
condition node with Kleene logic to show which answers made it true, false or
unknown; if the two ever disagree the trace says so instead of hiding it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Iterable, Literal

from pydantic import BaseModel, ConfigDict

from hazardjudge.engine.answers import Answers, display_value, printable
from hazardjudge.engine.compiling import NAMED_PREFIX, scope_condition
from hazardjudge.engine.conditions import evaluate
from hazardjudge.engine.models import AllOf, Condition, Exclusion, Leaf, NotOf, Outcome, Rule, Verdict
from hazardjudge.outputs.describing import OP_SYMBOL, show_value

if TYPE_CHECKING:
    from hazardjudge.api import Engine


Truth = Literal["true", "false", "unknown"]
TRUTH_ZH = {"true": "成立", "false": "不成立", "unknown": "未知"}
OUTCOME_ZH = {
    "triggered": "触发",
    "not_triggered": "未触发",
    "undetermined": "无法判定",
    "not_applicable": "不适用",
    "excluded": "依排除情形不判定",
}


class Node(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["all", "any", "not", "leaf", "named"]
    truth: Truth
    fact: str | None = None
    question: str | None = None
    op: str | None = None
    expected: str | None = None
    answer: str | None = None
    children: list["Node"] = []


class RuleTrace(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    kind: str
    clauses: list[str]
    outcome: Outcome
    applies: Node | None
    condition: Node | None
    consistent: bool
    pending_exclusions: list[str] = []  # condition met; these exclusions are still unanswered
    status: Literal["confirmed", "provisional"] = "confirmed"  # provisional: judged against a reference version
    status_note: str | None = None


class DocumentTrace(BaseModel):
    model_config = ConfigDict(frozen=True)

    sector: str
    document: str | None
    scope: Node
    outcome: str
    rules: list[RuleTrace]
    reasons: list[str]
    reference: str | None = None  # document@version judged as provisional reference
    provisional: list[RuleTrace] = []


class Explanation(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    documents: list[DocumentTrace]
    reasons: list[str]


def _truth(value: bool | None) -> Truth:
    return "unknown" if value is None else ("true" if value else "false")


def trace(cond: Condition, values: dict[str, Any], engine: Engine) -> Node:
    facts = engine.bundle.facts
    if isinstance(cond, Leaf):
        truth = _truth(evaluate(cond, values))
        if cond.fact.startswith(NAMED_PREFIX):
            return Node(kind="named", truth=truth, fact=cond.fact, question="调用方指定了该行业")
        fact = facts[cond.fact]
        answer = display_value(fact, values.get(cond.fact))
        if cond.op == "answered":
            # Whether the question was answered, not what the answer was.
            op, expected = ("已回答", "") if cond.value else ("未回答", "")
            return Node(kind="leaf", truth=truth, fact=cond.fact, question=fact.question, op=op, expected=expected, answer=answer)
        return Node(
            kind="leaf",
            truth=truth,
            fact=cond.fact,
            question=fact.question,
            op=OP_SYMBOL[cond.op],
            expected=show_value(fact, cond.value),
            answer=answer,
        )
    if isinstance(cond, NotOf):
        return Node(kind="not", truth=_truth(evaluate(cond, values)), children=[trace(cond.not_, values, engine)])
    parts: Iterable[Condition] = cond.all if isinstance(cond, AllOf) else cond.any
    return Node(
        kind="all" if isinstance(cond, AllOf) else "any",
        truth=_truth(evaluate(cond, values)),
        children=[trace(c, values, engine) for c in parts],
    )


def _expected_outcome(applies: Truth, condition: Node) -> set[Outcome]:
    """Outcomes compatible with the traced truth values (the engine's must be one of them)."""
    if applies == "false":
        return {Outcome.not_applicable}
    if applies == "unknown":
        return {Outcome.undetermined}
    if condition.truth == "true":
        return {Outcome.triggered, Outcome.excluded, Outcome.undetermined}  # exclusions may still hold it back
    if condition.truth == "false":
        return {Outcome.not_triggered}
    return {Outcome.undetermined}


def explain(
    engine: Engine, facts: dict | Answers, on: dt.date, sectors: list[str] | None = None, general_hazards: Iterable[Any] | None = None
) -> Explanation:
    answers = facts if isinstance(facts, Answers) else engine.read(facts)
    verdict = engine.judge(answers, on=on, sectors=sectors, general_hazards=general_hazards)
    named = {d.sector for d in verdict.documents if d.named_by_caller}
    values = dict(answers.values)
    for sector in engine.bundle.sectors:
        values[NAMED_PREFIX + sector] = sector in named
    docs = []
    for d in verdict.documents:
        scope_cond = scope_condition(engine.bundle.sectors[d.sector].model)
        scope = trace(scope_cond, values, engine)
        key = f"{d.document.document}@{d.document.version}" if d.document else None
        rules = _rule_traces(engine, key, d.results, values, scope, scope_cond)
        ref_key = f"{d.reference.document}@{d.reference.version}" if d.reference else None
        provisional = _rule_traces(engine, ref_key, d.provisional, values, scope, scope_cond)
        docs.append(DocumentTrace(sector=d.sector, document=key, scope=scope, outcome=d.outcome_label,
                                  rules=rules, reasons=_document_reasons(d), reference=ref_key, provisional=provisional))
    return Explanation(verdict=verdict, documents=docs, reasons=_overall_reasons(verdict))


def _rule_traces(engine: Engine, key: str | None, result_list, values: dict, scope: Node, scope_cond: Condition) -> list[RuleTrace]:
    compiled = engine.compiled.documents.get(key) if key else None
    results = {r.rule: r for r in result_list}
    rules = []
    # A document that does not apply has no rule results to explain.
    for info in (compiled.targets.values() if compiled and results else []):
        item = info.source.item
        result = results[info.id]
        outcome = result.outcome
        # The sector scope is traced once per document; a rule shows only its own "when".
        applies = condition = None
        applies_truth = scope.truth
        if isinstance(item, Rule):
            if item.when is not None:
                applies = trace(item.when, values, engine)
            applies_truth = _truth(evaluate(AllOf(all=[scope_cond] + ([item.when] if item.when else [])), values))
            condition = trace(item.condition, values, engine)
        elif isinstance(item, Exclusion):
            condition = trace(item.condition, values, engine)
        consistent = condition is None or outcome in _expected_outcome(applies_truth, condition)
        rules.append(RuleTrace(rule=info.id, kind=info.kind, clauses=list(info.cites), outcome=outcome,
                               applies=applies, condition=condition, consistent=consistent,
                               pending_exclusions=list(result.pending_exclusions),
                               status=result.status, status_note=result.status_note))
    return rules


def _document_reasons(d) -> list[str]:
    major = [r for r in d.results if r.outcome is Outcome.triggered and r.major and r.kind != "exclusion"]
    if d.outcome.value == "not_applicable":
        return ["该行业的适用条件不成立，不适用。"]
    if d.outcome.value == "no_version_in_force":
        return [d.outcome_label]
    if major:
        return [f"条款 {'、'.join(c.clause for c in r.citations)}（{r.rule}）触发，依此判定为{d.document.major_label}。" for r in major]
    reasons = []
    if d.applicability.value != "applicable":
        reasons.append("该行业是否适用尚无法确定。")
    pending = [r for r in d.results if r.pending_exclusions]
    if pending:
        reasons.append(
            "以下条款的条件已成立，但排除情形尚未认定，暂不判定（待集体讨论、专家论证等确认）："
            + "；".join(f"{'、'.join(c.clause for c in r.citations)}（{r.pending_note}）" for r in pending)
        )
    open_rules = [r for r in d.results if r.outcome is Outcome.undetermined and r.major and not r.pending_exclusions]
    if open_rules:
        reasons.append("以下条款缺少回答，无法判定：" + "；".join(f"{r.citations[-1].clause}（缺 {'、'.join(r.missing)}）" for r in open_rules))
    if d.gaps:
        reasons.append("以下判定条款尚未编码或未经核验，不能得出“未发现”：" + "、".join(g.clause for g in d.gaps))
    if d.reference is not None:
        reasons.append(f"参照判定（{d.reference.number}）：{d.reference_note}")
        reasons += [
            f"参照判定触发：{r.status_note}（{r.rule}）。" for r in d.provisional if r.outcome is Outcome.triggered and r.major
        ]
    if not reasons:
        reasons.append(f"所有适用条款均已判定且未触发，故{d.outcome_label}。")
    return reasons


def _overall_reasons(v: Verdict) -> list[str]:
    if v.outcome.value == "major":
        return [f"至少一个判定标准得出“{d.outcome_label}”：{d.sector_title}。" for d in v.documents if d.outcome.value == "major"]
    if v.outcome.value == "none":
        return ["每个适用的判定标准的所有条款都已判定且未触发。"]
    return [f"{d.sector_title}：{d.outcome_label}" for d in v.documents if d.outcome.value not in ("none", "not_applicable")] or [v.outcome_label]


def render_text(exp: Explanation) -> str:
    lines = [f"检查日期：{exp.verdict.inspection_date.isoformat()}", f"总体结论：{exp.verdict.outcome_label}"]
    lines += [f"  理由：{r}" for r in exp.reasons]
    for d in exp.documents:
        lines.append("")
        lines.append(f"━━ {d.sector}（{d.document or '无现行版本'}）：{d.outcome}")
        lines += [f"  理由：{r}" for r in d.reasons]
        lines.append("  适用条件：")
        lines += _node_lines(d.scope, 4)
        lines += _rule_lines(d.rules)
        if d.reference:
            lines.append(f"  ── 参照判定（{d.reference}，结果均为参照，不是确认的判定）：")
            lines += _rule_lines(d.provisional)
    lines += _general_hazard_lines(exp.verdict)
    return "\n".join(lines) + "\n"


def _rule_lines(rules: list[RuleTrace]) -> list[str]:
    lines = []
    for r in rules:
        flag = "" if r.consistent else "  ⚠ 解释与引擎结果不一致，请报告"
        shown = OUTCOME_ZH[r.outcome.value]
        if r.pending_exclusions:
            shown = f"条件成立，待认定排除情形（{'、'.join(r.pending_exclusions)}），{shown}"
        if r.status == "provisional":
            shown = f"参照判定{shown}"
        lines.append(f"  【{'、'.join(r.clauses)}】{r.rule}：{shown}{flag}")
        if r.status == "provisional" and r.outcome is Outcome.triggered:
            lines.append(f"    标注：{r.status_note}")
        if r.applies is not None:
            lines.append("    适用：")
            lines += _node_lines(r.applies, 6)
        if r.condition is not None:
            lines.append("    条件：")
            lines += _node_lines(r.condition, 6)
    return lines


def _general_hazard_lines(v: Verdict) -> list[str]:
    """一般隐患 are listed after the trace: recorded text, no rule reads them."""
    if not v.general_hazards:
        return []
    lines = ["", f"━━ 一般隐患（检查记录，不参与判定）：{len(v.general_hazards)} 项"]
    for i, h in enumerate(v.general_hazards):
        extra = [f"位置：{printable(h.location)}"] if h.location else []
        extra += [f"整改期限：{h.deadline.isoformat()}"] if h.deadline else []
        lines.append(f"  {i + 1}. {printable(h.description)}" + (f"（{'；'.join(extra)}）" if extra else ""))
        lines += [f"     提示：{t.message}" for t in v.general_hazard_hints if t.hazard == i]
    return lines


def _node_lines(node: Node, indent: int) -> list[str]:
    pad = " " * indent
    mark = {"true": "✓", "false": "✗", "unknown": "?"}[node.truth]
    if node.kind == "leaf":
        return [f"{pad}{mark} {node.question}（{node.fact}）回答：{node.answer}；要求 {node.op} {node.expected}".rstrip()]
    if node.kind == "named":
        return [f"{pad}{mark} 调用方{'已' if node.truth == 'true' else '未'}指定该行业"]
    label = {"all": "以下全部", "any": "以下任一", "not": "并非以下情形"}[node.kind]
    out = [f"{pad}{mark} {label}（{TRUTH_ZH[node.truth]}）："]
    for child in node.children:
        out += _node_lines(child, indent + 2)
    return out
