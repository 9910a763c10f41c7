"""An Engine pickles as its bundle's source and fingerprint, and loads once per process on the other side."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hazardjudge
from hazardjudge import api
from hazardjudge.engine.loading import example_dir
from hazardjudge.errors import BundleError
DEMO = Path(__file__).parent / "fixtures" / "demo"

FACTS = {"site.kinds": ["gas_operator"], "fire.in_scope": False, "gas.license_held": False}


def _in_fresh_process(code: str, data: bytes, tmp_path: Path) -> subprocess.CompletedProcess:
    blob = tmp_path / "engine.pickle"
    blob.write_bytes(data)
    src = str(Path(hazardjudge.__file__).parents[1])
    prelude = f"import pickle, sys; sys.path.insert(0, {src!r}); data = open({str(blob)!r}, 'rb').read()\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True)


def test_pickle_is_the_source_not_the_rulesets(shipped):
    data = pickle.dumps(shipped)
    assert len(data) < 300
    assert shipped.bundle.fingerprint.encode() in data
    # The shipped bundle travels as "the shipped one": a cluster worker's install lives elsewhere.
    # In this process the engine already loaded for that fingerprint (the first one made) is reused.
    back = pickle.loads(data)
    assert back.bundle.fingerprint == shipped.bundle.fingerprint and pickle.loads(data) is back
    assert api._source(shipped.bundle) == (None, None, ())


def test_a_folder_bundle_travels_by_its_folders(demo):
    assert api._source(demo.bundle) == (str((DEMO / "criteria").resolve()), str((DEMO / "rules").resolve()), ())
    back = pickle.loads(pickle.dumps(demo))
    assert back.bundle.fingerprint == demo.bundle.fingerprint and pickle.loads(pickle.dumps(demo)) is back


def test_another_process_loads_it_once_and_judges_alike(shipped, tmp_path):
    expected = shipped.judge(FACTS, on=__import__("datetime").date(2026, 11, 1)).model_dump_json()
    code = (
        "import datetime\n"
        "from hazardjudge import api\n"
        "calls = []\n"
        "real = api.load\n"
        "api.load = lambda *a: calls.append(a) or real(*a)\n"
        "first, second = pickle.loads(data), pickle.loads(data)\n"
        "assert first is second and len(calls) == 1, calls\n"
        f"print(first.judge({FACTS!r}, on=datetime.date(2026, 11, 1)).model_dump_json())\n"
    )
    proc = _in_fresh_process(code, pickle.dumps(shipped), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == expected


def test_a_changed_bundle_is_refused_on_unpickling(tmp_path):
    root = tmp_path / "bundle"
    shutil.copytree(DEMO, root)
    engine = hazardjudge.load(root / "criteria", root / "rules")
    data = pickle.dumps(engine)
    sector = root / "rules" / "demo" / "sector.yaml"
    sector.write_text(sector.read_text(encoding="utf-8") + "\n# edited after the engine was sent\n", encoding="utf-8")
    proc = _in_fresh_process("pickle.loads(data)", data, tmp_path)
    assert proc.returncode != 0
    assert "bundle.fingerprint_mismatch" in proc.stderr and engine.bundle.fingerprint in proc.stderr


def test_restore_refuses_a_mismatch_in_process_too(tmp_path):
    root = tmp_path / "bundle"
    shutil.copytree(DEMO, root)
    with pytest.raises(BundleError) as info:
        api._restore(str(root / "criteria"), str(root / "rules"), (), "0" * 16)
    assert info.value.problems[0].code == "bundle.fingerprint_mismatch"


def test_a_bundle_error_crosses_processes_intact():
    from hazardjudge.errors import Position, Problem

    exc = BundleError([Problem("bundle.fingerprint_mismatch", "指纹不同", Position("a.yaml", 2, 3), "请部署同一版本")])
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is BundleError and back.problems == exc.problems and str(back) == str(exc)


def test_an_engine_with_an_overlay_pickles_with_it(monkeypatch):

    overlay = example_dir() / "overlays" / "example_office"
    engine = api.load(overlays=[overlay])
    monkeypatch.delenv(api.OVERLAYS_ENV, raising=False)
    assert api._source(engine.bundle)[2] == (str(overlay.resolve()),)
    api._restored.clear()
    api._live.clear()
    assert pickle.loads(pickle.dumps(engine)).bundle.fingerprint == engine.bundle.fingerprint
