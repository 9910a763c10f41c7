"""Assemble a :class:`~hazardjudge.models.Verdict` from what the engine decided.

Nothing here decides a clause: outcomes come from the evaluator. This module
attaches citations, finding texts and the facts behind each outcome, lists
the questions that would settle undetermined clauses, and applies the one
aggregation rule of the product: any triggered clause makes the document
major; otherwise any undetermined clause, unencoded clause or unknown scope
makes it undetermined; only a fully decided document can be "none".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .answers import Answers, display_value
from .compiling import NAMED_PREFIX, CompiledBundle, TargetInfo
from .conditions import referenced_facts
from .evaluating import Evaluation, TargetOutcome
from .loading import DocumentVersion
from .models import (
    PLACEHOLDER,
    Applicability,
    ClauseGap,
    ClauseRef,
    Combination,
    CountDetail,
    DocumentOutcome,
    DocumentRef,
    DocumentResult,
    FactType,
    FactValue,
    GapReason,
    Outcome,
    OverallOutcome,
    Question,
    RuleResult,
    Verdict,
)

GENERIC_LABEL = "重大事故隐患"
_UNSEEN = object()


def select_versions(compiled: CompiledBundle, sector: str, on: dt.date) -> DocumentVersion | None:
    loc = compiled.bundle.sectors[sector]
    for version in compiled.bundle.versions_of(loc.model.document):
        if version.doc.in_force(on) and version.key in compiled.documents:
            return version
    return None


def fill(template: str, compiled: CompiledBundle, answers: Answers) -> str:
    """Replace ``{fact.id}`` with the displayed answer. Plain substitution, never a template engine."""

    def one(match: re.Match[str]) -> str:
        fact = compiled.bundle.facts.get(match.group(1))
        return display_value(fact, answers.values.get(fact.id)) if fact else match.group(0)

    return PLACEHOLDER.sub(one, template)


class VerdictBuilder:
    def __init__(
        self,
        compiled: CompiledBundle,
        answers: Answers,
        on: dt.date,
        named: set[str],
        memo: dict | None = None,
    ) -> None:
        self.compiled = compiled
        # Per-engine memo of what depends only on the bundle (citations, gaps, shown yes/no answers): immutable values.
        self.memo = memo if memo is not None else {}
        self.answers = answers
        self.on = on
        self.named = named
        self.questions: dict[str, None] = {}
        self._shown: dict[str, FactValue] = {}

    def _fact_values(self, ids: tuple[str, ...] | list[str]) -> list[FactValue]:
        shown = self._shown
        out = []
        for fid in ids:
            value = shown.get(fid, _UNSEEN)
            if value is _UNSEEN:
                # One immutable FactValue per answer, shared by every result that shows it.
                value = shown[fid] = self._show(fid)
            if value is not None:
                out.append(value)
        return out

    def _show(self, fid: str) -> FactValue | None:
        fact = self.compiled.bundle.facts.get(fid)
        if fact is None or fid not in self.answers.values:
            return None  # named-sector flags and unanswered facts are not answers
        value = self.answers.values[fid]
        # Yes/no and declared choices have few possible answers: their FactValues are kept
        # for the engine's lifetime (bounded by the vocabulary), since building hundreds
        # per verdict was a large part of judging a big bundle.
        finite = (fact.type is FactType.boolean and type(value) is bool) or (
            fact.type is FactType.enum and type(value) is str and value in (fact.values or {})
        )
        if finite:
            key = ("shown", fid, value)
            cached = self.memo.get(key)
            if cached is not None:
                return cached
        shown = FactValue.trusted(
            id=fid,
            question=fact.question,
            value=sorted(value) if isinstance(value, frozenset) else value,
            display=display_value(fact, value),
        )
        if finite:
            self.memo[key] = shown
        return shown

    def _missing(self, info: TargetInfo, scope: TargetInfo | None = None, settled: frozenset[str] = frozenset()) -> list[str]:
        """Unanswered facts the target reads; the scope's too while applicability is open."""
        reads = (scope.reads if scope else ()) + info.reads
        missing = [
            f
            for f in dict.fromkeys(reads)
            if not f.startswith(NAMED_PREFIX) and f not in self.answers.values and f not in settled
        ]
        for f in missing:
            self.questions.setdefault(f)
        return missing

    def _decided_reads(self, item: Any, group: dict[str, TargetOutcome], version: DocumentVersion) -> frozenset[str]:
        """Facts only decided elements of a combination read: an element decided from one of
        several equivalent records (符合/不符合, a rate, counts) needs none of the others."""
        if not isinstance(item, Combination):
            return frozenset()
        targets = self.compiled.documents[version.key].targets
        elements = {e for v in item.variants for e in v.elements}
        decided = {e for e in elements if e in group and group[e].outcome is not Outcome.undetermined}
        # Still asked: what undecided elements, the variants' place categories and any
        # exclusion read.
        still = {f for e in elements - decided for f in targets[e].reads}
        still.update(f for v in item.variants for f in referenced_facts(v.when))
        still.update(f for t in targets.values() if t.kind == "exclusion" for f in t.reads)
        return frozenset(f for e in decided for f in targets[e].reads) - still

    def _citations(self, version: DocumentVersion, info: TargetInfo) -> list[ClauseRef]:
        """The target's citations, its combination variants' own clauses after its own."""
        key = ("cites", info.id)
        cached = self.memo.get(key)
        if cached is None:
            cites = list(info.cites)
            item = info.source.item if info.source else None
            if isinstance(item, Combination):
                for v in item.variants:
                    cites += [c for c in v.cites if c not in cites]
            doc = version.doc
            cached = self.memo[key] = tuple(
                ClauseRef.trusted(
                    document=doc.document,
                    version=doc.version,
                    number=doc.number,
                    clause=cid,
                    summary=version.clauses[cid].clause.summary,
                    verification=version.clauses[cid].clause.verification.status,
                )
                for cid in cites
            )
        return list(cached)

    def build(self, evaluation: Evaluation, sectors: list[str]) -> Verdict:
        scope = evaluation.groups.get("scope", {})
        documents = []
        for sector in sectors:
            version = select_versions(self.compiled, sector, self.on)
            group = evaluation.groups.get(version.key, {}) if version else {}
            documents.append(self._document(sector, version, scope.get(f"scope:{sector}"), group))
        applicable = [d for d in documents if d.outcome is not DocumentOutcome.not_applicable]
        labels = {d.document.major_label for d in applicable if d.document}
        label = labels.pop() if len(labels) == 1 else GENERIC_LABEL
        if any(d.outcome is DocumentOutcome.major for d in documents):
            outcome, text = OverallOutcome.major, f"存在{label}"
        elif not applicable:
            outcome, text = OverallOutcome.undetermined, "无法判定：没有适用于该单位的已编码判定标准"
        elif any(d.outcome is not DocumentOutcome.none for d in applicable):
            outcome, text = OverallOutcome.undetermined, "无法判定"
        else:
            outcome, text = OverallOutcome.none, f"未发现{label}"
        questions = []
        for fid in self.questions:
            fact = self.compiled.bundle.facts[fid]
            questions.append(
                Question.trusted(id=fid, question=fact.question, type=fact.type, help=fact.help, unit=fact.unit, values=fact.values)
            )
        return Verdict.trusted(
            inspection_date=self.on,
            outcome=outcome,
            outcome_label=text,
            documents=documents,
            questions=questions,
            bundle=self.compiled.bundle.fingerprint,
        )

    def _document(
        self,
        sector: str,
        version: DocumentVersion | None,
        scope: TargetOutcome | None,
        group: dict[str, TargetOutcome],
    ) -> DocumentResult:
        sector_model = self.compiled.bundle.sectors[sector].model
        scope_info = self.compiled.scope_targets[f"scope:{sector}"]
        applicability = _APPLICABILITY.get(scope.outcome if scope else None, Applicability.undetermined)
        # Lists with a default factory are given explicitly: trusted() fills plain defaults only.
        common = dict(
            results=[],
            gaps=[],
            sector=sector,
            sector_title=sector_model.title,
            applicability=applicability,
            applicability_facts=self._fact_values(scope.facts if scope else ()),
            named_by_caller=sector in self.named,
        )
        if applicability is Applicability.not_applicable:
            ref = doc_ref(version) if version else None
            note = sector_model.not_applicable_note
            label = f"不适用：{note}" if note else "不适用"
            return DocumentResult.trusted(document=ref, outcome=DocumentOutcome.not_applicable, outcome_label=label, **common)
        if applicability is Applicability.undetermined:
            self._missing(scope_info)
        if version is None:
            return DocumentResult.trusted(
                document=None,
                outcome=DocumentOutcome.no_version_in_force,
                outcome_label=f"无法判定：{self.on.isoformat()} 没有已编码的现行版本",
                **common,
            )
        compiled_doc = self.compiled.documents[version.key]
        open_scope = scope_info if applicability is Applicability.undetermined else None
        results = [self._result(version, info, group, open_scope) for info in compiled_doc.targets.values()]
        gaps = self.memo.get(("gaps", version.key))
        if gaps is None:
            gaps = self.memo[("gaps", version.key)] = tuple(_gaps(self.compiled, version))
        major_label = version.doc.major_label
        decisive = [r for r in results if r.kind != "exclusion" and r.major]
        if any(r.outcome is Outcome.triggered for r in decisive):
            outcome, text = DocumentOutcome.major, f"存在{major_label}"
        elif applicability is not Applicability.applicable or gaps or any(r.outcome is Outcome.undetermined for r in decisive):
            outcome, text = DocumentOutcome.undetermined, "无法判定"
        else:
            outcome, text = DocumentOutcome.none, f"未发现{major_label}"
        common.update(results=results, gaps=list(gaps))
        return DocumentResult.trusted(document=doc_ref(version), outcome=outcome, outcome_label=text, **common)

    def _result(
        self, version: DocumentVersion, info: TargetInfo, group: dict[str, TargetOutcome], scope: TargetInfo | None
    ) -> RuleResult:
        out = group.get(info.id)
        outcome = out.outcome if out else Outcome.undetermined
        item = info.source.item
        counts: list[CountDetail] = []
        facts = out.facts if out else ()
        if isinstance(item, Combination):
            counts = _counts(item, group, self.compiled.documents[version.key].targets)
            if outcome is not Outcome.undetermined:
                facts = tuple(
                    f for c in counts if c.applies is Applicability.applicable for e in c.elements for f in group[e].facts
                )
        finding = rectification = None
        if outcome is Outcome.triggered and info.kind != "exclusion":
            finding = fill(item.finding, self.compiled, self.answers)
            rectification = item.rectification
        elif info.kind == "exclusion":
            finding = item.note if outcome is Outcome.triggered else None
        # Output models are built from checked data: skip re-validation on the hot path.
        return RuleResult.trusted(
            rule=info.id,
            kind=info.kind,
            major=info.major,
            outcome=outcome,
            citations=self._citations(version, info),
            finding=finding,
            rectification=rectification,
            facts=self._fact_values(dict.fromkeys(facts)),
            missing=self._missing(info, scope, self._decided_reads(item, group, version)) if outcome is Outcome.undetermined else [],
            excluded_by=list(out.excluded_by) if out else [],
            counts=counts,
            partial=isinstance(item, Combination) and item.partial,
        )


def _counts(combo: Combination, group: dict[str, TargetOutcome], targets: dict[str, TargetInfo]) -> list[CountDetail]:
    """What each variant counted, for display; the decision itself came from the engine."""
    details = []
    for v in combo.variants:
        counted = [e for e in v.elements if e in group and group[e].outcome is Outcome.triggered]
        undecided = [e for e in v.elements if e not in group]
        applies = group.get(f"{combo.id}/{v.id}")
        details.append(
            CountDetail.trusted(
                variant=v.id,
                label=v.label,
                applies=_APPLICABILITY.get(applies.outcome if applies else None, Applicability.undetermined),
                threshold=v.at_least,
                counted=len(counted),
                undecided=len(undecided),
                elements=counted,
                clauses=[c for e in counted for c in targets[e].cites],
            )
        )
    return details


_APPLICABILITY = {Outcome.triggered: Applicability.applicable, Outcome.not_applicable: Applicability.not_applicable}


def doc_ref(version: DocumentVersion) -> DocumentRef:
    d = version.doc
    return DocumentRef.trusted(
        document=d.document,
        version=d.version,
        title=d.title,
        number=d.number,
        issuer=d.issuer,
        effective=d.effective,
        superseded=d.superseded,
        major_label=d.major_label,
    )


def _gaps(compiled: CompiledBundle, version: DocumentVersion) -> list[ClauseGap]:
    cited = {c for tid, info in compiled.documents[version.key].targets.items() for c in info.cites}
    for s in compiled.bundle.items_of(version.key):
        if isinstance(s.item, Combination):
            cited.update(c for v in s.item.variants for c in v.cites)
    gaps = [
        ClauseGap.trusted(clause=part, summary="条文尚未取得，未编码", reason=GapReason.not_encoded)
        for part in version.doc.unread_parts
    ]
    for cid, entry in version.clauses.items():
        clause = entry.clause
        if not clause.decides:
            continue
        if clause.verification.status == "unverified":
            gaps.append(ClauseGap.trusted(clause=cid, summary=clause.summary, reason=GapReason.unverified))
        elif cid not in cited:
            gaps.append(ClauseGap.trusted(clause=cid, summary=clause.summary, reason=GapReason.not_encoded))
    return gaps
