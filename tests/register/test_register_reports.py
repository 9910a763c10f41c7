"""The 调度表, the 排查表 and the export: counts cumulative to month end, on both databases."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from hazardjudge.register import FileIn, Grade, HazardFilter, HazardIn, HazardUpdate, InspectionIn, Origin, Role, UnitIn
from hazardjudge.register import reports

D = dt.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def _major(reg, actor, unit, found, origin=Origin.inspection, description="重大隐患"):
    return reg.add_hazard(actor, HazardIn(unit_id=unit, grade=Grade.major, found_on=found, description=description, origin=origin))


def _close(reg, actor, h, on):
    reg.submit_evidence(actor, h.id, "已整改")
    reg.review(actor, h.id, True, on=on)
    return reg.close(actor, h.id, on=on)


@pytest.fixture
def data(reg, boss):
    east = reg.add_unit(boss, UnitIn(name="东厂", town="城关镇", village="东风社区", sector="fire")).id
    west = reg.add_unit(boss, UnitIn(name="西厂", town="城关镇", village="西湖村", sector="city_gas")).id
    a = _major(reg, boss, east, D(2026, 10, 5))                      # 排查, closed in October
    _close(reg, boss, a, D(2026, 10, 20))
    b = _major(reg, boss, east, D(2026, 11, 3))                      # 排查, supervised, closed in December
    reg.supervise(boss, b.id, "县安委办", "县安督〔2026〕5号", D(2026, 11, 4))
    _close(reg, boss, b, D(2026, 12, 2))
    _major(reg, boss, west, D(2026, 11, 10), Origin.self_check)      # 自查, open
    c = _major(reg, boss, west, D(2026, 11, 11), Origin.self_check)  # 自查, closed in November
    _close(reg, boss, c, D(2026, 11, 28))
    _major(reg, boss, west, D(2026, 12, 1))                          # after November: not counted
    reg.add_hazard(boss, HazardIn(unit_id=west, grade=Grade.general, found_on=D(2026, 11, 1), description="一般"))  # never counted
    v = _major(reg, boss, west, D(2026, 11, 1))
    reg.void(boss, v.id, "重复登记")                                    # voided: never counted
    return east, west


def test_dispatch_counts_cumulative_to_month_end(reg, boss, data):
    t = reports.dispatch_table(reg, boss, 2026, 11)
    assert t.as_of == D(2026, 11, 30)
    assert t.total.counts == (2, 1, 2, 1, 1, 0)
    assert {line.label: line.counts for line in t.by_area} == {"城关镇东风社区": (0, 0, 2, 1, 1, 0), "城关镇西湖村": (2, 1, 0, 0, 0, 0)}
    assert {line.label: line.counts for line in t.by_sector} == {"fire": (0, 0, 2, 1, 1, 0), "city_gas": (2, 1, 0, 0, 0, 0)}
    assert reports.dispatch_table(reg, boss, 2026, 10).total.counts == (0, 0, 1, 1, 0, 0)
    assert reports.dispatch_table(reg, boss, 2026, 12).total.counts == (2, 1, 3, 2, 1, 1)


def test_an_enterprise_users_report_covers_its_units_only(reg, boss, data):
    east, _ = data
    reg.add_user(boss, "east", "east-pass-1", Role.enterprise, unit_ids=[east])
    me = reg.authenticate("east", "east-pass-1")
    assert reports.dispatch_table(reg, me, 2026, 11).total.counts == (0, 0, 2, 1, 1, 0)
    assert all(row[1] == "东厂" for row in reports.export_rows(reg, me, 2026, 12))


def test_dispatch_xlsx_and_html(reg, boss, data):
    wb = load_workbook(io.BytesIO(reports.render(reg, boss, "dispatch", 2026, 11, "xlsx")))
    ws = wb.worksheets[0]
    assert ws["A4"].value == "1. 企业自查发现的重大事故隐患"
    assert [c.value for c in ws[3]] == ["总体情况", "城关镇东风社区", "城关镇西湖村", "合计"]
    assert [c.value for c in ws[6]][1:] == [2, 0, 2]
    html = reports.render(reg, boss, "dispatch", 2026, 11, "html").decode("utf-8")
    assert "政府挂牌督办的重大事故隐患" in html and "2026-11-30" in html


def test_inspection_table(reg, boss, hotel_like):
    unit, verdict = hotel_like
    filed = reg.record(boss, InspectionIn(unit_id=unit, inspected_on=verdict.inspection_date, location="<b>三楼</b>", remarks="=HYPERLINK(\"x\")"),
                       verdict, attachments=[FileIn(filename="门口.png", data=PNG)])
    reg.update(boss, filed.hazards[0].id, HazardUpdate(deadline=D(2026, 12, 4)))
    rows = reports.inspection_table(reg, boss, 2026, 11)
    (row,) = rows
    assert (row.number, row.unit, row.date, row.photos, row.place) == (1, "宾馆", D(2026, 11, 20), ["门口.png"], "<b>三楼</b>")
    assert row.majors.startswith("有：1. ") and "GB 35181-2025 5.2 e)" in row.majors
    assert "限2026-12-04前整改" in row.handling
    html = reports.render(reg, boss, "inspections", 2026, 11, "html").decode("utf-8")
    assert "&lt;b&gt;三楼&lt;/b&gt;" in html and "<b>三楼" not in html  # user text is escaped
    ws = load_workbook(io.BytesIO(reports.render(reg, boss, "inspections", 2026, 11, "xlsx"))).active
    assert [c.value for c in ws[2]] == reports.INSPECTION_COLUMNS
    assert ws["H3"].value.startswith("'=")  # never a formula
    assert ws["H3"].data_type == "s"


def test_an_undetermined_inspection_is_never_reported_as_no_hazard(reg, boss, hotel_like):
    import hazardjudge

    unit, _ = hotel_like
    verdict = hazardjudge.load().judge({}, on=D(2026, 11, 20), sectors=["fire"])
    assert verdict.outcome.value == "undetermined"
    reg.record(boss, InspectionIn(unit_id=unit, inspected_on=D(2026, 11, 20)), verdict)
    (row,) = reports.inspection_table(reg, boss, 2026, 11)
    assert row.majors.startswith("无法判定")


def test_export(reg, boss, data):
    rows = reports.export_rows(reg, boss, 2026, 11)
    assert len(rows) == 5  # November and before, the voided one left out
    ws = load_workbook(io.BytesIO(reports.render(reg, boss, "export", 2026, 11, "xlsx"))).active
    assert [c.value for c in ws[2]] == reports.EXPORT_COLUMNS
    assert ws.max_row == 2 + 5


@pytest.fixture
def hotel_like(reg, boss):
    import hazardjudge
    from hazardjudge.inputs.inspections import parse_inspection
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    parsed = parse_inspection((root / "examples" / "fire_hotel.yaml").read_text(encoding="utf-8"), "fire_hotel.yaml")
    verdict = hazardjudge.load().judge(parsed.inspection)
    unit = reg.add_unit(boss, UnitIn(name="宾馆", town="城关镇", village="东风社区", sector="fire")).id
    return unit, verdict


def test_chart_series(reg, boss, data, today):
    months = reports.open_closed_by_month(reg, boss, 2026, Grade.major)
    assert [(m.found, m.closed, m.open_at_end) for m in months[9:12]] == [(1, 1, 0), (3, 1, 2), (1, 1, 2)]
    east, west = data
    reg.update(boss, reg.list_hazards(boss, HazardFilter(unit_id=west, grade=Grade.general)).items[0].id, HazardUpdate(deadline=D(2026, 11, 20)))
    today.day = D(2026, 11, 25)
    assert reports.overdue_by_sector(reg, boss) == [("city_gas", 1)]
