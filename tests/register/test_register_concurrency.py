"""Two writers never lose an update; a writer killed mid-write leaves the database consistent."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import text

from hazardjudge.register import ConflictError, Grade, HazardIn, HazardUpdate, Register, Role, UnitIn

SRC = Path(__file__).resolve().parents[2] / "src"


def test_concurrent_writers_lose_no_update(reg, boss):
    unit = reg.add_unit(boss, UnitIn(name="某厂")).id
    h = reg.add_hazard(boss, HazardIn(unit_id=unit, grade=Grade.major, found_on=dt.date(2026, 11, 2), description="x"))
    threads, per_thread = 4, 5
    start = threading.Barrier(threads)
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                while True:
                    seen = reg.get_hazard(boss, h.id)
                    try:
                        # Read-modify-write: appending is lost for good if a stale write goes through.
                        reg.update(boss, h.id, HazardUpdate(measures=(seen.measures or "") + f"[{n}.{i}]"), expected_version=seen.version)
                        break
                    except ConflictError:
                        conflicts.append(n)
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise swallowed
            errors.append(exc)

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    final = reg.get_hazard(boss, h.id)
    marks = {f"[{n}.{i}]" for n in range(threads) for i in range(per_thread)}
    assert all(m in final.measures for m in marks)
    assert len(final.measures) == sum(len(m) for m in marks)
    assert final.version == 1 + threads * per_thread
    assert [a.action for a in final.history].count("update") == threads * per_thread


def test_two_stale_writes_one_wins(reg, boss):
    """Both read version 1, both write: exactly one is refused, whatever the order."""
    unit = reg.add_unit(boss, UnitIn(name="某厂")).id
    h = reg.add_hazard(boss, HazardIn(unit_id=unit, grade=Grade.general, found_on=dt.date(2026, 11, 2), description="x"))
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def writer(value: str) -> None:
        start.wait()
        try:
            reg.update(boss, h.id, HazardUpdate(responsible=value), expected_version=h.version)
            outcomes.append("ok:" + value)
        except ConflictError:
            outcomes.append("conflict")

    pool = [threading.Thread(target=writer, args=(v,)) for v in ("甲", "乙")]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"]
    winner = next(o.split(":")[1] for o in outcomes if o.startswith("ok"))
    assert reg.get_hazard(boss, h.id).responsible == winner


CHILD = r"""
import datetime as dt, sys
from argon2 import PasswordHasher
from hazardjudge.register import Grade, HazardIn, HazardUpdate, Register
reg = Register(sys.argv[1], hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
me = reg.authenticate("writer", "writer-pass")
n = 0
while True:
    h = reg.add_hazard(me, HazardIn(unit_id=int(sys.argv[2]), grade=Grade.general, found_on=dt.date(2026, 11, 2), description=f"第{n}项"))
    reg.update(me, h.id, HazardUpdate(measures="整改", responsible="某人"), expected_version=h.version)
    n += 1
    print(n, flush=True)
"""


def test_a_killed_writer_leaves_the_database_consistent(url, boss, reg, fast_hasher):
    unit = reg.add_unit(boss, UnitIn(name="某厂")).id
    reg.add_user(boss, "writer", "writer-pass", Role.inspector)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(unit)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(15):  # let it commit some, then kill it wherever it is
            line = child.stdout.readline()
            assert line, child.stderr.read()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    after = Register(url, hasher=fast_hasher)
    try:
        with after.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            hazards = conn.execute(text("SELECT id, version, measures FROM hazards")).all()
            created = conn.execute(text("SELECT count(*) FROM audit_log WHERE entity='hazard' AND action='create'")).scalar()
            updates = dict(conn.execute(text("SELECT entity_id, count(*) FROM audit_log WHERE entity='hazard' AND action='update' GROUP BY entity_id")).all())
        # Every hazard and every change arrived with its audit entry, or neither did.
        assert len(hazards) >= 15 and created == len(hazards)
        for hid, version, measures in hazards:
            assert version - 1 == updates.get(hid, 0)
            assert (measures is None) == (version == 1)
        # And the register goes on working.
        me = after.authenticate("writer", "writer-pass")
        after.add_hazard(me, HazardIn(unit_id=unit, grade=Grade.general, found_on=dt.date(2026, 11, 3), description="之后"))
    finally:
        after.dispose()
