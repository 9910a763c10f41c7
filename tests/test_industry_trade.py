"""工贸 (应急管理部令第10号): whole-document behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome
from hazardjudge.errors import InputError

ON = dt.date(2026, 11, 1)
KEY = "gongmao_major_hazard@2023"
INDUSTRIES = ["metallurgy", "nonferrous", "building_materials", "machinery", "light_industry", "textile", "tobacco", "commerce"]
# Items per article as published: 第三条 management; 第四条–第十条 the seven industries (47); 第十一条 dust,
# 第十二条 ammonia, 第十三条 confined space (14).
PUBLISHED = {
    "第三条": 3, "第四条": 8, "第五条": 13, "第六条": 8, "第七条": 7, "第八条": 7, "第九条": 2, "第十条": 2,
    "第十一条": 10, "第十二条": 2, "第十三条": 2,
}
INDUSTRY_ARTICLES = ["第四条", "第五条", "第六条", "第七条", "第八条", "第九条", "第十条"]


@pytest.fixture(scope="module")
def clean_site(shipped):
    """Every 工贸 question answered with no failure present, every article and follow-up gate applying."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("ind.") and f.type is FactType.boolean}
    facts.update({
        "site.kinds": ["industry_trade"], "site.special_workers_certified": True,
        "ind.industries": INDUSTRIES, "ind.metal_smelting": True, "ind.leaders_assessed": True,
        "ind.contractor_coordination": True, "ind.contractor_inspection": True,
        "ind.blast_furnace": True, "ind.al_deep_well_casting": True,
        "ind.dust_explosion_risk": True, "ind.ammonia_refrigeration": True, "ind.quick_freezer": True,
        # Numbers exactly at their limits: 超过 and 小于 do not include the limit.
        "ind.bf_top_pressure_setpoint": 250, "ind.bf_top_pressure_design_max": 250,
        "ind.bf_relief_setpoint": 300, "ind.bf_equipment_design_pressure": 300,
        "ind.gas_water_seal_drainers": True, "ind.gas_water_seal_block_pressure": 30,
        "ind.quick_freezer_room_workers": 9,
        "cs.poison_risk": True, "cs.identified": True, "cs.ledger": True, "cs.warning_signs": True,
        "cs.approval": True, "cs.ventilate_test_first": True, "cs.guardian": True,
    })
    return facts


def industry_trade(verdict):
    return next(d for d in verdict.documents if d.sector == "industry_trade")


def article(clause: str) -> str:
    return clause.split("（")[0]


def test_items_per_article_are_the_published_counts(shipped):
    doc = shipped.bundle.documents[KEY].doc
    counts = {c.id: len(c.clauses) for c in doc.clauses if c.clauses}
    assert counts == PUBLISHED
    assert sum(counts[a] for a in INDUSTRY_ARTICLES) == 47
    assert counts["第十一条"] + counts["第十二条"] + counts["第十三条"] == 14
    assert all(item.decides for c in doc.clauses for item in c.clauses)
    assert not doc.unread_parts
    # 第十五条 (entry into force, repeal of the 2017 standard) is recorded but decides nothing.
    fifteen = next(c for c in doc.clauses if c.id == "第十五条")
    assert not fifteen.decides and "2023年5月15日" in fifteen.summary and "安监总管四〔2017〕129号" in fifteen.summary


def test_every_item_is_cited_by_exactly_one_rule_each(shipped, clean_site):
    doc = industry_trade(shipped.judge(clean_site, on=ON))
    items = Counter(c.clause for r in doc.results for c in r.citations if "（" in c.clause)
    assert Counter(article(c) for c in items) == Counter(PUBLISHED)
    assert set(items.values()) == {1}


def test_a_clean_site_is_none_only_when_every_article_is_answered(shipped, clean_site):
    doc = industry_trade(shipped.judge(clean_site, on=ON))
    assert doc.outcome is DocumentOutcome.none, [(r.rule, r.outcome, r.missing) for r in doc.results if r.outcome is not Outcome.not_triggered]
    assert not doc.gaps
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)


@pytest.mark.parametrize(
    "fact",
    ["ind.bf_equipment_design_pressure", "ind.al_hoist_rope_checks_not_done", "ind.tex_incompatible_storage",
     "ind.dust_sander_duct_no_spark_detection", "ind.quick_freezer_room_workers", "ind.dust_explosion_risk", "ind.industries"],
)
def test_one_unanswered_item_keeps_the_document_undetermined(shipped, clean_site, fact):
    facts = {k: v for k, v in clean_site.items() if k != fact}
    doc = industry_trade(shipped.judge(facts, on=ON))
    assert doc.outcome is DocumentOutcome.undetermined
    assert any(fact in r.missing for r in doc.results if r.outcome is Outcome.undetermined)


def test_an_unanswered_industry_blocks_every_industry_item(shipped, clean_site):
    doc = industry_trade(shipped.judge({k: v for k, v in clean_site.items() if k != "ind.industries"}, on=ON))
    undecided = {article(r.citations[0].clause) for r in doc.results if r.outcome is Outcome.undetermined}
    assert undecided == set(INDUSTRY_ARTICLES)


def test_a_textile_enterprise_is_not_asked_metallurgy_questions(shipped, clean_site):
    metallurgy = [fid for fid in clean_site if fid.startswith(("ind.met_", "ind.bf_", "ind.gas_"))]
    facts = {k: v for k, v in clean_site.items() if k not in metallurgy}
    doc = industry_trade(shipped.judge({**facts, "ind.industries": ["textile"]}, on=ON))
    assert doc.outcome is DocumentOutcome.none, [(r.rule, r.missing) for r in doc.results if r.outcome is Outcome.undetermined]
    by_article = {}
    for r in doc.results:
        by_article.setdefault(article(r.citations[0].clause), set()).add(r.outcome)
    for a in INDUSTRY_ARTICLES:
        assert by_article[a] == ({Outcome.not_triggered} if a == "第九条" else {Outcome.not_applicable}), a
    # The dust and ammonia articles follow their own gates, not the industry.
    assert by_article["第十一条"] == by_article["第十二条"] == {Outcome.not_triggered}
    asked = {q.id for q in shipped.judge({"site.kinds": ["industry_trade"], "ind.industries": ["textile"]}, on=ON).questions}
    assert "ind.tex_incompatible_storage" in asked and not asked & set(metallurgy)


def test_commerce_has_no_industry_article_but_dust_and_ammonia_still_apply(shipped, clean_site):
    doc = industry_trade(shipped.judge({**clean_site, "ind.industries": ["commerce"], "ind.ammonia_direct_evaporation_ac": True}, on=ON))
    assert doc.outcome is DocumentOutcome.major
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第十二条（一）"]
    assert all(r.outcome is Outcome.not_applicable for r in doc.results if article(r.citations[0].clause) in INDUSTRY_ARTICLES)


def test_none_of_the_industries_excludes_the_others(shipped):
    with pytest.raises(InputError) as info:
        shipped.judge({"site.kinds": ["industry_trade"], "ind.industries": ["none", "textile"]}, on=ON)
    assert "以上均不涉及" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("pressure", "expected"),
    [("29kPa", Outcome.triggered), ("29.9 千帕", Outcome.triggered), ("30kPa", Outcome.not_triggered),
     ("0.03MPa", Outcome.not_triggered), ("30000 Pa", Outcome.not_triggered), ("31", Outcome.not_triggered)],
)
def test_water_seal_pressure_is_read_in_kpa_and_30_is_not_below_30(shipped, clean_site, pressure, expected):
    doc = industry_trade(shipped.judge({**clean_site, "ind.gas_water_seal_block_pressure": pressure}, on=ON))
    outcomes = {r.rule: r.outcome for r in doc.results if r.rule in ("ind2023.4-8", "ind2023.5-13")}
    assert outcomes == {"ind2023.4-8": expected, "ind2023.5-13": expected}


@pytest.mark.parametrize(("setpoint", "expected"), [("249", Outcome.not_triggered), ("0.25 MPa", Outcome.not_triggered), ("251kPa", Outcome.triggered)])
def test_blast_furnace_setpoint_beyond_its_design_value(shipped, clean_site, setpoint, expected):
    doc = industry_trade(shipped.judge({**clean_site, "ind.bf_top_pressure_setpoint": setpoint}, on=ON))
    result = next(r for r in doc.results if r.rule == "ind2023.4-5")
    assert result.outcome is expected
    if expected is Outcome.triggered:
        assert "251" in result.finding and "250" in result.finding


@pytest.mark.parametrize(("workers", "expected"), [(8, Outcome.not_triggered), ("九人", Outcome.not_triggered), ("10人", Outcome.triggered)])
def test_more_than_nine_in_the_quick_freezer_room(shipped, clean_site, workers, expected):
    doc = industry_trade(shipped.judge({**clean_site, "ind.quick_freezer_room_workers": workers}, on=ON))
    assert next(r for r in doc.results if r.rule == "ind2023.12-2").outcome is expected


def test_either_quick_freezer_failure_is_enough(shipped, clean_site):
    # 2023: 或者 (the 2017 standard required both).
    doc = industry_trade(shipped.judge({**clean_site, "ind.quick_freezer_not_separate": True}, on=ON))
    assert next(r for r in doc.results if r.rule == "ind2023.12-2").outcome is Outcome.triggered


def test_sources_of_single_source_items_are_flagged(shipped):
    doc = shipped.bundle.documents[KEY].doc
    status = {i.id: i.verification.status for c in doc.clauses for i in c.clauses}
    new = {k: v for k, v in status.items() if article(k) in INDUSTRY_ARTICLES + ["第十一条", "第十二条"]}
    # 第五条（四）–（七）'s only second copy has no address: counted as single-source.
    assert Counter(new.values()) == {"verified": 33, "single_source": 26}
    # The two items read only in part in a second copy say so.
    for item in ("第四条（五）", "第十一条（九）"):
        note = next(i for c in doc.clauses for i in c.clauses if i.id == item).verification.note
        assert status[item] == "single_source" and "两源一致" in note


WORK_ITEMS = ("cs.approval", "cs.ventilate_test_first", "cs.guardian")


def test_confined_spaces_without_work_still_conclude(shipped, clean_site):
    # Spaces with a poisoning risk but no work that day: 第十三条（二） does not apply, （一） still does.
    no_work = {k: v for k, v in clean_site.items() if k not in WORK_ITEMS} | {"cs.work_in_progress": False}
    doc = industry_trade(shipped.judge(no_work, on=ON))
    assert doc.outcome is DocumentOutcome.none
    assert next(r for r in doc.results if r.rule == "ind2023.13-2").outcome is Outcome.not_applicable
    doc = industry_trade(shipped.judge(no_work | {"cs.identified": False, "cs.warning_signs": False}, on=ON))
    assert doc.outcome is DocumentOutcome.major
    assert {c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations} == {"第十三条", "第十三条（一）"}


def test_no_work_beside_an_answer_about_the_work_is_refused(shipped, clean_site):
    with pytest.raises(InputError) as info:
        shipped.judge(clean_site | {"cs.work_in_progress": False}, on=ON)
    assert "没有有限空间作业" in str(info.value)
