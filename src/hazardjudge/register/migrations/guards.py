"""Database triggers that refuse DELETE on every register table and UPDATE on the audit log.

Kept apart from the revision files so a later revision that adds a table can guard it too
(:func:`guard_tables`, as revision 0002 does for the spot checks).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: the register's tables when revision 0001 was written (a later revision guards its own)
TABLES_0001 = [
    "blobs", "units", "users", "audit_log", "inspections", "user_units", "verdicts", "hazards",
    "dual_reports", "evidence", "reviews", "supervisions", "suspensions", "attachments",
]


#: the tables revision 0002 added (spot checks: 附件2's second section)
TABLES_0002 = ["spot_checks", "spot_check_answers"]


def install_guards(conn: Connection, tables: list[str] = TABLES_0001) -> None:
    """Revision 0001: the refusing function (PostgreSQL), the no-delete triggers and the audit log's no-update."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(
            "CREATE FUNCTION hazardjudge_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '隐患台账不删除记录、不修改审计日志：%（请作废并写明原因）', TG_TABLE_NAME; END $$"
        ))
    guard_tables(conn, tables)
    if conn.dialect.name == "postgresql":
        conn.execute(text("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION hazardjudge_refuse()"))
    else:
        conn.execute(text(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END"
        ))


def guard_tables(conn: Connection, tables: list[str]) -> None:
    """No-delete triggers on ``tables``; a later revision that adds tables calls this for its own
    (on PostgreSQL the function ``hazardjudge_refuse`` of revision 0001 must exist)."""
    for table in tables:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION hazardjudge_refuse()"))
        else:
            conn.execute(text(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '隐患台账不删除记录：{table}（请作废并写明原因）'); END"
            ))


def unguard_tables(conn: Connection, tables: list[str]) -> None:
    for table in tables:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete" + (f" ON {table}" if conn.dialect.name == "postgresql" else "")))


def drop_guards(conn: Connection, tables: list[str] = TABLES_0001) -> None:
    unguard_tables(conn, tables)
    conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update" + (" ON audit_log" if conn.dialect.name == "postgresql" else "")))
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP FUNCTION IF EXISTS hazardjudge_refuse()"))
