"""The wheel carries criteria/, rules/ and the example: an installed package needs no checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_wheel_works_outside_the_checkout(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("hazardjudge-*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import hazardjudge, hazardjudge.engine.loading as l;"
        "assert hazardjudge.__file__.startswith(sys.argv[1]), hazardjudge.__file__;"
        "c, r = l.default_dirs(); assert str(c).startswith(sys.argv[1]), c;"
        "from hazardjudge.cli import main; sys.exit(main(['judge', str(l.example_dir() / 'city_gas_station.yaml')]))"
    )
    run = subprocess.run([sys.executable, "-c", script, str(site)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 1, run.stderr  # the example holds major hazards
    assert "第五条（一）" in run.stdout


def test_bundle_fingerprint_does_not_depend_on_where_the_bundle_is(tmp_path):
    import shutil

    import hazardjudge

    copy = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "criteria", copy / "criteria")
    shutil.copytree(ROOT / "rules", copy / "rules")
    here = hazardjudge.load(ROOT / "criteria", ROOT / "rules").bundle.fingerprint
    there = hazardjudge.load(copy / "criteria", copy / "rules").bundle.fingerprint
    assert here == there
    (copy / "rules/fire/sector.yaml").write_text((copy / "rules/fire/sector.yaml").read_text(encoding="utf-8") + "\n# edit\n", encoding="utf-8")
    assert hazardjudge.load(copy / "criteria", copy / "rules").bundle.fingerprint != here
