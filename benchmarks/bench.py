"""Speed and memory of hazardjudge, measured in one run so ratios are comparable.

    .venv/bin/python benchmarks/bench.py            # full run (~30 minutes on a 2-core machine)
    .venv/bin/python benchmarks/bench.py --quick    # smaller counts, for a smoke check
    .venv/bin/python benchmarks/bench.py --rules 1000 --big-rules 5000

Measures, for every shipped example (examples/*.yaml: one typical inspection per sector)
and a synthetic bundle of ``--rules`` rules: median and p99 time per verdict, the
durable_rules engine and the plain-Python oracle side by side (same compiled rules);
batch throughput over a mix of all examples on one core and on all cores, each worker's
bundle load timed apart from the batch; load + compile time of the shipped bundle and of
synthetic bundles (in fresh interpreters); cold start of the CLI (as run from the
checkout, and with bytecode already compiled as an installed wheel has it); RSS over
many verdicts. Verdicts are timed as a long-running process runs them: bundle loaded,
rulesets created, then ``hazardjudge.engine.heap.settle()``. Prints a Markdown table and
writes benchmarks/results/latest.json.

Timings on a shared machine are indicative only; compare ratios measured in one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
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
from hazardjudge.engine.heap import settle  # noqa: E402
from hazardjudge.engine.oracle import OracleEvaluator  # noqa: E402
from hazardjudge.errors import InputError  # noqa: E402
from hazardjudge.batch.views import render  # noqa: E402
from hazardjudge.inputs.inspections import parse_inspection  # noqa: E402

GAS_EXAMPLE = ROOT / "examples/city_gas_station.yaml"


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
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    return {"median_us": round(median * 1e6, 1), "p99_us": round(p99 * 1e6, 1), "p99_over_median": round(p99 / median, 2)}


def examples(engine) -> dict[str, object]:
    """Every shipped example that is an inspection (notice.yaml holds notice settings)."""
    out = {}
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        try:
            parsed = parse_inspection(path.read_text(encoding="utf-8")).inspection
            engine.read(parsed.facts)
        except InputError:
            continue
        out[path.stem] = parsed
    return out


def gas_bad_case(engine) -> dict:
    """City gas with every clause met: the most firings one sector's inspection can have."""
    # Every yes/no answered 否 but the confined-space ones, whose "no work" (cs.work_in_progress 否)
    # forbids answering the work items at all.
    bad = {f: False for f, d in engine.bundle.facts.items() if d.type.value == "boolean" and not f.startswith("cs.")}
    bad.update({f: True for f in engine.bundle.facts if f.endswith(("_found", "encroached", "underground_structure", "non_owned_cylinders", "unlicensed_filled", "non_owned_filled", "other_serious_violation"))})
    bad.update({"site.kinds": ["gas_operator"], "gas.user_gas_relative_density": 1.6, "gas.operates_station": True,
                "gas.station_has_storage_tank": True, "gas.station_loads_cng_lng_lpg": True, "gas.operates_pipelines": True,
                "gas.cylinder_business": True, "gas.other_serious_violation_description": "测试"})
    return bad


def measure(engine, label: str, facts, on: dt.date, sectors, n: int) -> dict:
    oracle = OracleEvaluator(engine.compiled)
    answers = engine.read(facts)
    verdict = engine.judge(answers, on=on, sectors=sectors)
    applicable = [d.sector for d in verdict.documents if d.outcome.value != "not_applicable"]
    judge = timed(lambda: engine.judge(answers, on=on, sectors=sectors), n)
    durable = timed(lambda: engine.evaluate(answers, on, sectors), n)
    plain = timed(lambda: engine.evaluate(answers, on, sectors, evaluator=oracle), n)
    return {
        "case": label,
        "sectors": applicable,
        "outcome": verdict.outcome.value,
        "findings": len(verdict.findings()),
        "judge_durable": judge,
        "evaluate_durable": durable,
        "evaluate_oracle": plain,
        "ratio_evaluate": round(durable["median_us"] / plain["median_us"], 2),
        "json_kb": round(len(verdict.model_dump_json()) / 1024, 1),
    }


# ------------------------------------------------------------------ batch, in worker processes

_worker: dict = {}


def _init_worker(criteria: str | None, rules: str | None) -> None:
    t = time.perf_counter()
    engine = hazardjudge.load(criteria, rules)
    engine._evaluator.warm()
    settle()
    _worker["engine"] = engine
    _worker["load_s"] = time.perf_counter() - t


def _load_time(_: int) -> float:
    return _worker["load_s"]


def _judge_many(args) -> tuple[int, float]:
    """Read and judge the inputs round robin; only this is timed, the bundle is already loaded.

    ``findings``: as ``hazardjudge batch`` does by default, each verdict built for the findings
    view only (decisive results, no questions) and rendered as its output line.
    """
    inputs, n, dump, findings = args
    engine = _worker["engine"]
    t = time.perf_counter()
    for i in range(n):
        facts, on, sectors = inputs[i % len(inputs)]
        verdict = engine.judge(facts, on=on, sectors=sectors, decisive_only=findings)
        if findings:
            render("findings", i, i + 1, verdict)
        elif dump:
            verdict.model_dump_json()
    return n, time.perf_counter() - t


def batch(criteria, rules, inputs, n: int, procs: int, dump: bool = False, findings: bool = False) -> dict:
    per = n // procs
    ctx = mp.get_context("spawn")
    with ctx.Pool(procs, initializer=_init_worker, initargs=(criteria, rules)) as pool:
        loads = pool.map(_load_time, range(procs), chunksize=1)
        pool.map(_judge_many, [(inputs, 50, dump, findings)] * procs, chunksize=1)  # warm, out of the timing
        t = time.perf_counter()
        parts = pool.map(_judge_many, [(inputs, per, dump, findings)] * procs, chunksize=1)
        wall = time.perf_counter() - t
    done = sum(k for k, _ in parts)
    return {
        "verdicts": done,
        "per_s": round(done / wall, 1),
        "per_s_per_worker": round(statistics.mean(k / s for k, s in parts), 1),
        "worker_load_s": round(max(loads), 2),
    }


# ------------------------------------------------------------------ fresh interpreters

_LOAD_SNIPPET = """
import json, sys, time
import hazardjudge.api
t = time.perf_counter()
engine = hazardjudge.api.load(*(sys.argv[1:] or [None, None]))
engine._evaluator.warm()
print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "rulesets": len(engine._evaluator._handles)}))
"""


def load_compile(runs: int, criteria: Path | None = None, rules: Path | None = None, env: dict[str, str] | None = None) -> dict:
    """Load, check, compile every version and create every ruleset, in a fresh interpreter (imports done)."""
    args = [str(criteria), str(rules)] if criteria else []
    samples, rulesets = [], 0
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET, *args], capture_output=True, text=True, check=True, env=env)
        result = json.loads(out.stdout)
        samples.append(result["ms"])
        rulesets = result["rulesets"]
    return {"median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1), "rulesets": rulesets}


def cold_start(runs: int, env: dict[str, str] | None = None) -> dict:
    exe = Path(sys.executable).parent / "hazardjudge"
    cmd = [str(exe) if exe.exists() else "hazardjudge", "judge", str(GAS_EXAMPLE)]
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env)
        samples.append(time.perf_counter() - t)
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "min_ms": round(min(samples) * 1000, 1)}


def cold_start_with_bytecode(runs: int, base: dict[str, str]) -> dict:
    """As an installed wheel runs: every module already compiled (a checkout run with
    PYTHONDONTWRITEBYTECODE=1 compiles hazardjudge's sources on each start)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
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


def rss_over(engine, inputs, total: int, step: int) -> list[tuple[int, float]]:
    points = [(0, round(rss_mb(), 1))]
    for i in range(1, total + 1):
        facts, on, sectors = inputs[i % len(inputs)]
        engine.judge(facts, on=on, sectors=sectors)
        if i % step == 0:
            points.append((i, round(rss_mb(), 1)))
    return points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rules", type=int, default=300, help="rules in the synthetic bundle whose verdicts are timed")
    parser.add_argument("--big-rules", type=int, default=3000, help="rules in the synthetic bundle whose load + compile is timed")
    args = parser.parse_args()
    n = 500 if args.quick else 5000
    rss_total = 10_000 if args.quick else 100_000
    mix_n = 5_000 if args.quick else 100_000
    runs = 3 if args.quick else 9
    cpus = os.cpu_count() or 1
    results: dict = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": cpus,
        "machine": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "synthetic_rules": args.rules,
        "big_rules": args.big_rules,
    }

    # The bundle cache (engine/cache.py) changes every fresh-interpreter figure, so each is
    # measured both ways: cache off (a first run, or a bundle under edit) and with a private
    # cache already holding the bundle (every later run); never the user's own cache.
    cache_dir = tempfile.mkdtemp(prefix="hj-bench-cache-")
    cold_env = dict(os.environ, HAZARDJUDGE_CACHE="off")
    warm_env = dict(os.environ, HAZARDJUDGE_CACHE=cache_dir)
    os.environ["HAZARDJUDGE_CACHE"] = "off"  # in-process loads and batch workers: timed as loaded from source
    shipped = hazardjudge.load()
    shipped._evaluator.warm()
    inspections = examples(shipped)
    inputs = [(dict(i.facts), i.on, i.sectors) for i in inspections.values()]
    with tempfile.TemporaryDirectory() as tmp:
        root = write_synthetic(Path(tmp) / "synth", args.rules)
        big = write_synthetic(Path(tmp) / "big", args.big_rules)
        synth = hazardjudge.load(root / "criteria", root / "rules")
        synth._evaluator.warm()
        settle()

        results["shipped"] = [measure(shipped, name, dict(i.facts), i.on, i.sectors, n) for name, i in inspections.items()]
        gas = inspections.get(GAS_EXAMPLE.stem)
        if gas is not None:
            results["shipped"].append(measure(shipped, "city gas, every clause met", gas_bad_case(shipped), gas.on, None, n))
        on = dt.date(2026, 11, 18)
        results["synthetic"] = [
            measure(synth, f"typical (3 of {args.rules} met)", synthetic_facts(args.rules, 3), on, None, n),
            measure(synth, f"bad (40 of {args.rules} met)", synthetic_facts(args.rules, 40), on, None, n),
        ]
        results["synthetic_rulesets"] = len(synth._evaluator._handles)
        del synth

        results["batch_mix_1_core"] = batch(None, None, inputs, mix_n // 4, 1)
        results["batch_mix_all_cores"] = batch(None, None, inputs, mix_n, cpus)
        results["batch_mix_all_cores_with_json"] = batch(None, None, inputs, mix_n // 4, cpus, dump=True)
        results["million_mixed_minutes_all_cores"] = round(1_000_000 / results["batch_mix_all_cores"]["per_s"] / 60, 1)
        results["batch_mix_1_core_findings"] = batch(None, None, inputs, mix_n // 4, 1, findings=True)
        results["batch_mix_all_cores_findings"] = batch(None, None, inputs, mix_n, cpus, findings=True)
        results["million_mixed_minutes_all_cores_findings"] = round(
            1_000_000 / results["batch_mix_all_cores_findings"]["per_s"] / 60, 1
        )
        s_inputs = [(synthetic_facts(args.rules, 3), on, None)]
        results["batch_synthetic_1_core"] = batch(str(root / "criteria"), str(root / "rules"), s_inputs, mix_n // 40, 1)

        bundles = {"shipped": (), "synthetic": (root / "criteria", root / "rules"), "big": (big / "criteria", big / "rules")}
        for name, folders in bundles.items():
            k = max(1, runs // 3) if name == "big" else runs
            results[f"load_compile_{name}"] = load_compile(k, *folders, env=cold_env)
            load_compile(2, *folders, env=warm_env)  # a bundle is stored on its second load
            results[f"load_compile_{name}_cached"] = load_compile(k, *folders, env=warm_env)

    results["import_ms"] = import_cost(runs)
    cold_start(2, warm_env)
    for suffix, env in (("", cold_env), ("_cached", warm_env)):
        results[f"cli_cold_start{suffix}"] = cold_start(5 if args.quick else 15, env)
        results[f"cli_cold_start_bytecode{suffix}"] = cold_start_with_bytecode(5 if args.quick else 15, env)
    results["rss_mb"] = rss_over(shipped, inputs, rss_total, rss_total // 10)

    shutil.rmtree(cache_dir, ignore_errors=True)
    out_dir = ROOT / "benchmarks/results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    print(report(results))


def report(r: dict) -> str:
    lines = [
        f"hazardjudge benchmark — Python {r['python']}, {r['cpus']} CPUs, {r['when']} (load average {r['load_average']})",
        "",
        "| bundle | case | sectors | findings | judge median / p99 µs (p99 ÷ median) | evaluate durable median / p99 µs | evaluate oracle median / p99 µs | durable ÷ oracle | JSON KB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for bundle in ("shipped", "synthetic"):
        for row in r[bundle]:
            j, d, o = row["judge_durable"], row["evaluate_durable"], row["evaluate_oracle"]
            lines.append(
                f"| {bundle} | {row['case']} | {', '.join(row['sectors']) or '—'} | {row['findings']} | "
                f"{j['median_us']} / {j['p99_us']} ({j['p99_over_median']}×) | {d['median_us']} / {d['p99_us']} | "
                f"{o['median_us']} / {o['p99_us']} | {row['ratio_evaluate']}× | {row['json_kb']} |"
            )
    b1, ball, bjson, bs = r["batch_mix_1_core"], r["batch_mix_all_cores"], r["batch_mix_all_cores_with_json"], r["batch_synthetic_1_core"]
    lc = lambda k: f"median {r[k]['median_ms']} ms (min {r[k]['min_ms']} ms, {r[k]['rulesets']} rulesets)"
    lines += [
        "",
        f"- batch, mix of every example (read + judge): {b1['per_s']} verdicts/s on 1 core; {ball['per_s']} on {r['cpus']} cores "
        f"({ball['per_s_per_worker']} per worker), {ball['verdicts']} verdicts; with full JSON written {bjson['per_s']} on {r['cpus']} cores",
        f"- each worker's bundle load (load, compile, create rulesets, settle), timed apart from the batch: {ball['worker_load_s']} s",
        f"- 1,000,000 mixed inspections on {r['cpus']} cores at that rate: {r['million_mixed_minutes_all_cores']} min",
        f"- batch as `hazardjudge batch` runs it (findings view, each line rendered): "
        f"{r['batch_mix_1_core_findings']['per_s']} verdicts/s on 1 core; {r['batch_mix_all_cores_findings']['per_s']} on "
        f"{r['cpus']} cores; 1,000,000 mixed inspections at that rate: {r['million_mixed_minutes_all_cores_findings']} min",
        f"- batch, synthetic {r['synthetic_rules']}-rule typical: {bs['per_s']} verdicts/s on 1 core",
        f"- load + compile + create every ruleset, fresh interpreter, bundle cache off: shipped {lc('load_compile_shipped')}; "
        f"synthetic {r['synthetic_rules']} rules {lc('load_compile_synthetic')}; synthetic {r['big_rules']} rules {lc('load_compile_big')}",
        f"- the same with the bundle and its compiled versions already cached: shipped {lc('load_compile_shipped_cached')}; "
        f"synthetic {r['synthetic_rules']} rules {lc('load_compile_synthetic_cached')}; synthetic {r['big_rules']} rules {lc('load_compile_big_cached')}",
        f"- import hazardjudge.api: {r['import_ms']} ms",
    ]
    ms = lambda k: f"median {r[k]['median_ms']} ms (min {r[k]['min_ms']} ms)"
    lines += [
        f"- CLI cold start `hazardjudge judge` example, cache off: {ms('cli_cold_start')}; with every module's bytecode "
        f"already written, as in an installed wheel: {ms('cli_cold_start_bytecode')}",
        f"- the same with the bundle cached: {ms('cli_cold_start_cached')}; with bytecode: {ms('cli_cold_start_bytecode_cached')}",
        "- RSS (MB) after N verdicts of the mix: " + ", ".join(f"{n}: {mb}" for n, mb in r["rss_mb"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
