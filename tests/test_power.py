"""电力 (《电力重大事故隐患判定标准及治理监督管理规定》国家发展改革委令第41号, 2026-07-01): whole-document
behaviour beyond each rule's YAML cases. Before it, 国能综通安全〔2022〕123号 (2022-12-29) is recorded by identity only.
All 49 items of 第五条 to 第十四条 are encoded from the one copy read,
so each is single_source; what a unit operates (pw.parts) decides which articles it is asked; an unanswered
gate or item is never "none"; and a copy of the bundle with any item left unencoded can never say "none"."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

import hazardjudge
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome
from hazardjudge.inputs import checklists
from hazardjudge.inputs.inspections import parse_inspection

from boundaries import check_version_boundary

ROOT = Path(__file__).parents[1]
ON = dt.date(2026, 11, 20)
#: 第五条 10, 第六条 5, 第七条 5, 第八条 4, 第九条 4, 第十条 8, 第十一条 5, 第十二条 3, 第十三条 4 (48), 第十四条 1
COUNTS = {"第五条": 10, "第六条": 5, "第七条": 5, "第八条": 4, "第九条": 4, "第十条": 8, "第十一条": 5, "第十二条": 3, "第十三条": 4}
NUMERALS = "一二三四五六七八九十"
ITEMS = [f"{art}（{NUMERALS[i]}）" for art, n in COUNTS.items() for i in range(n)] + ["第十四条"]
ALL_PARTS = ["grid", "thermal", "nuclear", "hydro", "new_energy", "ash_yard", "construction", "maintenance"]
#: which articles each facility opens (第十二条 by pw.scada_in_scope, 第十三条 and 第十四条 always)
GRID_ONLY = {"第五条（一）", "第五条（二）", "第五条（六）", "第五条（七）", "第五条（八）", "第五条（九）", "第五条（十）"}
ALWAYS = {"第十三条（一）", "第十三条（二）", "第十三条（三）", "第十三条（四）", "第十四条"}


def power(verdict):
    return next(d for d in verdict.documents if d.sector == "power")


def judge(shipped, facts, on=ON):
    return power(shipped.judge(facts, on=on, sectors=["power"]))


def clean(shipped, parts=ALL_PARTS):
    """Every question answered with no failure, for a unit with the given facilities and both headings in scope."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("pw.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["power"], "pw.parts": list(parts), "pw.large_units": True, "pw.scada_in_scope": True,
                  "site.special_workers_certified": True})
    return facts


def test_the_item_list_is_the_regulations_numbering():
    assert len(ITEMS) == 49 and len(set(ITEMS)) == 49
    assert ITEMS[:3] == ["第五条（一）", "第五条（二）", "第五条（三）"] and "第五条（十）" in ITEMS and "第十条（八）" in ITEMS


def test_every_item_is_encoded_once_and_flagged_single_source(shipped):
    doc = judge(shipped, {"site.kinds": ["power"]})
    assert doc.document.version == "2026" and not doc.identity_only
    assert sorted(c.clause for r in doc.results for c in r.citations) == sorted(ITEMS)
    assert {c.verification for r in doc.results for c in r.citations} == {"single_source"}
    assert not doc.gaps


@pytest.mark.parametrize("day, version", [(dt.date(2022, 12, 28), None), (dt.date(2026, 7, 1), "2026")])
def test_version_boundaries(shipped, day, version):
    # Before the 2022 trial standard: no version, never a finding; from 2026-07-01 第41号令 decides.
    facts = {"pw.parts": ["thermal"], "pw.large_units": True, "pw.overspeed_plan_missing_or_undrilled": True}
    check_version_boundary(shipped, "power", facts, day, version, "第六条（二）")


TRIAL_NOTE = "应按《重大电力安全隐患判定标准（试行）》（国能综通安全〔2022〕123号）判定，本工具尚未编码其条文"


@pytest.mark.parametrize("day", [dt.date(2022, 12, 29), dt.date(2024, 5, 1), dt.date(2026, 6, 30)])
def test_the_2022_trial_standard_is_named_but_not_encoded(shipped, day):
    # 国能综通安全〔2022〕123号 (2022-12-29 to the day before 第41号令): identity only, so a unit is told which
    # standard applies; a violation that 第41号令 would find decides nothing, and it never ends "none".
    facts = {"site.kinds": ["power"], "pw.parts": ["thermal"], "pw.large_units": True,
             "pw.overspeed_plan_missing_or_undrilled": True}
    verdict = shipped.judge(facts, on=day, sectors=["power"])
    (doc,) = verdict.documents
    assert doc.document.version == "2022" and doc.document.number == "国能综通安全〔2022〕123号"
    assert doc.identity_only and doc.outcome is DocumentOutcome.undetermined and doc.gaps
    assert doc.outcome_label == f"无法判定：{TRIAL_NOTE}"
    assert not doc.results
    assert verdict.outcome is OverallOutcome.undetermined and TRIAL_NOTE in verdict.outcome_label
    assert OverallOutcome.none not in verdict.possible_outcomes


def test_the_2022_checklist_carries_the_same_note(shipped):
    cl = checklists.build(shipped, dt.date(2025, 3, 1), None, {"site.kinds": ["power"]})
    assert TRIAL_NOTE in cl.notes


def test_a_clean_fully_answered_unit_is_none(shipped):
    # The whole text is encoded, so a unit that answers every question without a failure has no major hazard.
    doc = judge(shipped, clean(shipped))
    assert all(r.outcome is Outcome.not_triggered for r in doc.results)
    assert doc.outcome is DocumentOutcome.none


@pytest.mark.parametrize("missing", ["pw.parts", "pw.large_units", "pw.scada_in_scope", "pw.hydro_no_flooding_alarm",
                                     "site.special_workers_certified", "pw.other_serious_hazard"])
def test_one_unanswered_question_is_never_none(shipped, missing):
    facts = clean(shipped)
    del facts[missing]
    doc = judge(shipped, facts)
    assert doc.outcome is DocumentOutcome.undetermined
    assert not [r for r in doc.results if r.outcome is Outcome.triggered]


def test_an_unknown_facility_list_is_neither_a_finding_nor_not_applicable(shipped):
    facts = clean(shipped)
    del facts["pw.parts"]
    facts["pw.ash_yard_danger_grade"] = True
    doc = judge(shipped, facts)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert by_clause["第九条（二）"] is Outcome.undetermined
    assert not [c for c, o in by_clause.items() if o is Outcome.not_applicable and c.startswith(("第五条", "第七条", "第九条"))]
    assert doc.outcome is DocumentOutcome.undetermined


def test_a_grid_company_is_judged_on_grid_items_only(shipped):
    facts = clean(shipped, parts=["grid"])
    facts["pw.scada_in_scope"] = False
    facts["pw.turbine_valves_or_overspeed_deficient"] = True  # answered, but a grid company has no turbine
    doc = judge(shipped, facts)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert {c for c, o in by_clause.items() if o is Outcome.not_triggered} == GRID_ONLY | ALWAYS
    assert all(o is Outcome.not_applicable for c, o in by_clause.items() if c not in GRID_ONLY | ALWAYS)
    assert doc.outcome is DocumentOutcome.none


def test_a_grid_company_is_not_asked_about_plants(shipped):
    verdict = shipped.judge({"site.kinds": ["power"], "fire.in_scope": False, "pw.parts": ["grid"]}, on=ON)
    asked = {q.id for q in verdict.questions}
    assert "pw.uhv_transformer_gas_exceeded" in asked and "pw.safety_devices_disabled" in asked
    for fid in ("pw.large_units", "pw.turbine_valves_or_overspeed_deficient", "pw.hydro_no_flooding_alarm",
                "pw.ash_yard_danger_grade", "pw.schedule_compressed", "pw.quality_supervision_missing",
                "pw.renewables_grid_capability_deficient", "pw.pss_missing_or_off"):
        assert fid not in asked, fid


def test_the_checklist_asks_a_hydro_plant_only_what_concerns_it(shipped):
    cl = checklists.build(shipped, ON, None, {"site.kinds": ["power"], "fire.in_scope": False, "pw.parts": ["hydro"]})
    facts = {i.fact for i in cl.items}
    assert {"pw.dam_not_registered", "pw.hydro_no_flooding_alarm", "pw.pss_missing_or_off", "pw.no_emergency_plan_or_drills"} <= facts
    assert not facts & {"pw.ash_yard_not_assessed", "pw.tower_tilt_exceeded", "pw.turbine_valves_or_overspeed_deficient"}
    assert not cl.notes  # encoded: no "尚未编码" note


def test_article_six_needs_the_large_unit_heading(shipped):
    facts = clean(shipped, parts=["thermal"])
    facts.update({"pw.large_units": False, "pw.boiler_structures_weak": True})
    doc = judge(shipped, facts)
    by_clause = {r.citations[0].clause: r.outcome for r in doc.results}
    assert all(by_clause[f"第六条（{n}）"] is Outcome.not_applicable for n in "一二三四五")
    assert doc.outcome is DocumentOutcome.none


def test_the_catch_all_is_the_inspectors_and_shows_the_description(shipped):
    facts = clean(shipped, parts=["grid"])
    facts.update({"pw.other_serious_hazard": True, "pw.other_serious_hazard_description": "跨越铁路段导线断股未处理"})
    doc = judge(shipped, facts)
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第十四条"] and "跨越铁路段导线断股未处理" in hit.finding
    assert doc.outcome is DocumentOutcome.major


def test_a_partial_encoding_never_concludes_none(tmp_path):
    # Drop one article's rules from a copy: its items become gaps, and the cleanest answers stay undetermined.
    copy = tmp_path / "b"
    shutil.copytree(ROOT / "criteria", copy / "criteria")
    shutil.copytree(ROOT / "rules", copy / "rules")
    path = copy / "rules/power/ndrc-ling-41.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if not r["id"].startswith("pw2026.12-")]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    engine = hazardjudge.load(copy / "criteria", copy / "rules")
    doc = judge(engine, clean(engine))
    assert doc.outcome is DocumentOutcome.undetermined
    assert {g.clause for g in doc.gaps} == {"第十二条（一）", "第十二条（二）", "第十二条（三）"}


def test_the_example_is_a_major_hazard(shipped):
    parsed = parse_inspection((example_dir() / "power_plant.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection)
    doc = power(verdict)
    assert doc.document.version == "2026" and verdict.outcome is OverallOutcome.major
    (hit,) = [r for r in doc.results if r.outcome is Outcome.triggered]
    assert [c.clause for c in hit.citations] == ["第六条（二）"]
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.results if r is not hit)
