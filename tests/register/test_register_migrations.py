"""The shipped migrations go up and down cleanly on both databases, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hazardjudge.register import Register, db
from hazardjudge.register.models import Base


def test_upgrade_downgrade_upgrade(empty_url):
    engine = db.make_engine(empty_url)
    try:
        assert db.current(engine) is None
        db.upgrade(engine)
        assert db.current(engine) == db.head()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        db.downgrade(engine, "base")
        assert db.current(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        db.upgrade(engine)
        assert db.current(engine) == db.head()
    finally:
        engine.dispose()


def test_the_migrated_schema_is_the_models(empty_url):
    engine = db.make_engine(empty_url)
    try:
        db.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_first_use_creates_the_schema(empty_url):
    reg = Register(empty_url)
    try:
        assert db.current(reg.engine) == db.head()
        assert not reg.has_users()
    finally:
        reg.dispose()
