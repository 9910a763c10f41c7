"""What a batch writes for each inspection: one JSON line, compact by default.

The full verdict is 18–100 KB, most of it per-clause detail and question text that a
batch over a province's records rarely reads. The ``findings`` view keeps what such a run
is for: the outcome, each finding with its clauses and the answers that triggered it,
and each clause left open with the questions it waits for. Both views share the envelope
(``id``, ``line``, ``date``, ``outcome``, ``bundle``, ..., ``errors`` last), so a reader
of either finds the outcome and the failures in the same place, and ``--resume`` can read
the last line written without parsing a verdict.

These models are a stable output contract: fields may be added, never renamed or removed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hazardjudge.engine.models import (
    Applicability,
    _Out,
    DocumentOutcome,
    Outcome,
    OverallOutcome,
    RuleResult,
    Verdict,
)
from hazardjudge.errors import Problem

VIEWS = ("findings", "full")


class _Line(_Out):
    # The engine's output base: frozen, and ``trusted()`` builds a line from the verdict's own
    # already-checked values (validating ~16 small models per line was a tenth of a batch's time).
    model_config = ConfigDict(frozen=True)


class LineError(_Line):
    """Why an input line was not judged."""

    code: str
    message: str = Field(description="in Chinese, as shown to the user")
    hint: str | None = None

    @classmethod
    def of(cls, p: Problem) -> "LineError":
        where = f"{p.position.line}:{p.position.column}: " if p.position and p.position.line > 1 else ""
        return cls(code=p.code, message=where + p.message, hint=p.hint)


class AnsweredFact(_Line):
    id: str
    value: Any


class DocumentLine(_Line):
    """A sector whose document applies or may apply (not-applicable sectors are left out).

    Findings and open clauses name their clauses by id only: a rule cites clauses of its
    own document version, given here once (a fire inspection has dozens of open clauses).
    """

    sector: str
    document: str | None
    version: str | None
    number: str | None = Field(description="the document's number, e.g. GB 35181-2025")
    outcome: DocumentOutcome


class FindingLine(_Line):
    """A major hazard found: the clauses that say so and the answers that triggered it."""

    sector: str
    rule: str
    kind: Literal["rule", "combination"]
    clauses: list[str] = Field(description="the clauses cited, of the sector's document version")
    facts: list[AnsweredFact] = Field(description="the answers that decided it")
    finding: str | None = None


OpenReason = Literal["unanswered", "pending_exclusion", "scope_unknown", "not_encoded", "unverified", "no_version_in_force"]


class OpenClause(_Line):
    """A clause, or a whole document, that keeps the verdict from being settled."""

    sector: str
    rule: str | None = Field(description="the rule or combination; null for a document-level reason")
    clauses: list[str] = Field(description="the clauses concerned, of the sector's document version")
    reason: OpenReason
    missing: list[str] = Field(default_factory=list, description="unanswered fact ids that could decide it")
    pending_exclusions: list[str] = Field(default_factory=list)


class FindingsLine(_Line):
    """``--view findings`` (the default)."""

    id: str | int | None
    line: int = Field(description="the input's line number (JSON Lines) or its position in the folder, from 1")
    date: dt.date | None
    outcome: OverallOutcome | None = Field(description="null when the line could not be judged (see errors)")
    bundle: str = Field(description="fingerprint of the criteria and rules used")
    documents: list[DocumentLine] = Field(default_factory=list)
    findings: list[FindingLine] = Field(default_factory=list)
    undetermined: list[OpenClause] = Field(default_factory=list)
    errors: list[LineError] = Field(default_factory=list)


class FullLine(_Line):
    """``--view full``: the verdict as ``hazardjudge judge --format json`` gives it, compact."""

    id: str | int | None
    line: int
    date: dt.date | None
    outcome: OverallOutcome | None
    bundle: str
    verdict: Verdict | None = None
    errors: list[LineError] = Field(default_factory=list)


def _cite(result: RuleResult) -> list[str]:
    return [c.clause for c in result.citations]


def findings_line(ident: str | int | None, line: int, verdict: Verdict) -> FindingsLine:
    documents, findings, open_ = [], [], []
    for d in verdict.documents:
        if d.outcome is DocumentOutcome.not_applicable:
            continue
        ref = d.document
        documents.append(
            DocumentLine.trusted(
                sector=d.sector, document=ref.document if ref else None, version=ref.version if ref else None,
                number=ref.number if ref else None, outcome=d.outcome,
            )
        )
        if ref is None:
            open_.append(_document_level(d.sector, [], "no_version_in_force"))
            continue
        if d.applicability is Applicability.undetermined:
            open_.append(_document_level(d.sector, [], "scope_unknown"))
        for r in d.results:
            if r.kind == "exclusion" or not r.major:
                continue
            if r.outcome is Outcome.triggered:
                facts = [AnsweredFact.trusted(id=f.id, value=f.value) for f in r.facts]
                findings.append(
                    FindingLine.trusted(sector=d.sector, rule=r.rule, kind=r.kind, clauses=_cite(r), facts=facts, finding=r.finding)
                )
            elif r.outcome is Outcome.undetermined:
                reason = "pending_exclusion" if r.pending_exclusions else "unanswered"
                open_.append(
                    OpenClause.trusted(
                        sector=d.sector, rule=r.rule, clauses=_cite(r), reason=reason,
                        missing=list(r.missing), pending_exclusions=list(r.pending_exclusions),
                    )
                )
        for gap in d.gaps:
            open_.append(_document_level(d.sector, [gap.clause], gap.reason.value))
    return FindingsLine.trusted(
        id=ident, line=line, date=verdict.inspection_date, outcome=verdict.outcome, bundle=verdict.bundle,
        documents=documents, findings=findings, undetermined=open_, errors=[],
    )


def _document_level(sector: str, clauses: list[str], reason: str) -> OpenClause:
    return OpenClause.trusted(sector=sector, rule=None, clauses=clauses, reason=reason, missing=[], pending_exclusions=[])


def render(view: str, ident: str | int | None, line: int, verdict: Verdict) -> str:
    """One output line (without its newline)."""
    if view == "full":
        return FullLine(
            id=ident, line=line, date=verdict.inspection_date, outcome=verdict.outcome, bundle=verdict.bundle, verdict=verdict
        ).model_dump_json()
    return findings_line(ident, line, verdict).model_dump_json()


def render_failure(view: str, ident: str | int | None, line: int, bundle: str, errors: list[LineError]) -> str:
    cls = FullLine if view == "full" else FindingsLine
    return cls(id=ident, line=line, date=None, outcome=None, bundle=bundle, errors=errors).model_dump_json()
