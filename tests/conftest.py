from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import hazardjudge

# The per-user bundle cache stays out of the suite (tests/test_bundle_cache.py switches it on
# in a private folder): a hit would skip the very parsing most tests exercise.
os.environ.setdefault("HAZARDJUDGE_CACHE", "off")

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
