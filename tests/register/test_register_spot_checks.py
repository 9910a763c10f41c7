"""Spot checks (抽查检查 of the enterprises' 自查自改) and the 调度表's second section, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from hazardjudge.register import (
    Answer,
    InspectionIn,
    InspectorIn,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Role,
    SpotCheckIn,
    UnitIn,
    WorkflowError,
    db,
    reports,
    spot_items,
)
from hazardjudge.register.models import Base

D = dt.date
Y, N, U = Answer.yes, Answer.no, Answer.unknown
ZHANG = [InspectorIn(name="张三", certificate="执法0001")]
KEYS = spot_items.load().keys  # principal_not_studying … no_drills, in the form's order


def _answers(*values: Answer | None) -> dict[str, Answer]:
    """Answers by position (item 1 first); None leaves the item out (it is stored as unknown)."""
    return {k: v for k, v in zip(KEYS, values) if v is not None}


def _check(reg, actor, unit, on, *values, **kw):
    return reg.record_spot_check(actor, SpotCheckIn(unit_id=unit, checked_on=on, inspectors=ZHANG, answers=_answers(*values), **kw))


# --------------------------------------------------------------------------- the items are data


def test_the_items_are_the_forms_rows_in_order():
    items = spot_items.load()
    assert items.section == "对企业自查自改进行抽查检查情况" and items.unit == "家"
    assert items.rows == [
        "抽查检查的企业总数",
        "企业主要负责人未按要求亲自研究排查整治工作",
        "企业主要负责人未带队检查",
        "企业未制定全员安全生产责任制职责清单",
        "企业未依法建立安全管理机构和配足安全管理人员",
        "电焊等特种作业岗位人员无证上岗作业",
        "外包外租安全管理混乱",
        "未按规定开展应急演练、员工不熟悉逃生出口",
    ]
    assert "动火" in items.item(5).note and "统一管理" in items.item("outsourcing_disorder").note


def test_answers_are_parsed_three_valued():
    assert spot_items.parse_pairs(["1=是", "5=否", "outsourcing_disorder=未查明", "2＝yes"]) == {
        "principal_not_studying": Y, "uncertified_special_work": N, "outsourcing_disorder": U, "principal_not_leading": Y}
    assert spot_items.parse_pairs(spot_items.pairs_of_mapping({1: True, 2: False, 3: None})) == {KEYS[0]: Y, KEYS[1]: N, KEYS[2]: U}
    with pytest.raises(InvalidInput, match="无法识别"):
        spot_items.parse_pairs(["1=可能"])
    with pytest.raises(InvalidInput, match="第“8”项"):
        spot_items.parse_pairs(["8=是"])
    with pytest.raises(InvalidInput, match="两次"):
        spot_items.parse_pairs(["1=是", "principal_not_studying=否"])
    # The API takes what the user sees too: item numbers and 是/否/未查明.
    given = SpotCheckIn(unit_id=1, checked_on=D(2026, 11, 1), inspectors=ZHANG, answers={"1": "是", 5: "否", "no_drills": "未查明"})
    assert given.answers == {KEYS[0]: Y, KEYS[4]: N, KEYS[6]: U}


# --------------------------------------------------------------------------- migration 0002


def _no_delete_triggers(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
        else:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
        return {name.removesuffix("_no_delete") for name in rows if name.endswith("_no_delete")}


def test_migration_0002_up_and_down(empty_url):
    engine = db.make_engine(empty_url)
    try:
        db.upgrade(engine, "0001")
        assert "spot_checks" not in inspect(engine).get_table_names()
        db.upgrade(engine)
        assert db.current(engine) == db.head() == "0002"
        assert {"spot_checks", "spot_check_answers"} <= set(inspect(engine).get_table_names())
        # Every table the models know is guarded against DELETE, the new ones included.
        assert _no_delete_triggers(engine) == set(Base.metadata.tables)
        db.downgrade(engine, "0001")
        assert db.current(engine) == "0001"
        tables = set(inspect(engine).get_table_names())
        assert not {"spot_checks", "spot_check_answers"} & tables and "hazards" in tables
        assert _no_delete_triggers(engine) == set(Base.metadata.tables) - {"spot_checks", "spot_check_answers"}
        with engine.begin() as conn:  # a row for the row trigger to fire on
            conn.execute(text("INSERT INTO units (name, created_at, version) VALUES ('某厂', '2026-11-01 00:00:00+00:00', 1)"))
        with pytest.raises(DBAPIError):  # 0001's guards survive 0002's downgrade
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM units"))
        db.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        db.upgrade(engine)
        assert _no_delete_triggers(engine) == set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_the_database_refuses_to_delete_spot_checks(reg, boss):
    unit = reg.add_unit(boss, UnitIn(name="东厂")).id
    _check(reg, boss, unit, D(2026, 11, 5), Y)
    for statement in ("DELETE FROM spot_check_answers", "DELETE FROM spot_checks"):
        with pytest.raises(DBAPIError):
            with reg.engine.begin() as conn:
                conn.execute(text(statement))
    with reg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM spot_check_answers")).scalar() == len(KEYS)


# --------------------------------------------------------------------------- records, permissions, audit


@pytest.fixture
def people(reg, boss):
    east = reg.add_unit(boss, UnitIn(name="东厂", town="城关镇", village="东风社区", sector="fire")).id
    west = reg.add_unit(boss, UnitIn(name="西厂", town="城关镇", village="西湖村", sector="city_gas")).id
    reg.add_user(boss, "insp", "inspector-1", Role.inspector)
    reg.add_user(boss, "ent", "enterprise-1", Role.enterprise, unit_ids=[east])
    reg.add_user(boss, "view", "viewer-pass1", Role.viewer)
    return {
        "east": east, "west": west,
        "insp": reg.authenticate("insp", "inspector-1"),
        "ent": reg.authenticate("ent", "enterprise-1"),
        "view": reg.authenticate("view", "viewer-pass1"),
    }


def test_a_spot_check_stores_every_item_unknown_where_not_given(reg, people):
    out = _check(reg, people["insp"], people["east"], D(2026, 11, 5), Y, N, remarks="现场抽查")
    assert [(a.number, a.answer, a.answer_label) for a in out.answers] == [
        (1, Y, "是"), (2, N, "否"), *((n, U, "未查明") for n in range(3, 8))]
    assert (out.findings, out.unknown, out.unit_name, out.town, out.remarks) == (1, 5, "东厂", "城关镇", "现场抽查")
    assert reg.get_spot_check(people["view"], out.id) == out


def test_an_enterprise_user_sees_only_its_own_spot_checks(reg, boss, people):
    mine = _check(reg, boss, people["east"], D(2026, 11, 5), Y)
    theirs = _check(reg, boss, people["west"], D(2026, 11, 6), N)
    ent = people["ent"]
    assert [c.id for c in reg.list_spot_checks(ent)] == [mine.id]
    assert [c.id for c in reg.list_spot_checks(ent, unit_id=people["west"])] == []
    assert reg.get_spot_check(ent, mine.id).id == mine.id
    with pytest.raises(NotFound, match="没有找到该记录"):  # the same answer as for a record that does not exist
        reg.get_spot_check(ent, theirs.id)
    # 抽查检查 is the authorities' check of the enterprise: it does not record or void its own.
    with pytest.raises(PermissionDenied, match="企业用户无权登记抽查检查"):
        _check(reg, ent, people["east"], D(2026, 11, 7), N)
    with pytest.raises(PermissionDenied):
        reg.void_spot_check(ent, mine.id, "不认可")
    assert reports.dispatch_table(reg, ent, 2026, 11).total.spot[:2] == (1, 1)


def test_a_viewer_reads_spot_checks_but_never_writes(reg, boss, people):
    c = _check(reg, boss, people["east"], D(2026, 11, 5), Y)
    view = people["view"]
    assert [x.id for x in reg.list_spot_checks(view)] == [c.id]
    with pytest.raises(PermissionDenied, match="只读用户无权登记抽查检查"):
        _check(reg, view, people["east"], D(2026, 11, 6), N)
    with pytest.raises(PermissionDenied, match="只读用户无权作废记录"):
        reg.void_spot_check(view, c.id, "x")
    assert not reg.get_spot_check(boss, c.id).voided


def test_void_keeps_the_spot_check_with_its_reason_and_both_are_audited(reg, boss, people):
    c = _check(reg, people["insp"], people["east"], D(2026, 11, 5), Y)
    with pytest.raises(InvalidInput, match="原因"):
        reg.void_spot_check(boss, c.id, "  ")
    out = reg.void_spot_check(people["insp"], c.id, "单位填错")
    assert (out.voided, out.void_reason) == (True, "单位填错")
    assert reg.list_spot_checks(boss) == []
    assert [x.id for x in reg.list_spot_checks(boss, include_voided=True)] == [c.id]
    with pytest.raises(WorkflowError, match="已作废"):
        reg.void_spot_check(boss, c.id, "再次")
    entries = [a for a in reg.audit_log(boss) if a.entity == "spot_check"]
    assert [(a.action, a.actor, a.reason) for a in reversed(entries)] == [("create", "insp", None), ("void", "insp", "单位填错")]
    created = entries[-1].changes
    assert created["answers"][1] == {k: ("yes" if k == KEYS[0] else "unknown") for k in KEYS}


def test_bad_spot_checks_are_refused(reg, boss, people, today):
    with pytest.raises(InvalidInput, match="抽查内容"):
        reg.record_spot_check(boss, SpotCheckIn(unit_id=people["east"], checked_on=D(2026, 11, 5), inspectors=ZHANG, answers={"made_up": Y}))
    with pytest.raises(InvalidInput, match="晚于今天"):
        _check(reg, boss, people["east"], today.day + dt.timedelta(days=1), Y)
    with pytest.raises(NotFound):
        _check(reg, boss, 999, D(2026, 11, 5), Y)
    west_insp = reg.record(boss, InspectionIn(unit_id=people["west"], inspected_on=D(2026, 11, 5))).inspection.id
    with pytest.raises(InvalidInput, match="不属于该单位"):
        _check(reg, boss, people["east"], D(2026, 11, 5), Y, inspection_id=west_insp)
    assert _check(reg, boss, people["west"], D(2026, 11, 5), Y, inspection_id=west_insp).inspection_id == west_insp
    with pytest.raises(ValueError):  # at least one inspector
        SpotCheckIn(unit_id=people["east"], checked_on=D(2026, 11, 5), inspectors=[])


# --------------------------------------------------------------------------- the 调度表's second section


@pytest.fixture
def checks(reg, boss, people):
    east, west = people["east"], people["west"]
    north = reg.add_unit(boss, UnitIn(name="北厂", town="城关镇", village="东风社区", sector="fire")).id
    south = reg.add_unit(boss, UnitIn(name="南厂", town="城关镇", village="西湖村", sector="fire")).id
    # East: checked twice; October found items 1 and 6, November found only 6 and left 7 undetermined.
    _check(reg, boss, east, D(2026, 10, 10), Y, N, N, N, N, Y, N)
    _check(reg, boss, east, D(2026, 11, 12), N, N, N, N, N, Y, U)
    # West: a November check, every item answered no but item 5 not determined and item 7 left out.
    _check(reg, boss, west, D(2026, 11, 3), N, N, N, N, U, N, None)
    # North: two checks on the same day — the later record counts.
    _check(reg, boss, north, D(2026, 11, 20), Y, Y, Y, Y, Y, Y, Y)
    _check(reg, boss, north, D(2026, 11, 20), N, Y, N, N, N, N, N)
    # South: the only November check is voided; its December check is after the month.
    v = _check(reg, boss, south, D(2026, 11, 4), Y, Y, Y, Y, Y, Y, Y)
    reg.void_spot_check(boss, v.id, "重复登记")
    return {"east": east, "west": west, "north": north, "south": south}


def _section(line):
    return line.spot, line.spot_unknown


def test_dispatch_counts_each_enterprise_once_by_its_latest_check(reg, boss, checks, today):
    t = reports.dispatch_table(reg, boss, 2026, 11)
    #            checked, then items 1–7 answered 是           items 1–7 未查明
    assert _section(t.total) == ((3, 0, 1, 0, 0, 0, 1, 0), (0, 0, 0, 0, 1, 0, 2))
    by_area = {line.label: _section(line) for line in t.by_area}
    assert by_area == {
        "城关镇东风社区": ((2, 0, 1, 0, 0, 0, 1, 0), (0, 0, 0, 0, 0, 0, 1)),  # east (latest) + north (later record)
        "城关镇西湖村": ((1, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1)),    # west; south's check is voided
    }
    assert {line.label: line.spot[0] for line in t.by_sector} == {"city_gas": 1, "fire": 2}
    # Every enterprise checked is 是, 否 or 未查明 on every item, never two of them nor none.
    for line in (t.total, *t.by_area, *t.by_sector):
        assert all(yes + unknown <= line.spot[0] for yes, unknown in zip(line.spot[1:], line.spot_unknown))
    # October: only east's first check; cumulative, so it stays the count until a later check replaces it.
    assert _section(reports.dispatch_table(reg, boss, 2026, 10).total) == ((1, 1, 0, 0, 0, 0, 1, 0), (0,) * 7)
    assert reports.dispatch_table(reg, boss, 2026, 9).total.spot == (0,) * 8
    today.day = D(2026, 12, 10)
    _check(reg, boss, checks["south"], D(2026, 12, 1), U, U, U, U, U, U, U)
    assert reports.dispatch_table(reg, boss, 2026, 11).total.spot[0] == 3
    assert _section(reports.dispatch_table(reg, boss, 2026, 12).total) == ((4, 0, 1, 0, 0, 0, 1, 0), (1, 1, 1, 1, 2, 1, 3))


def test_an_item_added_to_the_list_later_reads_as_unknown_on_older_records(reg, boss, checks, monkeypatch):
    items = spot_items.load()
    extra = items.model_copy(update={"items": (*items.items, spot_items.SpotItem(number=8, key="added_later", label="新增项目"))})
    monkeypatch.setattr(spot_items, "load", lambda: extra)
    t = reports.dispatch_table(reg, boss, 2026, 11)
    assert len(t.total.spot) == 9 and t.total.spot[8] == 0 and t.total.spot_unknown[7] == 3
    assert reg.get_spot_check(boss, reg.list_spot_checks(boss)[0].id).answers[-1].answer is U


def test_the_first_section_is_unchanged_by_spot_checks(reg, boss, checks):
    t = reports.dispatch_table(reg, boss, 2026, 11)
    assert t.total.counts == (0,) * 6 and all(line.counts == (0,) * 6 for line in t.by_area)


def test_dispatch_xlsx_and_html_carry_the_second_section(reg, boss, checks):
    wb = load_workbook(io.BytesIO(reports.render(reg, boss, "dispatch", 2026, 11, "xlsx")))
    ws = wb.worksheets[0]
    col_a = [c.value for c in ws["A"]]
    head = col_a.index("对企业自查自改进行抽查检查情况（单位：家）") + 1
    assert [c.value for c in ws[head]] == ["对企业自查自改进行抽查检查情况（单位：家）", "城关镇东风社区", "城关镇西湖村", "合计"]
    rows = [[c.value for c in ws[head + i]] for i in range(1, 9)]
    assert [r[0] for r in rows] == [f"{i}. {label}" for i, label in enumerate(spot_items.load().rows, 1)]
    assert [r[1:] for r in rows] == [[2, 1, 3], [0, 0, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 1], [0, 0, 0]]
    unknown = [[c.value for c in ws[head + 9 + i]] for i in range(1, 8)]
    assert ws.cell(row=head + 9, column=1).value.startswith("其中未查明的企业")
    assert unknown[4] == ["6. 电焊等特种作业岗位人员无证上岗作业（未查明）", 0, 1, 1]
    assert unknown[6][1:] == [1, 1, 2]
    assert all(isinstance(v, int) for r in rows + unknown for v in r[1:])
    by_sector = wb.worksheets[1]
    assert [c.value for c in by_sector[head]][1:] == ["city_gas", "fire", "合计"]
    assert [c.value for c in by_sector[head + 1]][1:] == [1, 2, 3]
    html = reports.render(reg, boss, "dispatch", 2026, 11, "html").decode("utf-8")
    assert "对企业自查自改进行抽查检查情况（单位：家）" in html and "外包外租安全管理混乱（未查明）" in html
    assert "以截至月底最近一次抽查为准" in html


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli(url, monkeypatch, capsys):
    from hazardjudge.cli import main

    monkeypatch.setenv("HAZARDJUDGE_DB", url)
    monkeypatch.setenv("HAZARDJUDGE_USER", "admin")
    monkeypatch.setenv("HAZARDJUDGE_PASSWORD", "admin-pass-1")

    def run(*argv: str, user: str = "admin", password: str = "admin-pass-1") -> tuple[int, str, str]:
        monkeypatch.setenv("HAZARDJUDGE_USER", user)
        monkeypatch.setenv("HAZARDJUDGE_PASSWORD", password)
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    assert run("register", "init")[0] == 0
    assert run("register", "unit", "东厂", "--town", "城关镇", "--village", "东风社区", "--sector", "fire")[0] == 0
    return run


def test_spot_checks_through_the_cli(cli, tmp_path, monkeypatch):
    code, out, _ = cli("register", "spotcheck", "items")
    assert code == 0 and "6\toutsourcing_disorder\t（调度表第 7 行）外包外租安全管理混乱" in out
    code, out, err = cli("register", "spotcheck", "add", "--unit", "1", "--on", "2026-11-05", "--inspector", "张三:执法0001",
                         "--item", "1=是", "--item", "5=否", "--remarks", "=1+1")
    assert code == 0, err
    assert "已登记抽查记录 1：东厂，2026-11-05，存在问题 1 项，未查明 5 项" in out and "第 2、3、4、6、7 项已按“未查明”登记" in err
    answers = tmp_path / "answers.yaml"
    answers.write_text("1: 否\n2: no\n3: yes\noutsourcing_disorder: 是\n7:\n", encoding="utf-8")
    code, out, err = cli("register", "spotcheck", "add", "--unit", "1", "--on", "2026-11-20", "--inspector", "李四:执法0002",
                         "--answers", str(answers), "--item", "4=否", "--item", "5=未查明")
    assert code == 0 and "存在问题 2 项，未查明 2 项" in out, err
    as_json = tmp_path / "answers.json"
    as_json.write_text(json.dumps({"1": "是", "1 ": "否"}), encoding="utf-8")
    code, _, err = cli("register", "spotcheck", "add", "--unit", "1", "--inspector", "李四:执法0002", "--answers", str(as_json))
    assert code == 65 and "给了两次" in err
    code, _, err = cli("register", "spotcheck", "add", "--unit", "1", "--inspector", "李四:执法0002", "--item", "3=也许")
    assert code == 65 and "无法识别" in err
    code, _, err = cli("register", "spotcheck", "add", "--unit", "1", "--inspector", "李四:执法0002", "--answers", str(tmp_path / "none.yaml"))
    assert code == 66
    code, out, _ = cli("register", "spotcheck", "list", "--format", "json")
    listed = json.loads(out)
    assert [c["id"] for c in listed] == [1, 2]
    assert [a["answer"] for a in listed[1]["answers"]] == ["no", "no", "yes", "no", "unknown", "yes", "unknown"]
    assert listed[0]["remarks"] == "=1+1"
    monkeypatch.setenv("HAZARDJUDGE_NEW_PASSWORD", "viewer-pass")
    assert cli("register", "user", "view", "--role", "viewer")[0] == 0
    code, _, err = cli("register", "spotcheck", "add", "--unit", "1", "--inspector", "王五:执法3", "--item", "1=是", user="view", password="viewer-pass")
    assert code == 77 and "只读用户无权登记抽查检查" in err
    code, out, _ = cli("register", "spotcheck", "list", "--month", "2026-11", user="view", password="viewer-pass")
    assert code == 0 and "2\t2026-11-20\t东厂\t3、6\t5、7" in out and "共 2 次抽查" in out
    report = tmp_path / "d.xlsx"
    assert cli("register", "report", "--month", "2026-11", "--format", "xlsx", "-o", str(report))[0] == 0
    ws = load_workbook(report).worksheets[0]
    col_a = [c.value for c in ws["A"]]
    head = col_a.index("对企业自查自改进行抽查检查情况（单位：家）") + 1
    assert [ws.cell(row=head + i, column=2).value for i in range(1, 9)] == [1, 0, 0, 1, 0, 0, 1, 0]  # record 2, the later one
    code, out, _ = cli("register", "spotcheck", "void", "2", "--reason", "日期填错")
    assert code == 0 and "抽查记录 2 已作废" in out
    code, _, err = cli("register", "spotcheck", "void", "2", "--reason", "再次")
    assert code == 65 and "已作废" in err
    code, out, _ = cli("register", "spotcheck", "list", "--voided")
    assert "东厂【已作废】" in out
    code, out, _ = cli("register", "report", "--month", "2026-11")
    assert code == 0 and "抽查检查的企业总数" in out
    assert cli("register", "report", "--month", "2026-11", "--format", "xlsx", "-o", str(report))[0] == 0
    ws = load_workbook(report).worksheets[0]
    assert [ws.cell(row=head + i, column=2).value for i in range(1, 9)] == [1, 1, 0, 0, 0, 0, 0, 0]  # back to record 1
    code, _, err = cli("register", "spotcheck", "list", "--month", "2026-13")
    assert code == 64 and "月份" in err


def test_an_area_name_is_never_a_formula_in_the_xlsx(reg, boss):
    unit = reg.add_unit(boss, UnitIn(name="某厂", town="=HYPERLINK(\"http://x\")", village="村", sector="@sum(1)")).id
    _check(reg, boss, unit, D(2026, 11, 5), Y)
    wb = load_workbook(io.BytesIO(reports.render(reg, boss, "dispatch", 2026, 11, "xlsx")))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
