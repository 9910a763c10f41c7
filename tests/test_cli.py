"""The command line: documented exit codes, machine output, and clear errors without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir

EXAMPLE = example_dir() / "city_gas_station.yaml"


def run(args, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(args)


def test_example_is_major_with_exit_1(capsys):
    assert main(["judge", str(EXAMPLE)]) == 1
    out = capsys.readouterr().out
    assert "存在重大隐患" in out and "第五条（一）" in out and "第九条（一）" in out
    assert "gas.sells_non_owned_filled" in out  # the question still open


def test_json_output_is_a_verdict(capsys):
    from hazardjudge.engine.models import Verdict

    assert main(["judge", str(EXAMPLE), "--format", "json"]) == 1
    verdict = Verdict.model_validate_json(capsys.readouterr().out)
    assert {r.rule for r in verdict.findings()} == {"city_gas.5-1", "city_gas.9-1"}
    assert verdict.inspection_date.isoformat() == "2026-11-18"


def test_stdin_json_none_found_exit_0(capsys, monkeypatch, shipped):
    facts = {f: True for f, d in shipped.bundle.facts.items() if d.type.value == "boolean" and f.startswith("gas.")}
    facts.update({
        "site.kinds": ["gas_operator"], "fire.in_scope": False, "gas.mp_line_encroached": False, "gas.pipe_in_underground_structure": False,
        "gas.fills_non_owned_cylinders": False, "gas.sells_unlicensed_filled": False, "gas.sells_non_owned_filled": False,
        "gas.user_heavy_gas_underground_found": False, "gas.user_pipe_in_toilet_found": False,
        "gas.user_gas_in_bedroom_found": False, "gas.user_obsolete_appliance_found": False, "gas.other_serious_violation": False,
    })
    code = run(["judge", "-", "--on", "2026-01-05"], json.dumps({"facts": facts}), monkeypatch)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "未发现重大隐患" in out


def test_undetermined_exit_2(capsys, monkeypatch):
    assert run(["judge", "-", "--on", "2026-01-05", "--sector", "city_gas"], "gas.license_held: true\n", monkeypatch) == 2
    assert "无法判定" in capsys.readouterr().out


def test_bad_answer_exit_65_no_traceback(capsys, monkeypatch):
    assert run(["judge", "-"], "gas.licence_held: 否\n", monkeypatch) == 65
    err = capsys.readouterr().err
    assert "gas.license_held" in err and "Traceback" not in err


def test_malformed_json_exit_65(capsys, monkeypatch):
    assert run(["judge", "-"], '{"facts": {"gas.odorized": tru', monkeypatch) == 65
    assert "JSON" in capsys.readouterr().err


def test_missing_file_exit_66(capsys, tmp_path):
    assert main(["judge", str(tmp_path / "nope.yaml")]) == 66


def test_bad_date_and_usage_errors(capsys, monkeypatch):
    assert run(["judge", "-", "--on", "2026-13-01"], "{}", monkeypatch) == 65
    for argv in (["judge"], ["judge", str(EXAMPLE), "--format", "pdf"], ["frobnicate"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 64


def test_broken_bundle_exit_78(capsys, demo_copy):
    (demo_copy / "rules/demo/v2025.yaml").write_text("schema: [", encoding="utf-8")
    code = main(["judge", str(EXAMPLE), "--criteria", str(demo_copy / "criteria"), "--rules", str(demo_copy / "rules")])
    assert code == 78
    assert "v2025.yaml" in capsys.readouterr().err


def test_lint_shipped_bundle_is_clean(capsys):
    assert main(["lint"]) == 0
    assert "0 个错误" in capsys.readouterr().out


def test_lint_json(capsys, demo_copy):
    assert main(["lint", str(demo_copy), "--format", "json"]) == 0
    problems = json.loads(capsys.readouterr().out)
    assert {p["code"] for p in problems} >= {"coverage.not_encoded", "coverage.unverified"}
    assert all(p["line"] for p in problems)


def test_test_command(capsys):
    assert main(["test"]) == 0
    assert " passed, 0 failed" in capsys.readouterr().out


def test_test_command_reports_a_failing_case(capsys, demo_copy):
    path = demo_copy / "rules/demo/v2025.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("demo.people: 501}", "demo.people: 499}"), encoding="utf-8")
    assert main(["test", str(demo_copy)]) == 1
    out = capsys.readouterr().out
    assert "demo.crowding::超员" in out and "v2025.yaml:" in out


def test_console_script_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "hazardjudge.cli", "judge", str(EXAMPLE), "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "major"


def test_schema_command_matches_published_schema(capsys):
    assert main(["schema"]) == 0
    published = Path(__file__).parents[1] / "docs" / "verdict.schema.json"
    assert json.loads(capsys.readouterr().out) == json.loads(published.read_text(encoding="utf-8"))


def test_alias_bomb_in_an_inspection_is_refused(capsys, monkeypatch):
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nfacts: {gas.odorized: true}\n"
    assert run(["judge", "-"], bomb, monkeypatch) == 65
    assert "yaml.alias" in capsys.readouterr().err


def test_oversized_inspection_file_is_refused(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (5 * 1024 * 1024), encoding="utf-8")
    assert main(["judge", str(big)]) == 65
    assert "input.too_large" in capsys.readouterr().err


def test_not_utf8_input_is_refused(capsys, tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("gas.odorized: 是\n".encode("gbk"))
    assert main(["judge", str(path)]) == 65
    assert "UTF-8" in capsys.readouterr().err


def test_rule_cases_are_collected_by_pytest_one_id_per_case():
    root = Path(__file__).parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-o", "addopts=", "-q", str(root / "rules" / "city_gas" / "art04_management.yaml")],
        capture_output=True, text=True, cwd=root,
    )
    assert "art04_management.yaml::city_gas.4-1::无许可证" in proc.stdout, proc.stdout + proc.stderr


def test_the_command_imports_the_engine_only_when_it_runs_one():
    # `hazardjudge --help` and usage errors need no pydantic, PyYAML or durable_rules.
    probe = "import sys, hazardjudge, hazardjudge.cli; print(sorted({'pydantic', 'yaml', 'durable_rules_engine'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("enabled", [True, False])
def test_one_shot_commands_leave_the_collector_as_they_found_it(capsys, enabled):
    import gc

    (gc.enable if enabled else gc.disable)()
    try:
        assert main(["judge", str(EXAMPLE)]) == 1
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
