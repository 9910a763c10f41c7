"""Rectification notices rendered from a verdict.

Three documents, chosen by the verdict:

* a 重大…隐患整改通知书 when any major hazard is found (its own 一般隐患 are listed too),
  titled with the criteria's own term (GB 35181: 重大火灾隐患; 建城规〔2023〕4号: 重大隐患);
* a …隐患整改通知书 when only hazards that are not major were found;
* 补充检查单 when the verdict is undetermined and nothing was found: the questions still open.

The office's details (authority, document number or its numbering, unit, inspectors with
their 执法证号, deadlines, the legal basis it orders under) come from a small YAML file or
the caller; the legal wording it does not set comes from ``notice_defaults.yaml``. Every
value reaches the templates as data; HTML is autoescaped, and no user text is ever
compiled as a template. An office may point ``template_dir`` at its own copies.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hazardjudge import clock, workdays
from hazardjudge.engine.answers import printable
from hazardjudge.engine.models import DocumentResult, GapReason, Outcome, OverallOutcome, RuleResult, Verdict
from hazardjudge.engine.yamlio import load_yaml_text
from hazardjudge.errors import InputError, Problem
from hazardjudge.outputs.rendering import bytecode_cache


class NothingToNotice(ValueError):
    """The verdict leaves nothing to order rectified and nothing to ask the unit."""

    def __init__(self, outcome: OverallOutcome, open_clauses: list[str]):
        self.outcome = outcome
        if outcome is OverallOutcome.none:
            text = "未发现重大事故隐患，也没有记录一般隐患，不需要出具整改通知书或补充检查单"
        else:
            where = f"（{'、'.join(open_clauses)}）" if open_clauses else ""
            text = f"结论为无法判定，但没有需要被检查单位补充查明的事项{where}，不出具补充检查单"
        super().__init__(text)


class Party(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    address: str = Field("", max_length=300)
    legal_representative: str = Field("", max_length=100)
    responsible_person: str = Field("", max_length=100)
    phone: str = Field("", max_length=50)


# "张三（执法证号 0001）", the way offices wrote inspectors before the number had a field.
_WRITTEN_INSPECTOR = re.compile(r"^\s*(?P<name>[^（(]+?)\s*[（(]\s*执法证号\s*[:：]?\s*(?P<certificate>[^）)]+?)\s*[）)]\s*$")


class Inspector(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    certificate: str = Field("", max_length=50, description="执法证号")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: object) -> object:
        if isinstance(value, str):
            written = _WRITTEN_INSPECTOR.match(value)
            return written.groupdict() if written else {"name": value}
        return value


_NUMBER_FIELD = re.compile(r"\{(year|seq)(?::(\d))?\}")


class NoticeConfig(BaseModel):
    """What an office adds to a verdict to issue a notice (YAML: see docs/notices.md)."""

    model_config = ConfigDict(extra="forbid")

    authority: str = Field("（执法机关名称）", max_length=200)
    document_number: str | None = Field(None, max_length=100, description="the 文号 as issued; else filled from the pattern")
    document_number_pattern: str | None = Field(
        None, max_length=100, description="the office's numbering, e.g. 某应急责改〔{year}〕{seq:3}号 ({seq:3}: three digits)"
    )
    sequence: int | None = Field(None, ge=1, le=999_999, description="this notice's number in the office's register")
    unit: Party = Party()
    inspectors: list[Inspector] = Field(default_factory=list, max_length=20)
    issue_date: dt.date | None = None
    major_deadline_days: int = Field(30, ge=1, le=365)
    general_deadline_days: int = Field(15, ge=1, le=365)
    # Office policy: deadlines in calendar days (moved off holidays) or counted in working days.
    deadline_in_working_days: bool = False
    # Office policy, not a rule of the criteria: left unset, the notice says "及时".
    report_within_days: int | None = Field(None, ge=1, le=90, description="days to report the rectification plan for a major hazard")
    legal_basis: dict[str, str] = Field(
        default_factory=dict, max_length=50, description="sector id → the law article the authority orders rectification under"
    )
    remedy: str | None = Field(None, max_length=500, description="the review and lawsuit sentence; default: notice_defaults.yaml")
    contact: str = Field("", max_length=200)
    template_dir: Path | None = None

    @field_validator("legal_basis")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        for sector, basis in value.items():
            if len(sector) > 50 or len(basis) > 300:
                raise ValueError("每个行业的法律依据不超过 300 字")
        return value

    @field_validator("document_number_pattern")
    @classmethod
    def _has_sequence(cls, value: str | None) -> str | None:
        if value is not None and not any(m.group(1) == "seq" for m in _NUMBER_FIELD.finditer(value)):
            raise ValueError("文号格式须含 {seq}（序号），如：某应急责改〔{year}〕{seq:3}号")
        return value


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


class ItemClause(BaseModel):
    """One clause a line of the notice rests on, with its own remark when not checked word for word."""

    model_config = ConfigDict(frozen=True)

    clause: str
    summary: str
    verification_note: str | None = None


class NoticeItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    major: bool
    label: str  # 【重大火灾隐患】, 【一般隐患】…: the criteria's own term
    document: str  # 《title》（number）
    clauses: str
    finding: str
    basis: str  # the clause summaries the finding rests on
    rectification: str
    deadline: dt.date
    deadline_note: str | None = None
    citations: list[ItemClause] = []
    verification_note: str | None = None  # every clause not checked word for word, in one sentence
    # provisional: judged against a reference version whose status is not verified; status_note
    # is the criteria's own label for it, printed beside the line
    status: Literal["confirmed", "provisional"] = "confirmed"
    status_note: str | None = None


class GeneralHazardItem(BaseModel):
    """A recorded 一般隐患: listed with its place and deadline, never as major, never cited."""

    model_config = ConfigDict(frozen=True)

    number: int
    description: str
    location: str | None
    photo: str | None
    deadline: dt.date
    deadline_note: str | None = None


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
    major_label: str  # the criteria's term for a major hazard (重大火灾隐患, 重大隐患…)
    hazard_label: str  # what the notice orders rectified: the major label, or the term without 重大
    config: NoticeConfig
    document_number: str
    inspection_date: dt.date
    issue_date: dt.date
    items: list[NoticeItem]
    questions: list[tuple[str, str]]  # (fact id, question)
    open_clauses: list[str]
    # Clauses of an applicable, partly encoded standard that this tool cannot ask about: the
    # inspector still has to establish them against the published text.
    to_check: list[str] = []
    pending: list[PendingItem] = []
    bundle: str
    general_hazards: list[GeneralHazardItem] = []
    # Standards that apply but whose clauses are not encoded: the unit is still to be judged under them.
    not_encoded: list[str] = []
    reference_notes: list[str] = []  # why items were judged against a provisional reference
    legal_basis: str  # 《…》第…条 (several joined with 和), or the visible placeholder
    legal_basis_configured: bool
    remedy: str


@cache
def defaults() -> dict:
    """The shipped legal wording (notice_defaults.yaml), read once."""
    text = (resources.files("hazardjudge.outputs") / "notice_defaults.yaml").read_text(encoding="utf-8")
    return load_yaml_text(text, "notice_defaults.yaml")


GENERIC_MAJOR_LABEL = "重大事故隐患"


def general_label(major_label: str) -> str:
    """The term for a hazard below major: 重大火灾隐患 → 一般火灾隐患, 重大隐患 → 一般隐患."""
    return major_label.replace("重大", "一般", 1) if major_label.startswith("重大") else f"一般{major_label}"


def _plain_label(major_label: str) -> str:
    """The hazard term without its grade: 重大火灾隐患 → 火灾隐患, for a notice of hazards below major."""
    return major_label.removeprefix("重大") or "事故隐患"


def _fingerprint(result: RuleResult, skip: frozenset[str]) -> frozenset[tuple[str, str]]:
    return frozenset((f.id, json.dumps(f.value, ensure_ascii=False, sort_keys=True, default=str)) for f in result.facts if f.id not in skip)


def _merge_same_conditions(doc: DocumentResult, triggered: list[RuleResult]) -> dict[str, list[RuleResult]]:
    """Which general elements describe the very condition a direct major element found.

    GB 35181 lists some conditions twice: as a direct major element for some places and as
    a general element (counted toward 综合判定) for a wider class; the hotel's blocked 消防救援口
    meets both 5.2 e) and 6.6.5. A general element whose deciding answers are all among a
    direct major element's is the same hazard: one line, under the major grade, both clauses
    cited. Combinations are left apart: their elements are hazards of their own.
    """
    skip = frozenset(f.id for f in doc.applicability_facts)
    majors = [(r, _fingerprint(r, skip)) for r in triggered if r.major and r.kind == "rule"]
    merged: dict[str, list[RuleResult]] = {}
    for r in triggered:
        if r.major:
            continue
        own = _fingerprint(r, skip)
        host = next((m for m, facts in majors if own and own <= facts), None)
        if host is not None:
            merged.setdefault(host.rule, []).append(r)
    return merged


def _deadline(issue: dt.date, days: int, working: bool) -> workdays.Deadline:
    if working:
        return workdays.add_working_days(issue, days)
    return workdays.on_or_after_working_day(issue + dt.timedelta(days=days))


def document_number(config: NoticeConfig, issue: dt.date) -> str:
    """The 文号: as given, else the office's pattern with this notice's sequence, else a placeholder."""
    if config.document_number:
        return config.document_number
    if config.document_number_pattern and config.sequence is not None:
        def fill(m: re.Match) -> str:
            value = issue.year if m.group(1) == "year" else config.sequence
            return str(value).zfill(int(m.group(2) or 0))

        return _NUMBER_FIELD.sub(fill, config.document_number_pattern)
    if config.document_number_pattern:
        return "（文号：请填写序号）"
    return "（文号）"


def _check_dates(inspection: dt.date, issue: dt.date, explicit: bool) -> None:
    if issue >= inspection:
        return
    when = f"签发日期 {issue.isoformat()}" if explicit else f"今天（{issue.isoformat()}，未指定签发日期时按今天签发）"
    raise InputError([
        Problem(
            "notice.issue_date",
            f"{when}早于检查日期 {inspection.isoformat()}：通知书不能在检查之前签发",
            hint="请核对检查日期和签发日期（issue_date）",
        )
    ])


_GAP_WHY = {GapReason.not_encoded: "本工具尚未编码该条", GapReason.unverified: "本工具未能取得或核验该条原文"}


def build(verdict: Verdict, config: NoticeConfig) -> Notice:
    issue = config.issue_date or clock.today()
    _check_dates(verdict.inspection_date, issue, config.issue_date is not None)
    major_due = _deadline(issue, config.major_deadline_days, config.deadline_in_working_days)
    general_due = _deadline(issue, config.general_deadline_days, config.deadline_in_working_days)
    items: list[NoticeItem] = []
    sectors: list[str] = []
    major_labels: list[str] = []
    for doc in verdict.documents:
        if doc.document is None:
            continue
        triggered = [r for r in doc.results if r.outcome is Outcome.triggered and r.kind != "exclusion"]
        merged = _merge_same_conditions(doc, triggered)
        absorbed = {r.rule for rs in merged.values() for r in rs}
        label = doc.document.major_label
        if triggered and doc.sector not in sectors:
            sectors.append(doc.sector)
        if any(r.major for r in triggered) and label not in major_labels:
            major_labels.append(label)
        for r in triggered:
            if r.rule in absorbed:
                continue
            citations = [c for x in [r, *merged.get(r.rule, [])] for c in x.citations]
            clauses = [
                ItemClause(
                    clause=c.clause,
                    summary=c.summary,
                    verification_note=None if c.verification == "verified" else f"{c.clause} 的条文尚未与官方原文逐字核对",
                )
                for c in citations
            ]
            unchecked = [c.clause for c in citations if c.verification != "verified"]
            due = major_due if r.major else general_due
            items.append(
                NoticeItem(
                    number=len(items) + 1,
                    major=r.major,
                    label=f"【{label if r.major else general_label(label)}】",
                    document=f"《{doc.document.title}》（{doc.document.number}）",
                    clauses="、".join(c.clause for c in citations),
                    finding=r.finding or "",
                    basis="；".join(dict.fromkeys(c.summary for c in citations)),
                    rectification=r.rectification or "",
                    deadline=due.date,
                    deadline_note=due.note,
                    citations=clauses,
                    verification_note=(f"{'、'.join(unchecked)} 的条文尚未与官方原文逐字核对" if unchecked else None),
                )
            )
        # Items judged against a provisional reference: their own label, apart from confirmed ones.
        for r in doc.provisional:
            if r.outcome is not Outcome.triggered or r.kind == "exclusion" or doc.reference is None:
                continue
            due = major_due if r.major else general_due
            items.append(
                NoticeItem(
                    number=len(items) + 1,
                    major=r.major,
                    label="【参照判定，待核对】",
                    document=f"《{doc.reference.title}》（{doc.reference.number}）",
                    clauses="、".join(c.clause for c in r.citations),
                    finding=r.finding or "",
                    basis="；".join(dict.fromkeys(c.summary for c in r.citations)),
                    rectification=r.rectification or "",
                    deadline=due.date,
                    deadline_note=due.note,
                    citations=[
                        ItemClause(
                            clause=c.clause,
                            summary=c.summary,
                            verification_note=None if c.verification == "verified" else f"{c.clause} 的条文尚未与官方原文逐字核对",
                        )
                        for c in r.citations
                    ],
                    status="provisional",
                    status_note=r.status_note,
                )
            )
    # Confirmed items first; items judged against a provisional reference after them.
    items.sort(key=lambda i: (i.status == "provisional", not i.major, i.number))
    items = [i.model_copy(update={"number": n}) for n, i in enumerate(items, start=1)]
    general = _general_hazards(verdict, general_due, config.deadline_in_working_days)
    if verdict.outcome is OverallOutcome.major:
        kind = "major"
    elif items or (general and not verdict.questions):
        kind = "general"
    else:
        kind = "supplementary"
    if not sectors:  # nothing found under a clause: the sectors judged (or still to be) speak
        sectors = list(dict.fromkeys(d.sector for d in verdict.documents if d.document and d.applicability != "not_applicable"))
    if not major_labels:
        major_labels = list(dict.fromkeys(d.document.major_label for d in verdict.documents if d.document and d.sector in sectors))
    major_label = major_labels[0] if len(major_labels) == 1 else GENERIC_MAJOR_LABEL
    if kind == "general":
        labels = {d.document.major_label for d in verdict.documents if d.document and d.sector in sectors}
        hazard_label = _plain_label(labels.pop()) if len(labels) == 1 else "事故隐患"
    else:
        hazard_label = major_label
    title = {"major": f"{major_label}整改通知书", "general": f"{hazard_label}整改通知书", "supplementary": "补充检查单"}[kind]
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
    # Unverified clauses are as undecided as unencoded ones: both must be checked by hand. An
    # identity-only document without a provisional reference is named whole in not_encoded below;
    # one judged against a reference still has its own clauses to check.
    to_check = [
        f"《{d.document.title}》（{d.document.number}）{g.clause}所列情形（{_GAP_WHY[g.reason]}，须对照标准原文逐项查明）"
        for d in verdict.documents
        if d.document and d.applicability.value == "applicable" and not (d.identity_only and d.reference is None)
        for g in d.gaps
    ]
    not_encoded = [
        d.outcome_label.removeprefix("无法判定：")
        for d in verdict.documents
        # A version judged against a provisional reference says so in reference_notes instead.
        if d.identity_only and d.applicability.value == "applicable" and d.reference is None
    ]
    if kind == "supplementary" and not (verdict.questions or to_check or not_encoded or pending):
        # An empty 补充检查单 would ask the unit to establish nothing.
        raise NothingToNotice(verdict.outcome, open_clauses)
    shipped = defaults()
    bases = list(dict.fromkeys(config.legal_basis.get(s) or shipped["legal_basis"].get(s) or "" for s in sectors))
    configured = bool(bases) and all(bases)
    return Notice(
        kind=kind,
        title=title,
        major_label=major_label,
        hazard_label=hazard_label,
        config=config,
        document_number=document_number(config, issue),
        inspection_date=verdict.inspection_date,
        issue_date=issue,
        items=items,
        questions=[(q.id, q.question) for q in verdict.questions],
        open_clauses=open_clauses,
        pending=pending,
        bundle=verdict.bundle,
        general_hazards=general,
        to_check=to_check,
        not_encoded=not_encoded,
        reference_notes=[d.reference_note for d in verdict.documents if d.reference_note and d.provisional],
        legal_basis="和".join(bases) if configured else shipped["legal_basis_missing"],
        legal_basis_configured=configured,
        remedy=config.remedy or shipped["remedy"],
    )


def _general_hazards(verdict: Verdict, default: workdays.Deadline, working: bool) -> list[GeneralHazardItem]:
    out = []
    for i, h in enumerate(verdict.general_hazards):
        # A date the inspector wrote is kept, only moved off a holiday or weekend.
        due = workdays.on_or_after_working_day(h.deadline) if h.deadline else default
        out.append(
            GeneralHazardItem(
                number=i + 1, description=h.description, location=h.location, photo=h.photo,
                deadline=due.date, deadline_note=due.note,
            )
        )
    return out


def paragraphs(n: Notice) -> dict[str, list[str] | str]:
    """The notice's fixed wording, filled in: one source for every format (HTML, Markdown, text, Word).

    ``intro`` opens the table, ``after`` follows it, ``remedy`` (review and lawsuit) opens
    the sign-off, so the signatures never stand on a page without the text they sign.
    """
    unit = n.config.unit.name or "你单位"
    date = cn_date(n.inspection_date)
    if n.kind == "supplementary":
        return {
            "intro": f"{unit}：{date}对你单位的检查中，下列事项尚未查明，暂不能作出是否存在{n.major_label}的判定。请配合补充检查，如实提供情况和资料。",
            "after": [],
            "remedy": "",
        }
    intro = f"{unit}：经{date}检查，你单位存在下列{n.hazard_label}。依据{n.legal_basis}，现责令你单位按下列要求和期限整改："
    if n.kind == "major":
        report = f"于{n.config.report_within_days}日内" if n.config.report_within_days else "及时"
        after = [
            f"对上述{n.major_label}，你单位主要负责人应当组织制定并实施隐患治理方案，落实整改措施、责任、资金、时限和应急预案，并{report}将治理方案报送我单位。",
            "整改期间，你单位应当采取相应的安全防范措施，防止事故发生；隐患排除前或者排除过程中无法保证安全的，应当从危险区域内撤出作业人员，疏散可能危及的其他人员，设置警戒标志，暂时停产停业或者停止使用相关设施、设备。",
            "整改完成后，你单位应当组织验收，并将整改情况书面报告我单位，申请复查。",
        ]
    else:
        after = ["你单位应当按期完成整改，并将整改情况书面报告我单位。"]
    return {"intro": intro, "after": after, "remedy": n.remedy}


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


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
    env.filters["cn_date"] = cn_date
    return env


FORMATS = {"html": "notice.html", "md": "notice.md", "txt": "notice.txt"}


def render(notice: Notice, fmt: Literal["html", "md", "txt"] = "html") -> str:
    env = _environment(notice.config.template_dir)
    return env.get_template(FORMATS[fmt]).render(n=notice, p=paragraphs(notice))
