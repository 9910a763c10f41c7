"""Load test of POST /api/judge on loopback, bounded in count and time.

    .venv/bin/python benchmarks/load.py [--requests 4000] [--seconds 30] [--clients 8]

Starts `hazardjudge serve` on a free loopback port with the shipped bundle,
sends the example inspection from several client threads (keep-alive
connections), and reports sustained requests per second and latency
percentiles. Stops by itself at whichever bound comes first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from hazardjudge.inputs.inspections import parse_inspection

    parsed = parse_inspection((ROOT / "examples/city_gas_station.yaml").read_text(encoding="utf-8"))
    body = json.dumps(
        {"facts": {k: (sorted(v) if isinstance(v, (set, frozenset)) else v) for k, v in parsed.inspection.facts.items()},
         "date": "2026-11-18"},
        ensure_ascii=False,
    ).encode()

    port = free_port()
    exe = ROOT / ".venv/bin/hazardjudge"
    server = subprocess.Popen([str(exe) if exe.exists() else "hazardjudge", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        remaining = [args.requests]
        stop_at = time.time() + args.seconds

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while time.time() < stop_at:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                t = time.perf_counter()
                conn.request("POST", "/api/judge", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - t
                with lock:
                    latencies.append(elapsed)
                    if response.status != 200:
                        errors[0] += 1

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(10)
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1000
    print(f"{len(latencies)} requests in {wall:.1f} s from {args.clients} clients: {len(latencies) / wall:.0f} req/s, "
          f"errors {errors[0]}; latency median {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms")


if __name__ == "__main__":
    main()
