"""The register's workflow, roles and audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import hazardjudge
from hazardjudge.inputs.inspections import parse_inspection
from hazardjudge.register import (
    AuthenticationError,
    ConflictError,
    FileIn,
    Grade,
    HazardFilter,
    HazardIn,
    HazardUpdate,
    InspectionIn,
    InspectorIn,
    InvalidInput,
    NotFound,
    Origin,
    PermissionDenied,
    Role,
    SpotCheckIn,
    Status,
    UnitIn,
    WorkflowError,
)

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
D = dt.date


@pytest.fixture(scope="module")
def hotel():
    """The shipped hotel example: one 重大 finding (GB 35181-2025 5.2 e)) and its verdict."""
    engine = hazardjudge.load()
    parsed = parse_inspection((ROOT / "examples" / "fire_hotel.yaml").read_text(encoding="utf-8"), "fire_hotel.yaml")
    return engine, parsed, engine.judge(parsed.inspection)


def _file(reg, actor, hotel, unit_id, origin=Origin.inspection):
    engine, parsed, verdict = hotel
    insp = InspectionIn(
        unit_id=unit_id, inspected_on=verdict.inspection_date, origin=origin, facts=parsed.inspection.facts,
        sectors=parsed.inspection.sectors, inspectors=[InspectorIn(name="张三", certificate="執法 0001")], source="file",
        source_name="fire_hotel.yaml",
    )
    return reg.record(actor, insp, verdict, attachments=[FileIn(filename="现场/封堵.png", data=PNG)])


@pytest.fixture
def setup(reg, boss, hotel):
    unit = reg.add_unit(boss, UnitIn(name="某某宾馆有限公司", town="城关镇", village="东风社区", sector="fire", address="某大道 88 号"))
    other = reg.add_unit(boss, UnitIn(name="另一家公司", town="城关镇", village="西湖村", sector="fire"))
    reg.add_user(boss, "insp", "inspector-1", Role.inspector, "李检查")
    reg.add_user(boss, "ent", "enterprise-1", Role.enterprise, "宾馆安全员", unit_ids=[unit.id])
    reg.add_user(boss, "view", "viewer-pass", Role.viewer)
    filed = _file(reg, boss, hotel, unit.id)
    return {
        "unit": unit, "other": other, "filed": filed,
        "insp": reg.authenticate("insp", "inspector-1"), "ent": reg.authenticate("ent", "enterprise-1"),
        "view": reg.authenticate("view", "viewer-pass"),
    }


def test_a_verdict_files_one_major_hazard_per_finding_with_its_clause(reg, boss, setup, hotel):
    filed = setup["filed"]
    _, _, verdict = hotel
    assert [h.rule for h in filed.hazards] == [r.rule for r in verdict.findings()]
    h = filed.hazards[0]
    assert (h.grade, h.status, h.citation) == (Grade.major, Status.found, "GB 35181-2025 5.2 e)")
    assert filed.verdict.bundle == verdict.bundle and filed.verdict.documents == ["gb35181@2025"]
    assert filed.inspection.inspectors[0].certificate == "執法 0001"
    assert filed.inspection.attachments[0].filename == "封堵.png"  # the base name only
    assert filed.inspection.attachments[0].sha256 and filed.inspection.attachments[0].media_type == "image/png"


def test_a_stored_verdict_is_reproduced_exactly(reg, boss, setup, hotel):
    engine, _, _ = hotel
    same, again = reg.reproduce(boss, setup["filed"].verdict.id, engine)
    assert same and again.bundle == setup["filed"].verdict.bundle


def test_general_hazards_are_filed_as_general(reg, boss, setup):
    from hazardjudge.engine.models import GeneralHazard

    insp = InspectionIn(unit_id=setup["unit"].id, inspected_on=D(2026, 11, 20))
    filed = reg.record(boss, insp, None, [GeneralHazard(description="灭火器压力不足", location="二楼", deadline=D(2026, 11, 28))])
    (h,) = filed.hazards
    # 2026-11-28 is a Saturday: a deadline moves to the next working day.
    assert (h.grade, h.citation, h.location, h.deadline) == (Grade.general, None, "二楼", D(2026, 11, 30))


def test_the_whole_loop(reg, boss, setup, today):
    h = setup["filed"].hazards[0]
    ent, insp = setup["ent"], setup["insp"]
    h = reg.update(ent, h.id, HazardUpdate(responsible="总经理 王某", measures="拆除广告牌", funds="2 万元", plan="疏散预案", deadline_days=5), expected_version=h.version)
    assert h.status is Status.rectifying and h.deadline == D(2026, 11, 27)  # 5 working days after Friday 11-20
    h = reg.supervise(boss, h.id, "某区人民政府安全生产委员会办公室", "某安委办督〔2026〕3号", D(2026, 11, 21), D(2026, 12, 20))
    assert h.supervised
    h = reg.dual_report(ent, h.id, "department", "某区应急管理局", D(2026, 11, 21))
    h = reg.dual_report(ent, h.id, "workers_congress", "公司职代会", D(2026, 11, 22))
    with pytest.raises(WorkflowError, match="复查"):
        reg.review(insp, h.id, True)  # nothing submitted yet
    h = reg.submit_evidence(ent, h.id, "广告牌已拆除", [FileIn(filename="after.png", data=PNG)])
    assert h.status is Status.pending_review
    with pytest.raises(PermissionDenied):
        reg.review(ent, h.id, True)
    with pytest.raises(InvalidInput, match="原因"):
        reg.review(insp, h.id, False)
    h = reg.review(insp, h.id, False, remarks="救援口仍有遮挡")
    assert h.status is Status.rectifying and not h.review_passed
    with pytest.raises(WorkflowError, match="复查通过"):
        reg.close(boss, h.id)
    h = reg.submit_evidence(ent, h.id, "遮挡物已全部清除")
    h = reg.review(insp, h.id, True, on=D(2026, 11, 26))
    assert h.status is Status.pending_review and h.review_passed
    with pytest.raises(PermissionDenied, match="督办负责人"):
        reg.close(insp, h.id)  # under 挂牌督办: 销号 also 摘牌
    h = reg.close(boss, h.id, on=D(2026, 11, 27))
    assert (h.status, h.closed_on, h.supervised) == (Status.closed, D(2026, 11, 27), False)
    detail = reg.get_hazard(boss, h.id)
    assert detail.supervisions[0].delisted_on == D(2026, 11, 27)
    assert {r.recipient for r in detail.dual_reports} == {"department", "workers_congress"}
    assert [a.action for a in detail.history] == [
        "create", "update", "supervise", "dual_report", "dual_report", "evidence", "review_fail", "evidence", "review_pass", "delist", "close",
    ]
    assert {a.actor for a in detail.history} == {"admin", "ent", "insp"}
    with pytest.raises(WorkflowError, match="已销号"):
        reg.update(boss, h.id, HazardUpdate(measures="x"))


def test_a_major_hazard_needs_evidence_and_review_before_closing(reg, boss, setup):
    h = setup["filed"].hazards[0]
    with pytest.raises(WorkflowError, match="整改材料"):
        reg.close(boss, h.id)


def test_a_general_hazard_fixed_on_the_spot_closes_without_review(reg, boss, setup):
    h = reg.add_hazard(boss, HazardIn(unit_id=setup["unit"].id, grade=Grade.general, found_on=D(2026, 11, 20), description="插线板串接"))
    h = reg.close(setup["insp"], h.id, on=D(2026, 11, 20), reason="即查即改")
    assert h.status is Status.closed


def test_supervision_and_dual_reports_are_for_major_hazards_only(reg, boss, setup):
    h = reg.add_hazard(boss, HazardIn(unit_id=setup["unit"].id, grade=Grade.general, found_on=D(2026, 11, 20), description="标识缺失"))
    with pytest.raises(WorkflowError, match="一般隐患"):
        reg.supervise(boss, h.id, "某办", "某号", D(2026, 11, 21))
    with pytest.raises(WorkflowError, match="一般隐患"):
        reg.dual_report(boss, h.id, "department", "某局", D(2026, 11, 21))


def test_only_supervisors_list_under_supervision(reg, setup):
    h = setup["filed"].hazards[0]
    for who in ("insp", "ent", "view"):
        with pytest.raises(PermissionDenied):
            reg.supervise(setup[who], h.id, "某办", "某号", D(2026, 11, 21))


def test_a_viewer_reads_but_never_writes(reg, setup):
    view, h = setup["view"], setup["filed"].hazards[0]
    assert reg.get_hazard(view, h.id).id == h.id
    for attempt in (
        lambda: reg.update(view, h.id, HazardUpdate(measures="x")),
        lambda: reg.submit_evidence(view, h.id, "x"),
        lambda: reg.void(view, h.id, "x"),
        lambda: reg.add_unit(view, UnitIn(name="x")),
        lambda: reg.add_hazard(view, HazardIn(unit_id=h.unit_id, grade=Grade.general, found_on=D(2026, 11, 1), description="x")),
        lambda: reg.record(view, InspectionIn(unit_id=h.unit_id, inspected_on=D(2026, 11, 1))),
        lambda: reg.order_suspension(view, h.id, D(2026, 11, 21)),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert reg.get_hazard(view, h.id).version == h.version  # nothing was written


def test_an_enterprise_user_sees_only_its_own_units(reg, boss, setup, hotel):
    ent = setup["ent"]
    theirs = _file(reg, boss, hotel, setup["other"].id).hazards[0]
    mine = setup["filed"].hazards[0]
    assert {h.id for h in reg.list_hazards(ent).items} == {mine.id}
    assert reg.list_hazards(boss).total == 2
    for attempt in (
        lambda: reg.get_hazard(ent, theirs.id),
        lambda: reg.update(ent, theirs.id, HazardUpdate(measures="x")),
        lambda: reg.submit_evidence(ent, theirs.id, "x"),
        lambda: reg.get_inspection(ent, theirs.inspection_id),
        lambda: reg.get_unit(ent, setup["other"].id),
        lambda: reg.get_verdict(ent, theirs.verdict_id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert [u.id for u in reg.list_units(ent)] == [setup["unit"].id]
    assert [i.unit_id for i in reg.list_inspections(ent)] == [setup["unit"].id]
    # Its own 自查 it may file; an inspection by the authorities it may not.
    with pytest.raises(PermissionDenied, match="自查"):
        reg.add_hazard(ent, HazardIn(unit_id=setup["unit"].id, grade=Grade.major, found_on=D(2026, 11, 1), description="x"))
    own = reg.add_hazard(ent, HazardIn(unit_id=setup["unit"].id, grade=Grade.major, found_on=D(2026, 11, 1), description="自查发现", origin=Origin.self_check))
    assert own.origin is Origin.self_check


def test_accounts(reg, boss, setup):
    with pytest.raises(AuthenticationError):
        reg.authenticate("insp", "wrong-password")
    with pytest.raises(AuthenticationError):
        reg.authenticate("nobody", "whatever-1")
    with pytest.raises(PermissionDenied):
        reg.bootstrap("again", "another-pass")
    with pytest.raises(PermissionDenied):
        reg.add_user(setup["insp"], "x", "password-1", Role.viewer)
    with pytest.raises(InvalidInput, match="所属单位"):
        reg.add_user(boss, "e2", "password-1", Role.enterprise)
    with pytest.raises(InvalidInput, match="8"):
        reg.add_user(boss, "short", "1234", Role.viewer)
    with reg.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username='insp'")).scalar()
    assert stored.startswith("$argon2id$") and "inspector-1" not in stored


def test_a_stale_version_is_refused(reg, boss, setup):
    h = setup["filed"].hazards[0]
    reg.update(boss, h.id, HazardUpdate(measures="甲"), expected_version=h.version)
    with pytest.raises(ConflictError, match="已被他人修改"):
        reg.update(setup["insp"], h.id, HazardUpdate(measures="乙"), expected_version=h.version)
    assert reg.get_hazard(boss, h.id).measures == "甲"


def test_void_keeps_the_record_and_its_reason(reg, boss, setup):
    h = setup["filed"].hazards[0]
    with pytest.raises(InvalidInput, match="原因"):
        reg.void(boss, h.id, " ")
    reg.void(boss, h.id, "录入错误：单位填错")
    assert reg.list_hazards(boss).total == 0
    kept = reg.list_hazards(boss, HazardFilter(include_voided=True)).items
    assert [(x.id, x.voided, x.void_reason) for x in kept] == [(h.id, True, "录入错误：单位填错")]
    with pytest.raises(WorkflowError, match="作废"):
        reg.update(boss, h.id, HazardUpdate(measures="x"))


def test_the_database_refuses_deletes_and_audit_edits(reg, boss, setup):
    for statement in ("DELETE FROM hazards", "DELETE FROM audit_log", "UPDATE audit_log SET actor = 'someone'", "DELETE FROM units"):
        with pytest.raises(DBAPIError):
            with reg.engine.begin() as conn:
                conn.execute(text(statement))
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hazards")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE actor = 'someone'")).scalar() == 0


def test_every_write_is_audited(reg, boss, setup):
    with reg.engine.connect() as conn:
        rows = conn.execute(text("SELECT action, entity FROM audit_log ORDER BY id")).all()
    entities = {e for _, e in rows}
    assert {"user", "unit", "inspection", "verdict", "hazard", "attachment"} <= entities
    assert all(a for a, _ in rows)


def test_overdue_is_flagged_and_filtered(reg, boss, setup, today):
    h = setup["filed"].hazards[0]
    reg.update(boss, h.id, HazardUpdate(deadline=D(2026, 11, 24)))
    today.day = D(2026, 11, 24)
    assert not reg.get_hazard(boss, h.id).overdue
    today.day = D(2026, 11, 25)
    assert reg.get_hazard(boss, h.id).overdue
    assert [x.id for x in reg.list_hazards(boss, HazardFilter(overdue=True)).items] == [h.id]
    assert reg.list_hazards(boss, HazardFilter(overdue=False)).total == 0


def test_filters(reg, boss, setup):
    h = setup["filed"].hazards[0]
    reg.add_hazard(boss, HazardIn(unit_id=setup["other"].id, grade=Grade.general, found_on=D(2026, 10, 2), description="疏散指示灯损坏"))
    assert reg.list_hazards(boss, HazardFilter(grade=Grade.major)).total == 1
    assert reg.list_hazards(boss, HazardFilter(village="西湖村")).total == 1
    assert reg.list_hazards(boss, HazardFilter(text="指示灯")).total == 1
    assert reg.list_hazards(boss, HazardFilter(text="100%")).total == 0  # LIKE wildcards are literal
    assert reg.list_hazards(boss, HazardFilter(status=[Status.found], found_from=D(2026, 11, 1))).items[0].id == h.id
    reg.supervise(boss, h.id, "某办", "某号", D(2026, 11, 21))
    assert [x.id for x in reg.list_hazards(boss, HazardFilter(supervised=True)).items] == [h.id]
    page = reg.list_hazards(boss, limit=1, offset=1)
    assert (page.total, len(page.items)) == (2, 1)


def test_attachments_are_checked_and_stored_once(reg, boss, setup):
    insp_id = setup["filed"].inspection.id
    with pytest.raises(InvalidInput, match="类型"):
        reg.attach(boss, insp_id, FileIn(filename="x.png", data=b"<html>not an image</html>"))
    with pytest.raises(InvalidInput, match="空文件"):
        reg.attach(boss, insp_id, FileIn(filename="x.png", data=b""))
    with pytest.raises(InvalidInput, match="过大"):
        reg.attach(boss, insp_id, FileIn(filename="x.jpg", data=b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024)))
    again = reg.attach(boss, insp_id, FileIn(filename="copy.png", data=PNG))
    meta, content = reg.attachment_content(setup["view"], again.id)
    assert content == PNG and meta.size == len(PNG)
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM blobs")).scalar() == 1


def test_suspension_is_lifted_on_closing(reg, boss, setup):
    h = reg.add_hazard(boss, HazardIn(unit_id=setup["unit"].id, grade=Grade.major, found_on=D(2026, 11, 20), description="x"))
    reg.order_suspension(setup["insp"], h.id, D(2026, 11, 20), "某应急责停〔2026〕1号", "全部")
    reg.submit_evidence(setup["ent"], h.id, "已整改")
    reg.review(setup["insp"], h.id, True)
    reg.close(setup["insp"], h.id, on=D(2026, 11, 30))
    assert reg.get_hazard(boss, h.id).suspensions[0].lifted_on == D(2026, 11, 30)


def test_a_verdict_of_another_date_is_refused(reg, boss, setup, hotel):
    with pytest.raises(InvalidInput, match="日期"):
        reg.record(boss, InspectionIn(unit_id=setup["unit"].id, inspected_on=D(2026, 11, 21)), hotel[2])


def test_every_write_is_refused_to_every_role_the_table_does_not_allow(reg, boss, setup):
    """PERMISSIONS is the one rule: each write, tried by each role it does not list, is refused and writes nothing."""
    from hazardjudge.register import PERMISSIONS

    unit, h = setup["unit"].id, setup["filed"].hazards[0]
    writes = {
        "user.manage": lambda a: reg.add_user(a, "newcomer", "password-9", Role.viewer),
        "unit.write": lambda a: reg.add_unit(a, UnitIn(name="新单位")),
        "hazard.review": lambda a: reg.review(a, h.id, True),
        "hazard.close": lambda a: reg.close(a, h.id),
        "hazard.supervise": lambda a: reg.supervise(a, h.id, "某办", "某号", D(2026, 11, 21)),
        "hazard.suspend": lambda a: reg.order_suspension(a, h.id, D(2026, 11, 21)),
        "void": lambda a: reg.void(a, h.id, "误录"),
        "hazard.update": lambda a: reg.update(a, h.id, HazardUpdate(measures="x")),
        "hazard.evidence": lambda a: reg.submit_evidence(a, h.id, "x"),
        "hazard.dual_report": lambda a: reg.dual_report(a, h.id, "department", "某局", D(2026, 11, 21)),
        "hazard.add": lambda a: reg.add_hazard(a, HazardIn(unit_id=unit, grade=Grade.general, found_on=D(2026, 11, 1), description="x", origin=Origin.self_check)),
        "inspection.record": lambda a: reg.record(a, InspectionIn(unit_id=unit, inspected_on=D(2026, 11, 1), origin=Origin.self_check)),
        "spot_check.record": lambda a: reg.record_spot_check(a, SpotCheckIn(unit_id=unit, checked_on=D(2026, 11, 1), inspectors=[InspectorIn(name="张三", certificate="1")])),
    }
    assert set(writes) == set(PERMISSIONS) - {"read"}
    actors = {Role.inspector: setup["insp"], Role.enterprise: setup["ent"], Role.viewer: setup["view"]}
    with reg.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar()
    refused = 0
    for permission, write in writes.items():
        for role, actor in actors.items():
            if role not in PERMISSIONS[permission]:
                with pytest.raises(PermissionDenied):
                    write(actor)
                refused += 1
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == before
    assert refused >= 15


def test_review_and_close_dates_keep_their_order(reg, boss, setup):
    h = setup["filed"].hazards[0]
    reg.submit_evidence(setup["ent"], h.id, "已整改")
    with pytest.raises(InvalidInput, match="早于发现日期"):
        reg.review(setup["insp"], h.id, True, on=D(2026, 11, 19))  # found 2026-11-20
    reg.review(setup["insp"], h.id, True, on=D(2026, 11, 24))
    with pytest.raises(InvalidInput, match="早于复查通过日期"):
        reg.close(boss, h.id, on=D(2026, 11, 23))
    assert reg.close(boss, h.id, on=D(2026, 11, 24)).status is Status.closed
