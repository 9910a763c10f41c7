"""Hazardous chemicals: scope routing, and the date boundary between the 2017 criteria and AQ 3067-2026."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.models import DocumentOutcome, Outcome, OverallOutcome


def chem(verdict):
    return next(d for d in verdict.documents if d.sector == "chemicals")


@pytest.mark.parametrize(("on", "version"), [(dt.date(2026, 9, 29), "2017"), (dt.date(2026, 9, 30), "AQ3067-2026")])
def test_date_boundary_picks_the_version(shipped, on, version):
    doc = chem(shipped.judge({"site.kinds": ["hc_production"], "site.special_workers_certified": False}, on=on))
    assert doc.document.version == version
    if version == "2017":
        assert doc.outcome is DocumentOutcome.major
        assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["二"]
    else:
        # AQ 3067-2026 5.1.4 (read in one question bank, single_source) decides it: a confirmed finding
        # under the standard in force, while its unread items stay listed as gaps (never "none").
        assert doc.outcome is DocumentOutcome.major
        assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["5.1.4"]
        assert UNREAD_2026 <= {g.clause for g in doc.gaps}
        assert not {"5.1.1", "5.1.4", "5.7.7"} & {g.clause for g in doc.gaps}


# AQ 3067-2026 items whose text the one source does not quote in full: gaps, never judged.
UNREAD_2026 = {"5.1.2", "5.1.3", "5.2.2", "5.2.8", "5.2.10", "5.3.3", "5.3.4", "5.3.5", "5.3.6",
               "5.4.7", "5.4.8", "5.4.9", "5.5.3", "5.5.7", "5.5.11"}


def test_aq3067_items_that_differ_from_2017_switch_at_the_boundary(shipped):
    # 无水氯化氢 is named only by AQ 3067-2026 5.4.4; the 2017 question about 液化烃、液氨、液氯等 is not reused.
    facts = {"site.kinds": ["hc_production"], "chem.fills_listed_liquefied": True, "chem.swivel_arm_listed": False}
    before = chem(shipped.judge(facts, on=dt.date(2026, 9, 29), sectors=["chemicals"]))
    after = chem(shipped.judge(facts, on=dt.date(2026, 9, 30), sectors=["chemicals"]))
    assert before.document.version == "2017" and before.outcome is not DocumentOutcome.major
    assert after.document.version == "AQ3067-2026" and after.outcome is DocumentOutcome.major
    assert [r.rule for r in after.results if r.outcome is Outcome.triggered] == ["aq3067.5.4.4a"]


def test_aq3067_threshold_six_persons_is_exceeded_only_above_six(shipped):
    on = dt.date(2026, 10, 1)
    for persons, expected in ((6, Outcome.not_triggered), (7, Outcome.triggered)):
        doc = chem(shipped.judge({"chem.abnormal_max_persons": persons, "chem.abnormal_unrelated_persons": False},
                                 on=on, sectors=["chemicals"]))
        assert next(r for r in doc.results if r.rule == "aq3067.5.7.4").outcome is expected, persons


@pytest.mark.parametrize(
    ("kinds", "routed_to"),
    [
        (["other"], "工贸企业重大事故隐患判定标准"),  # e.g. a food factory with a small LPG store
        (["gas_operator"], "城镇燃气经营安全重大隐患判定标准"),
    ],
)
def test_units_outside_the_scope_are_routed_not_passed(shipped, kinds, routed_to):
    verdict = shipped.judge({"site.kinds": kinds, "site.special_workers_certified": False}, on=dt.date(2025, 6, 1))
    doc = chem(verdict)
    assert doc.outcome is DocumentOutcome.not_applicable
    assert routed_to in doc.outcome_label
    assert all(r.outcome is not Outcome.triggered for d in verdict.documents for r in d.results)


def test_unit_type_unknown_keeps_the_chemicals_document_open(shipped):
    verdict = shipped.judge({"site.special_workers_certified": False}, on=dt.date(2025, 6, 1))
    doc = chem(verdict)
    assert doc.applicability.value == "undetermined" and doc.outcome is DocumentOutcome.undetermined
    assert verdict.outcome is not OverallOutcome.none
    assert "site.kinds" in [q.id for q in verdict.questions]


def test_major_hazard_level_is_an_enumeration_compared_exactly(shipped):
    for level, expected in (("level1", Outcome.triggered), ("level2", Outcome.triggered), ("level3", Outcome.not_applicable), ("none", Outcome.not_applicable)):
        doc = chem(shipped.judge({"chem.tank_farm_major_hazard_level": level, "chem.tank_farm_emergency_cutoff": False},
                                 on=dt.date(2025, 6, 1), sectors=["chemicals"]))
        assert next(r for r in doc.results if r.rule == "chem2017.5a").outcome is expected, level


AQ_KEY = "chem_major_hazard@AQ3067-2026"


def test_aq3067_identity_is_verified_but_not_its_replacing_of_2017(shipped):
    # Two records agree on title, number, issuer and both dates (docs/sources/chemicals.md); no notice
    # says it replaces 安监总管三〔2017〕121号, so that stays unverified.
    ident = shipped.bundle.documents[AQ_KEY].doc.identity
    assert ident.status == "verified" and len(ident.sources) >= 2
    assert ident.unverified == ["supersedes"]


def test_aq3067_topic_index_backs_the_numbering_but_verifies_no_text(shipped):
    version = shipped.bundle.documents[AQ_KEY]
    deciding = {cid: e.clause for cid, e in version.clauses.items() if e.clause.decides}
    assert len(deciding) == 53
    encoded = {cid for cid, c in deciding.items() if c.verification.status != "unverified"}
    assert encoded == set(deciding) - UNREAD_2026
    # The index holds one topic per item and no text: an item read only in the bank stays single_source.
    for cid in encoded:
        v = deciding[cid].verification
        assert v.status == "single_source" and "safety_basis_topics" in v.sources, cid


def test_aq3067_the_alarm_part_of_5_5_2_is_a_gap(shipped):
    # The topic index names 报警 for 5.5.2, which the bank does not quote: the rest of 5.5.2 is listed
    # as unread, so meeting the encoded part never closes the item.
    doc = chem(shipped.judge({"site.kinds": ["hc_production"]}, on=dt.date(2026, 10, 1), sectors=["chemicals"]))
    assert any(g.clause.startswith("5.5.2") for g in doc.gaps)
