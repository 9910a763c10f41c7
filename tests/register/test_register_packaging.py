"""The wheel carries the register's migrations and templates: a fresh install creates its database and prints a report."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_register_migrates_and_reports(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("hazardjudge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hazardjudge/register/migrations/versions/0001_initial_register_schema.py" in names
    assert "hazardjudge/register/templates/dispatch.html.j2" in names
    assert "hazardjudge/register/migrations/versions/0002_spot_checks.py" in names
    assert "hazardjudge/register/spot_check_items.yaml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "HAZARDJUDGE_DB": f"sqlite:///{tmp_path / 'r.sqlite3'}", "HAZARDJUDGE_USER": "admin",
           "HAZARDJUDGE_PASSWORD": "admin-pass-1", "PYTHONPATH": str(site)}
    script = "import sys; from hazardjudge.cli import main; sys.exit(main(sys.argv[1:]))"
    for argv in (["register", "init"], ["register", "spotcheck", "items"], ["register", "report", "--month", "2026-11"]):
        run = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, cwd=tmp_path, env=env)
        assert run.returncode == 0, run.stderr
    assert "月度调度表" in run.stdout
