"""Speed and memory of hazardjudge, measured in one run so ratios are comparable.

    .venv/bin/python benchmarks/bench.py            # full run (~3 minutes)
    .venv/bin/python benchmarks/bench.py --quick    # smaller counts, for a smoke check

Measures, for the shipped bundle and a synthetic 300-rule bundle: median and
p99 time per verdict (durable_rules engine vs the plain-Python oracle, same
compiled rules) for a typical inspection and a bad one; batch throughput on
one core and on all cores; bundle load/compile time; cold start of the CLI (as
run from the checkout, and with bytecode already compiled as an installed wheel
has it); RSS over 100,000 verdicts. Prints a Markdown table and writes JSON
under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic bundle writer lives with the tests

from synthetic import synthetic_facts, write_synthetic  # noqa: E402

import hazardjudge  # noqa: E402
from hazardjudge.engine.oracle import OracleEvaluator  # noqa: E402
from hazardjudge.inputs.inspections import parse_inspection  # noqa: E402

ON = dt.date(2026, 11, 18)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, n: int) -> dict:
    for _ in range(min(200, n)):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    samples.sort()
    return {
        "median_us": round(statistics.median(samples) * 1e6, 1),
        "p99_us": round(samples[int(len(samples) * 0.99) - 1] * 1e6, 1),
    }


def shipped_cases(engine) -> dict[str, dict]:
    example = parse_inspection((ROOT / "examples/city_gas_station.yaml").read_text(encoding="utf-8")).inspection.facts
    # Every yes/no answered 否 but the confined-space ones, whose "no work" (cs.work_in_progress 否)
    # forbids answering the work items at all.
    bad = {f: False for f, d in engine.bundle.facts.items() if d.type.value == "boolean" and not f.startswith("cs.")}
    bad.update({f: True for f in engine.bundle.facts if f.endswith(("_found", "encroached", "underground_structure", "non_owned_cylinders", "unlicensed_filled", "non_owned_filled", "other_serious_violation"))})
    bad.update({"site.kinds": ["gas_operator"], "gas.user_gas_relative_density": 1.6, "gas.operates_station": True,
                "gas.station_has_storage_tank": True, "gas.station_loads_cng_lng_lpg": True, "gas.operates_pipelines": True,
                "gas.cylinder_business": True, "gas.other_serious_violation_description": "测试"})
    return {"typical (2 findings)": dict(example), "bad (all 22 clauses)": bad}


def measure_verdicts(engine, cases: dict[str, dict], n: int) -> list[dict]:
    oracle = OracleEvaluator(engine.compiled)
    rows = []
    for label, facts in cases.items():
        answers = engine.read(facts)
        findings = len(engine.judge(answers, on=ON).findings())
        durable = timed(lambda: engine.judge(answers, on=ON), n)
        durable_eval = timed(lambda: engine.evaluate(answers, ON), n)
        oracle_eval = timed(lambda: engine.evaluate(answers, ON, evaluator=oracle), n)
        rows.append({
            "case": label,
            "findings": findings,
            "judge_durable": durable,
            "evaluate_durable": durable_eval,
            "evaluate_oracle": oracle_eval,
            "ratio_evaluate": round(durable_eval["median_us"] / oracle_eval["median_us"], 2),
        })
    return rows


def _batch_worker(args) -> int:
    criteria, rules, facts, n = args
    engine = hazardjudge.load(criteria, rules)
    answers = engine.read(facts)
    for _ in range(n):
        engine.judge(answers, on=ON)
    return n


def batch(criteria, rules, facts, n: int, procs: int) -> float:
    per = n // procs
    ctx = mp.get_context("spawn")
    with ctx.Pool(procs) as pool:
        pool.map(_batch_worker, [(criteria, rules, facts, 50)] * procs)  # warm start-up out of the timing
        t = time.perf_counter()
        done = sum(pool.map(_batch_worker, [(criteria, rules, facts, per)] * procs))
        elapsed = time.perf_counter() - t
    # Each worker loads its bundle inside the timed call; subtract that from the rate honestly by
    # reporting verdicts over wall time including it (it is <0.1 s per worker).
    return round(done / elapsed, 1)


def cold_start(runs: int, env: dict[str, str] | None = None) -> dict:
    exe = ROOT / ".venv/bin/hazardjudge"
    cmd = [str(exe) if exe.exists() else "hazardjudge", "judge", str(ROOT / "examples/city_gas_station.yaml")]
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env)
        samples.append(time.perf_counter() - t)
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "min_ms": round(min(samples) * 1000, 1)}


def cold_start_with_bytecode(runs: int) -> dict:
    """As an installed wheel runs: every module already compiled (a checkout run with
    PYTHONDONTWRITEBYTECODE=1 compiles hazardjudge's sources on each start)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        cold_start(1, env)  # writes the bytecode
        return cold_start(runs, env)


def import_cost(runs: int) -> float:
    """Median of several fresh interpreters: a single sample swung by ±50% on a busy machine."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t=time.perf_counter(); import hazardjudge.api; print(time.perf_counter()-t)"],
            capture_output=True, text=True,
        )
        samples.append(float(out.stdout))
    return round(statistics.median(samples) * 1000, 1)


def rss_over(engine, facts, total: int, step: int) -> list[tuple[int, float]]:
    answers = engine.read(facts)
    points = [(0, round(rss_mb(), 1))]
    for i in range(1, total + 1):
        engine.judge(answers, on=ON)
        if i % step == 0:
            points.append((i, round(rss_mb(), 1)))
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 500 if args.quick else 5000
    rss_total = 10_000 if args.quick else 100_000
    batch_n = 2000 if args.quick else 20_000
    results: dict = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }

    t = time.perf_counter()
    shipped = hazardjudge.load()
    shipped._evaluator.warm()
    results["load_compile_shipped_ms"] = round((time.perf_counter() - t) * 1000, 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_synthetic(Path(tmp), 300)
        t = time.perf_counter()
        synth = hazardjudge.load(root / "criteria", root / "rules")
        synth._evaluator.warm()
        results["load_compile_synthetic300_ms"] = round((time.perf_counter() - t) * 1000, 1)
        results["synthetic_rulesets"] = len(synth._evaluator._handles)

        results["shipped"] = measure_verdicts(shipped, shipped_cases(shipped), n)
        synth_cases = {"typical (3 findings)": synthetic_facts(300, 3), "bad (40 findings)": synthetic_facts(300, 40)}
        results["synthetic300"] = measure_verdicts(synth, synth_cases, n)

        typical = shipped_cases(shipped)["typical (2 findings)"]
        crit, rules = str(ROOT / "criteria"), str(ROOT / "rules")
        results["batch_shipped_per_s_1_core"] = batch(crit, rules, typical, batch_n, 1)
        results["batch_shipped_per_s_all_cores"] = batch(crit, rules, typical, batch_n, os.cpu_count() or 1)
        s_crit, s_rules = str(root / "criteria"), str(root / "rules")
        results["batch_synthetic_per_s_1_core"] = batch(s_crit, s_rules, synthetic_facts(300, 3), batch_n // 4, 1)

    results["import_ms"] = import_cost(3 if args.quick else 9)
    results["cli_cold_start"] = cold_start(5 if args.quick else 15)
    results["cli_cold_start_bytecode"] = cold_start_with_bytecode(5 if args.quick else 15)
    results["rss_mb"] = rss_over(shipped, shipped_cases(shipped)["typical (2 findings)"], rss_total, rss_total // 10)

    out_dir = ROOT / "benchmarks/results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(report(results))


def report(r: dict) -> str:
    lines = [f"hazardjudge benchmark — Python {r['python']}, {r['cpus']} CPUs, {r['when']}", ""]
    lines.append("| bundle | case | findings | judge (durable) median / p99 µs | evaluate durable median / p99 µs | evaluate oracle median / p99 µs | durable ÷ oracle |")
    lines.append("|---|---|---|---|---|---|---|")
    for bundle in ("shipped", "synthetic300"):
        for row in r[bundle]:
            j, d, o = row["judge_durable"], row["evaluate_durable"], row["evaluate_oracle"]
            lines.append(
                f"| {bundle} | {row['case']} | {row['findings']} | {j['median_us']} / {j['p99_us']} | "
                f"{d['median_us']} / {d['p99_us']} | {o['median_us']} / {o['p99_us']} | {row['ratio_evaluate']}× |"
            )
    lines += [
        "",
        f"- load + compile: shipped {r['load_compile_shipped_ms']} ms; synthetic 300 rules {r['load_compile_synthetic300_ms']} ms ({r['synthetic_rulesets']} rulesets)",
        f"- batch, shipped typical: {r['batch_shipped_per_s_1_core']} verdicts/s on 1 core, {r['batch_shipped_per_s_all_cores']} on all cores",
        f"- batch, synthetic typical: {r['batch_synthetic_per_s_1_core']} verdicts/s on 1 core",
        f"- import hazardjudge.api: {r['import_ms']} ms; CLI cold start `hazardjudge judge` example: median {r['cli_cold_start']['median_ms']} ms (min {r['cli_cold_start']['min_ms']} ms)",
        f"- the same with every module's bytecode already written, as in an installed wheel: median {r['cli_cold_start_bytecode']['median_ms']} ms (min {r['cli_cold_start_bytecode']['min_ms']} ms)",
        "- RSS (MB) after N verdicts: " + ", ".join(f"{n}: {mb}" for n, mb in r["rss_mb"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
