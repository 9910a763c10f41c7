"""The register's reports: the monthly 调度表, the 排查表 and the register export, as XLSX and HTML.

Counts are computed in the database (one grouped query per table), cumulative to the last
day of the month asked for: a hazard counts when found on or before it, as 已完成整改 when
销号 on or before it, as 挂牌督办 when listed on or before it. Voided records never count.
An enterprise user's reports cover its own units only.

The 调度表's second section (对企业自查自改进行抽查检查情况) counts enterprises (units), each
once: by its latest spot check on or before the month's end (the later ``checked_on``, then the
later record). An item answered 是 counts as a finding; one 未查明 — or missing from an older
record — counts in the 未查明 rows beside it, never as a finding nor as "no problem".
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from hazardjudge.register import spot_items
from hazardjudge.register.models import (
    GRADE_ZH,
    ORIGIN_ZH,
    STATUS_ZH,
    Answer,
    Grade,
    Hazard,
    Inspection,
    Origin,
    SpotCheck,
    SpotCheckAnswer,
    Status,
    Supervision,
    Unit,
)

if TYPE_CHECKING:
    from hazardjudge.register.store import Register
    from hazardjudge.register.views import Actor

#: the six rows of 总体情况 in 附件2, in the form's order and wording
DISPATCH_ROWS = [
    "企业自查发现的重大事故隐患",
    "企业自查发现重大事故隐患中已完成整改的",
    "排查发现的重大事故隐患",
    "排查发现重大事故隐患中已完成整改的",
    "政府挂牌督办的重大事故隐患",
    "挂牌督办重大事故隐患中已完成整改的",
]
INSPECTION_COLUMNS = ["序号", "排查单位", "排查时间", "排查图片", "排查地点", "有无重大隐患及隐患描述", "重大隐患处置情况及建议", "备注"]
EXPORT_COLUMNS = [
    "编号", "单位", "乡镇（街道）", "村（社区）", "行业", "等级", "来源", "发现日期", "依据条款", "隐患描述", "部位",
    "责任", "措施", "资金", "时限", "预案", "整改期限", "状态", "是否逾期", "挂牌督办", "销号日期",
]
UNSET = "（未填）"


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class DispatchLine:
    """One column of the 调度表: an area (乡镇 + 村/社区) or a sector, and its counts.

    ``counts``: the six hazard counts of 总体情况 (个). ``spot``: the second section (家) —
    enterprises spot-checked, then per item those answered 是; ``spot_unknown``: per item those
    whose answer is 未查明 (so checked = 是 + 否 + 未查明 for every item).
    """

    label: str
    counts: tuple[int, int, int, int, int, int]
    spot: tuple[int, ...] = ()
    spot_unknown: tuple[int, ...] = ()


@dataclass(frozen=True)
class DispatchTable:
    year: int
    month: int
    as_of: dt.date
    total: DispatchLine
    by_area: list[DispatchLine]
    by_sector: list[DispatchLine]


@dataclass(frozen=True)
class InspectionRow:
    number: int
    unit: str
    date: dt.date
    photos: list[str]
    place: str
    majors: str
    handling: str
    remarks: str
    cells: list[Any] = field(default_factory=list)


def dispatch_table(reg: "Register", actor: "Actor", year: int, month: int) -> DispatchTable:
    end = month_end(year, month)
    keys = spot_items.load().keys
    n = len(keys)
    s, own = reg.session_for_reports(actor)
    with s:
        # One grouped query by (town, village, sector); the area, sector and total lines are sums of
        # its few hundred groups. Supervision is joined pre-aggregated rather than probed per hazard.
        listed_ids = select(Supervision.hazard_id).where(Supervision.listed_on <= end).group_by(Supervision.hazard_id).subquery()
        closed = and_(Hazard.status == Status.closed, Hazard.closed_on <= end)
        listed = listed_ids.c.hazard_id.is_not(None)
        cols = [
            func.sum(case((Hazard.origin == Origin.self_check, 1), else_=0)),
            func.sum(case((and_(Hazard.origin == Origin.self_check, closed), 1), else_=0)),
            func.sum(case((Hazard.origin == Origin.inspection, 1), else_=0)),
            func.sum(case((and_(Hazard.origin == Origin.inspection, closed), 1), else_=0)),
            func.sum(case((listed, 1), else_=0)),
            func.sum(case((and_(listed, closed), 1), else_=0)),
        ]
        q = (
            select(Unit.town, Unit.village, Unit.sector, *cols)
            .select_from(Hazard)
            .join(Unit, Hazard.unit_id == Unit.id)
            .outerjoin(listed_ids, listed_ids.c.hazard_id == Hazard.id)
            .where(Hazard.grade == Grade.major, Hazard.voided_at.is_(None), Hazard.found_on <= end)
            .group_by(Unit.town, Unit.village, Unit.sector)
        )
        if own is not None:
            q = q.where(Hazard.unit_id.in_(own))
        groups = list(s.execute(q))
        checked, answered = _spot_groups(s, own, end)
    areas: dict[tuple, list[int]] = {}
    sectors: dict[str, list[int]] = {}
    # per line: 6 hazard counts, then the spot checks (checked, 是 per item, 否 per item)
    width = 6 + 1 + 2 * n
    total = [0] * width

    def add(town: Any, village: Any, sector: Any, index: int, value: int) -> None:
        for target in (areas.setdefault((town or "", village or ""), [0] * width), sectors.setdefault(sector or "", [0] * width), total):
            target[index] += value

    for town, village, sector, *counts in groups:
        for i, c in enumerate(counts):
            add(town, village, sector, i, int(c or 0))
    for town, village, sector, c in checked:
        add(town, village, sector, 6, int(c or 0))
    for town, village, sector, item, answer, c in answered:
        if item in keys:  # an item since taken off the list is not a row of the form
            add(town, village, sector, 7 + keys.index(item) + (n if answer == Answer.no else 0), int(c or 0))
    by_area = [_line((t or UNSET) + v, c, n) for (t, v), c in sorted(areas.items())]
    by_sector = [_line(k or UNSET, c, n) for k, c in sorted(sectors.items())]
    return DispatchTable(year, month, end, _line("合计", total, n), by_area, by_sector)


def _line(label: str, c: list[int], n: int) -> DispatchLine:
    checked, yes, no = c[6], c[7:7 + n], c[7 + n:7 + 2 * n]
    return DispatchLine(label, tuple(c[:6]), (checked, *yes), tuple(checked - y - x for y, x in zip(yes, no)))  # type: ignore[arg-type]


def _spot_groups(s: Any, own: set[int] | None, end: dt.date) -> tuple[list[Any], list[Any]]:
    """Each unit's latest spot check up to ``end`` (not voided), grouped by (town, village, sector):
    how many units, and per item how many answered 是 and 否 (未查明 is the rest)."""
    ranked = select(
        SpotCheck.id, SpotCheck.unit_id,
        func.row_number().over(partition_by=SpotCheck.unit_id, order_by=(SpotCheck.checked_on.desc(), SpotCheck.id.desc())).label("rank"),
    ).where(SpotCheck.voided_at.is_(None), SpotCheck.checked_on <= end)
    if own is not None:
        ranked = ranked.where(SpotCheck.unit_id.in_(own))
    ranked = ranked.subquery()
    area = (Unit.town, Unit.village, Unit.sector)
    checked = list(s.execute(
        select(*area, func.count()).select_from(ranked).join(Unit, ranked.c.unit_id == Unit.id)
        .where(ranked.c.rank == 1).group_by(*area)
    ))
    answered = list(s.execute(
        select(*area, SpotCheckAnswer.item, SpotCheckAnswer.answer, func.count()).select_from(ranked)
        .join(Unit, ranked.c.unit_id == Unit.id).join(SpotCheckAnswer, SpotCheckAnswer.spot_check_id == ranked.c.id)
        .where(ranked.c.rank == 1, SpotCheckAnswer.answer.in_([Answer.yes, Answer.no]))
        .group_by(*area, SpotCheckAnswer.item, SpotCheckAnswer.answer)
    ))
    return checked, answered


def inspection_table(reg: "Register", actor: "Actor", year: int, month: int) -> list[InspectionRow]:
    """附件1 重大事故隐患排查表: one row per inspection of the month."""
    start, end = dt.date(year, month, 1), month_end(year, month)
    s, own = reg.session_for_reports(actor)
    with s:
        q = select(Inspection).where(Inspection.inspected_on.between(start, end), Inspection.voided_at.is_(None))
        if own is not None:
            q = q.where(Inspection.unit_id.in_(own))
        inspections = list(s.scalars(q.order_by(Inspection.inspected_on, Inspection.id)))
        hazards: dict[int, list[Hazard]] = {}
        if inspections:
            hq = select(Hazard).options(selectinload(Hazard.supervisions), selectinload(Hazard.suspensions)).where(Hazard.inspection_id.in_([i.id for i in inspections]), Hazard.voided_at.is_(None)).order_by(Hazard.id)
            for h in s.scalars(hq):
                hazards.setdefault(h.inspection_id, []).append(h)
        rows = []
        for n, insp in enumerate(inspections, 1):
            found = hazards.get(insp.id, [])
            majors = [h for h in found if h.grade is Grade.major]
            general = len(found) - len(majors)
            outcome = insp.verdicts[-1].outcome if insp.verdicts else None
            if majors:
                described = "有：" + "；".join(f"{i}. {h.description}（{h.citation}）" if h.citation else f"{i}. {h.description}" for i, h in enumerate(majors, 1))
            elif outcome == "none":
                described = "无"
            elif outcome == "undetermined":
                # Unknown is not safe: an undetermined verdict is never reported as 无.
                described = "无法判定（尚有问题未回答或标准未编码，须补充检查）"
            else:
                described = "未登记重大隐患（无判定结果）"
            handling = "；".join(_handling(h) for h in majors)
            remarks = "；".join(x for x in (insp.remarks or "", f"另有一般隐患 {general} 项" if general else "") if x)
            row = InspectionRow(
                number=n, unit=insp.unit.name, date=insp.inspected_on,
                photos=[a.filename for a in insp.attachments if a.voided_at is None],
                place=insp.location or insp.unit.address or "", majors=described, handling=handling, remarks=remarks,
            )
            rows.append(row)
        return rows


def _handling(h: Hazard) -> str:
    parts = [f"{h.id}号{STATUS_ZH[h.status]}"]
    if h.status is Status.closed and h.closed_on:
        parts.append(f"{h.closed_on:%Y-%m-%d}销号")
    elif h.deadline:
        parts.append(f"限{h.deadline:%Y-%m-%d}前整改")
    if any(x.delisted_on is None for x in h.supervisions):
        x = next(x for x in h.supervisions if x.delisted_on is None)
        parts.append(f"{x.authority}挂牌督办（{x.document_number}）")
    if any(x.lifted_on is None for x in h.suspensions):
        parts.append("责令停产停业整顿")
    if h.status is not Status.closed and h.rectification:
        parts.append(f"建议：{h.rectification}")
    return "，".join(parts)


def export_rows(reg: "Register", actor: "Actor", year: int, month: int) -> list[list[Any]]:
    """The register as a table: every hazard found up to the month's end, its state as of today."""
    end = month_end(year, month)
    s, own = reg.session_for_reports(actor)
    with s:
        q = select(Hazard).where(Hazard.voided_at.is_(None), Hazard.found_on <= end)
        if own is not None:
            q = q.where(Hazard.unit_id.in_(own))
        out: list[list[Any]] = []
        rows = list(s.scalars(q.order_by(Hazard.id)))
        for chunk in range(0, len(rows), 500):
            for h in reg._hazard_outs(s, rows[chunk:chunk + 500]):
                out.append([
                    h.id, h.unit_name, h.town or "", h.village or "", h.sector or "", GRADE_ZH[h.grade], ORIGIN_ZH[h.origin],
                    h.found_on, h.citation or "", h.description, h.location or "", h.responsible or "", h.measures or "",
                    h.funds or "", h.time_limit or "", h.plan or "", h.deadline or "", STATUS_ZH[h.status],
                    "是" if h.overdue else "", "是" if h.supervised else "", h.closed_on or "",
                ])
        return out


@dataclass(frozen=True)
class MonthCounts:
    """For a chart of open against closed: hazards found and 销号 in a month, and open at its end."""

    month: int
    found: int
    closed: int
    open_at_end: int


def open_closed_by_month(reg: "Register", actor: "Actor", year: int, grade: Grade | None = None) -> list[MonthCounts]:
    """Twelve months of one year; grouped by day in the database (at most 366 groups a column)."""
    s, own = reg.session_for_reports(actor)
    with s:
        where = [Hazard.voided_at.is_(None)]
        if grade is not None:
            where.append(Hazard.grade == grade)
        if own is not None:
            where.append(Hazard.unit_id.in_(own))
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        before = s.scalar(select(func.count()).select_from(Hazard).where(*where, Hazard.found_on < start)) or 0
        closed_before = s.scalar(select(func.count()).select_from(Hazard).where(*where, Hazard.closed_on < start)) or 0
        found = s.execute(select(Hazard.found_on, func.count()).where(*where, Hazard.found_on.between(start, end)).group_by(Hazard.found_on))
        closed = s.execute(select(Hazard.closed_on, func.count()).where(*where, Hazard.closed_on.between(start, end)).group_by(Hazard.closed_on))
        per_found, per_closed = [0] * 13, [0] * 13
        for day, n in found:
            per_found[day.month] += n
        for day, n in closed:
            per_closed[day.month] += n
    out, open_now = [], before - closed_before
    for m in range(1, 13):
        open_now += per_found[m] - per_closed[m]
        out.append(MonthCounts(m, per_found[m], per_closed[m], open_now))
    return out


def overdue_by_sector(reg: "Register", actor: "Actor") -> list[tuple[str, int]]:
    """Open hazards past their deadline today, per sector (for a chart), most first."""
    s, own = reg.session_for_reports(actor)
    with s:
        q = (
            select(Unit.sector, func.count())
            .select_from(Hazard)
            .join(Unit, Hazard.unit_id == Unit.id)
            .where(Hazard.voided_at.is_(None), Hazard.status != Status.closed, Hazard.deadline < reg.today())
            .group_by(Unit.sector)
        )
        if own is not None:
            q = q.where(Hazard.unit_id.in_(own))
        return sorted(((sector or UNSET, n) for sector, n in s.execute(q)), key=lambda x: (-x[1], x[0]))


# --------------------------------------------------------------------------- rendering

_env = Environment(loader=PackageLoader("hazardjudge.register", "templates"), autoescape=select_autoescape(default=True, default_for_string=True))


def _title(kind: str, year: int, month: int) -> str:
    return {
        "dispatch": f"重大事故隐患专项排查整治行动进展情况月度调度表（{year}年{month}月）",
        "inspections": f"重大事故隐患排查表（{year}年{month}月）",
        "export": f"隐患台账（截至{year}年{month}月底）",
    }[kind]


def render(reg: "Register", actor: "Actor", kind: str, year: int, month: int, fmt: str) -> bytes:
    """One report as XLSX bytes or as an HTML print page (UTF-8)."""
    if kind == "dispatch":
        table = dispatch_table(reg, actor, year, month)
        return dispatch_xlsx(table) if fmt == "xlsx" else dispatch_html(table).encode("utf-8")
    if kind == "inspections":
        rows = inspection_table(reg, actor, year, month)
        header, body = INSPECTION_COLUMNS, [[r.number, r.unit, r.date, "、".join(r.photos), r.place, r.majors, r.handling, r.remarks] for r in rows]
    else:
        header, body = EXPORT_COLUMNS, export_rows(reg, actor, year, month)
    title = _title(kind, year, month)
    if fmt == "xlsx":
        return _table_xlsx(title, header, body)
    return _env.get_template("table.html.j2").render(title=title, header=header, rows=[[_cell(v) for v in r] for r in body], as_of=month_end(year, month)).encode("utf-8")


SPOT_UNKNOWN_CAPTION = "其中未查明的企业（该项未能查明，既不计为存在问题，也不计为不存在问题）"


def dispatch_html(table: DispatchTable) -> str:
    items = spot_items.load()
    return _env.get_template("dispatch.html.j2").render(
        title=_title("dispatch", table.year, table.month), t=table, rows=DISPATCH_ROWS,
        spot_section=items.section, spot_unit=items.unit, spot_rows=items.rows, spot_items=items.items, unknown_caption=SPOT_UNKNOWN_CAPTION,
    )


def dispatch_xlsx(table: DispatchTable) -> bytes:
    """One sheet per grouping: 总体情况 (个), then 对企业自查自改进行抽查检查情况 (家) with its 未查明 rows."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    items = spot_items.load()
    wb = Workbook()
    for ws, lines, what in ((wb.active, table.by_area, "村（社区）"), (wb.create_sheet(), table.by_sector, "行业")):
        ws.title = f"按{what}"[:31]
        ws.append([_title("dispatch", table.year, table.month)])
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([f"累计至 {table.as_of:%Y年%m月%d日}（单位：个）"])
        # Area and sector names are user text: never a formula.
        heading = [*(_xlsx_cell(line.label) for line in lines), "合计"]
        ws.append(["总体情况", *heading])
        for i, label in enumerate(DISPATCH_ROWS):
            ws.append([f"{i + 1}. {label}", *(line.counts[i] for line in lines), table.total.counts[i]])
        ws.append([])
        ws.append([f"{items.section}（单位：{items.unit}）", *heading])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for i, label in enumerate(items.rows):
            ws.append([f"{i + 1}. {label}", *(line.spot[i] for line in lines), table.total.spot[i]])
        ws.append([SPOT_UNKNOWN_CAPTION, *heading])
        for i, item in enumerate(items.items):
            ws.append([f"{item.number + 1}. {item.label}（未查明）", *(line.spot_unknown[i] for line in lines), table.total.spot_unknown[i]])
        ws.column_dimensions["A"].width = 44
        for row in ws.iter_rows(min_row=3):
            for c in row:
                c.alignment = Alignment(wrap_text=True, vertical="center")
    return _save(wb)


def _table_xlsx(title: str, header: list[str], body: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "报表"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(header)
    for c in ws[2]:
        c.font = Font(bold=True)
    for r in body:
        ws.append([_xlsx_cell(v) for v in r])
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    return _save(wb)


def _xlsx_cell(value: Any) -> Any:
    # A cell starting with = would be a formula when opened: user text is data, never a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _cell(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _save(wb: Any) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
