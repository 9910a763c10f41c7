"""One fixture runs every register test on SQLite and on PostgreSQL.

PostgreSQL comes from ``HAZARDJUDGE_TEST_PG`` (a URL of a server where the user may create
databases), else a throwaway server started here with Debian's initdb/pg_ctl on a unix
socket in a temporary folder (as the ``postgres`` account when running as root: the server
refuses to run as root). Where neither works the PostgreSQL variants skip with the reason,
unless ``HAZARDJUDGE_REQUIRE_PG=1`` (CI, once it installed the server): then they fail.
"""

from __future__ import annotations

import datetime as dt
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hazardjudge.register import Register, db

_counter = itertools.count()
# Real argon2id, cheap parameters: the suite hashes dozens of passwords.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _start_server() -> tuple[str | None, str, object]:
    """(admin URL or None, reason, cleanup)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        return None, "PostgreSQL 未安装（找不到 /usr/lib/postgresql/*/bin/initdb；Debian: apt-get install postgresql）", lambda: None
    bindir = Path(bins[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="hj-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder, ignore_errors=True)
            return None, "以 root 运行且没有 postgres 账号，无法启动 PostgreSQL", lambda: None
        if shutil.which("runuser") is None:
            return None, "以 root 运行且没有 runuser，无法以 postgres 身份启动 PostgreSQL", lambda: None
        shutil.chown(folder, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)

    r = run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
    if r.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"initdb 失败：{r.stderr.strip()[:300]}", lambda: None
    opts = f"-k {folder} -c listen_addresses='' -c fsync=off -c max_connections=50"
    r = run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start")
    if r.returncode != 0:
        log = (folder / "log").read_text(errors="replace")[-300:] if (folder / "log").exists() else r.stderr
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"PostgreSQL 无法启动：{log.strip()}", lambda: None

    def stop() -> None:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@/postgres?host={folder}", "", stop


@pytest.fixture(scope="session")
def pg_admin_url():
    given = os.environ.get("HAZARDJUDGE_TEST_PG")
    if given:
        yield given, ""
        return
    url, reason, stop = _start_server()
    try:
        yield url, reason
    finally:
        stop()


def _require_pg(pg_admin_url) -> str:
    url, reason = pg_admin_url
    if url is None:
        if os.environ.get("HAZARDJUDGE_REQUIRE_PG") == "1":
            pytest.fail(f"HAZARDJUDGE_REQUIRE_PG=1 但 PostgreSQL 不可用：{reason}")
        pytest.skip(f"PostgreSQL 不可用：{reason}")
    return url


def _admin(url: str):
    return create_engine(url, isolation_level="AUTOCOMMIT")


def new_pg_database(admin_url: str, template: str | None = None) -> str:
    name = f"hj_{os.getpid()}_{next(_counter)}"
    engine = _admin(admin_url)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url):
    """A database migrated to head once; each test copies it (CREATE DATABASE … TEMPLATE)."""
    url = pg_admin_url[0]
    if url is None:
        return None
    target = new_pg_database(url)
    engine = db.make_engine(target)
    db.upgrade(engine)
    engine.dispose()
    return make_url(target).database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("register-template") / "template.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, tmp_path, pg_admin_url) -> str:
    """A database with no schema at all."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return new_pg_database(_require_pg(pg_admin_url))


@pytest.fixture
def url(backend, tmp_path, pg_admin_url, request) -> str:
    """A database at the current schema head, empty of records."""
    if backend == "sqlite":
        path = tmp_path / "register.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    admin = _require_pg(pg_admin_url)
    return new_pg_database(admin, request.getfixturevalue("pg_template"))


class Today:
    """A settable "today" for overdue checks."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day


@pytest.fixture
def today() -> Today:
    return Today(dt.date(2026, 11, 25))


@pytest.fixture
def fast_hasher() -> PasswordHasher:
    return FAST_HASHER


@pytest.fixture
def reg(url, today):
    register = Register(url, today=today, hasher=FAST_HASHER)
    yield register
    register.dispose()


@pytest.fixture
def boss(reg):
    return reg.bootstrap("admin", "admin-pass-1", "王督办")
