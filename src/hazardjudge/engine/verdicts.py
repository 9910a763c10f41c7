"""Assemble a :class:`~hazardjudge.engine.models.Verdict` from what the engine decided.

Nothing here decides a clause: outcomes come from the evaluator. This module
attaches citations, finding texts and the facts behind each outcome (a met
clause pending its exclusions gets its finding and "构成…，除非…"), has
relevance.py rank the questions that could still change the outcome, and applies the one
aggregation rule of the product: any triggered clause makes the document
major; otherwise any undetermined clause, unencoded clause or unknown scope
makes it undetermined; only a fully decided document can be "none".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from hazardjudge.engine.answers import Answers, display_value
from hazardjudge.engine.compiling import NAMED_PREFIX, CompiledBundle, TargetInfo
from hazardjudge.engine.evaluating import Evaluation, TargetOutcome
from hazardjudge.engine.loading import DocumentVersion
from hazardjudge.engine.models import (
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
    LayerRef,
    Outcome,
    OverallOutcome,
    RuleResult,
    Verdict,
)
from hazardjudge.engine.relevance import DocumentRelevance, DocumentView, Relevance

GENERIC_LABEL = "重大事故隐患"
_UNSEEN = object()
#: decided results kept per engine for reuse (see VerdictBuilder._result)
_MAX_RESULTS = 50_000


def not_encoded_note(version: DocumentVersion) -> str:
    """What a unit under an identity-only version is told: which standard applies, and that it is not encoded."""
    return f"应按《{version.doc.title}》（{version.doc.number}）判定，本工具尚未编码其条文"


def select_versions(compiled: CompiledBundle, sector: str, on: dt.date) -> DocumentVersion | None:
    loc = compiled.bundle.sectors[sector]
    for version in compiled.versions_of(loc.model.document):
        if version.doc.in_force(on) and version.key in compiled.documents:
            return version
    return None


def reference_version(compiled: CompiledBundle, version: DocumentVersion) -> DocumentVersion | None:
    """The earlier version ``version`` names as provisional reference, if it is encoded."""
    ref = version.doc.provisional_reference
    if ref is None:
        return None
    key = f"{version.doc.document}@{ref.version}"
    return compiled.bundle.documents[key] if key in compiled.documents else None


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
        decisive_only: bool = False,
    ) -> None:
        self.compiled = compiled
        # Only the results of major clauses triggered or open, and no questions: for a caller
        # that reads nothing else (the batch's findings view). Those results, every document
        # and overall outcome and label are built by the same code as in a full verdict.
        self.decisive_only = decisive_only
        # Per-engine memo of what depends only on the bundle (citations, gaps, shown yes/no answers): immutable values.
        self.memo = memo if memo is not None else {}
        self.answers = answers
        self.on = on
        self.named = named
        self.values: dict = {}
        self._shown: dict[str, FactValue] = {}
        self._results: dict = self.memo.setdefault("results", {})
        self._states: dict = self.memo.setdefault("states", {})  # see DocumentRelevance._compute_raw

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

    def _doc_ref(self, version: DocumentVersion) -> DocumentRef:
        key = ("doc", version.key)
        ref = self.memo.get(key)
        if ref is None:
            ref = self.memo[key] = doc_ref(version)
        return ref

    def _citations(self, version: DocumentVersion, info: TargetInfo, variants: tuple[str, ...] | None = None) -> list[ClauseRef]:
        """The target's citations; a combination's own, then those of the ``variants`` named (all if None)."""
        key = ("cites", info.id, variants)
        cached = self.memo.get(key)
        if cached is None:
            cites = list(info.cites)
            item = info.source.item if info.source else None
            if isinstance(item, Combination):
                for v in item.variants:
                    if variants is None or v.id in variants:
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
        # The answers as the scope conditions read them: a named sector is a known answer.
        self.values = dict(self.answers.values)
        for sid in self.compiled.bundle.sectors:
            self.values[NAMED_PREFIX + sid] = sid in self.named
        documents = []
        views = []
        for sector in sectors:
            version = select_versions(self.compiled, sector, self.on)
            group = evaluation.groups.get(version.key, {}) if version else {}
            sector_scope = scope.get(f"scope:{sector}")
            doc, view = self._document(sector, version, sector_scope, group, len(views))
            views.append(view)
            reference = reference_version(self.compiled, version) if version else None
            if reference is not None and doc.outcome is not DocumentOutcome.not_applicable:
                doc, ref_view = self._provisional(
                    doc, version, reference, sector_scope, evaluation.groups.get(reference.key, {}), len(views)
                )
                views.append(ref_view)
            documents.append(doc)
        applicable = [d for d in documents if d.outcome is not DocumentOutcome.not_applicable]
        labels = {d.document.major_label for d in applicable if d.document}
        label = labels.pop() if len(labels) == 1 else GENERIC_LABEL
        pending = sum(1 for d in documents for r in d.results if r.pending_exclusions)
        provisional = sum(1 for d in documents for r in d.provisional if r.outcome is Outcome.triggered and r.major)
        if any(d.outcome is DocumentOutcome.major for d in documents):
            outcome, text = OverallOutcome.major, f"存在{label}"
        elif not applicable:
            outcome, text = OverallOutcome.undetermined, "无法判定：没有适用于该单位的已编码判定标准"
        elif len(applicable) == 1 and applicable[0].reference is not None and applicable[0].outcome is not DocumentOutcome.none:
            # The one document in play was judged against a provisional reference: its own line says why.
            outcome, text = OverallOutcome.undetermined, applicable[0].outcome_label
        elif any(d.outcome is not DocumentOutcome.none for d in applicable):
            # A unit under a standard recorded but not encoded is told which one applies.
            unencoded = [
                f"《{d.document.title}》（{d.document.number}）"
                for d in applicable
                if d.identity_only and d.applicability is Applicability.applicable
            ]
            outcome, text = OverallOutcome.undetermined, _undetermined_label(pending, provisional, unencoded)
        else:
            outcome, text = OverallOutcome.none, f"未发现{label}"
        relevance = Relevance(self.compiled, views, outcome)
        major = outcome is OverallOutcome.major
        lean = self.decisive_only
        return Verdict.trusted(
            inspection_date=self.on,
            outcome=outcome,
            outcome_label=text,
            documents=documents,
            questions=[] if major or lean else relevance.questions(further=False),
            possible_outcomes=[] if lean else relevance.possible_outcomes(),
            further_questions=relevance.questions(further=True) if major and not lean else [],
            pending=pending,
            provisional=provisional,
            bundle=self.compiled.bundle.fingerprint,
            layers=self._layers(),
            replacements=list(self.compiled.bundle.replacements),
        )

    def _targets(self, targets: dict[str, TargetInfo], group: dict[str, TargetOutcome]):
        """The targets whose results the verdict lists: all, or only the decisive ones still in play."""
        if not self.decisive_only:
            return targets.values()
        # A document's outcome and label read only these (see _document and _provisional).
        return [
            info
            for tid, info in targets.items()
            if info.kind != "exclusion" and info.major and (tid not in group or group[tid].outcome in _IN_PLAY)
        ]

    def _layers(self) -> list[LayerRef]:
        cached = self.memo.get("layers")
        if cached is None:
            cached = self.memo["layers"] = tuple(
                LayerRef.trusted(id=layer.id, title=layer.title, overlay=layer.overlay, example=layer.example)
                for layer in self.compiled.bundle.layers
            )
        return list(cached)

    def _provisional(
        self,
        doc: DocumentResult,
        version: DocumentVersion,
        reference: DocumentVersion,
        scope: TargetOutcome | None,
        group: dict[str, TargetOutcome],
        index: int,
    ) -> tuple[DocumentResult, DocumentView]:
        """Judge the earlier version the criteria name as provisional reference, apart from ``doc``'s results.

        Its results carry the reference's label and never make the document "major" (a confirmed
        finding) or "none": met items leave the document undetermined, with the count in its label.
        """
        ref = version.doc.provisional_reference
        compiled_doc = self.compiled.documents[reference.key]
        rel = DocumentRelevance(
            self.compiled,
            compiled_doc.targets,
            self.compiled.scope_targets[f"scope:{doc.sector}"],
            scope,
            group,
            self.values,
            self._states,
            reference.key,
        )
        results = [
            self._result(reference, info, group, rel, ref.label.replace("{clause}", "、".join(info.cites)))
            for info in self._targets(compiled_doc.targets, group)
        ]
        decisive = [r for r in results if r.kind != "exclusion" and r.major]
        met = sum(1 for r in decisive if r.outcome is Outcome.triggered)
        outcome, text = doc.outcome, doc.outcome_label
        if outcome is not DocumentOutcome.major and (met or outcome is not DocumentOutcome.none):
            # "尚未编码" when none of its clauses is encoded, "尚未全部编码" when only some are.
            encoded = any(r.kind != "exclusion" for r in doc.results)
            lead = f"现行标准 {version.doc.number} 的判定条款{'尚未全部编码' if encoded else '尚未编码'}；" if doc.gaps else ""
            open_ = sum(1 for r in decisive if r.outcome is Outcome.undetermined)
            if met:
                found = f"参照{reference.doc.number}有 {met} 项属于所列{reference.doc.major_label}情形（参照判定，待核对）"
            elif open_:
                found = f"参照{reference.doc.number}尚有 {open_} 项无法判定"
            else:
                found = f"参照{reference.doc.number}未触发所列情形，但参照结果不能代替现行标准作出判定"
            outcome, text = DocumentOutcome.undetermined, f"无法判定：{lead}{found}"
        result = doc.model_copy(
            update={
                "outcome": outcome,
                "outcome_label": text,
                "reference": doc_ref(reference),
                "reference_note": ref.note,
                "provisional": results,
            }
        )
        open_ids = [r.rule for r in decisive if r.outcome is Outcome.undetermined]
        d = reference.doc
        view = DocumentView(
            index, f"scope:{doc.sector}", d.title, d.document, d.version, "undetermined", True, open_ids, rel, reference=True
        )
        return result, view

    def _document(
        self,
        sector: str,
        version: DocumentVersion | None,
        scope: TargetOutcome | None,
        group: dict[str, TargetOutcome],
        index: int,
    ) -> tuple[DocumentResult, DocumentView]:
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
            ref = self._doc_ref(version) if version else None
            note = sector_model.not_applicable_note
            label = f"不适用：{note}" if note else "不适用"
            result = DocumentResult.trusted(document=ref, outcome=DocumentOutcome.not_applicable, outcome_label=label, **common)
            return result, DocumentView(index, f"scope:{sector}", sector_model.title, sector_model.document, "", "not_applicable", False, [], None)
        compiled_doc = self.compiled.documents[version.key] if version else None
        rel = DocumentRelevance(
            self.compiled,
            compiled_doc.targets if compiled_doc else None,
            scope_info,
            scope,
            group,
            self.values,
            self._states,
            version.key if version else "",
        )
        if version is None:
            result = DocumentResult.trusted(
                document=None,
                outcome=DocumentOutcome.no_version_in_force,
                outcome_label=f"无法判定：{self.on.isoformat()} 没有已编码的现行版本",
                **common,
            )
            return result, DocumentView(index, f"scope:{sector}", sector_model.title, sector_model.document, "", "no_version_in_force", True, [], rel)
        results = [self._result(version, info, group, rel) for info in self._targets(compiled_doc.targets, group)]
        gaps = self.memo.get(("gaps", version.key))
        if gaps is None:
            gaps = self.memo[("gaps", version.key)] = tuple(_gaps(self.compiled, version))
        major_label = version.doc.major_label
        decisive = [r for r in results if r.kind != "exclusion" and r.major]
        identity_only = self.memo.get(("identity_only", version.key))
        if identity_only is None:
            identity_only = self.memo[("identity_only", version.key)] = not self.compiled.bundle.encoded(version.key)
        if identity_only:
            # Never "none": nothing of the version is encoded, whatever its gaps say.
            note = not_encoded_note(version)
            outcome = DocumentOutcome.undetermined
            text = f"无法判定：{note}" if applicability is Applicability.applicable else f"无法判定：如属适用范围，{note}"
        elif any(r.outcome is Outcome.triggered for r in decisive):
            outcome, text = DocumentOutcome.major, f"存在{major_label}"
        elif applicability is not Applicability.applicable or gaps or any(r.outcome is Outcome.undetermined for r in decisive):
            outcome, text = DocumentOutcome.undetermined, _undetermined_label(sum(1 for r in decisive if r.pending_exclusions))
        else:
            outcome, text = DocumentOutcome.none, f"未发现{major_label}"
        common.update(results=results, gaps=list(gaps))
        result = DocumentResult.trusted(
            document=self._doc_ref(version), outcome=outcome, outcome_label=text, identity_only=identity_only, **common
        )
        d = version.doc
        open_ = [r.rule for r in decisive if r.outcome is Outcome.undetermined]
        view = DocumentView(index, f"scope:{sector}", d.title, d.document, d.version, outcome.value, bool(gaps), open_, rel)
        return result, view

    def _result(
        self,
        version: DocumentVersion,
        info: TargetInfo,
        group: dict[str, TargetOutcome],
        rel: DocumentRelevance,
        provisional: str | None = None,
    ) -> RuleResult:
        out = group.get(info.id)
        outcome = out.outcome if out else Outcome.undetermined
        pending = out.pending if out else ()
        item = info.source.item
        key = None
        if out is not None and not pending and outcome is not Outcome.undetermined and not isinstance(item, Combination) and (
            outcome is not Outcome.triggered or info.kind == "exclusion"
        ):
            # A decided clause without a finding text to fill (not triggered, not applicable,
            # excluded, an exclusion's outcome) is the same result whenever the engine decided
            # it on the same answers: most of a verdict's results, and most of the time to
            # build one. Results are immutable and shared, as the shown answers are.
            values = self.answers.values
            try:
                key = (version.key, info.id, provisional, outcome, out.facts, out.excluded_by,
                       tuple((type(v), v) for v in (values.get(f, _UNSEEN) for f in out.facts)))
                cached = self._results.get(key)
            except TypeError:  # an unhashable answer: build it
                key = cached = None
            if cached is not None:
                return cached
        counts: list[CountDetail] = []
        facts = out.facts if out else ()
        if isinstance(item, Combination):
            counts = _counts(item, group, self.compiled.documents[version.key].targets)
            if outcome is not Outcome.undetermined or pending:
                facts = tuple(
                    f for c in counts if c.applies is Applicability.applicable for e in c.elements for f in group[e].facts
                )
        finding = rectification = pending_note = None
        if (outcome is Outcome.triggered or pending) and info.kind != "exclusion":
            finding = fill(item.finding, self.compiled, self.answers)
            rectification = item.rectification
            if pending:
                pending_note = self._pending_note(version, pending)
        elif info.kind == "exclusion":
            finding = item.note if outcome is Outcome.triggered else None
        # Output models are built from checked data: skip re-validation on the hot path.
        result = RuleResult.trusted(
            rule=info.id,
            kind=info.kind,
            major=info.major,
            outcome=outcome,
            citations=self._citations(version, info, _deciding_variants(counts) if counts else None),
            finding=finding,
            rectification=rectification,
            facts=self._fact_values(dict.fromkeys(facts)),
            missing=rel.missing(info.id) if outcome is Outcome.undetermined else [],
            excluded_by=list(out.excluded_by) if out else [],
            pending_exclusions=list(pending),
            pending_note=pending_note,
            counts=counts,
            partial=isinstance(item, Combination) and item.partial,
            layer=info.source.file.layer,
            replaces=self._replacement(info.id),
            status="provisional" if provisional else "confirmed",
            status_note=provisional,
        )
        if key is not None:
            if len(self._results) >= _MAX_RESULTS:
                self._results.clear()  # bounded: numeric answers make many keys in a long batch
            self._results[key] = result
        return result

    def _replacement(self, item_id: str):
        replaced = self.memo.get("replaced")
        if replaced is None:
            replaced = self.memo["replaced"] = {
                r.id: r for r in self.compiled.bundle.replacements if r.what in ("rule", "combination", "exclusion")
            }
        return replaced.get(item_id)


    def _pending_note(self, version: DocumentVersion, pending: tuple[str, ...]) -> str:
        """构成…，除非…: the exclusions' own wording of what would still have to be established."""
        targets = self.compiled.documents[version.key].targets
        notes = []
        for x in pending:
            excl = targets[x].source.item
            notes.append(excl.pending_note or f"属于 {'、'.join(excl.cites)} 所列情形")
        return f"构成{version.doc.major_label}，除非{'；或'.join(notes)}"


def _undetermined_label(pending: int, provisional: int = 0, unencoded: Sequence[str] = ()) -> str:
    parts = [f"{pending} 项待排除情形认定"] if pending else []
    if provisional:
        parts.append(f"{provisional} 项参照判定的重大隐患情形待核对（所依据文件的效力未核实）")
    if unencoded:
        parts.append(f"应按{'、'.join(unencoded)}判定，本工具尚未编码其条文")
    return "无法判定：" + "；".join(parts) if parts else "无法判定"


def _counts(combo: Combination, group: dict[str, TargetOutcome], targets: dict[str, TargetInfo]) -> list[CountDetail]:
    """What each variant counted, for display; the decision itself came from the engine."""
    details = []
    for v in combo.variants:
        counted = [e for e in v.elements if e in group and group[e].outcome is Outcome.triggered]
        undecided = [e for e in v.elements if e not in group or group[e].outcome is Outcome.undetermined]
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


def _deciding_variants(counts: list[CountDetail]) -> tuple[str, ...] | None:
    """The variants a combination's result rests on, so its citations name only their clauses.

    Those that reached their threshold where a threshold was reached (a KTV major by 5.3.3 a)
    is not cited under b)–d)); else those that apply or may still apply; None (all) when no
    variant applies. Read from the engine's counts above; the outcome itself is the engine's.
    """
    met = tuple(c.variant for c in counts if c.applies is Applicability.applicable and c.counted >= c.threshold)
    if met:
        return met
    open_ = tuple(c.variant for c in counts if c.applies is not Applicability.not_applicable)
    return open_ or None


_IN_PLAY = (Outcome.triggered, Outcome.undetermined)
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
        layer=version.located.layer,
    )


def _gaps(compiled: CompiledBundle, version: DocumentVersion) -> list[ClauseGap]:
    cited = {c for tid, info in compiled.documents[version.key].targets.items() for c in info.cites}
    for s in compiled.bundle.items_of(version.key):
        cited.update(s.item.all_cites)
    gaps = [
        ClauseGap.trusted(clause=part, summary="条文尚未取得，未编码", reason=GapReason.not_encoded)
        for part in version.doc.unread_parts
    ] + [ClauseGap.trusted(clause=part, summary="条文可读，待编码", reason=GapReason.not_encoded) for part in version.doc.not_encoded]
    for cid, entry in version.clauses.items():
        clause = entry.clause
        if not clause.decides:
            continue
        if clause.verification.status == "unverified":
            gaps.append(ClauseGap.trusted(clause=cid, summary=clause.summary, reason=GapReason.unverified))
        elif cid not in cited:
            gaps.append(ClauseGap.trusted(clause=cid, summary=clause.summary, reason=GapReason.not_encoded))
    return gaps
