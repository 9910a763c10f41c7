"""What the register's API takes and returns: pydantic models, never live ORM objects.

Callers (the CLI, the HTTP API, the web pages) get plain, immutable values they can
serialise; the session that read them is closed before they are returned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hazardjudge.register.models import Answer, Grade, Origin, Role, Source, Status

_TEXT = 2000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


# --------------------------------------------------------------------------- inputs


class UnitIn(_In):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(None, max_length=18, description="统一社会信用代码")
    unit_type: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=_TEXT)
    town: str | None = Field(None, max_length=100, description="乡镇（街道）")
    village: str | None = Field(None, max_length=100, description="村（社区）")
    sector: str | None = Field(None, max_length=64, description="行业（报表分组用）")


class InspectorIn(_In):
    name: str = Field(min_length=1, max_length=50)
    certificate: str = Field(min_length=1, max_length=50, description="执法证号")


class InspectionIn(_In):
    unit_id: int
    inspected_on: dt.date
    origin: Origin = Origin.inspection
    inspectors: list[InspectorIn] = Field(default_factory=list, max_length=20)
    location: str | None = Field(None, max_length=_TEXT)
    facts: dict[str, Any] = Field(default_factory=dict)
    sectors: list[str] | None = None
    source: Source = Source.manual
    source_name: str | None = Field(None, max_length=500)
    remarks: str | None = Field(None, max_length=_TEXT)


class HazardIn(_In):
    """A hazard entered by hand (an inspection's own findings come from its verdict)."""

    unit_id: int
    grade: Grade
    found_on: dt.date
    description: str = Field(min_length=1, max_length=_TEXT)
    origin: Origin = Origin.inspection
    inspection_id: int | None = None
    location: str | None = Field(None, max_length=_TEXT)
    citation: str | None = Field(None, max_length=_TEXT, description="所依据的条款（如 GB 35181-2025 5.2 e)）")


class HazardUpdate(_In):
    """五落实 and corrections; a field left None is unchanged. ``deadline_days`` counts working days from ``found_on``."""

    description: str | None = Field(None, min_length=1, max_length=_TEXT)
    location: str | None = Field(None, max_length=_TEXT)
    responsible: str | None = Field(None, max_length=_TEXT, description="责任（责任人）")
    measures: str | None = Field(None, max_length=_TEXT, description="措施")
    funds: str | None = Field(None, max_length=_TEXT, description="资金")
    time_limit: str | None = Field(None, max_length=_TEXT, description="时限")
    plan: str | None = Field(None, max_length=_TEXT, description="预案")
    deadline: dt.date | None = None
    deadline_days: int | None = Field(None, ge=0, le=3650)


class HazardFilter(_In):
    status: list[Status] | None = None
    grade: Grade | None = None
    origin: Origin | None = None
    unit_id: int | None = None
    town: str | None = None
    village: str | None = None
    sector: str | None = None
    overdue: bool | None = None
    supervised: bool | None = Field(None, description="under 挂牌督办 now (listed, not yet 摘牌)")
    found_from: dt.date | None = None
    found_to: dt.date | None = None
    text: str | None = Field(None, max_length=200, description="substring of the description or the unit's name")
    include_voided: bool = False


class SpotCheckIn(_In):
    """抽查检查 of an enterprise's 自查自改: ``answers`` maps item keys (spot_check_items.yaml) to 是/否/未查明.

    An item left out is stored as unknown — never as "no problem".
    """

    unit_id: int
    checked_on: dt.date
    inspectors: list[InspectorIn] = Field(min_length=1, max_length=20)
    answers: dict[str, Answer] = Field(default_factory=dict)
    remarks: str | None = Field(None, max_length=_TEXT)
    inspection_id: int | None = Field(None, description="the inspection the spot check was made during, if any")

    @field_validator("answers", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        # Item numbers ("5") become keys and 是/否/未查明 become answers, so a form or an API
        # client may send what the user sees; an unknown key is left for the register to refuse.
        from hazardjudge.register import spot_items

        if not isinstance(value, dict):
            return value
        items, out = spot_items.load(), {}
        for ref, answer in value.items():
            key = items.item(ref).key if str(ref).strip().isdigit() else str(ref).strip()
            word = spot_items.ANSWER_WORDS.get(str(answer).strip().lower()) if isinstance(answer, str) else None
            out[key] = word or answer
        return out


class FileIn(_In):
    filename: str = Field(min_length=1, max_length=255)
    data: bytes

    @field_validator("filename")
    @classmethod
    def _basename(cls, value: str) -> str:
        return value.replace("\\", "/").rsplit("/", 1)[-1] or "附件"


# --------------------------------------------------------------------------- outputs


class Actor(_Out):
    """Who is acting: returned by :meth:`Register.authenticate`, passed to every call."""

    id: int
    username: str
    display_name: str
    role: Role
    unit_ids: frozenset[int] = frozenset()


class UserOut(_Out):
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    unit_ids: list[int]


class UnitOut(_Out):
    id: int
    name: str
    credit_code: str | None
    unit_type: str | None
    address: str | None
    town: str | None
    village: str | None
    sector: str | None
    voided: bool
    version: int


class AttachmentOut(_Out):
    id: int
    sha256: str
    filename: str
    media_type: str
    size: int


class InspectionOut(_Out):
    id: int
    unit_id: int
    unit_name: str
    inspected_on: dt.date
    origin: Origin
    inspectors: list[InspectorIn]
    location: str | None
    source: Source
    source_name: str | None
    remarks: str | None
    facts: dict[str, Any]
    sectors: list[str] | None
    verdict_ids: list[int]
    hazard_ids: list[int]
    attachments: list[AttachmentOut]
    voided: bool


class VerdictOut(_Out):
    id: int
    inspection_id: int
    bundle: str
    documents: list[str]
    outcome: str
    schema_version: str
    verdict_json: str


class ReviewOut(_Out):
    id: int
    passed: bool
    reviewed_on: dt.date
    remarks: str | None
    reviewer_id: int


class EvidenceOut(_Out):
    id: int
    note: str
    submitted_by: int
    submitted_at: dt.datetime
    attachments: list[AttachmentOut]


class SupervisionOut(_Out):
    id: int
    authority: str
    document_number: str
    listed_on: dt.date
    due_on: dt.date | None
    delisted_on: dt.date | None


class DualReportOut(_Out):
    id: int
    recipient: Literal["department", "workers_congress"]
    recipient_name: str
    reported_on: dt.date


class SuspensionOut(_Out):
    id: int
    ordered_on: dt.date
    document_number: str | None
    scope: str | None
    lifted_on: dt.date | None


class AuditOut(_Out):
    id: int
    at: dt.datetime
    actor: str
    action: str
    action_label: str
    entity: str
    entity_id: int
    reason: str | None
    changes: dict[str, Any]


class HazardOut(_Out):
    id: int
    unit_id: int
    unit_name: str
    town: str | None
    village: str | None
    sector: str | None
    inspection_id: int | None
    verdict_id: int | None
    grade: Grade
    grade_label: str
    origin: Origin
    found_on: dt.date
    rule: str | None
    citation: str | None
    description: str
    location: str | None
    rectification: str | None
    responsible: str | None
    measures: str | None
    funds: str | None
    time_limit: str | None
    plan: str | None
    deadline: dt.date | None
    deadline_note: str | None = Field(description="set when the deadline's year has no published holiday calendar yet")
    status: Status
    status_label: str
    closed_on: dt.date | None
    overdue: bool
    supervised: bool = Field(description="under 挂牌督办 now")
    review_passed: bool = Field(description="the latest 复查 passed and no evidence came after it: ready for 销号")
    voided: bool
    void_reason: str | None
    version: int = Field(description="pass back as expected_version: a write on a stale version is refused")


class HazardDetail(HazardOut):
    citations: list[dict[str, Any]]
    reviews: list[ReviewOut]
    evidence: list[EvidenceOut]
    supervisions: list[SupervisionOut]
    dual_reports: list[DualReportOut]
    suspensions: list[SuspensionOut]
    history: list[AuditOut]


class SpotAnswerOut(_Out):
    number: int
    key: str
    label: str
    answer: Answer
    answer_label: str


class SpotCheckOut(_Out):
    id: int
    unit_id: int
    unit_name: str
    town: str | None
    village: str | None
    sector: str | None
    checked_on: dt.date
    inspectors: list[InspectorIn]
    answers: list[SpotAnswerOut] = Field(description="every item of the list, in its order; unknown where not determined")
    findings: int = Field(description="items answered 是")
    unknown: int = Field(description="items not determined")
    remarks: str | None
    inspection_id: int | None
    voided: bool
    void_reason: str | None


class Page(_Out):
    items: list[HazardOut]
    total: int
    limit: int
    offset: int


class Recorded(_Out):
    """What :meth:`Register.record` filed: the inspection, its verdict and one hazard per finding."""

    inspection: InspectionOut
    verdict: VerdictOut | None
    hazards: list[HazardOut]
