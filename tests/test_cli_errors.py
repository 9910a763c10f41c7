"""No error ever leaves the CLI with a verdict's exit code (0, 1 or 2)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

import hazardjudge
from hazardjudge import clock
from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.errors import InputError

EXAMPLE = example_dir() / "city_gas_station.yaml"


@pytest.mark.parametrize("command", ["judge", "explain", "notice"])
def test_unknown_sector_option_is_an_input_error_with_suggestion(command, capsys):
    assert main([command, str(EXAMPLE), "--sector", "gass"]) == 65
    err = capsys.readouterr().err
    assert "input.unknown_sector" in err and "city_gas" in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["judge", "explain", "notice"])
def test_unknown_sector_in_file_is_an_input_error(command, tmp_path, capsys):
    path = tmp_path / "i.yaml"
    path.write_text("date: 2026-11-01\nsectors: [fier]\nfacts:\n  fire.in_scope: 是\n", encoding="utf-8")
    assert main([command, str(path)]) == 65
    err = capsys.readouterr().err
    assert "未知的行业 'fier'" in err and "fire" in err


def test_named_sector_contradicting_unit_type_is_refused(tmp_path, capsys):
    path = tmp_path / "i.yaml"
    path.write_text(
        "date: 2026-11-01\nsectors: [city_gas]\nfacts:\n  site.kinds: [construction_site]\n  gas.license_held: 否\n",
        encoding="utf-8",
    )
    assert main(["judge", str(path)]) == 65
    err = capsys.readouterr().err
    assert "input.sector_contradiction" in err and "房屋市政工程施工现场" in err


def test_named_sector_contradiction_in_the_library(shipped):
    with pytest.raises(InputError) as info:
        shipped.judge({"site.kinds": ["construction_site"]}, on=dt.date(2026, 11, 1), sectors=["city_gas"])
    assert info.value.problems[0].code == "input.sector_contradiction"
    # Consistent or unanswered unit types still accept a named sector.
    shipped.judge({"site.kinds": ["gas_operator"]}, on=dt.date(2026, 11, 1), sectors=["city_gas"])
    shipped.judge({}, on=dt.date(2026, 11, 1), sectors=["city_gas"])


@pytest.mark.parametrize("command", ["judge", "explain", "notice", "checklist"])
def test_unexpected_error_exits_70_with_one_line(command, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug\nsecond line")

    monkeypatch.setattr(hazardjudge.Engine, "judge", boom)
    monkeypatch.setattr("hazardjudge.inputs.checklists.build", boom)
    args = [command] if command == "checklist" else [command, str(EXAMPLE)]
    assert main(args) == 70
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "内部错误" in err[0] and "RuntimeError" in err[0] and "simulated bug" in err[0]


def test_debug_variable_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("HAZARDJUDGE_DEBUG", "1")
    monkeypatch.setattr(hazardjudge.Engine, "judge", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["judge", str(EXAMPLE)])


def test_installed_command_crash_is_70_not_a_verdict(tmp_path):
    """The console script itself (not only main()) maps a crash to 70."""
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys, hazardjudge\n"
        "from hazardjudge.cli import main\n"
        "hazardjudge.Engine.judge = lambda *a, **k: {}['missing']\n"
        f"sys.exit(main(['judge', {str(EXAMPLE)!r}]))\n",
        encoding="utf-8",
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert proc.returncode == 70 and "Traceback" not in proc.stderr


def test_today_is_china_calendar_day():
    late_utc = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.timezone.utc)  # 04:00 on 12-01 in Beijing
    assert clock.today(late_utc) == dt.date(2026, 12, 1)
    assert clock.today(dt.datetime(2026, 12, 1, 15, 59, tzinfo=dt.timezone.utc)) == dt.date(2026, 12, 1)
    assert clock.today(dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.timezone.utc)) == dt.date(2026, 12, 2)


def test_checklist_for_a_sector_the_unit_type_rules_out_is_refused(capsys):
    assert main(["checklist", "--sector", "city_gas", "--site", "construction_site"]) == 65
    assert "input.sector_contradiction" in capsys.readouterr().err
