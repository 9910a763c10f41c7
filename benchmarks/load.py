"""Load and soak benchmark of POST /api/judge against a real `hazardjudge serve`, on 127.0.0.1 only.

    .venv/bin/python benchmarks/load.py                       # the run of record (100,000-request soak)
    .venv/bin/python benchmarks/load.py --quick               # a short run: fewer requests, 5,000-request soak

For each worker count (default 1 and 2) it starts the server on a free loopback port with the
shipped bundle, and for each number of concurrent clients (default 1, 8, 32, 128; each a
keep-alive connection driven from one asyncio client process) sends the example inspection,
bounded by a request count and a time limit, whichever comes first. It reports throughput,
latency p50/p99 and errors (any answer but 200, any broken connection) per level, then a soak:
``--soak`` requests at 8 clients with the server's resident memory (all its processes) sampled
as it goes. Results are printed and written as JSON to benchmarks/results/load-<when>.json
(``--out`` to choose). The client shares the machine with the server: on 2 cores, figures at
2 workers are bounded by the client too.

Targets (docs/service.md): p99 ≤ 20 ms at 8 clients, throughput linear in workers, zero errors,
flat RSS over the soak.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never anything else: this is a load generator


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def body_of(example: str) -> bytes:
    sys.path.insert(0, str(ROOT / "src"))
    from hazardjudge.engine.loading import example_dir
    from hazardjudge.inputs.inspections import parse_inspection

    parsed = parse_inspection((example_dir() / example).read_text(encoding="utf-8"))
    inspection = parsed.inspection
    facts = {k: (sorted(v) if isinstance(v, (set, frozenset)) else v) for k, v in inspection.facts.items()}
    body = {"facts": facts, "date": (inspection.on or dt.date(2026, 11, 18)).isoformat()}
    if inspection.sectors:
        body["sectors"] = list(inspection.sectors)
    return json.dumps(body, ensure_ascii=False).encode()


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the supervisor and its workers)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return total


def start_server(workers: int, limit: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    exe = ROOT / ".venv/bin/hazardjudge"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "hazardjudge.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [*command, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers), "--limit-concurrency", str(limit)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=2) as s:
                s.sendall(b"GET /api/health HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not start")


async def _client(port: int, request: bytes, budget: list[int], stop_at: float, latencies: list[float], errors: list[str]) -> None:
    reader = writer = None
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
        while budget[0] > 0 and time.perf_counter() < stop_at:
            budget[0] -= 1
            t = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0].decode())
    except (OSError, asyncio.IncompleteReadError, StopIteration) as exc:
        errors.append(type(exc).__name__)
    finally:
        if writer is not None:
            writer.close()


def run_level(port: int, request: bytes, clients: int, count: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []

    async def main() -> float:
        budget = [count]
        start = time.perf_counter()
        await asyncio.gather(*(_client(port, request, budget, start + seconds, latencies, errors) for _ in range(clients)))
        return time.perf_counter() - start

    wall = asyncio.run(main())
    latencies.sort()

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000, 2) if latencies else 0.0

    return {
        "clients": clients, "requests": len(latencies), "seconds": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": pick(1.0),
        "errors": len(errors), "error_kinds": sorted(set(errors))[:5],
    }


def soak(port: int, pid: int, request: bytes, total: int, clients: int, samples: int = 20) -> dict:
    points = [{"after": 0, "rss_mib": round(rss_kib(pid) / 1024, 1)}]
    errors = 0
    step = max(1, total // samples)
    done = 0
    start = time.perf_counter()
    while done < total:
        n = min(step, total - done)
        level = run_level(port, request, clients, n, 3600)
        done += level["requests"]
        errors += level["errors"]
        points.append({"after": done, "rss_mib": round(rss_kib(pid) / 1024, 1)})
        if level["requests"] == 0:
            break
    rss = [p["rss_mib"] for p in points]
    # Growth from the first tenth (warm caches, pools filled) to the end: flat means ~0.
    settled = rss[max(1, len(rss) // 10)]
    return {
        "requests": done, "clients": clients, "seconds": round(time.perf_counter() - start, 1), "errors": errors,
        "rss_mib_start": rss[0], "rss_mib_settled": settled, "rss_mib_end": rss[-1], "rss_mib_max": max(rss),
        "growth_after_settling_mib": round(rss[-1] - settled, 1), "samples": points,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--clients", default="1,8,32,128", help="concurrent clients per level, comma-separated")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per level (bound)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds per level (bound)")
    parser.add_argument("--soak", type=int, default=100_000, help="requests in the soak (0: none)")
    parser.add_argument("--soak-workers", type=int, default=1, help="worker count the soak runs against")
    parser.add_argument("--example", default="city_gas_station.yaml", help="the inspection sent (examples/)")
    parser.add_argument("--limit-concurrency", type=int, default=256, help="the server's limit (above the largest client count)")
    parser.add_argument("--quick", action="store_true", help="short run: 2,000 requests or 10 s per level, 5,000-request soak")
    parser.add_argument("--out", type=Path, help="JSON results file (default benchmarks/results/load-<when>.json)")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.seconds, args.soak = min(args.requests, 2000), min(args.seconds, 10.0), min(args.soak, 5000)

    body = body_of(args.example)
    request = (
        f"POST /api/judge HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    when = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    results: dict = {
        "when": when, "python": platform.python_version(), "cpus": os.cpu_count(), "example": args.example,
        "limit_concurrency": args.limit_concurrency, "per_level": {"requests": args.requests, "seconds": args.seconds},
        "load_average_at_start": os.getloadavg(), "runs": [],
    }
    for workers in [int(w) for w in args.workers.split(",")]:
        server, port = start_server(workers, args.limit_concurrency)
        try:
            run_level(port, request, 8, 500, 10)  # warm-up: every worker's engine and pools
            run = {"workers": workers, "levels": []}
            for clients in [int(c) for c in args.clients.split(",")]:
                level = run_level(port, request, clients, args.requests, args.seconds)
                run["levels"].append(level)
                print(
                    f"workers {workers} clients {clients:>3}: {level['throughput_rps']:>7.1f} req/s  "
                    f"p50 {level['p50_ms']:>7.2f} ms  p99 {level['p99_ms']:>7.2f} ms  errors {level['errors']}"
                    f"  ({level['requests']} requests in {level['seconds']} s)",
                    flush=True,
                )
            if args.soak and workers == args.soak_workers:
                run["soak"] = soak(port, server.pid, request, args.soak, 8)
                s = run["soak"]
                print(
                    f"soak, workers {workers}: {s['requests']} requests in {s['seconds']} s, errors {s['errors']}; RSS "
                    f"{s['rss_mib_start']} → {s['rss_mib_settled']} (settled) → {s['rss_mib_end']} MiB, max {s['rss_mib_max']}",
                    flush=True,
                )
            results["runs"].append(run)
        finally:
            server.terminate()
            server.wait(30)
    by_workers = {r["workers"]: {lv["clients"]: lv for lv in r["levels"]} for r in results["runs"]}
    if 1 in by_workers and 2 in by_workers:
        results["scaling_1_to_2"] = {
            c: round(by_workers[2][c]["throughput_rps"] / by_workers[1][c]["throughput_rps"], 2)
            for c in by_workers[1] if c in by_workers[2] and by_workers[1][c]["throughput_rps"]
        }
        print("throughput 2 workers / 1 worker:", results["scaling_1_to_2"])
    results["load_average_at_end"] = os.getloadavg()
    out = args.out or ROOT / "benchmarks" / "results" / f"load-{when.replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
