"""The per-user bundle cache: a hit gives the same verdicts; anything that could make it stale is a miss.

The rest of the suite runs with a session-private cache (conftest.py); these tests point the
cache at a fresh folder of their own.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import hazardjudge
from hazardjudge.authoring.testing import case_date, iter_cases
from hazardjudge.engine import cache, compiling, loading
from hazardjudge.errors import BundleError, InputError
from hazardjudge.inputs.inspections import parse_inspection

ROOT = Path(__file__).resolve().parents[1]
# Not imported from conftest: in a full run "conftest" may name tests/register/conftest.py.
DEMO = Path(__file__).parent / "fixtures" / "demo"
ON = dt.date(2026, 3, 1)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bundle.pickle"))


def _load_twice(criteria=None, rules=None) -> hazardjudge.Engine:
    """A bundle is stored on its second load (the first only marks it as seen)."""
    hazardjudge.load(criteria, rules)
    return hazardjudge.load(criteria, rules)


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the bundle was parsed although a cached copy exists")

    monkeypatch.setattr(loading, "_load_criteria", refuse)


def _verdict_json(engine: hazardjudge.Engine, facts: dict) -> str:
    return engine.judge(facts, on=ON).model_dump_json()


DEMO_FACTS = {"demo.kinds": ["demo_place"], "demo.e1": True, "demo.exit_width": 0.8, "demo.exit_width_required": 1.2}


def test_a_first_load_only_marks_the_bundle_as_seen(cache_dir, demo_copy):
    hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert _entries(cache_dir) == []
    assert len(list(cache_dir.glob("*.seen"))) == 1


def test_a_third_load_comes_from_the_cache_and_judges_the_same(cache_dir, monkeypatch, demo_copy):
    first = _load_twice(demo_copy / "criteria", demo_copy / "rules")
    assert len(_entries(cache_dir)) == 1
    assert list(cache_dir.glob("*.seen")) == []
    _no_parsing(monkeypatch)
    second = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert second.bundle is not first.bundle
    assert second.bundle.fingerprint == first.bundle.fingerprint
    assert [p.code for p in second.bundle.warnings] == [p.code for p in first.bundle.warnings]
    assert _verdict_json(second, DEMO_FACTS) == _verdict_json(first, DEMO_FACTS)


def test_the_shipped_bundle_from_the_cache_gives_identical_verdicts(cache_dir, monkeypatch):
    parsed = _load_twice()  # parsed from the YAML (this folder is empty), then stored
    _no_parsing(monkeypatch)
    cached = hazardjudge.load()
    for example in ("city_gas_station", "fire_hotel", "coal_mine_2026"):
        data = yaml.safe_load((ROOT / "examples" / f"{example}.yaml").read_text(encoding="utf-8"))
        on = data.get("date")
        a = parsed.judge(data["facts"], on=on).model_dump(mode="json")
        b = cached.judge(data["facts"], on=on).model_dump(mode="json")
        assert a == b, example


def test_a_changed_rule_file_is_a_miss_and_the_new_text_is_used(cache_dir, demo_copy):
    before = _load_twice(demo_copy / "criteria", demo_copy / "rules")
    rule = next((demo_copy / "rules" / "demo").glob("*.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    again = _load_twice(demo_copy / "criteria", demo_copy / "rules")
    assert len(_entries(cache_dir)) == 2
    assert again.bundle.fingerprint and again.bundle.fingerprint != before.bundle.fingerprint


def test_the_same_bundle_in_another_folder_keeps_its_own_paths(cache_dir, tmp_path, demo_copy):
    _load_twice(demo_copy / "criteria", demo_copy / "rules")
    moved = tmp_path / "moved"
    shutil.copytree(demo_copy, moved)
    engine = _load_twice(moved / "criteria", moved / "rules")
    assert engine.bundle.criteria_dir == moved / "criteria"
    assert all(moved in loc.path.parents for loc in engine.bundle.rule_files)
    assert len(_entries(cache_dir)) == 2


def test_a_damaged_entry_is_a_miss_and_is_rewritten(cache_dir, demo_copy):
    _load_twice(demo_copy / "criteria", demo_copy / "rules")
    (entry,) = _entries(cache_dir)
    entry.write_bytes(b"hazardjudge-bundle-cache-1 not a pickle")
    engine = _load_twice(demo_copy / "criteria", demo_copy / "rules")
    assert _verdict_json(engine, DEMO_FACTS)
    assert entry.read_bytes().startswith(b"hazardjudge-bundle-cache-1\x80")


def test_a_folder_others_can_write_is_never_read(cache_dir, monkeypatch, demo_copy):
    _load_twice(demo_copy / "criteria", demo_copy / "rules")
    os.chmod(cache_dir, 0o777)
    calls = []
    original = loading._load_criteria
    monkeypatch.setattr(loading, "_load_criteria", lambda *a, **k: calls.append(1) or original(*a, **k))
    hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert calls, "a group- or world-writable cache folder must not be trusted"


def test_a_bundle_with_errors_is_not_cached(cache_dir, demo_copy):
    rule = next((demo_copy / "rules" / "demo").glob("*.yaml"))
    rule.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(BundleError):
        hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert not cache_dir.exists() or _entries(cache_dir) == []


def test_off_writes_nothing(tmp_path, monkeypatch, demo_copy):
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert not (tmp_path / "xdg").exists()


def test_the_default_folder_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "hazardjudge"


def test_old_entries_are_pruned(cache_dir, tmp_path):
    for i in range(cache.KEEP + 3):
        copy = tmp_path / f"b{i}"
        shutil.copytree(DEMO, copy)
        _load_twice(copy / "criteria", copy / "rules")
    assert len(_entries(cache_dir)) == cache.KEEP


def test_a_read_only_cache_folder_does_not_stop_a_load(tmp_path, monkeypatch, demo_copy):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocked / "cache"))
    engine = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert _verdict_json(engine, DEMO_FACTS)


def test_the_cli_judges_the_same_from_a_cold_and_a_warm_cache(tmp_path):
    env = {**os.environ, cache.CACHE_ENV: str(tmp_path / "cli-cache")}
    cmd = [sys.executable, "-m", "hazardjudge.cli", "judge", str(ROOT / "examples/city_gas_station.yaml"), "--format", "json"]
    cold = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)  # the second run stores the entry
    warm = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    assert cold.returncode == warm.returncode == 1, cold.stderr
    assert len(_entries(tmp_path / "cli-cache")) == 1
    assert warm.stdout == cold.stdout


# ------------------------------------------------------------------ compiled document versions


def _docs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.doc.pickle"))


def _no_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a document version was compiled although a compiled copy is cached")

    monkeypatch.setattr(compiling.Compiler, "document", refuse)


def test_compiled_versions_from_the_cache_give_the_verdicts_of_freshly_compiled_ones(cache_dir, monkeypatch):
    parsed = _load_twice()  # parsed and compiled from the YAML; stored, so its versions are stored as compiled
    for key in parsed.compiled.documents:
        parsed.compiled.documents[key]
    assert len(_docs(cache_dir)) == len(parsed.compiled.documents)
    inputs = [(p.name, parse_inspection(p.read_text(encoding="utf-8")).inspection, {}) for p in sorted((ROOT / "examples").glob("*.yaml")) if p.name != "notice.yaml"]
    for case in iter_cases(parsed):
        sectors = case.case.sectors if case.case.sectors is not None else [case.source.sector]
        inputs.append((case.id, case.facts, {"on": case_date(parsed, case), "sectors": sectors}))

    def verdicts(engine):
        out = {}
        for name, facts, kwargs in inputs:
            try:
                out[name] = engine.judge(facts, **kwargs).model_dump_json()
            except InputError as exc:
                out[name] = f"InputError {exc}"
        return out

    want = verdicts(parsed)
    _no_parsing(monkeypatch)
    _no_compiling(monkeypatch)
    cached = hazardjudge.load()
    assert cached.bundle.cache_key == parsed.bundle.cache_key
    got = verdicts(cached)
    assert [name for name in want if got[name] != want[name]] == []
    # A version's rule items are references into the bundle it was read into, not copies.
    doc = cached.compiled.documents[next(iter(cached.compiled.documents))]
    info = next(t for t in doc.targets.values() if t.source is not None)
    assert cached.bundle.items[info.id] is info.source


def test_a_damaged_compiled_version_is_compiled_again_and_rewritten(cache_dir, demo_copy):
    engine = _load_twice(demo_copy / "criteria", demo_copy / "rules")
    want = _verdict_json(engine, DEMO_FACTS)
    docs = _docs(cache_dir)
    assert docs
    for doc in docs:
        doc.write_bytes(b"hazardjudge-bundle-cache-1 not a pickle")
    again = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert _verdict_json(again, DEMO_FACTS) == want
    assert all(doc.read_bytes().startswith(b"hazardjudge-bundle-cache-1\x80") for doc in docs)


def test_compiled_versions_are_not_stored_for_a_bundle_that_is_not(cache_dir, demo_copy):
    engine = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")  # first load: only marked as seen
    assert engine.bundle.cache_key is None
    _verdict_json(engine, DEMO_FACTS)
    assert _docs(cache_dir) == []


def test_compiled_versions_are_pruned_with_their_bundle(cache_dir, tmp_path):
    for i in range(cache.KEEP + 3):
        copy = tmp_path / f"b{i}"
        shutil.copytree(DEMO, copy)
        (copy / "criteria" / f"note{i}.txt").write_text("x")  # keep each copy's bundle key distinct (paths do)
        _verdict_json(_load_twice(copy / "criteria", copy / "rules"), DEMO_FACTS)
    kept = {p.name.split(".", 1)[0] for p in _entries(cache_dir)}
    assert len(kept) == cache.KEEP
    assert {p.name.split(".", 1)[0] for p in _docs(cache_dir)} <= kept
    assert _docs(cache_dir)
