"""A plain-Python evaluator of the same bundle, used only as a test oracle.

It reads the condition *trees* with Kleene logic, whereas the engine runs the
compiler's DNF patterns in durable_rules; agreement between the two on every
target checks the compiler and the engine at once. It is never used to
produce a verdict.
"""

from __future__ import annotations

from hazardjudge.engine.answers import Answers
from hazardjudge.engine.compiling import NAMED_PREFIX, CompiledBundle, scope_condition
from hazardjudge.engine.conditions import evaluate
from hazardjudge.engine.evaluating import Evaluation, TargetOutcome, in_scope
from hazardjudge.engine.models import AllOf, Combination, Exclusion, Outcome, Rule

T, F, NA, U, X = (
    Outcome.triggered,
    Outcome.not_triggered,
    Outcome.not_applicable,
    Outcome.undetermined,
    Outcome.excluded,
)


class OracleEvaluator:
    def __init__(self, compiled: CompiledBundle) -> None:
        self.compiled = compiled

    def evaluate(self, answers: Answers, named: set[str], documents: list[str]) -> Evaluation:
        bundle = self.compiled.bundle
        values = dict(answers.values)
        for sector in bundle.sectors:
            values[NAMED_PREFIX + sector] = sector in named
        result = Evaluation()
        scope_out: dict[str, TargetOutcome] = {}
        scopes = {}
        for sid, loc in bundle.sectors.items():
            cond = scope_condition(loc.model)
            scopes[sid] = cond
            v = evaluate(cond, values)
            if v is not None:
                scope_out[f"scope:{sid}"] = TargetOutcome(T if v else NA)
        result.groups["scope"] = scope_out
        for key in in_scope(self.compiled, scope_out, documents):
            doc = self.compiled.documents[key]
            result.groups[key] = self._document(key, scopes[doc.sector], values)
        return result

    def _document(self, key: str, scope, values) -> dict[str, TargetOutcome]:
        sources = self.compiled.bundle.items_of(key)
        raw: dict[str, Outcome] = {}
        guards: dict[str, list[str]] = {}
        rules = [s.item for s in sources if isinstance(s.item, Rule)]
        combos = [s.item for s in sources if isinstance(s.item, Combination)]
        exclusions = [s.item for s in sources if isinstance(s.item, Exclusion)]
        for rule in rules:
            raw[rule.id] = _gated(AllOf(all=[scope] + ([rule.when] if rule.when else [])), rule.condition, values)
        for excl in exclusions:
            raw[excl.id] = _gated(scope, excl.condition, values)
            targets = (
                [r.id for r in rules if r.major] + [c.id for c in combos]
                if excl.applies_to == "all"
                else excl.applies_to
            )
            for t in targets:
                guards.setdefault(t, []).append(excl.id)
        for combo in combos:
            states = []
            for v in combo.variants:
                applies = evaluate(AllOf(all=[scope] + ([v.when] if v.when else [])), values)
                if applies is not None:
                    raw[f"{combo.id}/{v.id}"] = T if applies else NA
                yes = sum(raw[e] is T for e in v.elements)
                no = sum(raw[e] in (F, NA) for e in v.elements)
                if applies is True and yes >= v.at_least:
                    states.append(T)
                elif applies is False or no >= len(v.elements) - v.at_least + 1:
                    states.append(F)
                else:
                    states.append(U)
            raw[combo.id] = T if T in states else F if not combo.partial and all(s is F for s in states) else U
        out: dict[str, TargetOutcome] = {}
        for target, outcome in raw.items():
            excl_ids = guards.get(target, [])
            if outcome is T and excl_ids:
                hit = tuple(x for x in excl_ids if raw[x] is T)
                if hit:
                    out[target] = TargetOutcome(X, excluded_by=hit)
                elif all(raw[x] in (F, NA) for x in excl_ids):
                    out[target] = TargetOutcome(T)
                else:
                    out[target] = TargetOutcome(U, pending=tuple(x for x in excl_ids if raw[x] is U))
                continue
            if outcome is not U:
                out[target] = TargetOutcome(outcome)
        return out


def _gated(applies, condition, values) -> Outcome:
    """Not applicable, or the condition's Kleene value once it applies; unknown stays undetermined."""
    a = evaluate(applies, values)
    if a is False:
        return NA
    if a is None:
        return U
    c = evaluate(condition, values)
    return U if c is None else (T if c else F)
