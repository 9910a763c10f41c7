"""Chemicals from 2026-09-30: AQ 3067-2026 is in force but only partly encoded (38 of 53 items, read in
one source), so 安监总管三〔2017〕121号 is still judged as a provisional reference named in the criteria
data — every met item labelled, kept apart from confirmed findings, never a confirmed major hazard and
never "none". Only an encoded AQ 3067-2026 item can make the verdict major."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers, consistent
from test_engine_oracle import check_agreement

import hazardjudge
from hazardjudge import clock
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, Outcome, OverallOutcome, Verdict
from hazardjudge.engine.oracle import OracleEvaluator
from hazardjudge.errors import BundleError
from hazardjudge.inputs import checklists
from hazardjudge.inputs.inspections import parse_inspection
from hazardjudge.outputs import explaining, notices, rendering

BEFORE, BOUNDARY = dt.date(2026, 9, 29), dt.date(2026, 9, 30)
AFTER = [BOUNDARY, dt.date(2026, 12, 1)]
LABEL_15 = "依据安监总管三〔2017〕121号第十五项；该文件在 AQ 3067-2026 实施后的效力未核实，AQ 3067-2026 对应条款待核对"
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Every 121号 item answered on the safe side (a tank farm of level 2, every "when" opened).
CLEAN = {
    "site.kinds": ["hc_production"], "site.special_workers_certified": True,
    "chem.leaders_assessed": True, "chem.two_key_one_major": True, "chem.external_distance_compliant": True,
    "chem.key_process": True, "chem.key_process_automated": True, "chem.key_process_esd": True,
    "chem.key_process_systems_in_use": True, "chem.tank_farm_major_hazard_level": "level2",
    "chem.tank_farm_emergency_cutoff": True, "chem.tank_farm_toxic_or_liquefied": True,
    "chem.tank_farm_independent_sis": True, "chem.full_pressure_lh_tanks": True, "chem.lh_tank_water_injection": True,
    "chem.fills_liquefied_gas": True, "chem.swivel_loading_arm": True, "chem.toxic_pipeline_public_area": False,
    "chem.overhead_line_crosses": False, "chem.unit_formally_designed": True, "chem.safety_design_diagnosed": True,
    "chem.uses_phased_out": False, "chem.gas_detection_complete": True, "chem.explosion_proof_complete": True,
    "chem.control_room_protection_compliant": True, "chem.dual_power_supply": True, "chem.control_system_ups": True,
    "chem.safety_accessories_in_use": True, "chem.responsibility_system": True, "chem.hazard_management_system": True,
    "chem.operating_procedures": True, "chem.process_control_limits": True, "chem.special_work_system": True,
    "chem.special_work_system_effective": True, "chem.new_process_skipped_trials": False,
    "chem.first_use_process_not_demonstrated": False, "chem.started_without_trial_plan": False,
    "chem.fine_chemical": True, "chem.reaction_risk_assessed": True, "chem.storage_zoned": True,
    "chem.storage_over_limit": False, "chem.incompatible_together": False,
}
VALVE_OUT = {**CLEAN, "chem.safety_accessories_in_use": False}


def chem(verdict):
    return next(d for d in verdict.documents if d.sector == "chemicals")


def labels(verdict):
    return [verdict.outcome_label] + [d.outcome_label for d in verdict.documents]


def test_the_day_before_the_boundary_gives_a_confirmed_finding(shipped):
    verdict = shipped.judge(VALVE_OUT, on=BEFORE, sectors=["chemicals"])
    doc = chem(verdict)
    assert verdict.outcome is OverallOutcome.major and doc.document.version == "2017"
    assert [(r.rule, r.status, r.status_note) for r in verdict.findings()] == [("chem2017.15", "confirmed", None)]
    assert doc.reference is None and doc.provisional == [] and verdict.provisional == 0
    assert shipped.judge(CLEAN, on=BEFORE, sectors=["chemicals"]).outcome is OverallOutcome.none


@pytest.mark.parametrize("on", AFTER)
def test_from_the_boundary_a_met_item_is_provisional_and_labelled(shipped, on):
    verdict = shipped.judge(VALVE_OUT, on=on, sectors=["chemicals"])
    doc = chem(verdict)
    # (a) the standard in force is named, and that its items are not all encoded
    assert doc.document.number == "AQ 3067-2026" and doc.gaps
    assert "AQ 3067-2026" in doc.outcome_label and "尚未全部编码" in doc.outcome_label
    # (b) judged against 121号 as reference, kept apart from confirmed findings; AQ 3067-2026's own
    # items asked by other questions stay open (5.4.6 asks 安全阀、爆破片 apart from 121号's 安全附件)
    assert all(r.outcome is not Outcome.triggered for r in doc.results) and verdict.findings() == []
    assert next(r for r in doc.results if r.rule == "aq3067.5.4.6").outcome is Outcome.undetermined
    assert doc.reference.number == "安监总管三〔2017〕121号" and "未见正式文件说明" in doc.reference_note
    met = verdict.provisional_findings()
    assert [(r.rule, r.status, r.status_note) for r in met] == [("chem2017.15", "provisional", LABEL_15)]
    assert all(r.status == "provisional" and r.status_note for r in doc.provisional)
    assert verdict.provisional == 1
    # (c) neither "none" nor a confirmed major hazard
    assert verdict.outcome is OverallOutcome.undetermined and doc.outcome is DocumentOutcome.undetermined
    # further answers can only confirm an AQ 3067-2026 item, never reach "none"
    assert set(verdict.possible_outcomes) == {OverallOutcome.undetermined, OverallOutcome.major}
    assert not any("未发现" in t or t.startswith("存在") for t in labels(verdict))
    assert "1 项" in verdict.outcome_label and "待核对" in verdict.outcome_label


def test_the_json_carries_the_status_as_a_field_and_the_schema_shows_it(shipped):
    verdict = shipped.judge(VALVE_OUT, on=AFTER[-1], sectors=["chemicals"])
    data = json.loads(verdict.model_dump_json())
    doc = data["documents"][0]
    met = [r for r in doc["provisional"] if r["outcome"] == "triggered"]
    assert [(r["rule"], r["status"], r["status_note"]) for r in met] == [("chem2017.15", "provisional", LABEL_15)]
    assert doc["reference"]["version"] == "2017" and data["provisional"] == 1
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict
    schema = Verdict.model_json_schema()
    assert schema["$defs"]["RuleResult"]["properties"]["status"]["enum"] == ["confirmed", "provisional"]
    assert "provisional" in schema["$defs"]["DocumentResult"]["properties"]
    shipped_schema = json.loads((Path(__file__).parents[1] / "docs" / "verdict.schema.json").read_text(encoding="utf-8"))
    assert shipped_schema["$defs"]["RuleResult"]["properties"]["status"]["enum"] == ["confirmed", "provisional"]


def test_the_notice_prints_the_item_with_its_label(shipped):
    verdict = shipped.judge(VALVE_OUT, on=AFTER[-1], sectors=["chemicals"])
    notice = notices.build(verdict, notices.NoticeConfig(issue_date=AFTER[-1]))
    assert notice.kind == "general" and notice.title != "重大事故隐患整改通知书"
    [item] = notice.items
    assert item.status == "provisional" and item.status_note == LABEL_15 and "121号" in item.document
    assert notice.reference_notes == [chem(verdict).reference_note]
    for fmt in ("txt", "md", "html"):
        text = notices.render(notice, fmt)
        assert "【参照判定，待核对】" in text and "实施后的效力未核实" in text
        assert "【重大隐患】" not in text


def test_the_explain_trace_and_the_report_carry_the_label(shipped):
    exp = explaining.explain(shipped, VALVE_OUT, AFTER[-1], ["chemicals"])
    [doc] = exp.documents
    assert doc.document == "chem_major_hazard@AQ3067-2026" and doc.reference == "chem_major_hazard@2017"
    assert all(r.outcome is not Outcome.triggered for r in doc.rules)
    met = [r for r in doc.provisional if r.outcome is Outcome.triggered]
    assert [(r.rule, r.status, r.status_note) for r in met] == [("chem2017.15", "provisional", LABEL_15)]
    assert all(r.consistent for r in doc.provisional)
    text = explaining.render_text(exp)
    assert LABEL_15 in text and "参照判定" in text
    report = rendering.render_text(exp.verdict)
    assert LABEL_15 in report and "不是确认的判定" in report and "发现的重大" not in report


@pytest.mark.parametrize("on", AFTER)
def test_a_clean_answer_set_after_the_boundary_is_undetermined_with_its_reason(shipped, on):
    verdict = shipped.judge(CLEAN, on=on, sectors=["chemicals"])
    doc = chem(verdict)
    assert verdict.outcome is OverallOutcome.undetermined and verdict.provisional == 0
    assert not any("未发现" in t for t in labels(verdict))
    assert verdict.outcome_label == doc.outcome_label
    assert "AQ 3067-2026" in doc.outcome_label and "未触发所列情形" in doc.outcome_label
    assert all(r.outcome in (Outcome.not_triggered, Outcome.not_applicable) for r in doc.provisional)
    notice = notices.build(verdict, notices.NoticeConfig())
    # The sheet asks for AQ 3067-2026's own unread clauses to be checked by hand.
    assert notice.kind == "supplementary"
    assert any("（AQ 3067-2026）5.1.2所列情形" in t and "未能取得或核验" in t for t in notice.to_check)


def test_a_partly_answered_inspection_asks_the_121_questions_as_reference(shipped):
    verdict = shipped.judge({"site.kinds": ["hc_production"]}, on=AFTER[-1])
    asked = {q.id: q for q in verdict.questions}
    assert "chem.safety_accessories_in_use" in asked
    assert "参照判定" in asked["chem.safety_accessories_in_use"].reason
    assert {t.version for t in asked["chem.safety_accessories_in_use"].decides} == {"2017"}
    assert "尚有" in chem(verdict).outcome_label


def test_today_is_judged_the_same_way(shipped):
    if clock.today() < BOUNDARY:  # pragma: no cover - the suite runs after the boundary
        pytest.skip("today is before AQ 3067-2026 takes effect")
    verdict = shipped.judge(VALVE_OUT, sectors=["chemicals"])
    assert verdict.outcome is OverallOutcome.undetermined and verdict.provisional == 1


def test_the_shipped_chemical_example_is_provisional_and_agrees_with_the_oracle(shipped):
    parsed = parse_inspection((example_dir() / "chemical_plant.yaml").read_text(encoding="utf-8"))
    check_agreement(shipped, dict(parsed.inspection.facts), parsed.inspection.on, None)
    verdict = shipped.judge(parsed.inspection)
    assert verdict.inspection_date == dt.date(2026, 12, 1)
    assert verdict.outcome is OverallOutcome.undetermined
    assert [r.status_note for r in verdict.provisional_findings()] == [LABEL_15]


def test_the_checklist_after_the_boundary_asks_the_121_questions_with_a_note(shipped):
    before = checklists.build(shipped, BEFORE, ["chemicals"])
    after = checklists.build(shipped, AFTER[-1], ["chemicals"])
    assert before.notes == [] and {i.section for i in before.items} == {"化工和危险化学品"}
    reference_note = shipped.bundle.documents["chem_major_hazard@AQ3067-2026"].doc.provisional_reference.note
    assert reference_note in after.notes
    reference = "化工和危险化学品（参照安监总管三〔2017〕121号）"
    # AQ 3067-2026's own questions come first, then 121号's that it does not share, under their section.
    assert {i.section for i in after.items} == {"化工和危险化学品", reference}
    ref_items = [i.fact for i in after.items if i.section == reference]
    own = [i.fact for i in after.items if i.section == "化工和危险化学品"]
    assert "chem.relief_devices_in_use" in own and "chem.safety_accessories_in_use" in ref_items
    assert set(own) | set(ref_items) >= {i.fact for i in before.items}
    assert after.notes == [reference_note]
    note = f"{checklists.NOTE_LABEL}：{reference_note}"
    for fmt in ("md", "chat", "yaml"):
        assert note in checklists.RENDERERS[fmt](after)
    assert f"{checklists.NOTE_LABEL},{reference_note}" in checklists.to_csv(after)
    assert json.loads(checklists.to_json(after))["notes"] == after.notes


@pytest.mark.parametrize("fmt", ["md", "chat"])
def test_the_note_comes_back_from_a_pasted_checklist_without_problems(shipped, fmt):
    after = checklists.build(shipped, AFTER[-1], ["chemicals"])
    answers_, pasted = shipped.paste(checklists.RENDERERS[fmt](after))
    assert pasted.problems == [] and pasted.on == AFTER[-1]


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("on", AFTER)
def test_provisional_items_never_give_none_or_major_and_agree_with_the_oracle(shipped, on):
    oracle = OracleEvaluator(shipped.compiled)

    @SETTINGS
    @given(answers(shipped), st.integers(0, 2**32 - 1), st.floats(0.0, 1.0))
    def run(full, seed, share):
        full = consistent(shipped, {k: v for k, v in full.items() if k.startswith(("chem.", "site."))}, ["chemicals"])
        check_agreement(shipped, full, on, ["chemicals"])
        rng = random.Random(seed)
        partial = {k: v for k, v in full.items() if rng.random() < share}
        first = shipped.judge(partial, on=on, sectors=["chemicals"])
        second = shipped.judge(full, on=on, sectors=["chemicals"])
        for v in (first, second):
            # Only an encoded AQ 3067-2026 item confirms; 121号 as reference never concludes, and the
            # unread AQ items keep "none" out of reach.
            assert v.outcome is not OverallOutcome.none
            assert all(r.rule.startswith("aq3067.") and r.status == "confirmed" for r in v.findings())
            assert (v.outcome is OverallOutcome.major) == bool(v.findings())
            assert v.provisional == len(v.provisional_findings())
            assert not any("未发现" in t for t in labels(v))
        # 121号 has no exclusions: more answers never take a provisional item back.
        assert {r.rule for r in first.provisional_findings()} <= {r.rule for r in second.provisional_findings()}
        by_oracle = shipped.evaluate(shipped.read(full), on, ["chemicals"], evaluator=oracle)[0]
        met = {t for t, o in by_oracle.groups.get("chem_major_hazard@2017", {}).items() if o.outcome is Outcome.triggered}
        assert {r.rule for r in second.provisional_findings()} == met

    run()


def _provisional_demo(root):
    path = root / "criteria" / "demo-2025.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "supersedes: [demo_standard@2017]\n",
        "supersedes: [demo_standard@2017]\nprovisional_reference:\n  version: \"2017\"\n"
        "  label: 依据 DEMO 1-2017 第{clause}条；效力未核实\n  note: 演示：2025 版未全部编码，参照 2017 版判定。\n",
    )
    path.write_text(text, encoding="utf-8")
    return hazardjudge.load(root / "criteria", root / "rules")


def test_a_provisional_reference_with_combinations_and_exclusions_agrees_with_the_oracle(demo_copy):
    engine = _provisional_demo(demo_copy)
    on = dt.date(2026, 1, 1)

    @SETTINGS
    @given(answers(engine))
    def run(facts):
        facts = consistent(engine, facts, ["demo"])
        check_agreement(engine, facts, on, ["demo"])
        verdict = engine.judge(facts, on=on, sectors=["demo"])
        doc = verdict.documents[0]
        assert doc.reference is not None and doc.reference.version == "2017"
        # The reference adds labelled items; only the version in force can make the verdict major.
        confirmed = any(r.outcome is Outcome.triggered and r.major and r.kind != "exclusion" for r in doc.results)
        assert (verdict.outcome is OverallOutcome.major) == confirmed
        assert verdict.outcome is not OverallOutcome.none
        assert all(r.status == "provisional" and r.status_note.startswith("依据 DEMO 1-2017 第") for r in doc.provisional)

    run()


def test_a_reference_to_an_unknown_or_later_version_is_refused(demo_copy):
    path = demo_copy / "criteria" / "demo-2025.yaml"
    base = path.read_text(encoding="utf-8")
    for version, label, expect in (
        ("1999", "依据第{clause}条", "provisional_reference"),
        ("2017", "没有条款占位", "{clause}"),
    ):
        path.write_text(
            base.replace(
                "supersedes: [demo_standard@2017]\n",
                f"supersedes: [demo_standard@2017]\nprovisional_reference:\n  version: \"{version}\"\n"
                f"  label: {label}\n  note: 说明文字。\n",
            ),
            encoding="utf-8",
        )
        with pytest.raises(BundleError, match=expect.replace("{", r"\{").replace("}", r"\}")):
            hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
