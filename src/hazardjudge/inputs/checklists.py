"""Checklists generated from the rules: the questions that decide the sectors for one site and date.

Order: the sectors' scope questions first, then each rule's questions in
clause order, each follow-up right after the question that opens it. A
question that only matters once another is answered (it is read only by rules
whose ``when`` asks something else, or by a sector whose scope question is
still open) is a follow-up: it carries the condition
under which it applies (``applies_when``, the rules' ``when`` conditions in
their JSON form), so every rendering, and the web page, can show it only
when the answers so far make it apply.

Every checklist carries what chose it (date, named sectors, site answers) and
an identity (``检查表编号``) that names it exactly: pasted answers keyed by
checklist number are resolved against the checklist that identity names, never
against whatever checklist the numbers happen to fit today.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import BaseModel, ConfigDict, TypeAdapter

from hazardjudge.engine.answers import display_value
from hazardjudge.engine.conditions import evaluate, referenced_facts
from hazardjudge.engine.verdicts import not_encoded_note
from hazardjudge.engine.models import (
    PLACEHOLDER,
    AllOf,
    AnyOf,
    Combination,
    Condition,
    Exclusion,
    FactDef,
    FactRef,
    FactType,
    Leaf,
    NotOf,
    Rule,
)
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import CHECKLIST_FIRST_HEADER, META_LABELS

if TYPE_CHECKING:
    from hazardjudge.api import Engine


TYPE_ZH = {
    FactType.boolean: "是/否",
    FactType.integer: "整数",
    FactType.number: "数值",
    FactType.enum: "单选",
    FactType.set: "多选",
    FactType.date: "日期",
    FactType.text: "文字",
}

#: The instruction line every text rendering carries; the paste reader skips it when it comes back.
INSTRUCTION = "在每题的“回答”处填写：是/否、数值或选项；没有检查的写“未检查”，不要空着当作“否”。"
CHAT_INSTRUCTION = "请逐题回复题号和回答，如“1. 是”“2. 否”；没有检查的写“未检查”。"
INSTRUCTIONS = (INSTRUCTION, CHAT_INSTRUCTION)
#: The label of a note line (a standard that applies but is not encoded); the paste reader skips such lines.
NOTE_LABEL = "注意"


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
    #: when the question applies (JSON form of a rule condition); None: always
    applies_when: dict[str, Any] | None = None
    #: the number of the question this follow-up is shown under, and when it applies, in words
    parent: int | None = None
    applies_text: str | None = None

    @property
    def answer_hint(self) -> str:
        if self.values:
            return "、".join(self.values.values())
        return TYPE_ZH[self.type] + (f"（{self.unit}）" if self.unit else "")


class SiteAnswer(BaseModel):
    """A site answer that chose the checklist (the unit type); the checklist leaves its question out."""

    model_config = ConfigDict(frozen=True)

    fact: str
    question: str
    value: Any
    shown: str


class Checklist(BaseModel):
    model_config = ConfigDict(frozen=True)

    date: dt.date
    sectors: list[str]
    items: list[ChecklistItem]
    #: True when the sectors were named by the caller (then they apply whatever the scope answers say)
    named: bool = False
    site: list[SiteAnswer] = []
    identity: str = ""
    #: standards that apply (or may) but none of whose clauses is encoded, and why some questions
    #: come from an earlier version judged as provisional reference: no answer changes them
    notes: list[str] = []

    def by_number(self) -> dict[int, ChecklistItem]:
        return {i.number: i for i in self.items}

    def site_values(self) -> dict[str, Any]:
        return {s.fact: s.value for s in self.site}


# --------------------------------------------------------------------------- building


def build(engine: Engine, on: dt.date, sectors: Iterable[str] | None = None, site: dict[str, Any] | None = None) -> Checklist:
    """Questions for the sectors named, or for every sector whose scope the ``site`` answers do not rule out."""
    bundle = engine.bundle
    read = engine.read(site or {})
    site_answers = read.values
    named = bool(sectors)
    if sectors:
        chosen = list(dict.fromkeys(sectors))
        engine._sectors(chosen, read)  # known names (with suggestions) that the unit type does not rule out
    else:
        # Display-only selection: a sector is dropped when the site answers make its scope false.
        chosen = [s for s, loc in sorted(bundle.sectors.items()) if evaluate(loc.model.applies_when, site_answers) is not False]
    # fact → (section, gates, conditions under which it is asked; None among them: always)
    order: dict[str, tuple[str, list[str], list[Condition | None]]] = {}
    notes: list[str] = []

    def add(fid: str, section: str, gates: list[str], when: Condition | None) -> None:
        if fid in site_answers or fid not in bundle.facts:
            return
        if when is not None:
            known = evaluate(when, site_answers)
            if known is False:
                return  # the site answers already make the rule not apply here
            if known is True:
                when = None
        gates = [g for g in gates if g != fid and g not in site_answers]
        if not gates:
            when = None
        if fid not in order:
            order[fid] = (section, gates, [when])
        else:
            old_section, old_gates, whens = order[fid]
            whens.append(when)
            order[fid] = (old_section, old_gates + [g for g in gates if g not in old_gates], whens)

    if not sectors:
        for sector in chosen:
            for fid in referenced_facts(bundle.sectors[sector].model.applies_when):
                add(fid, "单位基本情况", [], None)
    for sector in chosen:
        loc = bundle.sectors[sector]
        title = loc.model.title
        # A sector the caller did not name, whose scope the site answers leave open (fire.in_scope
        # unanswered), asks its questions only once its scope questions say it applies.
        scope = None if named or evaluate(loc.model.applies_when, site_answers) is True else loc.model.applies_when
        scope_facts = referenced_facts(scope)

        def ask(fid: str, section: str, gates: list[str], when: Condition | None) -> None:
            if scope is None:
                add(fid, section, gates, when)
            else:
                add(fid, section, scope_facts + gates, scope if when is None else AllOf(all=[scope, when]))

        versions = [(v, title) for v in bundle.versions_of(loc.model.document) if v.doc.in_force(on)]
        for version, _ in list(versions):
            # The earlier version the criteria name as provisional reference is asked too, under
            # its own heading, with the criteria's note saying why.
            ref = version.doc.provisional_reference
            earlier = bundle.documents.get(f"{version.doc.document}@{ref.version}") if ref else None
            if earlier is not None:
                versions.append((earlier, f"{title}（参照{earlier.doc.number}）"))
                notes.append(ref.note)
        for version, section in versions:
            for src in bundle.items_of(version.key):
                item = src.item
                if isinstance(item, Rule):
                    gates = referenced_facts(item.when)
                    for fid in gates:
                        ask(fid, section, [], None)
                    for fid in referenced_facts(item.condition):
                        ask(fid, section, gates, item.when)
                    # A value quoted in the finding is asked wherever the rule applies.
                    for fid in _placeholders(item.finding):
                        ask(fid, section, gates, item.when)
                elif isinstance(item, Exclusion):
                    for fid in referenced_facts(item.condition):
                        ask(fid, f"{section}（排除情形）", [], None)
                elif isinstance(item, Combination):
                    for v in item.variants:
                        for fid in referenced_facts(v.when):
                            ask(fid, section, [], None)
    ids = _ordered(order)
    numbers = {fid: n for n, fid in enumerate(ids, start=1)}
    items = []
    for fid in ids:
        section, gates, whens = order[fid]
        fact = bundle.facts[fid]
        applies = None if any(w is None for w in whens) else _either(whens)
        parents = [numbers[g] for g in gates if g in numbers and order[g][0] == section and numbers[g] < numbers[fid]]
        items.append(
            ChecklistItem(
                number=numbers[fid], fact=fid, question=fact.question, type=fact.type, values=fact.values,
                unit=fact.unit, help=fact.help, section=section,
                follow_up_of=gates if applies is not None else [],
                applies_when=serialise(applies) if applies is not None else None,
                parent=max(parents) if applies is not None and parents else None,
                applies_text=describe(applies, numbers, bundle.facts) if applies is not None else None,
            )
        )
    shown_site = [
        SiteAnswer(fact=fid, question=bundle.facts[fid].question, value=_jsonable(value), shown=display_value(bundle.facts[fid], value))
        for fid, value in site_answers.items()
    ]
    for sector in chosen:
        loc = bundle.sectors[sector]
        for version in bundle.versions_of(loc.model.document):
            # A version judged against a provisional reference already says why in that note.
            if version.doc.in_force(on) and not bundle.encoded(version.key) and version.doc.provisional_reference is None:
                note = not_encoded_note(version)
                if not named and evaluate(loc.model.applies_when, site_answers) is not True:
                    note = f"单位属于“{loc.model.title}”时，{note}"
                notes.append(note)
    checklist = Checklist(date=on, sectors=chosen, items=items, named=named, site=shown_site, notes=notes)
    return checklist.model_copy(update={"identity": identity_of(bundle.fingerprint, checklist)})


def _ordered(order: dict[str, tuple[str, list[str], list[Condition | None]]]) -> list[str]:
    """Each follow-up right after the last question (of its own section) that opens it."""
    position = {fid: i for i, fid in enumerate(order)}

    def key(fid: str) -> tuple[float, int]:
        section, gates, whens = order[fid]
        if any(w is None for w in whens):
            return (position[fid], position[fid])
        anchors = [position[g] for g in gates if g in order and order[g][0] == section and position[g] < position[fid]]
        return ((max(anchors) + 0.5) if anchors else position[fid], position[fid])

    return sorted(order, key=key)


def _either(whens: list[Condition | None]) -> Condition:
    unique: dict[str, Condition] = {}
    for w in whens:
        assert w is not None
        unique.setdefault(json.dumps(serialise(w), sort_keys=True, ensure_ascii=False), w)
    conds = list(unique.values())
    return conds[0] if len(conds) == 1 else AnyOf(any=conds)


def _placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- conditions


def serialise(cond: Condition) -> dict[str, Any]:
    """A condition as plain JSON (the rules' own form): what the web page evaluates."""
    if isinstance(cond, Leaf):
        value = cond.value
        if isinstance(value, FactRef):
            value = {"fact": value.fact, "times": value.times, "plus": value.plus}
        elif isinstance(value, list):
            value = [_jsonable(v) for v in value]
        else:
            value = _jsonable(value)
        return {"fact": cond.fact, "op": cond.op, "value": value}
    if isinstance(cond, AllOf):
        return {"all": [serialise(c) for c in cond.all]}
    if isinstance(cond, AnyOf):
        return {"any": [serialise(c) for c in cond.any]}
    if isinstance(cond, NotOf):
        return {"not": serialise(cond.not_)}
    raise TypeError(type(cond))


_CONDITION = TypeAdapter(Condition)


def deserialise(data: dict[str, Any]) -> Condition:
    return _CONDITION.validate_python(data)


_OPS_ZH = {"lt": "小于", "lte": "不大于", "gt": "大于", "gte": "不小于"}


def describe(cond: Condition, numbers: dict[str, int], facts: dict[str, FactDef]) -> str:
    """When a follow-up applies, as an inspector reads it: 第7题答“是”且第8题答“是”."""
    if isinstance(cond, AllOf):
        return "且".join(_group(c, numbers, facts) for c in cond.all)
    if isinstance(cond, AnyOf):
        return "或".join(_group(c, numbers, facts) for c in cond.any)
    if isinstance(cond, NotOf):
        return f"不是（{describe(cond.not_, numbers, facts)}）"
    fact = facts.get(cond.fact)
    who = f"第{numbers[cond.fact]}题" if cond.fact in numbers else f"“{fact.question if fact else cond.fact}”"

    def shown(v: Any) -> str:
        if isinstance(v, FactRef):
            return f"第{numbers[v.fact]}题的回答" if v.fact in numbers else v.fact
        if fact is None:
            return str(v)
        if fact.type is FactType.set:
            return (fact.values or {}).get(v, str(v))
        return display_value(fact, v)

    if cond.op == "answered":
        return f"{who}已回答" if cond.value else f"{who}未回答"
    if cond.op == "eq":
        return f"{who}答“{shown(cond.value)}”"
    if cond.op == "ne":
        return f"{who}不答“{shown(cond.value)}”"
    if cond.op == "in":
        return f"{who}答" + "或".join(f"“{shown(v)}”" for v in cond.value)
    if cond.op == "not_in":
        return f"{who}不答" + "或".join(f"“{shown(v)}”" for v in cond.value)
    if cond.op == "contains":
        return f"{who}选了“{shown(cond.value)}”"
    return f"{who}{_OPS_ZH[cond.op]}{shown(cond.value)}"


def _group(cond: Condition, numbers: dict[str, int], facts: dict[str, FactDef]) -> str:
    text = describe(cond, numbers, facts)
    return f"（{text}）" if isinstance(cond, (AllOf, AnyOf)) else text


def visibility(checklist: Checklist, values: dict[str, Any]) -> dict[str, bool | None]:
    """For the answers so far, whether each question is open (True), not yet (None: a question
    that opens it is unanswered) or hidden (False: the answers make it not apply).

    ``values`` are typed answers (as :meth:`Engine.read` gives); the site answers that chose the
    checklist count too.
    """
    known = {**checklist.site_values(), **values}
    cache: dict[str, Condition] = {}
    out: dict[str, bool | None] = {}
    for item in checklist.items:
        if item.applies_when is None:
            out[item.fact] = True
            continue
        key = json.dumps(item.applies_when, sort_keys=True)
        if key not in cache:
            cache[key] = deserialise(item.applies_when)
        out[item.fact] = evaluate(cache[key], known)
    return out


def open_questions(checklist: Checklist, values: dict[str, Any]) -> list[ChecklistItem]:
    """The questions to show now: the always-asked ones and the follow-ups the answers open."""
    shown = visibility(checklist, values)
    return [i for i in checklist.items if shown[i.fact] is True]


# --------------------------------------------------------------------------- identity

_IDENTITY = re.compile(r"^(\d{8})-([A-Za-z0-9_+]+)-([A-Za-z0-9_+]+)-([0-9A-F]{8})$")


def identity_of(fingerprint: str, checklist: Checklist) -> str:
    """``20261118-auto-gas_operator-3F9A2C1B``: the date, the named sectors (auto: chosen by the
    answers), the unit types, and a code over those, the rules' fingerprint and the ordered
    question ids. The readable parts rebuild the checklist; the code proves it is the same one."""
    kinds = next((s.value for s in checklist.site if s.fact == "site.kinds"), None) or []
    payload = json.dumps(
        [fingerprint, checklist.date.isoformat(), checklist.sectors if checklist.named else None,
         {s.fact: s.value for s in checklist.site}, [i.fact for i in checklist.items]],
        ensure_ascii=False, sort_keys=True, default=str,
    )
    code = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8].upper()
    sectors = "+".join(checklist.sectors) if checklist.named else "auto"
    return f"{checklist.date:%Y%m%d}-{sectors}-{'+'.join(sorted(kinds)) or 'none'}-{code}"


def rebuild(engine: Engine, identity: str) -> Checklist | None:
    """The checklist an identity names, built again from its readable parts; None when the parts
    do not name a checklist. The caller compares the identities: a different code means the rules
    or the questions changed since the checklist was handed out."""
    m = _IDENTITY.match(identity.strip())
    if not m:
        return None
    try:
        on = dt.datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    sectors = None if m.group(2) == "auto" else m.group(2).split("+")
    kinds = [] if m.group(3) == "none" else m.group(3).split("+")
    if sectors and any(s not in engine.bundle.sectors for s in sectors):
        return None
    site = {"site.kinds": kinds} if kinds else None
    try:
        return build(engine, on, sectors, site)
    except InputError:  # a unit type or sector the rules no longer know: it names no checklist
        return None


# --------------------------------------------------------------------------- renderings

CSV_HEADER = [CHECKLIST_FIRST_HEADER, "问题编号", "问题", "回答类型", "可选值", "单位", "说明", "上级问题", "适用条件", "回答"]


def meta_rows(checklist: Checklist) -> list[tuple[str, str, str]]:
    """What chose the checklist, as (Chinese label, value, machine key) rows: read back on judging."""
    rows = [(label, value, key) for label, key, value in (
        ("检查表编号", "checklist", checklist.identity),
        ("检查日期", "date", checklist.date.isoformat()),
    )]
    if checklist.named:
        rows.append(("判定行业", "、".join(checklist.sectors), "sectors"))
    rows += [(s.question, s.shown, s.fact) for s in checklist.site]
    rows += [(NOTE_LABEL, note, "") for note in checklist.notes]
    return rows


def help_line(text: str) -> str:
    return "说明：" + " ".join(text.split())


def question_line(item: ChecklistItem, chat: bool = False) -> str:
    """``9. 问题？（第7题答“是”时回答）``; the paste reader recognises it coming back unanswered."""
    notes = [item.answer_hint] if chat else []
    if item.applies_text:
        notes.append(f"{item.applies_text}时回答")
    return f"{item.number}. {item.question}" + (f"（{'；'.join(notes)}）" if notes else "")


def _rows(checklist: Checklist) -> list[list[str]]:
    rows = []
    for i in checklist.items:
        values = "、".join(i.values.values()) if i.values else ("是、否" if i.type is FactType.boolean else "")
        rows.append([
            str(i.number), i.fact, i.question, TYPE_ZH[i.type], values, i.unit or "", i.help or "",
            str(i.parent) if i.parent else "", f"{i.applies_text}时回答" if i.applies_text else "", "",
        ])
    return rows


def _meta_text(checklist: Checklist) -> list[str]:
    lines = []
    for label, value, key in meta_rows(checklist):
        machine = "" if (label in META_LABELS and key in ("checklist", "date")) or not key else f"（{key}）"
        lines.append(f"{label}{machine}：{value}")
    return lines


def to_markdown(checklist: Checklist) -> str:
    lines = ["# 重大事故隐患判定检查表", "", *_meta_text(checklist), "", INSTRUCTION, ""]
    section = None
    for i in checklist.items:
        if i.section != section:
            section = i.section
            lines += ["", f"## {section}", ""]
        pad = "    " if i.parent else ""
        lines.append(pad + question_line(i))
        if i.help:
            lines.append(f"{pad}   {help_line(i.help)}")
        lines.append(f"{pad}   回答（{i.fact}，{i.answer_hint}）：")
    return "\n".join(lines) + "\n"


def to_chat(checklist: Checklist) -> str:
    """The short form an inspector sends in a chat: the questions that are always asked, each
    follow-up indented under the question that opens it; replies are ``题号. 回答``."""
    lines = ["【重大事故隐患检查表】", *_meta_text(checklist), CHAT_INSTRUCTION]
    section = None
    for i in checklist.items:
        if i.section != section:
            section = i.section
            lines.append(f"【{section}】")
        lines.append(("  " if i.parent else "") + question_line(i, chat=True))
    return "\n".join(lines) + "\n"


def _table(checklist: Checklist) -> list[list[str]]:
    meta = [[label, value, key] for label, value, key in meta_rows(checklist)]
    return meta + [[]] + [CSV_HEADER] + _rows(checklist)


def to_csv(checklist: Checklist, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerows(_table(checklist))
    return out.getvalue()


def to_tsv(checklist: Checklist) -> str:
    return to_csv(checklist, "\t")


def to_yaml(checklist: Checklist) -> str:
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # JSON scalars and lists are YAML flow values
    lines = ["# 重大事故隐患判定检查表：在 facts 下把“未检查”改成回答", f"checklist: {checklist.identity}  # 检查表编号",
             f"date: {checklist.date.isoformat()}  # 检查日期"]
    if checklist.named:
        lines.append(f"sectors: [{', '.join(checklist.sectors)}]  # 判定行业")
    if checklist.site:
        lines.append("site:  # 选出本检查表的单位情况")
        lines += [f"  {s.fact}: {dump(s.value)}  # {s.question}：{s.shown}" for s in checklist.site]
    lines += [f"# {NOTE_LABEL}：{note}" for note in checklist.notes]
    lines.append("facts:")
    for i in checklist.items:
        when = f"（{i.applies_text}时回答）" if i.applies_text else ""
        lines.append(f"  # {'  ' if i.parent else ''}{i.number}. {i.question}（{i.answer_hint}）{when}")
        lines.append(f"  {i.fact}: 未检查")
    return "\n".join(lines) + "\n"


def to_json(checklist: Checklist) -> str:
    template = {
        "checklist": checklist.identity,
        "date": checklist.date.isoformat(),
        "sectors": checklist.sectors if checklist.named else None,
        "site": checklist.site_values(),
        "facts": {i.fact: None for i in checklist.items},
        "questions": [i.model_dump(mode="json") for i in checklist.items],
        "notes": list(checklist.notes),
    }
    return json.dumps(template, ensure_ascii=False, indent=2) + "\n"


def to_xlsx(checklist: Checklist) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "检查表"
    table = _table(checklist)
    header_row = table.index(CSV_HEADER) + 1
    for row in table:
        ws.append(row)
    for r in range(1, header_row):
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 3).font = Font(color="888888")
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    answer_col = len(CSV_HEADER)
    letters = "ABCDEFGHIJ"
    for column, width in zip(letters, (6, 34, 60, 10, 30, 8, 40, 8, 30, 16)):
        ws.column_dimensions[column].width = width
    ws.column_dimensions["A"].width = 24  # the metadata labels sit in column A too
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    # Follow-ups are grouped under the row that opens them and greyed: answered only when the
    # 适用条件 column says so. A drop-down on every yes/no and single-choice answer cell.
    grey, grey_fill = Font(color="777777"), PatternFill("solid", fgColor="F2F2F2")
    ws.sheet_properties.outlinePr.summaryBelow = False
    for index, item in enumerate(checklist.items, start=header_row + 1):
        if item.parent:
            ws.row_dimensions[index].outline_level = 1
            for cell in ws[index][: answer_col - 1]:
                cell.font, cell.fill = grey, grey_fill
        if item.type is FactType.boolean:
            options = ["是", "否", "未检查"]
        elif item.type is FactType.enum and item.values:
            options = list(item.values.values()) + ["未检查"]
        else:
            continue
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
        dv.error = "请从下拉列表中选择"
        ws.add_data_validation(dv)
        dv.add(f"{letters[answer_col - 1]}{index}")
    ws.freeze_panes = f"A{header_row + 1}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


RENDERERS = {"md": to_markdown, "chat": to_chat, "csv": to_csv, "tsv": to_tsv, "yaml": to_yaml, "json": to_json}
