"""Tools for standards staff: lint logic checks, JUnit, coverage, diff and explain."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from test_loading_errors import edit

import hazardjudge
from hazardjudge.cli import main

RULES_2025 = Path("rules/demo/v2025.yaml")


def test_lint_reports_a_rule_that_can_never_trigger(demo_copy, capsys):
    edit(demo_copy / RULES_2025, "condition: {fact: demo.people, gt: 500}",
         "condition: {all: [{fact: demo.people, gt: 500}, {fact: demo.people, lt: 100}]}")
    assert main(["lint", str(demo_copy)]) == 1
    out = capsys.readouterr().out
    assert "logic.never_triggers" in out and "v2025.yaml:" in out


def test_lint_warns_about_duplicate_encodings_and_unverified_citations(demo_copy, capsys):
    path = demo_copy / RULES_2025
    text = path.read_text(encoding="utf-8")
    copy = text.split("rules:\n", 1)[1].replace("demo.crowding", "demo.crowding_again")
    path.write_text(text + copy.replace('cites: ["5.1"]', 'cites: ["5.1", "5.2"]'), encoding="utf-8")
    assert main(["lint", str(demo_copy)]) == 0  # warnings only
    out = capsys.readouterr().out
    assert "logic.duplicate_encoding" in out and "logic.cites_unverified" in out
    assert main(["lint", str(demo_copy), "--strict"]) == 1


def test_lint_warns_about_a_question_without_help(demo_copy, capsys):
    facts = demo_copy / "rules/facts/demo.yaml"
    edit(facts, "question: 规范要求的安全出口宽度是多少？",
         "question: 规范要求的安全出口宽度是多少？\n    help: 按设计文件标注的宽度填写。")
    edit(facts, "question: 场所等级", "question: 场所等级\n    help: \"  \"")
    assert main(["lint", str(demo_copy), "--format", "json"]) == 0  # a warning, not an error
    problems = [p for p in json.loads(capsys.readouterr().out) if p["code"] == "fact.no_help"]
    flagged = {p["message"].split()[1]: p for p in problems}
    assert "demo.exit_width_required" not in flagged
    assert "demo.grade" in flagged  # blank help is no help
    width = flagged["demo.exit_width"]
    assert width["severity"] == "warning" and width["file"].endswith("demo.yaml")
    lines = facts.read_text(encoding="utf-8").splitlines()
    assert lines[width["line"] - 1].strip() == "- id: demo.exit_width"


def test_junit_report_names_failing_cases(demo_copy, tmp_path, capsys):
    edit(demo_copy / RULES_2025, "demo.people: 501}", "demo.people: 499}")
    report = tmp_path / "junit.xml"
    assert main(["test", str(demo_copy), "--junit", str(report)]) == 1
    root = ET.parse(report).getroot()
    assert root.get("failures") == "1"
    failure = root.find(".//failure")
    assert failure is not None and "demo.crowding::超员" in failure.text


def test_coverage_text_and_html(demo_copy, tmp_path, capsys):
    assert main(["coverage", str(demo_copy)]) == 0
    out = capsys.readouterr().out
    assert "demo_standard@2017" in out and "条件分支覆盖" in out
    assert "5.3（未编码）" not in out  # 5.3 belongs to 2025
    html = tmp_path / "cov.html"
    assert main(["coverage", str(demo_copy), "--format", "html", "-o", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert "<table>" in page and "未编码" in page


def test_coverage_finds_an_untested_branch(demo_copy, capsys):
    # Drop the only case that reaches the width branch of demo.exit as "not triggered".
    edit(demo_copy / "rules/demo/v2017.yaml",
         "      - {name: 恰为75%, expect: not_triggered, facts: {demo.exit_width: 1.05, demo.exit_width_required: 1.4}}\n", "")
    edit(demo_copy / "rules/demo/v2017.yaml", "      - {name: 缺规定值, expect: undetermined",
         "      - {name: 宽度足够, expect: undetermined, facts: {}}\n      - {name: 缺规定值, expect: not_triggered")
    main(["coverage", str(demo_copy)])
    out = capsys.readouterr().out
    assert "未覆盖 demo.exit → not_triggered" in out


def test_diff_shows_changed_rule_cases_and_stored_inspections(demo_copy, tmp_path, capsys):
    new = tmp_path / "new"
    shutil.copytree(demo_copy, new)
    edit(new / RULES_2025, "condition: {fact: demo.people, gt: 500}", "condition: {fact: demo.people, gt: 400}")
    edit(new / "criteria/demo-2025.yaml", "summary: 人数超过限额。", "summary: 人数超过新的限额。")
    stored = tmp_path / "inspection.yaml"
    stored.write_text("date: 2026-01-05\nsectors: [demo]\nfacts: {demo.grade: a, demo.people: 450}\n", encoding="utf-8")
    assert main(["diff", str(demo_copy), str(new), "--inspections", str(stored), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    changed = {(c["what"], c["key"]) for c in report["changes"]}
    assert ("rule", "demo.crowding") in changed and ("clause", "demo_standard@2025 5.1") in changed
    assert {c["subject"] for c in report["test_cases"]} == {"demo.crowding::恰为限额"}
    (insp,) = report["inspections"]
    assert insp["old"] == "undetermined" and insp["new"].startswith("major")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain_traces_every_condition(fmt, capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("sectors: [city_gas]\nfacts: {gas.odorized: 否, gas.license_held: 是}\n"))
    assert main(["explain", "-", "--on", "2026-11-01", "--format", fmt]) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        data = json.loads(out)
        rules = [r for d in data["documents"] for r in d["rules"]]
        assert all(r["consistent"] for r in rules)
        odor = next(r for r in rules if r["rule"] == "city_gas.8")
        assert odor["outcome"] == "triggered" and odor["condition"]["truth"] == "true"
        assert next(r for r in rules if r["rule"] == "city_gas.4-2")["condition"]["truth"] == "unknown"
    else:
        assert "✓ 供应的燃气是否具有标准要求的警示性臭味" in out and "理由" in out


def test_explain_agrees_with_the_engine_on_random_inspections(shipped, demo):

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from strategies import DATES, answers, consistent, sectors

    from hazardjudge.outputs.explaining import explain

    for engine in (shipped, demo):
        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(answers(engine), st.sampled_from(DATES), sectors(engine))
        def run(facts, on, chosen):
            result = explain(engine, consistent(engine, facts, chosen), on, chosen)
            assert all(r.consistent for d in result.documents for r in d.rules)

        run()


def test_judge_refuses_a_bundle_that_lint_rejects(demo_copy, tmp_path, capsys):
    """A rule that can never trigger would report a real hazard as 未发现: judging refuses the bundle."""
    edit(demo_copy / RULES_2025, "condition: {fact: demo.people, gt: 500}",
         "condition: {all: [{fact: demo.people, gt: 500}, {fact: demo.people, lt: 100}]}")
    inspection = tmp_path / "i.yaml"
    inspection.write_text("date: 2026-01-01\nfacts:\n  demo.kinds: [demo_place]\n  demo.people: 800\n", encoding="utf-8")
    assert main(["judge", str(inspection), "--criteria", str(demo_copy / "criteria"), "--rules", str(demo_copy / "rules")]) == 78
    err = capsys.readouterr().err
    assert "logic.never_triggers" in err and "v2025.yaml:" in err
    engine = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    with pytest.raises(hazardjudge.BundleError):
        engine.judge({"demo.kinds": ["demo_place"], "demo.people": 800}, on=dt.date(2026, 1, 1))
