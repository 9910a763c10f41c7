"""Throughput and memory of ``hazardjudge batch`` over a large mixed-sector input.

    .venv/bin/python benchmarks/batch.py                  # 200,000 lines, 1 and 2 workers
    .venv/bin/python benchmarks/batch.py --lines 20000    # a smoke check

Writes a JSON Lines input of the shipped examples (every sector) with yes/no answers
varied at random (some flipped, some 不知道; a few combinations are contradictory and
fail, as stored records sometimes do), runs the CLI on it as a separate process with each
worker count, and samples the resident memory of that process and its workers every half
second against how many lines the output holds. Memory must stay flat: neither the input
nor the output is held. Reports verdicts per second, peak RSS, RSS at each tenth of the
run, and the 1,000,000-line time extrapolated from the measured rate. Prints a Markdown
table and writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hazardjudge.engine.loading import example_dir  # noqa: E402
from hazardjudge.engine.yamlio import load_yaml_text  # noqa: E402

YES_NO = {True: False, False: True, "是": "否", "否": "是"}


def write_input(path: Path, lines: int, seed: int = 18) -> None:
    rng = random.Random(seed)
    bases = []
    for p in sorted(example_dir().glob("*.yaml")):
        if p.name == "notice.yaml":
            continue
        data = load_yaml_text(p.read_text(encoding="utf-8"), str(p))
        bases.append(json.loads(json.dumps(data, ensure_ascii=False, default=str)))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(lines):
            base = bases[i % len(bases)]
            facts = dict(base["facts"])
            for key, value in facts.items():
                if isinstance(value, (bool, str)) and value in YES_NO and rng.random() < 0.15:
                    facts[key] = "不知道" if rng.random() < 0.3 else YES_NO[value]
            f.write(json.dumps({"id": f"r{i:07d}", **base, "facts": facts}, ensure_ascii=False) + "\n")


def tree_rss(proc: psutil.Process, cpu: dict[int, float]) -> tuple[float, float]:
    """RSS in MB of the process, and of it with all its children; CPU seconds so far by pid into ``cpu``."""
    try:
        procs = [proc, *proc.children(recursive=True)]
        rss = [p.memory_info().rss for p in procs]
        for p in procs:
            t = p.cpu_times()
            cpu[p.pid] = t.user + t.system
    except psutil.Error:
        return 0.0, 0.0
    return rss[0] / 2**20, sum(rss) / 2**20


def run(src: Path, out: Path, workers: int, view: str, total: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    errors, log = out.with_suffix(".errors.jsonl"), out.with_suffix(".log")
    cmd = [sys.executable, "-m", "hazardjudge.cli", "batch", str(src), "-o", str(out), "--workers", str(workers), "--view", view, "--errors", str(errors)]
    started = time.monotonic()
    # Standard error to a file, not a pipe nobody reads until the end: a full pipe would stop the run.
    stderr = open(log, "w", encoding="utf-8")
    popen = subprocess.Popen(cmd, env=env, stderr=stderr)
    proc = psutil.Process(popen.pid)
    samples, done, offset, cpu = [], 0, 0, {}
    while popen.poll() is None:
        time.sleep(0.5)
        if out.exists():
            with open(out, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            done += chunk.count(b"\n")
        main, whole = tree_rss(proc, cpu)
        if whole:
            samples.append({"t": round(time.monotonic() - started, 2), "lines": done, "rss_main_mb": round(main, 1), "rss_total_mb": round(whole, 1)})
    seconds = time.monotonic() - started
    stderr.close()
    err = log.read_text(encoding="utf-8")
    judged = samples[-1]["lines"] if samples else 0
    # The steady rate: from the first sample with output to the end (start-up and bundle loads excluded).
    first = next((s for s in samples if s["lines"] > 0), None)
    rate = (total - first["lines"]) / (seconds - first["t"]) if first and seconds > first["t"] else total / seconds
    tenths = []
    for k in range(1, 11):
        # (just short of the end for the last tenth: once every line is out the workers exit)
        s = next((s for s in samples if s["lines"] >= total * min(k / 10, 0.98)), samples[-1] if samples else None)
        if s:
            tenths.append({"progress": k / 10, **{key: s[key] for key in ("lines", "rss_main_mb", "rss_total_mb")}})
    return {
        "workers": workers,
        "view": view,
        "lines": total,
        "exit": popen.returncode,
        "summary": err.strip().splitlines()[-1] if err.strip() else "",
        "seconds": round(seconds, 1),
        "startup_seconds": round(first["t"], 2) if first else None,
        "verdicts_per_s": round(rate),
        # CPU time says more than the wall clock on a machine others load (last sample, so a little low).
        "cpu_seconds": round(sum(cpu.values()), 1),
        "cpu_seconds_main": round(cpu.get(popen.pid, 0.0), 1),
        "cpu_ms_per_verdict": round(sum(cpu.values()) * 1000 / total, 2),
        "peak_rss_main_mb": max((s["rss_main_mb"] for s in samples), default=None),
        "peak_rss_total_mb": max((s["rss_total_mb"] for s in samples), default=None),
        "rss_by_progress": tenths,
        "output_mb": round(out.stat().st_size / 2**20, 1),
        "one_million_minutes": round((1_000_000 / rate + (first["t"] if first else 0)) / 60, 1),
        "_lines_seen": judged,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--view", choices=("findings", "full"), default="findings")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "batch-latest.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        t = time.monotonic()
        write_input(src, args.lines)
        print(f"input: {args.lines} lines, {src.stat().st_size / 2**20:.0f} MB, written in {time.monotonic() - t:.1f} s", file=sys.stderr)
        runs = []
        for w in args.workers:
            out = Path(tmp) / f"out{w}.jsonl"
            runs.append(run(src, out, w, args.view, args.lines))
            print(json.dumps(runs[-1], ensure_ascii=False), file=sys.stderr)
            out.unlink()
    result = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print("| workers | lines | verdicts/s | CPU ms/verdict (main s) | start-up s | total s | peak RSS main / all MB | RSS all MB at 10% → 100% | 1,000,000 lines |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        curve = " → ".join(f"{x['rss_total_mb']:.0f}" for x in r["rss_by_progress"][::3] + r["rss_by_progress"][-1:])
        print(
            f"| {r['workers']} | {r['lines']} | {r['verdicts_per_s']} | {r['cpu_ms_per_verdict']} ({r['cpu_seconds_main']}) | {r['startup_seconds']} | {r['seconds']} | "
            f"{r['peak_rss_main_mb']} / {r['peak_rss_total_mb']} | {curve} | {r['one_million_minutes']} min |"
        )


if __name__ == "__main__":
    main()
