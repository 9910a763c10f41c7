"""Fuzzing the boundaries: whatever arrives, the CLI exits with a documented code and HTTP never 500s.

Bounded in examples so that CI stays fast; a failure here is a crash that would have exited 70
(or, before the boundary existed, 1 — a false 存在重大隐患 to a script).
"""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VERDICT_CODES = {0, 1, 2}
INPUT_CODES = {64, 65, 66, 78}
EXAMPLES = [p.read_bytes() for p in sorted(example_dir().glob("*.yaml")) if p.name != "notice.yaml"]


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for position, cut, insert in edits:
        at = position % (len(out) + 1)
        out[at : at + cut] = insert
    return bytes(out)


mutated_examples = st.builds(
    _mutate,
    st.sampled_from(EXAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=6) | st.sampled_from([b":", b"\n", b"- ", b"{", "否".encode(), "２０２６年".encode()])), max_size=4),
)
anything = st.binary(max_size=400) | mutated_examples | st.text(max_size=300).map(lambda t: t.encode("utf-8"))


@pytest.mark.parametrize("command", ["judge", "explain", "notice"])
def test_any_file_ends_in_a_documented_exit_code(command, tmp_path_factory, capsys):
    @SETTINGS
    @given(anything)
    def run(data):
        path = tmp_path_factory.mktemp("fuzz") / "input"
        path.write_bytes(data)
        code = main([command, str(path), "--on", "2026-11-20"])
        out, err = capsys.readouterr()
        assert code in VERDICT_CODES | INPUT_CODES, (code, err[-500:])
        assert "Traceback" not in err
        if code in VERDICT_CODES:
            assert out.strip()  # a verdict (or notice) was written

    run()


json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def client():
    from hazardjudge.api import load
    from hazardjudge.service.app import create_app

    return TestClient(create_app(load()), raise_server_exceptions=False)


@pytest.mark.parametrize("path", ["/api/judge", "/api/judge/batch", "/api/checklist", "/api/notice"])
def test_any_json_body_is_answered_without_a_500(client, path):
    @SETTINGS
    @given(json_trees | st.fixed_dictionaries({"facts": json_trees}) | st.fixed_dictionaries({"text": st.text(max_size=200)}) | st.fixed_dictionaries({"items": st.lists(json_trees, max_size=3)}))
    def run(body):
        response = client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert "error" in response.json()

    run()


@pytest.mark.parametrize("example", sorted(p.name for p in example_dir().glob("*.yaml") if p.name != "notice.yaml"))
def test_the_same_input_gives_the_same_output_in_two_processes(example):
    import subprocess
    import sys

    def run():
        return subprocess.run(
            [sys.executable, "-m", "hazardjudge.cli", "judge", str(example_dir() / example), "--format", "json"],
            capture_output=True,
        )

    first, second = run(), run()
    assert first.returncode == second.returncode and first.returncode in VERDICT_CODES
    assert first.stdout == second.stdout and first.stdout
