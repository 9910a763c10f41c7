"""工贸 2017版 (安监总管四〔2017〕129号): whole-document behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome

ON = dt.date(2022, 9, 14)
GROUPS = {"一（一）": 10, "一（二）": 2, "一（三）": 2, "二（一）": 11, "二（二）": 10, "二（三）": 6, "二（四）": 7,
          "二（五）": 6, "二（六）": 2, "二（七）": 2, "二（八）": 1}
ALL_INDUSTRIES = ["metallurgy", "nonferrous", "building_materials", "machinery", "light_industry", "textile", "tobacco", "commerce"]


def it(verdict):
    return next(d for d in verdict.documents if d.sector == "industry_trade")


@pytest.fixture(scope="module")
def clean_site(shipped):
    """Every industry, dust, ammonia with a quick freezer, confined-space work: nothing wrong anywhere."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("ind17.") and f.type is FactType.boolean}
    facts.update({
        "site.kinds": ["industry_trade"], "ind.industries": ALL_INDUSTRIES, "ind.dust_explosion_risk": True,
        "ind.ammonia_refrigeration": True, "ind.quick_freezer": True, "ind.quick_freezer_not_separate": False,
        "ind.quick_freezer_room_workers": 4, "ind.metal_smelting": True, "ind.leaders_assessed": True,
        "cs.has_work": True, "cs.work_in_progress": True, "cs.identified": True, "cs.warning_signs": True, "cs.approval": True,
    })
    return facts


def test_every_published_item_is_encoded_once_and_verified(shipped):
    doc = it(shipped.judge({"site.kinds": ["industry_trade"]}, on=ON, sectors=["industry_trade"]))
    assert doc.document.number == "安监总管四〔2017〕129号" and doc.gaps == []
    cited = sorted(c.clause for r in doc.results for c in r.citations)
    assert cited == sorted(f"{g}{n}" for g, count in GROUPS.items() for n in range(1, count + 1)) and len(cited) == 59
    assert {c.verification for r in doc.results for c in r.citations} == {"verified"}


def test_clean_site_concludes_none(shipped, clean_site):
    doc = it(shipped.judge(clean_site, on=ON, sectors=["industry_trade"]))
    assert doc.outcome is DocumentOutcome.none
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)


def test_a_single_industry_is_asked_only_its_own_items(shipped, clean_site):
    facts = {k: v for k, v in clean_site.items() if not k.startswith("ind17.") or k.startswith("ind17.dust")}
    facts.update({"ind.industries": ["light_industry"], "ind.ammonia_refrigeration": False, "cs.has_work": False})
    facts = {k: v for k, v in facts.items() if not k.startswith("cs.") or k == "cs.has_work"}
    facts.update({f"ind17.{f}": False for f in ("light_fryer_no_protection", "light_liquor_no_ethanol_alarm", "light_chlorine_direct_heat",
                                               "light_kiln_gas_protection", "light_glass_furnace_damaged", "light_paint_room_noncompliant")})
    doc = it(shipped.judge(facts, on=ON, sectors=["industry_trade"]))
    assert doc.outcome is DocumentOutcome.none
    applicable = {c.clause[:4] for r in doc.results if r.outcome is not Outcome.not_applicable for c in r.citations}
    assert applicable == {"一（一）", "二（五）"}


@pytest.mark.parametrize(("second", "expected"), [(True, Outcome.triggered), (False, Outcome.not_triggered)])
def test_items_joined_by_qie_need_both(shipped, clean_site, second, expected):
    facts = {**clean_site, "ind17.tob_fumigation_not_evacuated": True, "ind17.tob_fumigation_no_masks": second}
    doc = it(shipped.judge(facts, on=ON, sectors=["industry_trade"]))
    assert next(r for r in doc.results if r.rule == "ind2017.2-7-1").outcome is expected


@pytest.mark.parametrize(("workers", "expected"), [(9, Outcome.not_triggered), (10, Outcome.triggered)])
def test_quick_freezer_needs_both_halves_in_2017(shipped, clean_site, workers, expected):
    facts = {**clean_site, "ind.quick_freezer_not_separate": True, "ind.quick_freezer_room_workers": workers}
    doc = it(shipped.judge(facts, on=ON, sectors=["industry_trade"]))
    assert next(r for r in doc.results if r.rule == "ind2017.1-2-2").outcome is expected
    # Alone, a freezer room of 10 in a separate room is no hazard under 2017 (令第10号 says 或者).
    facts["ind.quick_freezer_not_separate"] = False
    doc = it(shipped.judge(facts, on=ON, sectors=["industry_trade"]))
    assert next(r for r in doc.results if r.rule == "ind2017.1-2-2").outcome is Outcome.not_triggered


@pytest.mark.parametrize(("on", "version"), [(dt.date(2023, 5, 14), "2017"), (dt.date(2023, 5, 15), "2023")])
def test_version_boundary_at_order_10(shipped, on, version):
    facts = {"site.kinds": ["industry_trade"], "ind.dust_explosion_risk": True, "ind17.dust_zone20_not_ex": True}
    doc = it(shipped.judge(facts, on=on))
    assert doc.document.version == version
    hit = {c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations}
    assert hit == ({"一（一）7"} if version == "2017" else set())


def test_before_the_start_no_version_is_in_force(shipped):
    doc = it(shipped.judge({"site.kinds": ["industry_trade"], "ind.dust_explosion_risk": True, "ind17.dust_zone20_not_ex": True},
                           on=dt.date(2017, 12, 31)))
    assert doc.outcome is DocumentOutcome.no_version_in_force


def test_cli_judges_the_2022_example(capsys):
    assert main(["judge", str(example_dir() / "industry_trade_2022.yaml")]) == 1
    out = capsys.readouterr().out
    assert "安监总管四〔2017〕129号" in out and "【一（一）9】" in out


def test_questions_are_told_apart_by_their_wording(shipped):
    # Pasted "question：answer" lines are matched by the question's words: two facts must not share them.
    questions = [f.question for fid, f in shipped.bundle.facts.items() if fid.startswith(("ind17.", "coal."))]
    assert len(questions) == len(set(questions))
