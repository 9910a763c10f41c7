from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import hazardjudge

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
