"""Where the register lives and how its schema is created and upgraded.

The database is named by a SQLAlchemy URL: ``--db``, else ``HAZARDJUDGE_DB``, else a SQLite
file in the user's data folder. Alembic migrations ship inside the package and run
programmatically, so a fresh install needs no set-up: :func:`connect` upgrades to head.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hazardjudge.errors import Problem
from hazardjudge.register.errors import RegisterError

ENV = "HAZARDJUDGE_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("hazardjudge", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'register.sqlite3'}"


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$HAZARDJUDGE_DB``, else the SQLite file in the user's data folder."""
    return url or os.environ.get(ENV) or default_url()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers go on while one writer commits,
    # and synchronous=FULL makes a committed transaction survive a crash of the process or machine.
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str | None = None, echo: bool = False) -> Engine:
    text = resolve_url(url)
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise RegisterError([Problem("register.db_url", f"数据库地址无法识别：{text}", None, "例如 sqlite:///register.sqlite3 或 postgresql+psycopg://用户@主机/库名")]) from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise RegisterError([Problem("register.db_backend", f"不支持的数据库：{parsed.get_backend_name()}（可用 SQLite 或 PostgreSQL）", None)])
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def ensure_schema(engine: Engine) -> None:
    """Create or upgrade the schema to the version this package ships (a no-op when current)."""
    now = current(engine)
    if now == head():
        return
    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    if now is not None and now not in known:
        raise RegisterError([Problem(
            "register.db_newer", f"台账数据库的结构版本 {now} 比本程序新（本程序支持到 {head()}）", None, "请升级 hazardjudge 后再使用该数据库"
        )])
    upgrade(engine)
