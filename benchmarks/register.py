"""The hazard register at scale: 100,000 hazards across 10,000 units on PostgreSQL.

    .venv/bin/python benchmarks/register.py [--db postgresql+psycopg://…] [--hazards 100000] [--units 10000]

Without ``--db`` it starts a throwaway PostgreSQL server (as the register tests do). The
data are seeded in bulk with SQL (no audit entries: the point is the size of the tables the
pages query), then each query of the library API is timed as the web pages call it: the
first page of the list, filtered lists, a hazard's page and the 调度表. Prints a Markdown
table (median and p95 over ``--repeat`` runs) and writes JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "register"))  # the throwaway-server starter lives with the tests

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from hazardjudge.register import Grade, HazardFilter, Origin, Register, Status  # noqa: E402
from hazardjudge.register import reports  # noqa: E402
from hazardjudge.register.models import Hazard, Inspection, Supervision, Unit, User  # noqa: E402

TOWNS = [f"第{i}镇" for i in range(1, 21)]
SECTORS = ["fire", "city_gas", "construction", "industry_trade", "chemicals", "fireworks", "confined_space"]


def seed(reg: Register, units: int, hazards: int, rng: random.Random) -> None:
    with reg.engine.begin() as conn:
        conn.execute(insert(User), [{"username": "admin", "display_name": "admin", "role": "supervisor",
                                     "password_hash": PasswordHasher().hash("admin-pass-1"), "active": True}])
        conn.execute(insert(Unit), [
            {"name": f"单位{i:05d}", "town": rng.choice(TOWNS), "village": f"村{rng.randrange(1, 11)}", "sector": rng.choice(SECTORS), "version": 1}
            for i in range(units)
        ])
        conn.execute(insert(Inspection), [
            {"unit_id": i + 1, "inspected_on": dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(330)), "origin": "inspection",
             "inspectors": [], "facts": {}, "source": "manual", "created_by": 1}
            for i in range(units)
        ])
        statuses = [Status.found, Status.rectifying, Status.pending_review, Status.closed, Status.closed, Status.closed]
        rows = []
        for n in range(hazards):
            found = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(330))
            status = rng.choice(statuses)
            rows.append({
                "unit_id": rng.randrange(1, units + 1), "inspection_id": None, "grade": "major" if rng.random() < 0.2 else "general",
                "origin": "self_check" if rng.random() < 0.4 else "inspection", "found_on": found, "citations": [],
                "description": f"隐患描述 {n}", "deadline": found + dt.timedelta(days=rng.randrange(5, 60)), "status": status.value,
                "closed_on": found + dt.timedelta(days=rng.randrange(1, 40)) if status is Status.closed else None,
                "deadline_calendar_known": True, "version": 1,
            })
            if len(rows) == 10000:
                conn.execute(insert(Hazard), rows)
                rows = []
        if rows:
            conn.execute(insert(Hazard), rows)
        majors = [r[0] for r in conn.execute(text("SELECT id FROM hazards WHERE grade = 'major'"))]
        listed = rng.sample(majors, len(majors) // 10)
        conn.execute(insert(Supervision), [
            {"hazard_id": h, "authority": "县安委办", "document_number": f"督〔2026〕{h}号", "listed_on": dt.date(2026, 6, 1), "listed_by": 1}
            for h in listed
        ])
    if reg.engine.dialect.name == "postgresql":
        with reg.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def timed(fn, repeat: int) -> dict[str, float]:
    fn()  # warm the caches and the statement cache once
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="an empty database (default: a throwaway PostgreSQL server)")
    ap.add_argument("--hazards", type=int, default=100_000)
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    stop = lambda: None  # noqa: E731
    url = args.db
    if url is None:
        from conftest import _start_server, new_pg_database

        admin, reason, stop = _start_server()
        if admin is None:
            print(f"PostgreSQL 不可用：{reason}", file=sys.stderr)
            return 1
        url = new_pg_database(admin)
    try:
        reg = Register(url, today=lambda: dt.date(2026, 11, 30))
        t0 = time.perf_counter()
        seed(reg, args.units, args.hazards, random.Random(17))
        seeded = time.perf_counter() - t0
        me = reg.actor("admin")
        some_unit = 4242 % args.units + 1
        cases = {
            "list, first page (50), no filter": lambda: reg.list_hazards(me),
            "list, 重大 + 整改中": lambda: reg.list_hazards(me, HazardFilter(grade=Grade.major, status=[Status.rectifying])),
            "list, one town + sector": lambda: reg.list_hazards(me, HazardFilter(town="第7镇", sector="fire")),
            "list, overdue": lambda: reg.list_hazards(me, HazardFilter(overdue=True)),
            "list, 挂牌督办中": lambda: reg.list_hazards(me, HazardFilter(supervised=True)),
            "list, one unit": lambda: reg.list_hazards(me, HazardFilter(unit_id=some_unit)),
            "list, page 100 (offset 4950)": lambda: reg.list_hazards(me, offset=4950),
            "list, 企业自查 found in November": lambda: reg.list_hazards(me, HazardFilter(origin=Origin.self_check, found_from=dt.date(2026, 11, 1))),
            "hazard page (detail + history)": lambda: reg.get_hazard(me, 77),
            "调度表 2026-11 (by area and by sector)": lambda: reports.dispatch_table(reg, me, 2026, 11),
        }
        results = {name: timed(fn, args.repeat) for name, fn in cases.items()}
        reg.dispose()
    finally:
        stop()
    print(f"\nRegister benchmark: {args.hazards:,} hazards, {args.units:,} units, {reg.engine.dialect.name}; seeded in {seeded:.1f} s\n")
    print("| query | median ms | p95 ms |\n|---|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['median_ms']} | {r['p95_ms']} |")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "register-latest.json").write_text(json.dumps({
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "hazards": args.hazards, "units": args.units, "backend": reg.engine.dialect.name, "python": platform.python_version(),
        "seed_seconds": round(seeded, 1), "results": results,
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
