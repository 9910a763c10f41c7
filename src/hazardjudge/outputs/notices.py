"""Rectification notices rendered from a verdict.

Three documents, chosen by the verdict:

* 重大事故隐患整改通知书 when any major hazard is found (its own 一般隐患 are listed too);
* 隐患整改通知书 when only hazards that are not major were found;
* 补充检查单 when the verdict is undetermined and nothing was found: the questions still open.

The office's details (authority, document number, unit, inspectors, deadlines)
come from a small YAML file or the caller. Every value reaches the templates
as data; HTML is autoescaped, and no user text is ever compiled as a template.
An office may point ``template_dir`` at its own copies of the templates.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hazardjudge import clock
from hazardjudge.engine.answers import printable
from hazardjudge.engine.models import Outcome, OverallOutcome, Verdict
from hazardjudge.outputs.rendering import bytecode_cache


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    address: str = Field("", max_length=300)
    responsible_person: str = Field("", max_length=100)
    phone: str = Field("", max_length=50)


class NoticeConfig(BaseModel):
    """What an office adds to a verdict to issue a notice (YAML: see docs/notices.md)."""

    model_config = ConfigDict(extra="forbid")

    authority: str = Field("（执法机关名称）", max_length=200)
    document_number: str = Field("（文号）", max_length=100)
    unit: Party = Party()
    inspectors: list[str] = Field(default_factory=list, max_length=20)
    issue_date: dt.date | None = None
    major_deadline_days: int = Field(30, ge=1, le=365)
    general_deadline_days: int = Field(15, ge=1, le=365)
    # Office policy, not a rule of the criteria: left unset, the notice says "及时".
    report_within_days: int | None = Field(None, ge=1, le=90, description="days to report the rectification plan for a major hazard")
    contact: str = Field("", max_length=200)
    template_dir: Path | None = None

    @field_validator("template_dir")
    @classmethod
    def _templates_exist(cls, folder: Path | None) -> Path | None:
        # A folder that is missing or holds none of the templates would silently give the
        # packaged notice instead of the office's own.
        if folder is None:
            return None
        if not folder.is_dir():
            raise ValueError(f"模板目录不存在：{folder}")
        if not any((folder / name).is_file() for name in FORMATS.values()):
            raise ValueError(f"模板目录 {folder} 中没有 {'、'.join(FORMATS.values())} 中的任何一个")
        return folder


class NoticeItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    major: bool
    document: str  # 《title》（number）
    clauses: str
    finding: str
    basis: str  # the clause summary the finding rests on
    rectification: str
    deadline: dt.date
    verification_note: str | None = None


class GeneralHazardItem(BaseModel):
    """A recorded 一般隐患: listed with its place and deadline, never as major, never cited."""

    model_config = ConfigDict(frozen=True)

    number: int
    description: str
    location: str | None
    photo: str | None
    deadline: dt.date


class PendingItem(BaseModel):
    """A met clause that is major unless an exclusion still to be established applies: never a finding."""

    model_config = ConfigDict(frozen=True)

    number: int
    document: str
    clauses: str
    finding: str
    condition: str  # 构成…，除非…, worded by the exclusions' data


class Notice(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["major", "general", "supplementary"]
    title: str
    config: NoticeConfig
    inspection_date: dt.date
    issue_date: dt.date
    items: list[NoticeItem]
    questions: list[tuple[str, str]]  # (fact id, question)
    open_clauses: list[str]
    pending: list[PendingItem] = []
    bundle: str
    general_hazards: list[GeneralHazardItem] = []


TITLES = {
    "major": "重大事故隐患整改通知书",
    "general": "隐患整改通知书",
    "supplementary": "补充检查单",
}


def build(verdict: Verdict, config: NoticeConfig) -> Notice:
    issue = config.issue_date or clock.today()
    items: list[NoticeItem] = []
    for doc in verdict.documents:
        if doc.document is None:
            continue
        for r in doc.results:
            if r.outcome is not Outcome.triggered or r.kind == "exclusion":
                continue
            single = [c.clause for c in r.citations if c.verification != "verified"]
            items.append(
                NoticeItem(
                    number=len(items) + 1,
                    major=r.major,
                    document=f"《{doc.document.title}》（{doc.document.number}）",
                    clauses="、".join(c.clause for c in r.citations),
                    finding=r.finding or "",
                    basis=r.citations[-1].summary,
                    rectification=r.rectification or "",
                    deadline=issue + dt.timedelta(days=config.major_deadline_days if r.major else config.general_deadline_days),
                    verification_note=(f"{'、'.join(single)} 的条文尚未与官方原文逐字核对" if single else None),
                )
            )
    items.sort(key=lambda i: (not i.major, i.number))
    items = [i.model_copy(update={"number": n}) for n, i in enumerate(items, start=1)]
    general = _general_hazards(verdict, issue + dt.timedelta(days=config.general_deadline_days))
    if verdict.outcome is OverallOutcome.major:
        kind = "major"
    elif items or (general and not verdict.questions):
        kind = "general"
    else:
        kind = "supplementary"
    pending = [
        PendingItem(
            number=n,
            document=f"《{doc.document.title}》（{doc.document.number}）",
            clauses="、".join(c.clause for c in r.citations),
            finding=r.finding or "",
            condition=r.pending_note or "",
        )
        for n, (doc, r) in enumerate(
            ((d, r) for d in verdict.documents if d.document for r in d.results if r.pending_exclusions), start=1
        )
    ]
    open_clauses = [
        f"{c.clause}"
        for d in verdict.documents
        for r in d.results
        if r.outcome is Outcome.undetermined and not r.pending_exclusions
        for c in r.citations[-1:]
    ] + [f"{g.clause}（尚未编码或未核验）" for d in verdict.documents for g in d.gaps]
    return Notice(
        kind=kind,
        title=TITLES[kind],
        config=config,
        inspection_date=verdict.inspection_date,
        issue_date=issue,
        items=items,
        questions=[(q.id, q.question) for q in verdict.questions],
        open_clauses=open_clauses,
        pending=pending,
        bundle=verdict.bundle,
        general_hazards=general,
    )


def _general_hazards(verdict: Verdict, default_deadline: dt.date) -> list[GeneralHazardItem]:
    return [
        GeneralHazardItem(
            number=i + 1,
            description=h.description,
            location=h.location,
            photo=h.photo,
            deadline=h.deadline or default_deadline,
        )
        for i, h in enumerate(verdict.general_hazards)
    ]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")


def _md_escape(value: object) -> str:
    """Markdown is not autoescaped by Jinja: neutralise its syntax in user text."""
    return _MD_SPECIAL.sub(r"\\\1", str(value))


def _environment(template_dir: Path | None) -> Environment:
    loaders = [PackageLoader("hazardjudge.outputs", "templates/notices")]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(str(template_dir)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        bytecode_cache=bytecode_cache(),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    env.filters["printable"] = printable
    env.filters["cn_date"] = lambda d: f"{d.year}年{d.month}月{d.day}日"
    return env


FORMATS = {"html": "notice.html", "md": "notice.md", "txt": "notice.txt"}


def render(notice: Notice, fmt: Literal["html", "md", "txt"] = "html") -> str:
    env = _environment(notice.config.template_dir)
    return env.get_template(FORMATS[fmt]).render(n=notice)
