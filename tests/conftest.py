from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import hazardjudge

# The suite never touches the user's own bundle cache, but it uses one of its own: the shipped
# bundle takes ~3 s to parse and the suite loads it dozens of times in-process and in every
# CLI subprocess (which inherit this variable). A bundle is cached only on its second load and
# a broken or edited copy is a miss, so the loading and validation tests still parse what they
# test; tests/test_bundle_cache.py points the cache elsewhere to test it. HAZARDJUDGE_CACHE set
# by the caller (e.g. "off" to parse every time) wins.
if "HAZARDJUDGE_CACHE" not in os.environ:
    _SESSION_CACHE = tempfile.mkdtemp(prefix="hazardjudge-test-cache-")  # mode 0700: the cache requires it
    os.environ["HAZARDJUDGE_CACHE"] = _SESSION_CACHE
    atexit.register(shutil.rmtree, _SESSION_CACHE, True)

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = FIXTURES / "demo"


@pytest.fixture(scope="session")
def shipped() -> hazardjudge.Engine:
    return hazardjudge.load()


@pytest.fixture(scope="session")
def demo() -> hazardjudge.Engine:
    return hazardjudge.load(DEMO / "criteria", DEMO / "rules")


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo bundle, for tests that break one file."""
    root = tmp_path / "bundle"
    shutil.copytree(DEMO, root)
    return root


def pytest_terminal_summary(terminalreporter):
    """The number of generated fuzz cases run, per test (the lead reports it)."""
    import json
    import os
    import sys

    cases = getattr(sys.modules.get("strategies"), "FUZZ_CASES", None)
    if not cases:
        return
    terminalreporter.write_line(f"fuzz: {sum(cases.values())} generated cases run — " + ", ".join(f"{k} {v}" for k, v in sorted(cases.items())))
    if report := os.environ.get("HAZARDJUDGE_FUZZ_REPORT"):
        with open(report, "w", encoding="utf-8") as f:
            json.dump({"total": sum(cases.values()), "per_test": dict(sorted(cases.items()))}, f, ensure_ascii=False, indent=2)
