"""Overlays: an office's own documents, questions and rules on top of the shipped bundle.

An overlay adds without copying; it never changes a lower layer's item unless that item says
``replaces:`` with a reason, and every verdict names the layer of each finding and each
replacement.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import answers, consistent
from test_engine_oracle import check_agreement

import hazardjudge
from hazardjudge.api import OVERLAYS_ENV
from hazardjudge.cli import main
from hazardjudge.engine.models import OverallOutcome
from hazardjudge.errors import BundleError
from hazardjudge.outputs.rendering import render_text

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "overlays" / "example_office"
ON = dt.date(2026, 11, 20)
FACTS = {"site.kinds": ["industry_trade"], "example_office.quarterly_report_missing": True}


@pytest.fixture(scope="module")
def overlaid() -> hazardjudge.Engine:
    return hazardjudge.load(overlays=[EXAMPLE])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def office(tmp_path) -> Path:
    """A writable copy of the example overlay."""
    root = tmp_path / "office"
    shutil.copytree(EXAMPLE, root)
    return root


def codes(exc: pytest.ExceptionInfo) -> set[str]:
    return {p.code for p in exc.value.problems}


# ----------------------------------------------------------------- adding


def test_the_example_overlay_adds_a_document_a_question_and_a_rule(overlaid, shipped):
    bundle = overlaid.bundle
    assert [layer.id for layer in bundle.layers] == ["shipped", "example_office"]
    assert bundle.documents["example_office_checklist@2026"].located.layer == "example_office"
    assert bundle.fact_layer["example_office.quarterly_report_missing"] == "example_office"
    assert bundle.items["example_office.1"].file.layer == "example_office"
    # The shipped items are all still there, from the shipped layer, unchanged.
    assert set(shipped.bundle.items) < set(bundle.items)
    assert all(bundle.items[i].file.layer == "shipped" for i in shipped.bundle.items)
    assert not bundle.replacements


def test_a_finding_names_its_layer(overlaid):
    verdict = overlaid.judge(FACTS, on=ON, sectors=["example_office", "industry_trade"])
    (finding,) = [f for f in verdict.findings() if f.rule == "example_office.1"]
    assert finding.layer == "example_office" and finding.replaces is None
    doc = next(d for d in verdict.documents if d.sector == "example_office")
    assert doc.document.layer == "example_office"
    assert all(r.layer == "shipped" for d in verdict.documents if d.sector == "industry_trade" for r in d.results)
    assert [(layer.id, layer.overlay, layer.example) for layer in verdict.layers] == [
        ("shipped", False, False), ("example_office", True, True)
    ]
    text = render_text(verdict)
    assert "来源：叠加层 example_office" in text and "规则层次：shipped" in text and "示例" in text
    assert json.loads(verdict.model_dump_json())["documents"]


def test_without_the_overlay_its_sector_is_unknown(shipped):
    with pytest.raises(hazardjudge.InputError):
        shipped.judge(FACTS, on=ON, sectors=["example_office"])


def test_the_fingerprint_includes_the_overlays(overlaid, shipped, office):
    assert overlaid.bundle.fingerprint != shipped.bundle.fingerprint
    assert hazardjudge.load(overlays=[office]).bundle.fingerprint == overlaid.bundle.fingerprint  # content, not place
    rule = office / "rules/example_office/checklist-2026.yaml"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# edit\n", encoding="utf-8")
    assert hazardjudge.load(overlays=[office]).bundle.fingerprint != overlaid.bundle.fingerprint


def test_sources_load_the_same_engine_again(overlaid):
    criteria, rules, overlays = overlaid.sources
    assert overlays == (EXAMPLE,)
    assert hazardjudge.load(*overlaid.sources).bundle.fingerprint == overlaid.bundle.fingerprint


def test_the_environment_names_overlays_unless_the_caller_does(monkeypatch, overlaid, shipped):
    monkeypatch.setenv(OVERLAYS_ENV, f"{EXAMPLE}{__import__('os').pathsep}")
    assert hazardjudge.load().bundle.fingerprint == overlaid.bundle.fingerprint
    assert hazardjudge.load(overlays=[]).bundle.fingerprint == shipped.bundle.fingerprint


def test_an_overlay_adds_answer_phrases(overlaid, shipped):
    assert overlaid.read({"site.special_workers_certified": "经核查不属实"}).values == {"site.special_workers_certified": False}
    with pytest.raises(hazardjudge.InputError):
        shipped.read({"site.special_workers_certified": "经核查不属实"})


def test_an_overlay_may_add_rules_to_a_shipped_document(office):
    write(office / "rules/industry_trade/office-extra.yaml", """
schema: hazardjudge/rules/1
document: gongmao_major_hazard
version: "2023"
rules:
  - id: example_office.gongmao_extra
    cites: [第三条（一）]
    condition: {fact: example_office.quarterly_report_missing, eq: true}
    finding: （示例）另一种读法。
    rectification: （示例）整改。
    tests:
      - {name: 是, expect: triggered, facts: {example_office.quarterly_report_missing: true}}
      - {name: 否, expect: not_triggered, facts: {example_office.quarterly_report_missing: false}}
      - {name: 未查, expect: undetermined, facts: {}}
""")
    engine = hazardjudge.load(overlays=[office])
    verdict = engine.judge(FACTS, on=ON, sectors=["industry_trade"])
    (finding,) = [f for f in verdict.findings() if f.rule == "example_office.gongmao_extra"]
    assert finding.layer == "example_office" and finding.citations[0].clause == "第三条（一）"


# ----------------------------------------------------------------- replacing


REPLACING_RULE = """
schema: hazardjudge/rules/1
document: mohurd_city_gas_major_hazard
version: "2023"
rules:
  - id: city_gas.4-1
    cites: [第四条（一）]
    {replaces}
    condition: {{fact: gas.license_held, eq: false}}
    finding: （示例）按本单位读法：未取得燃气经营许可。
    rectification: （示例）依法取得许可。
    tests:
      - {{name: 无证, expect: triggered, facts: {{gas.license_held: false}}}}
      - {{name: 有证, expect: not_triggered, facts: {{gas.license_held: true}}}}
      - {{name: 未查, expect: undetermined, facts: {{}}}}
"""


def test_an_overlay_cannot_silently_change_a_shipped_rule(office):
    write(office / "rules/city_gas/own.yaml", REPLACING_RULE.format(replaces=""))
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    (problem,) = [p for p in exc.value.problems if p.code == "overlay.conflict"]
    assert "city_gas.4-1 已由 shipped 层定义" in problem.message and "replaces" in problem.hint
    assert problem.position.file.endswith("own.yaml") and problem.position.line > 1


def test_a_replacement_with_its_reason_is_shown_in_the_verdict(office):
    write(office / "rules/city_gas/own.yaml", REPLACING_RULE.format(replaces="replaces: {reason: 示例：按本区执法口径改写结论文字}"))
    engine = hazardjudge.load(overlays=[office])
    (r,) = engine.bundle.replacements
    assert (r.what, r.id, r.layer, r.replaced_layer) == ("rule", "city_gas.4-1", "example_office", "shipped")
    verdict = engine.judge({"site.kinds": ["gas_operator"], "gas.license_held": False}, on=ON)
    finding = next(f for f in verdict.findings() if f.rule == "city_gas.4-1")
    assert finding.layer == "example_office" and finding.replaces.reason == "示例：按本区执法口径改写结论文字"
    assert finding.finding.startswith("（示例）按本单位读法")
    assert [x.id for x in verdict.replacements] == ["city_gas.4-1"]
    assert "替换了 shipped 层的规则 city_gas.4-1，理由：示例：按本区执法口径改写结论文字" in render_text(verdict)


def test_replaces_on_nothing_and_on_another_document_are_refused(office):
    write(office / "rules/example_office/more.yaml", """
schema: hazardjudge/rules/1
document: example_office_checklist
version: "2026"
rules:
  - id: example_office.2
    cites: [要点一]
    replaces: {reason: 没有可替换的规则}
    condition: {fact: example_office.quarterly_report_missing, eq: false}
    finding: （示例）x。
    rectification: （示例）y。
""")
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    assert "overlay.replaces_nothing" in codes(exc)


def test_a_replaced_rule_must_encode_the_same_document(office):
    write(office / "rules/example_office/more.yaml", """
schema: hazardjudge/rules/1
document: example_office_checklist
version: "2026"
rules:
  - id: city_gas.4-1
    cites: [要点一]
    replaces: {reason: 换到另一份文件}
    condition: {fact: example_office.quarterly_report_missing, eq: true}
    finding: （示例）x。
    rectification: （示例）y。
""")
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    assert "overlay.replaces_elsewhere" in codes(exc)


def test_a_shipped_question_is_replaced_only_with_a_reason(office):
    fact = """
schema: hazardjudge/facts/1
facts:
  - id: gas.license_held
    type: boolean
    {replaces}
    question: 是否已取得燃气经营许可证（本区口径）？
    help: 示例：查看许可证原件。
"""
    write(office / "rules/facts/gas.yaml", fact.format(replaces=""))
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    assert "overlay.conflict" in codes(exc)
    write(office / "rules/facts/gas.yaml", fact.format(replaces="replaces: {reason: 示例：问题加上本区口径}"))
    engine = hazardjudge.load(overlays=[office])
    assert engine.bundle.facts["gas.license_held"].question.endswith("（本区口径）？")
    verdict = engine.judge({"site.kinds": ["gas_operator"], "gas.license_held": False}, on=ON)
    assert [(x.what, x.id) for x in verdict.replacements] == [("fact", "gas.license_held")]


def test_a_shipped_document_version_is_replaced_only_with_a_reason(office, shipped):
    text = (ROOT / "criteria/chemicals/aq3067-2026.yaml").read_text(encoding="utf-8")
    write(office / "criteria/chemicals/aq3067-2026.yaml", text)
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    assert "overlay.conflict" in codes(exc)
    write(office / "criteria/chemicals/aq3067-2026.yaml", text + "replaces: {reason: 示例：本单位已取得原文}\n")
    engine = hazardjudge.load(overlays=[office])
    assert engine.bundle.documents["chem_major_hazard@AQ3067-2026"].located.layer == "example_office"


# ----------------------------------------------------------------- bad overlays


def test_an_overlay_folder_needs_its_manifest(tmp_path):
    (tmp_path / "plain" / "rules").mkdir(parents=True)
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[tmp_path / "plain"])
    assert codes(exc) == {"overlay.manifest"}
    assert "缺少 overlay.yaml" in exc.value.problems[0].message
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[tmp_path / "missing"])
    assert codes(exc) == {"overlay.missing_dir"}


def test_two_layers_cannot_share_an_id(office):
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[EXAMPLE, office])
    assert codes(exc) == {"overlay.duplicate_id"}


def test_an_empty_overlay_and_an_overlay_catalogue_are_refused(office, tmp_path):
    empty = write(tmp_path / "empty" / "overlay.yaml", "schema: hazardjudge/overlay/1\nid: empty\ntitle: 空的叠加层\n").parent
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[empty])
    assert codes(exc) == {"overlay.empty"}
    write(office / "rules/observations.yaml", "schema: hazardjudge/observations/1\nobservations: []\n")
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    assert "overlay.observations" in codes(exc)


def test_an_overlay_file_error_names_its_line(office):
    rule = office / "rules/example_office/checklist-2026.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("eq: true}", "eq: 是}"), encoding="utf-8")
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(overlays=[office])
    (p,) = exc.value.problems
    assert p.code == "rules.bad_value" and p.position.file.endswith("checklist-2026.yaml") and p.position.line == 7


# ----------------------------------------------------------------- commands


def test_every_bundle_command_takes_overlays(tmp_path, capsys):
    inspection = EXAMPLE / "example_inspection.yaml"
    assert main(["judge", str(inspection), "--overlay", str(EXAMPLE)]) == 1
    assert "来源：叠加层 example_office" in capsys.readouterr().out
    assert main(["judge", str(inspection), "--overlay", str(EXAMPLE), "--format", "json"]) == 1
    verdict = json.loads(capsys.readouterr().out)
    assert [f["layer"] for d in verdict["documents"] for f in d["results"] if f["outcome"] == "triggered"] == ["example_office"]
    assert main(["explain", str(inspection), "--overlay", str(EXAMPLE)]) == 1
    capsys.readouterr()
    assert main(["notice", str(inspection), "--overlay", str(EXAMPLE), "--format", "txt"]) == 1
    assert "本季度未在区应急管理局指定平台上报" in capsys.readouterr().out
    assert main(["checklist", "--sector", "example_office", "--on", "2026-11-20", "--overlay", str(EXAMPLE)]) == 0
    assert "example_office.quarterly_report_missing" in capsys.readouterr().out
    assert main(["lint", "--overlay", str(EXAMPLE), "--format", "json"]) == 0
    assert not [p for p in json.loads(capsys.readouterr().out) if p["severity"] == "error"]
    assert main(["test", "--overlay", str(EXAMPLE), "-v"]) == 0
    assert "example_office.1::未上报" in capsys.readouterr().out
    assert main(["coverage", "--overlay", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "示例区应急管理局工贸企业检查要点" in out and "example_office 层" in out
    assert main(["judge", str(inspection)]) == 65  # without the overlay: an unknown sector
    capsys.readouterr()


def test_diff_shows_what_an_overlay_adds(capsys):
    assert main(["diff", str(ROOT), str(ROOT), "--new-overlay", str(EXAMPLE), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    added = {(c["what"], c["key"]) for c in report["changes"] if c["kind"] == "added"}
    assert ("document", "example_office_checklist@2026") in added and ("rule", "example_office.1") in added
    assert {c["subject"] for c in report["test_cases"]} >= {"example_office.1::未上报"}
    # The same overlay on both sides: nothing changes.
    assert main(["diff", str(ROOT), str(ROOT), "--overlay", str(EXAMPLE), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []


def test_a_bad_overlay_is_a_bundle_error_on_the_command_line(tmp_path, capsys):
    assert main(["judge", str(EXAMPLE / "example_inspection.yaml"), "--overlay", str(tmp_path)]) == 78
    assert "overlay.manifest" in capsys.readouterr().err


# ----------------------------------------------------------------- engine and oracle


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_overlaid_engine_agrees_with_oracle(overlaid, data):
    facts = data.draw(answers(overlaid))
    chosen = data.draw(st.sampled_from([["example_office"], ["example_office", "industry_trade"], None]))
    check_agreement(overlaid, consistent(overlaid, facts, chosen), ON, chosen)


def test_an_unanswered_overlay_question_is_never_none(overlaid):
    verdict = overlaid.judge({"site.kinds": ["industry_trade"]}, on=ON, sectors=["example_office"])
    assert verdict.outcome is OverallOutcome.undetermined
    assert [q.id for q in verdict.questions] == ["example_office.quarterly_report_missing"]
