"""``hazardjudge batch``: streamed, ordered, resumable, and the same verdicts as ``judge`` gives one by one."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hazardjudge.batch import judging, running
from hazardjudge.batch.judging import Job
from hazardjudge.batch.sources import Source
from hazardjudge.batch.views import FindingsLine, FullLine, findings_line
from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import Verdict
from hazardjudge.engine.yamlio import load_yaml_text

EXAMPLES = sorted(p for p in example_dir().glob("*.yaml") if p.name != "notice.yaml")
YES_NO = {True: False, False: True, "是": "否", "否": "是"}


def example_data(path: Path) -> dict:
    # JSON-ready: dates as the text the files carry.
    return json.loads(json.dumps(load_yaml_text(path.read_text(encoding="utf-8"), str(path)), ensure_ascii=False, default=str))


def varied(n: int, seed: int = 18) -> list[dict]:
    """``n`` inspections from the shipped examples with some yes/no answers flipped or left unknown."""
    rng = random.Random(seed)
    bases = [example_data(p) for p in EXAMPLES]
    out = []
    for i in range(n):
        data = json.loads(json.dumps(bases[i % len(bases)]))
        for key, value in list(data["facts"].items()):
            if isinstance(value, (bool, str)) and value in YES_NO and rng.random() < 0.15:
                data["facts"][key] = "不知道" if rng.random() < 0.3 else YES_NO[value]
        if not _judgeable(data):
            # A flip that contradicts another answer or the named sector makes an error line, not a
            # varied verdict; which line that hits would depend on the examples shipped.
            data = json.loads(json.dumps(bases[i % len(bases)]))
        out.append({"id": f"r{i:04d}", **data})
    return out


_JOB: list[Job] = []


def _judgeable(data: dict) -> bool:
    if not _JOB:
        import hazardjudge

        _JOB.append(Job(hazardjudge.load(), "findings", dt.date(2026, 11, 1)))
    record = judging.Record(1, "varied", "jsonl", json.dumps(data, ensure_ascii=False))
    return not judging.judge_record(_JOB[0], record).errors


def write_jsonl(path: Path, rows: list, extra: list[bytes] = ()) -> Path:
    with open(path, "wb") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
        for raw in extra:
            f.write(raw)
    return path


def batch(*args) -> int:
    return main(["batch", *map(str, args)])


def single_json(path: Path, capsys) -> dict:
    main(["judge", str(path), "--format", "json"])
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------------------- equal to judge


def test_full_view_equals_judge_for_every_example(tmp_path, capsys):
    rows = [{"id": p.stem, **example_data(p)} for p in EXAMPLES]
    out = tmp_path / "out.jsonl"
    assert batch(write_jsonl(tmp_path / "in.jsonl", rows), "-o", out, "--view", "full", "--workers", 1) == 0
    capsys.readouterr()
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["id"], x["line"]) for x in lines] == [(p.stem, i) for i, p in enumerate(EXAMPLES, 1)]
    for path, line in zip(EXAMPLES, lines):
        expected = single_json(path, capsys)
        assert line["verdict"] == expected, path.name
        assert (line["outcome"], line["date"], line["bundle"], line["errors"]) == (expected["outcome"], expected["inspection_date"], expected["bundle"], [])
        FullLine.model_validate(line)


def test_findings_view_is_the_judge_verdict_condensed(tmp_path, capsys):
    rows = [{"id": i, **example_data(p)} for i, p in enumerate(EXAMPLES)]
    out = tmp_path / "out.jsonl"
    assert batch(write_jsonl(tmp_path / "in.jsonl", rows), "-o", out, "--workers", 1) == 0
    capsys.readouterr()
    for i, (path, text) in enumerate(zip(EXAMPLES, out.read_text(encoding="utf-8").splitlines())):
        verdict = Verdict.model_validate(single_json(path, capsys))
        assert text == findings_line(i, i + 1, verdict).model_dump_json()
        line = FindingsLine.model_validate_json(text)
        assert [f.rule for f in line.findings] == [r.rule for r in verdict.findings()]
        # Clauses are named by id only because every citation is of its own document version.
        for d in verdict.documents:
            for r in d.results:
                assert {(c.document, c.version) for c in r.citations} <= {(d.document.document, d.document.version)}
        assert len(text) < len(verdict.model_dump_json()) / 5


def test_a_folder_of_inspection_files(tmp_path, capsys):
    folder = tmp_path / "records"
    (folder / "sub").mkdir(parents=True)
    for p in EXAMPLES[:2]:
        (folder / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "sub" / "c.json").write_text(json.dumps(example_data(EXAMPLES[2]), ensure_ascii=False), encoding="utf-8")
    (folder / "notes.txt").write_text("not an inspection", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert batch(folder, "-o", out, "--view", "full", "--workers", 1) == 0
    capsys.readouterr()
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == [EXAMPLES[0].name, EXAMPLES[1].name, "sub/c.json"]
    for path, line in zip(EXAMPLES[:3], lines):
        assert line["verdict"] == single_json(path, capsys)


# ---------------------------------------------------------------------------- order


def test_order_is_kept_with_two_worker_processes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(running, "CHUNK_LOCAL", 3)  # many small chunks finishing out of turn
    src = write_jsonl(tmp_path / "in.jsonl", varied(60))
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert batch(src, "-o", one, "--workers", 1) in (0, 65)
    assert batch(src, "-o", two, "--workers", 2) in (0, 65)
    capsys.readouterr()
    assert one.read_bytes() == two.read_bytes()
    assert [json.loads(x)["id"] for x in two.read_text(encoding="utf-8").splitlines()] == [f"r{i:04d}" for i in range(60)]


# ---------------------------------------------------------------------------- bad lines


BAD = [
    b'{"id": "syntax", "facts": {\n',
    b'{"facts": {"site.kinds": ["other"]}}\n',  # no id
    b'{"id": "unknown", "facts": {"no.such_question": true}}\n',
    b"[1, 2]\n",
    b"\n",  # blank: not a record
    b'{"id": "latin1", "facts": {"x": "\xe9"}}\n',
    b'{"id": "answer", "facts": {"gas.user_gas_relative_density": "\xe5\xbe\x88\xe9\x87\x8d"}}\n',  # 很重
]


def test_bad_lines_are_reported_with_their_line_and_the_run_goes_on(tmp_path, capsys):
    good = varied(2)
    src = write_jsonl(tmp_path / "in.jsonl", good[:1], BAD + [json.dumps(good[1], ensure_ascii=False).encode() + b"\n"])
    out = tmp_path / "out.jsonl"
    assert batch(src, "-o", out, "--workers", 1) == 65
    err = capsys.readouterr().err
    for line, code in ((2, "json.syntax"), (3, "batch.id"), (4, "answer.unknown_question"), (5, "input.shape"), (7, "input.unreadable"), (8, "answer")):
        assert f"in.jsonl:{line}: error: [{code}" in err
    assert "失败 6 条" in err and "判定 2 条" in err
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 3, 4, 5, 7, 8, 9]
    assert [x["outcome"] is None for x in lines] == [False] + [True] * 6 + [False]
    assert [x["id"] for x in lines] == ["r0000", None, None, "unknown", None, None, "answer", "r0001"]


def test_errors_file_is_json_lines(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", varied(1), BAD[:3])
    errors = tmp_path / "errors.jsonl"
    assert batch(src, "-o", tmp_path / "out.jsonl", "--workers", 1, "--errors", errors) == 65
    assert "error:" not in capsys.readouterr().err
    entries = [json.loads(x) for x in errors.read_text(encoding="utf-8").splitlines()]
    assert [(e["line"], e["id"], e["errors"][0]["code"]) for e in entries] == [
        (2, None, "json.syntax"), (3, None, "batch.id"), (4, "unknown", "answer.unknown_question")
    ]
    assert all(e["source"].endswith("in.jsonl") and e["errors"][0]["message"] for e in entries)


def test_missing_input_bundle_and_usage(tmp_path, capsys, demo_copy):
    assert batch(tmp_path / "nope.jsonl", "-o", tmp_path / "o") == 66
    src = write_jsonl(tmp_path / "in.jsonl", varied(1))
    assert batch(src, "-o", "-", "--resume") == 64
    assert batch(src, "-o", tmp_path / "o", "--workers", 0) == 64
    (demo_copy / "rules" / "demo" / "v2025.yaml").write_text("schema: [", encoding="utf-8")
    assert batch(src, "-o", tmp_path / "o", "--criteria", demo_copy / "criteria", "--rules", demo_copy / "rules") == 78
    capsys.readouterr()


def test_output_to_stdout(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", varied(2))
    assert batch(src, "-o", "-", "--workers", 1) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["id"] for x in out] == ["r0000", "r0001"]


# ---------------------------------------------------------------------------- resume


def test_resume_after_a_kill_mid_line_judges_only_the_rest(tmp_path, capsys, monkeypatch):
    src = write_jsonl(tmp_path / "in.jsonl", varied(12), BAD[:1] + [json.dumps(varied(13)[12], ensure_ascii=False).encode() + b"\n"])
    ref, ref_errors = tmp_path / "ref.jsonl", tmp_path / "ref-errors.jsonl"
    assert batch(src, "-o", ref, "--workers", 1, "--errors", ref_errors) == 65
    whole = ref.read_bytes()
    lines = whole.splitlines(keepends=True)
    # Killed while writing line 8: seven whole lines and half of the eighth on disk.
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    out.write_bytes(b"".join(lines[:7]) + lines[7][: len(lines[7]) // 2])
    errors.write_bytes(ref_errors.read_bytes()[:10])  # the error stream cut mid-entry too
    judged = []
    original = judging.judge_record
    monkeypatch.setattr(judging, "judge_record", lambda job, r: judged.append(r.line) or original(job, r))
    capsys.readouterr()
    assert batch(src, "-o", out, "--workers", 1, "--errors", errors, "--resume") == 65
    assert judged == list(range(8, 15))
    assert out.read_bytes() == whole
    assert errors.read_bytes() == ref_errors.read_bytes()
    err = capsys.readouterr().err
    assert "判定 13 条" in err and "失败 1 条" in err and "其中 7 条为中断前已判定" in err


def test_resume_of_a_finished_run_judges_nothing(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", varied(3))
    out = tmp_path / "out.jsonl"
    assert batch(src, "-o", out, "--workers", 1) == 0
    before = out.read_bytes()
    assert batch(src, "-o", out, "--workers", 1, "--resume") == 0
    assert out.read_bytes() == before
    assert "其中 3 条为中断前已判定" in capsys.readouterr().err


def test_resume_after_a_line_whose_id_was_refused(tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", varied(1), [b'{"id": 1.5, "facts": {}}\n', b'{"id": true, "facts": {}}\n'])
    out = tmp_path / "out.jsonl"
    assert batch(src, "-o", out, "--workers", 1) == 65
    assert batch(src, "-o", out, "--workers", 1, "--resume") == 65
    assert "其中 3 条为中断前已判定" in capsys.readouterr().err


def test_resume_refuses_another_input_or_view(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert batch(write_jsonl(tmp_path / "a.jsonl", varied(3)), "-o", out, "--workers", 1) == 0
    other = [dict(r, id="x" + r["id"]) for r in varied(3)]
    assert batch(write_jsonl(tmp_path / "b.jsonl", other), "-o", out, "--workers", 1, "--resume") == 65
    assert "batch.resume" in capsys.readouterr().err
    assert batch(tmp_path / "a.jsonl", "-o", out, "--workers", 1, "--resume", "--view", "full") == 65
    assert "--view findings" in capsys.readouterr().err


def test_resume_after_a_real_kill(tmp_path, capsys):
    """A batch process killed with SIGKILL mid-run, then resumed: the output is the uninterrupted one."""
    src = write_jsonl(tmp_path / "in.jsonl", varied(400))
    ref = tmp_path / "ref.jsonl"
    assert batch(src, "-o", ref, "--workers", 1) in (0, 65)
    capsys.readouterr()
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "hazardjudge.cli", "batch", str(src), "-o", str(out), "--workers", "1"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and (not out.exists() or out.stat().st_size < 20_000):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if out.stat().st_size >= ref.stat().st_size:  # pragma: no cover - the machine outran the poll
        pytest.skip("the run finished before it could be killed")
    assert main(["batch", str(src), "-o", str(out), "--workers", "1", "--resume"]) in (0, 65)
    capsys.readouterr()
    assert out.read_bytes() == ref.read_bytes()


# ---------------------------------------------------------------------------- Dask


def test_dask_local_cluster_gives_the_local_output_byte_for_byte(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(running, "CHUNK_DASK", 7)
    src = write_jsonl(tmp_path / "in.jsonl", varied(40), BAD[:3])
    local, dask = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    assert batch(src, "-o", local, "--workers", 1) == 65
    assert batch(src, "-o", dask, "--workers", 2, "--dask", "local") == 65
    capsys.readouterr()
    assert dask.read_bytes() == local.read_bytes()


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(running, "CONNECT_SECONDS", 1)
    src = write_jsonl(tmp_path / "in.jsonl", varied(1))
    assert batch(src, "-o", tmp_path / "out.jsonl", "--dask", "tcp://127.0.0.1:9") == 64
    assert "无法连接 Dask 调度器 tcp://127.0.0.1:9" in capsys.readouterr().err


def test_a_bad_file_in_a_folder_is_named_by_its_path(tmp_path, capsys):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.yaml").write_text(EXAMPLES[0].read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "b.yaml").write_text("facts: [\n", encoding="utf-8")
    (folder / "c.json").write_bytes(b'{"facts": {"x": "\xff"}}')
    out = tmp_path / "out.jsonl"
    assert batch(folder, "-o", out, "--workers", 1) == 65
    err = capsys.readouterr().err
    assert "records/b.yaml: error: [yaml." in err and "records/c.json: error: [input.unreadable]" in err
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [(x["id"], x["outcome"] is None) for x in lines] == [("a.yaml", False), ("b.yaml", True), ("c.json", True)]


def test_progress_bar_counts_the_records(tmp_path, shipped):
    src = write_jsonl(tmp_path / "in.jsonl", varied(3))
    stderr = io.StringIO()
    summary = running.run_batch(
        Source(str(src)), str(tmp_path / "out.jsonl"), Job(shipped, "findings", dt.date(2026, 11, 1)),
        workers=1, stderr=stderr, progress=True,
    )
    assert summary.judged == 3
    assert "3/3" in stderr.getvalue()
