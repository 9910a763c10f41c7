"""The register's tables, as typed SQLAlchemy 2 ORM classes.

Nothing is ever deleted (the migrations install triggers that refuse DELETE on every table,
and UPDATE on the audit log): a mistaken record is voided with a reason. Codes stored in the
database are ASCII (``major``, ``rectifying``); the Chinese labels are in :data:`STATUS_ZH` etc.,
so a report or a query never depends on how a label is spelled.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names: migrations can then drop and recreate them on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Role(str, enum.Enum):
    inspector = "inspector"
    supervisor = "supervisor"
    enterprise = "enterprise"
    viewer = "viewer"


ROLE_ZH = {Role.inspector: "检查人员", Role.supervisor: "督办负责人", Role.enterprise: "企业用户", Role.viewer: "只读用户"}


class Status(str, enum.Enum):
    found = "found"
    rectifying = "rectifying"
    pending_review = "pending_review"
    closed = "closed"


STATUS_ZH = {Status.found: "发现", Status.rectifying: "整改中", Status.pending_review: "待复查", Status.closed: "已销号"}


class Grade(str, enum.Enum):
    major = "major"
    general = "general"


GRADE_ZH = {Grade.major: "重大", Grade.general: "一般"}


class Origin(str, enum.Enum):
    """Who found it: the 调度表 counts 企业自查 and 排查 (inspections by the authorities) apart."""

    inspection = "inspection"
    self_check = "self_check"


ORIGIN_ZH = {Origin.inspection: "排查", Origin.self_check: "企业自查"}


class Source(str, enum.Enum):
    file = "file"
    paste = "paste"
    web = "web"
    manual = "manual"


def _enum(cls: type[enum.Enum]) -> Enum:
    # VARCHAR plus a CHECK on both databases, never a native PostgreSQL ENUM (they migrate badly).
    return Enum(cls, native_enum=False, create_constraint=True, length=20, name=cls.__name__.lower(), validate_strings=True)


class Voidable:
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(_enum(Role))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    units: Mapped[list[Unit]] = relationship(secondary="user_units", lazy="selectin")


class UserUnit(Base):
    """Which units an enterprise user acts for (and is limited to)."""

    __tablename__ = "user_units"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)


class Unit(Voidable, Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    unit_type: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(String(100))  # 乡镇（街道）
    village: Mapped[str | None] = mapped_column(String(100))  # 村（社区）
    sector: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_units_town_village", "town", "village"),)


class Inspection(Voidable, Base):
    __tablename__ = "inspections"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date, index=True)
    origin: Mapped[Origin] = mapped_column(_enum(Origin), default=Origin.inspection)
    # [{"name": "张三", "certificate": "执法证号"}]
    inspectors: Mapped[list[Any]] = mapped_column(default=list)
    location: Mapped[str | None] = mapped_column(Text)  # 排查地点 when not the unit's address
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # as answered (JSON-safe values)
    sectors: Mapped[list[Any] | None] = mapped_column()
    source: Mapped[Source] = mapped_column(_enum(Source), default=Source.manual)
    source_name: Mapped[str | None] = mapped_column(Text)
    remarks: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    unit: Mapped[Unit] = relationship(lazy="joined")
    verdicts: Mapped[list[StoredVerdict]] = relationship(back_populates="inspection", lazy="selectin")
    attachments: Mapped[list[Attachment]] = relationship(lazy="selectin", primaryjoin="Attachment.inspection_id == Inspection.id")


class StoredVerdict(Base):
    """A verdict exactly as produced, with what is needed to reproduce it."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    bundle: Mapped[str] = mapped_column(String(100))  # Verdict.bundle: the fingerprint of criteria and rules
    documents: Mapped[list[Any]] = mapped_column(default=list)  # ["document@version", …] judged
    outcome: Mapped[str] = mapped_column(String(20))
    schema_version: Mapped[str] = mapped_column(String(10))
    verdict_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    inspection: Mapped[Inspection] = relationship(back_populates="verdicts")


class Hazard(Voidable, Base):
    __tablename__ = "hazards"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    verdict_id: Mapped[int | None] = mapped_column(ForeignKey("verdicts.id"))
    grade: Mapped[Grade] = mapped_column(_enum(Grade))
    origin: Mapped[Origin] = mapped_column(_enum(Origin), default=Origin.inspection)
    found_on: Mapped[dt.date] = mapped_column(Date)
    rule: Mapped[str | None] = mapped_column(String(200))  # the rule id of a finding
    citation: Mapped[str | None] = mapped_column(Text)  # e.g. "GB 50016-2014 第 5.1.2 条"; None for 一般隐患
    citations: Mapped[list[Any]] = mapped_column(default=list)  # the verdict's ClauseRefs, as JSON
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[str | None] = mapped_column(Text)  # the rule's suggested 整改措施
    # 五落实
    responsible: Mapped[str | None] = mapped_column(Text)  # 责任（责任人）
    measures: Mapped[str | None] = mapped_column(Text)  # 措施
    funds: Mapped[str | None] = mapped_column(Text)  # 资金
    time_limit: Mapped[str | None] = mapped_column(Text)  # 时限（as agreed, in words）
    plan: Mapped[str | None] = mapped_column(Text)  # 预案（应急预案）
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_calendar_known: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.found)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow, onupdate=_utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    unit: Mapped[Unit] = relationship(lazy="joined")
    # Loaded on access, within the call's session: a list page of hazards needs none of them.
    reviews: Mapped[list[Review]] = relationship(order_by="Review.id")
    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.id")
    supervisions: Mapped[list[Supervision]] = relationship(order_by="Supervision.id")
    dual_reports: Mapped[list[DualReport]] = relationship(order_by="DualReport.id")
    suspensions: Mapped[list[Suspension]] = relationship(order_by="Suspension.id")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The list page filters by status/grade and sorts by id; the 调度表 groups by unit and date.
        Index("ix_hazards_unit_id_status", "unit_id", "status"),
        Index("ix_hazards_status_grade_id", "status", "grade", "id"),
        Index("ix_hazards_grade_found_on", "grade", "found_on"),
        Index("ix_hazards_deadline_open", "deadline", "status"),
    )


class Evidence(Voidable, Base):
    """整改 evidence the enterprise (or an inspector) submitted: a note and attachments."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    attachments: Mapped[list[Attachment]] = relationship(lazy="selectin", primaryjoin="Attachment.evidence_id == Evidence.id")


class Review(Base):
    """复查: passed sends the hazard on to 销号, failed back to 整改中."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    remarks: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Supervision(Base):
    """挂牌督办 of a 重大 hazard; 摘牌 when it is 销号."""

    __tablename__ = "supervisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    authority: Mapped[str] = mapped_column(Text)  # 督办单位
    document_number: Mapped[str] = mapped_column(String(100))  # 督办文号
    listed_on: Mapped[dt.date] = mapped_column(Date)  # 挂牌日期
    due_on: Mapped[dt.date | None] = mapped_column(Date)  # 要求完成整改日期
    delisted_on: Mapped[dt.date | None] = mapped_column(Date)  # 摘牌日期
    listed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delisted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DualReport(Base):
    """双报告: the enterprise reports a 重大 hazard to its supervising department and to its 职代会."""

    __tablename__ = "dual_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(20))  # "department" | "workers_congress"
    recipient_name: Mapped[str] = mapped_column(Text)
    reported_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    __table_args__ = (UniqueConstraint("hazard_id", "recipient"),)


RECIPIENT_ZH = {"department": "负有安全生产监督管理职责的部门", "workers_congress": "职工代表大会"}


class Suspension(Base):
    """停产停业整顿 ordered for a unit because of a hazard."""

    __tablename__ = "suspensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    ordered_on: Mapped[dt.date] = mapped_column(Date)
    document_number: Mapped[str | None] = mapped_column(String(100))
    scope: Mapped[str | None] = mapped_column(Text)  # 停产停业的范围（全部 / 某车间…）
    lifted_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Blob(Base):
    """File content, stored once per SHA-256."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(50))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(Voidable, Base):
    """A photo or document attached to an inspection or to 整改 evidence."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"), index=True)
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class Answer(str, enum.Enum):
    """One finding of a spot check, three-valued: ``unknown`` is neither a finding nor "no problem"."""

    yes = "yes"  # the problem was found (the form's items are worded as problems)
    no = "no"  # checked, and the problem was not found
    unknown = "unknown"  # not determined: counted apart, never as either


ANSWER_ZH = {Answer.yes: "是", Answer.no: "否", Answer.unknown: "未查明"}


class SpotCheck(Voidable, Base):
    """抽查检查 of an enterprise's 自查自改 by the authorities (附件2, second section).

    The findings are rows of :class:`SpotCheckAnswer`, keyed by the item keys of
    ``spot_check_items.yaml``: the items are data, so an item added later reads as unknown
    on older records instead of needing a schema change. A spot check is never edited:
    a mistaken one is voided with a reason and recorded again.
    """

    __tablename__ = "spot_checks"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    # [{"name": "张三", "certificate": "执法证号"}], as for inspections
    inspectors: Mapped[list[Any]] = mapped_column(default=list)
    remarks: Mapped[str | None] = mapped_column(Text)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    unit: Mapped[Unit] = relationship(lazy="joined")
    answers: Mapped[list[SpotCheckAnswer]] = relationship(lazy="selectin", order_by="SpotCheckAnswer.item")
    __table_args__ = (
        # The 调度表 picks each unit's latest spot check up to a date.
        Index("ix_spot_checks_unit_id_checked_on", "unit_id", "checked_on"),
    )


class SpotCheckAnswer(Base):
    """The answer to one item of a spot check (every item of the list is stored, unknown included)."""

    __tablename__ = "spot_check_answers"
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(64), primary_key=True)
    answer: Mapped[Answer] = mapped_column(_enum(Answer))


class AuditEntry(Base):
    """Append-only: who did what, when and why. The database refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    hazard_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"field": [before, after]}
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)


#: tables that never lose a row (every table: nothing is ever deleted)
NO_DELETE = [t.name for t in Base.metadata.sorted_tables]
