"""The check every newly encoded sector makes at its version boundaries (imported by its tests)."""

from __future__ import annotations

from hazardjudge.engine.models import DocumentOutcome, Outcome, OverallOutcome


def check_version_boundary(engine, sector: str, facts: dict, day, version: str | None, clause: str | None = None) -> None:
    """On ``day`` a violating inspection is judged by ``version``, or, before the first one,
    by none: no version in force and never a finding. ``clause``: the one item it must cite."""
    verdict = engine.judge(facts, on=day, sectors=[sector])
    (doc,) = verdict.documents
    if version is None:
        assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None
        assert verdict.outcome is not OverallOutcome.major
    else:
        assert doc.document.version == version and doc.outcome is DocumentOutcome.major
        if clause is not None:
            (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
            assert [c.clause for c in hit.citations] == [clause]
