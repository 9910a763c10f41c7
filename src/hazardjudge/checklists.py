"""Checklists generated from the rules: the questions that decide the sectors for one site and date.

Order: the sectors' scope questions first, then each rule's questions in
clause order. A question that only matters once another is answered (it is
read only by rules whose ``when`` asks something else) is a follow-up of
those questions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict

from .api import Engine
from .conditions import evaluate, referenced_facts
from .inputs import CHECKLIST_FIRST_HEADER
from .models import PLACEHOLDER, Combination, Exclusion, FactType, Rule

TYPE_ZH = {
    FactType.boolean: "是/否",
    FactType.integer: "整数",
    FactType.number: "数值",
    FactType.enum: "单选",
    FactType.set: "多选",
    FactType.date: "日期",
    FactType.text: "文字",
}


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    fact: str
    question: str
    type: FactType
    values: dict[str, str] | None = None
    unit: str | None = None
    help: str | None = None
    section: str
    follow_up_of: list[str] = []

    @property
    def answer_hint(self) -> str:
        if self.values:
            return "、".join(self.values.values())
        return TYPE_ZH[self.type] + (f"（{self.unit}）" if self.unit else "")


class Checklist(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: dt.date
    sectors: list[str]
    items: list[ChecklistItem]

    def by_number(self) -> dict[int, ChecklistItem]:
        return {i.number: i for i in self.items}


def build(engine: Engine, on: dt.date, sectors: Iterable[str] | None = None, site: dict[str, Any] | None = None) -> Checklist:
    """Questions for the sectors named, or for every sector whose scope the ``site`` answers do not rule out."""
    bundle = engine.bundle
    site_answers = engine.read(site or {}).values
    if sectors:
        chosen = list(sectors)
        engine._sectors(chosen)  # validates names, with suggestions
    else:
        # Display-only selection: a sector is dropped when the site answers make its scope false.
        chosen = [s for s, loc in sorted(bundle.sectors.items()) if evaluate(loc.model.applies_when, site_answers) is not False]
    order: dict[str, tuple[str, list[str]]] = {}

    def add(fid: str, section: str, gates: list[str]) -> None:
        if fid in site_answers or fid not in bundle.facts:
            return
        if fid not in order:
            order[fid] = (section, [g for g in gates if g != fid])
        else:
            # Asked unconditionally somewhere: not a follow-up.
            if not gates:
                order[fid] = (order[fid][0], [])

    if not sectors:
        for sector in chosen:
            for fid in referenced_facts(bundle.sectors[sector].model.applies_when):
                add(fid, "单位基本情况", [])
    for sector in chosen:
        loc = bundle.sectors[sector]
        title = loc.model.title
        versions = [v for v in bundle.versions_of(loc.model.document) if v.doc.in_force(on)]
        for version in versions:
            for src in bundle.items_of(version.key):
                item = src.item
                if isinstance(item, Rule):
                    gates = referenced_facts(item.when)
                    for fid in gates:
                        add(fid, title, [])
                    for fid in referenced_facts(item.condition):
                        add(fid, title, gates)
                    for fid in _placeholders(item.finding):
                        add(fid, title, referenced_facts(item.condition))
                elif isinstance(item, Exclusion):
                    for fid in referenced_facts(item.condition):
                        add(fid, f"{title}（排除情形）", [])
                elif isinstance(item, Combination):
                    for v in item.variants:
                        for fid in referenced_facts(v.when):
                            add(fid, title, [])
    items = []
    for number, (fid, (section, gates)) in enumerate(order.items(), start=1):
        fact = bundle.facts[fid]
        items.append(
            ChecklistItem(
                number=number, fact=fid, question=fact.question, type=fact.type, values=fact.values,
                unit=fact.unit, help=fact.help, section=section, follow_up_of=gates,
            )
        )
    return Checklist(date=on, sectors=chosen, items=items)


def _placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


# --------------------------------------------------------------------------- renderings

CSV_HEADER = [CHECKLIST_FIRST_HEADER, "问题编号", "问题", "回答类型", "可选值", "单位", "说明", "回答"]


def _rows(checklist: Checklist) -> list[list[str]]:
    rows = []
    numbers = {i.fact: i.number for i in checklist.items}
    for i in checklist.items:
        note = i.help or ""
        if i.follow_up_of:
            note = f"（追问：第 {'、'.join(str(numbers.get(g, g)) for g in i.follow_up_of)} 题的回答使本题适用时填写）" + note
        values = "、".join(i.values.values()) if i.values else ("是、否" if i.type is FactType.boolean else "")
        rows.append([str(i.number), i.fact, i.question, TYPE_ZH[i.type], values, i.unit or "", note, ""])
    return rows


def to_markdown(checklist: Checklist) -> str:
    lines = [f"# 重大事故隐患判定检查表（{checklist.date.isoformat()}）", "",
             "回答“是/否”、数值或选项；没有检查的写“未检查”，不要空着当作“否”。", ""]
    section = None
    numbers = {i.fact: i.number for i in checklist.items}
    for i in checklist.items:
        if i.section != section:
            section = i.section
            lines += ["", f"## {section}", ""]
        follow = f"（追问：视第 {'、'.join(str(numbers.get(g, g)) for g in i.follow_up_of)} 题）" if i.follow_up_of else ""
        lines.append(f"{i.number}. {i.question}{follow}")
        lines.append(f"   - 编号：`{i.fact}`；回答：{i.answer_hint}")
        if i.help:
            lines.append(f"   - 说明：{i.help}")
        lines.append("   - 回答：")
    return "\n".join(lines) + "\n"


def to_csv(checklist: Checklist) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(checklist))
    return out.getvalue()


def to_yaml(checklist: Checklist) -> str:
    lines = [f"date: {checklist.date.isoformat()}", f"sectors: [{', '.join(checklist.sectors)}]", "facts:"]
    for i in checklist.items:
        lines.append(f"  # {i.number}. {i.question}（{i.answer_hint}）")
        lines.append(f"  {i.fact}: 未检查")
    return "\n".join(lines) + "\n"


def to_json(checklist: Checklist) -> str:
    template = {
        "date": checklist.date.isoformat(),
        "sectors": checklist.sectors,
        "facts": {i.fact: None for i in checklist.items},
        "questions": [i.model_dump(mode="json") for i in checklist.items],
    }
    return json.dumps(template, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(checklist: Checklist) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "检查表"
    ws.append(CSV_HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in _rows(checklist):
        ws.append(row)
    for column, width in zip("ABCDEFGH", (6, 34, 60, 10, 30, 8, 40, 16)):
        ws.column_dimensions[column].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    # A drop-down on every yes/no and single-choice answer cell; 未检查 is always allowed.
    for index, item in enumerate(checklist.items, start=2):
        if item.type is FactType.boolean:
            options = ["是", "否", "未检查"]
        elif item.type is FactType.enum and item.values:
            options = list(item.values.values()) + ["未检查"]
        else:
            continue
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        dv.error = "请从下拉列表中选择"
        ws.add_data_validation(dv)
        dv.add(f"H{index}")
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
