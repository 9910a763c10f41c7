"""The register's library API: every read and write, with its permission and workflow rules.

All rules live here, once: :data:`PERMISSIONS` says which roles may do what, the ``_require_*``
helpers apply it (an enterprise user only ever reaches its own units), and each workflow
step checks the hazard's state before it writes. Every write happens in one transaction
together with its audit entry, and carries the hazard's version: a write based on a stale
read is refused (:class:`ConflictError`) instead of silently overwriting another's change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, and_, exists, func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from hazardjudge import clock
from hazardjudge.register import db, spot_items
from hazardjudge.register.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RegisterError,
    WorkflowError,
)
from hazardjudge.register.models import (
    ANSWER_ZH,
    GRADE_ZH,
    ROLE_ZH,
    STATUS_ZH,
    Answer,
    Attachment,
    AuditEntry,
    Blob,
    DualReport,
    Evidence,
    Grade,
    Hazard,
    Inspection,
    Origin,
    Review,
    Role,
    SpotCheck,
    SpotCheckAnswer,
    Status,
    StoredVerdict,
    Supervision,
    Suspension,
    Unit,
    User,
    UserUnit,
)
from hazardjudge.register.views import (
    Actor,
    AttachmentOut,
    AuditOut,
    DualReportOut,
    EvidenceOut,
    FileIn,
    HazardDetail,
    HazardFilter,
    HazardIn,
    HazardOut,
    HazardUpdate,
    InspectionIn,
    InspectionOut,
    Page,
    Recorded,
    ReviewOut,
    SpotAnswerOut,
    SpotCheckIn,
    SpotCheckOut,
    SupervisionOut,
    SuspensionOut,
    UnitIn,
    UnitOut,
    UserOut,
    VerdictOut,
)
from hazardjudge.workdays import add_working_days, calendar_known, on_or_after_working_day

if TYPE_CHECKING:
    from hazardjudge.api import Engine as JudgeEngine
    from hazardjudge.engine.models import GeneralHazard, Verdict

I, S, E, V = Role.inspector, Role.supervisor, Role.enterprise, Role.viewer

#: who may do what; an enterprise user is further limited to its own units
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": frozenset({I, S, E, V}),
    "user.manage": frozenset({S}),
    "unit.write": frozenset({I, S}),
    "inspection.record": frozenset({I, S, E}),  # an enterprise user files its own 自查 only
    "hazard.add": frozenset({I, S, E}),
    "hazard.update": frozenset({I, S, E}),  # 五落实 is the enterprise's to fill in
    "hazard.evidence": frozenset({I, S, E}),
    "hazard.dual_report": frozenset({I, S, E}),
    "hazard.review": frozenset({I, S}),
    "hazard.close": frozenset({I, S}),
    "hazard.supervise": frozenset({S}),  # 挂牌 and 摘牌
    "hazard.suspend": frozenset({I, S}),
    "spot_check.record": frozenset({I, S}),  # 抽查检查 is the authorities' check of the enterprise, never its own
    "void": frozenset({I, S}),
}

ACTION_ZH = {
    "create": "登记", "update": "更新", "evidence": "提交整改材料", "review_pass": "复查通过", "review_fail": "复查不通过",
    "close": "销号", "supervise": "挂牌督办", "delist": "摘牌", "dual_report": "双报告", "suspend": "责令停产停业整顿",
    "lift_suspension": "恢复生产经营", "void": "作废", "attach": "上传附件", "grant_unit": "授权单位",
}

#: accepted attachment types, recognised by their first bytes (the file name's extension is not trusted)
MAGIC = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
]
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
RECIPIENTS = ("department", "workers_congress")
_OPEN = (Status.found, Status.rectifying, Status.pending_review)

def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value
    return value


def media_type_of(data: bytes) -> str | None:
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class Register:
    """The hazard register (隐患台账) in one database.

    ``Register(url)`` opens (and by default creates or upgrades) the database at ``url``
    (``HAZARDJUDGE_DB`` or the user-data SQLite file when None). ``today`` is the date
    overdue is judged against (China's date; tests pass a fixed one).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        migrate: bool = True,
        today: Callable[[], dt.date] = clock.today,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = engine or db.make_engine(url)
        # argon2id with the library's defaults (RFC 9106's low-memory profile); tests pass cheaper parameters.
        self._hasher = hasher or PasswordHasher()
        if migrate:
            db.ensure_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.today = today

    def dispose(self) -> None:
        """Close the database connections (the register is unusable afterwards)."""
        self.engine.dispose()

    # ------------------------------------------------------------------ sessions

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def _write(self, actor: Actor, permission: str) -> Iterator[tuple[Session, User]]:
        """One transaction: the actor re-read (its role may have changed), the change, its audit entries."""
        with self._sessions() as session:
            try:
                with session.begin():
                    user = self._user(session, actor, permission)
                    yield session, user
            except StaleDataError:
                raise ConflictError.one("register.conflict", "该记录已被他人修改，请刷新后重试") from None
            except OperationalError as exc:
                if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
                    raise ConflictError.one("register.busy", "数据库正忙（其他用户正在写入），请稍后重试") from None
                raise

    def _user(self, session: Session, actor: Actor, permission: str) -> User:
        user = session.get(User, actor.id)
        if user is None or not user.active:
            raise AuthenticationError.one("register.auth", "账号不存在或已停用")
        if user.role not in PERMISSIONS[permission]:
            raise PermissionDenied.one("register.forbidden", f"{ROLE_ZH[user.role]}无权{_PERMISSION_ZH[permission]}")
        return user

    def _reader(self, session: Session, actor: Actor) -> User:
        return self._user(session, actor, "read")

    @staticmethod
    def _own_units(user: User) -> set[int] | None:
        """The units an enterprise user is limited to; None for everyone else (all units)."""
        return {u.id for u in user.units} if user.role is Role.enterprise else None

    def _check_unit(self, user: User, unit_id: int) -> None:
        own = self._own_units(user)
        if own is not None and unit_id not in own:
            # The same answer as for a record that does not exist: another enterprise's records are not disclosed.
            raise NotFound.one("register.not_found", "没有找到该记录")

    def _audit(
        self, session: Session, user: User, action: str, entity: str, entity_id: int, *,
        hazard_id: int | None = None, changes: dict[str, Any] | None = None, reason: str | None = None,
    ) -> None:
        session.add(AuditEntry(
            actor_id=user.id, actor=user.username, action=action, entity=entity, entity_id=entity_id,
            hazard_id=hazard_id, reason=reason, changes=_jsonable(changes or {}),
        ))

    # ------------------------------------------------------------------ accounts

    def has_users(self) -> bool:
        with self._read() as s:
            return s.scalar(select(func.count()).select_from(User)) > 0

    def bootstrap(self, username: str, password: str, display_name: str | None = None) -> Actor:
        """Create the first account, a supervisor. Refused once any account exists."""
        _check_password(password)
        with self._sessions() as s, s.begin():
            if s.scalar(select(func.count()).select_from(User)):
                raise PermissionDenied.one("register.bootstrapped", "台账已有账号：新账号须由督办负责人添加")
            user = User(username=_username(username), display_name=display_name or username, role=Role.supervisor,
                        password_hash=self._hasher.hash(password), active=True)
            s.add(user)
            s.flush()
            self._audit(s, user, "create", "user", user.id, changes={"username": [None, user.username], "role": [None, "supervisor"]})
            return _actor(user)

    def authenticate(self, username: str, password: str) -> Actor:
        with self._read() as s:
            user = s.scalar(select(User).where(User.username == username))
            try:
                if user is None:
                    raise VerificationError()
                self._hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                raise AuthenticationError.one("register.auth", "用户名或密码不正确") from None
            if not user.active:
                raise AuthenticationError.one("register.auth", "用户名或密码不正确")
            return _actor(user)

    def actor(self, username: str) -> Actor:
        """The account by name without a password: for trusted callers only (tests, a server that did its own login)."""
        with self._read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.active:
                raise AuthenticationError.one("register.auth", "账号不存在或已停用")
            return _actor(user)

    def add_user(
        self, actor: Actor, username: str, password: str, role: Role | str,
        display_name: str | None = None, unit_ids: Iterable[int] = (),
    ) -> UserOut:
        _check_password(password)
        role = _role(role)
        units = list(dict.fromkeys(unit_ids))
        if role is Role.enterprise and not units:
            raise InvalidInput.one("register.user_units", "企业用户须指定所属单位")
        with self._write(actor, "user.manage") as (s, me):
            name = _username(username)
            if s.scalar(select(User.id).where(User.username == name)) is not None:
                raise InvalidInput.one("register.user_exists", f"用户名“{name}”已存在")
            user = User(username=name, display_name=display_name or name, role=role, password_hash=self._hasher.hash(password), active=True)
            s.add(user)
            s.flush()
            for uid in units:
                if s.get(Unit, uid) is None:
                    raise NotFound.one("register.not_found", f"没有编号为 {uid} 的单位")
                s.add(UserUnit(user_id=user.id, unit_id=uid))
            self._audit(s, me, "create", "user", user.id, changes={"username": [None, name], "role": [None, role.value], "units": [None, units]})
            s.flush()
            s.refresh(user)
            return _user_out(user)

    def grant_unit(self, actor: Actor, user_id: int, unit_id: int) -> UserOut:
        with self._write(actor, "user.manage") as (s, me):
            user = s.get(User, user_id)
            if user is None or s.get(Unit, unit_id) is None:
                raise NotFound.one("register.not_found", "没有找到该用户或单位")
            if unit_id not in {u.id for u in user.units}:
                s.add(UserUnit(user_id=user_id, unit_id=unit_id))
                self._audit(s, me, "grant_unit", "user", user_id, changes={"unit": [None, unit_id]})
            s.flush()
            s.refresh(user)
            return _user_out(user)

    def list_users(self, actor: Actor) -> list[UserOut]:
        with self._read() as s:
            self._user(s, actor, "user.manage")
            return [_user_out(u) for u in s.scalars(select(User).order_by(User.id))]

    # ------------------------------------------------------------------ units

    def add_unit(self, actor: Actor, unit: UnitIn) -> UnitOut:
        with self._write(actor, "unit.write") as (s, me):
            row = Unit(**unit.model_dump())
            s.add(row)
            s.flush()
            self._audit(s, me, "create", "unit", row.id, changes={k: [None, v] for k, v in unit.model_dump().items() if v is not None})
            return _unit_out(row)

    def find_unit(self, actor: Actor, name: str, credit_code: str | None = None) -> UnitOut | None:
        """The unit of that name (and credit code, when given) the actor may see, not voided."""
        with self._read() as s:
            user = self._reader(s, actor)
            q = select(Unit).where(Unit.name == name, Unit.voided_at.is_(None))
            if credit_code:
                q = q.where(Unit.credit_code == credit_code)
            own = self._own_units(user)
            if own is not None:
                q = q.where(Unit.id.in_(own))
            row = s.scalars(q.order_by(Unit.id)).first()
            return _unit_out(row) if row else None

    def get_unit(self, actor: Actor, unit_id: int) -> UnitOut:
        with self._read() as s:
            user = self._reader(s, actor)
            self._check_unit(user, unit_id)
            row = s.get(Unit, unit_id)
            if row is None:
                raise NotFound.one("register.not_found", f"没有编号为 {unit_id} 的单位")
            return _unit_out(row)

    def list_units(self, actor: Actor, include_voided: bool = False) -> list[UnitOut]:
        with self._read() as s:
            user = self._reader(s, actor)
            q = select(Unit).order_by(Unit.id)
            if not include_voided:
                q = q.where(Unit.voided_at.is_(None))
            own = self._own_units(user)
            if own is not None:
                q = q.where(Unit.id.in_(own))
            return [_unit_out(u) for u in s.scalars(q)]

    # ------------------------------------------------------------------ inspections

    def record(
        self,
        actor: Actor,
        inspection: InspectionIn,
        verdict: "Verdict | None" = None,
        general_hazards: "Sequence[GeneralHazard]" = (),
        attachments: Sequence[FileIn] = (),
    ) -> Recorded:
        """File an inspection, its verdict as produced and one hazard per finding.

        Each 重大 finding of the verdict (triggered, major) becomes a 重大 hazard with its clause;
        each 一般隐患 the inspection recorded (the verdict's own echo when a verdict is given,
        else ``general_hazards``) becomes a 一般 hazard. Pending findings (a clause met unless
        an exclusion still to be decided applies) are not findings and file nothing.
        """
        with self._write(actor, "inspection.record") as (s, me):
            self._check_unit(me, inspection.unit_id)
            unit = s.get(Unit, inspection.unit_id)
            if unit is None or unit.voided_at is not None:
                raise NotFound.one("register.not_found", f"没有编号为 {inspection.unit_id} 的单位")
            if me.role is Role.enterprise and inspection.origin is not Origin.self_check:
                raise PermissionDenied.one("register.forbidden", "企业用户只能登记本单位的自查结果")
            row = Inspection(
                **inspection.model_dump(exclude={"facts", "inspectors"}),
                facts=_jsonable(inspection.facts),
                inspectors=[i.model_dump() for i in inspection.inspectors],
                created_by=me.id,
            )
            s.add(row)
            s.flush()
            self._audit(s, me, "create", "inspection", row.id, changes={"unit_id": [None, unit.id], "inspected_on": [None, inspection.inspected_on]})
            stored = None
            hazards: list[Hazard] = []
            if verdict is not None:
                if verdict.inspection_date != inspection.inspected_on:
                    raise InvalidInput.one("register.verdict_date", f"判定结果的检查日期 {verdict.inspection_date} 与检查记录的日期 {inspection.inspected_on} 不一致")
                stored = StoredVerdict(
                    inspection_id=row.id, bundle=verdict.bundle,
                    documents=[f"{d.document.document}@{d.document.version}" for d in verdict.documents if d.document],
                    outcome=verdict.outcome.value, schema_version=verdict.schema_version, verdict_json=verdict.model_dump_json(),
                )
                s.add(stored)
                s.flush()
                self._audit(s, me, "create", "verdict", stored.id, changes={"outcome": [None, verdict.outcome.value], "bundle": [None, verdict.bundle]})
                for r in verdict.findings():
                    hazards.append(Hazard(
                        unit_id=unit.id, inspection_id=row.id, verdict_id=stored.id, grade=Grade.major, origin=inspection.origin,
                        found_on=inspection.inspected_on, rule=r.rule,
                        citation="；".join(f"{c.number} {c.clause}" for c in r.citations) or None,
                        citations=[c.model_dump(mode="json") for c in r.citations],
                        description=r.finding or r.rule, location=inspection.location, rectification=r.rectification,
                    ))
                general_hazards = list(verdict.general_hazards) + [g for g in general_hazards if g not in verdict.general_hazards]
            for g in general_hazards:
                h = Hazard(
                    unit_id=unit.id, inspection_id=row.id, verdict_id=stored.id if stored else None, grade=Grade.general,
                    origin=inspection.origin, found_on=inspection.inspected_on, description=g.description,
                    location=g.location or inspection.location, citations=[],
                )
                if g.deadline:
                    _set_deadline(h, on_or_after_working_day(g.deadline))
                hazards.append(h)
            for h in hazards:
                s.add(h)
            s.flush()
            for h in hazards:
                self._audit(s, me, "create", "hazard", h.id, hazard_id=h.id,
                            changes={"grade": [None, h.grade.value], "status": [None, h.status.value], "citation": [None, h.citation]})
            for f in attachments:
                self._attach(s, me, f, inspection_id=row.id)
            s.flush()
            s.refresh(row)
            return Recorded(
                inspection=_inspection_out(row, [h.id for h in hazards]),
                verdict=VerdictOut.model_validate(stored) if stored else None,
                hazards=[self._hazard_out(h, s) for h in hazards],
            )

    def attach(self, actor: Actor, inspection_id: int, file: FileIn) -> AttachmentOut:
        """Add a photo or document to an inspection (排查图片)."""
        with self._write(actor, "inspection.record") as (s, me):
            insp = s.get(Inspection, inspection_id)
            if insp is None:
                raise NotFound.one("register.not_found", f"没有编号为 {inspection_id} 的检查记录")
            self._check_unit(me, insp.unit_id)
            return AttachmentOut.model_validate(self._attach(s, me, file, inspection_id=inspection_id))

    def _attach(self, s: Session, me: User, file: FileIn, **owner: int) -> Attachment:
        size = len(file.data)
        if size == 0:
            raise InvalidInput.one("register.attachment_empty", f"附件“{file.filename}”是空文件")
        if size > MAX_ATTACHMENT_BYTES:
            raise InvalidInput.one("register.attachment_size", f"附件“{file.filename}”过大（{size} 字节，上限 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB）")
        kind = media_type_of(file.data)
        if kind is None:
            raise InvalidInput.one("register.attachment_type", f"附件“{file.filename}”的类型不受支持", "可上传 JPEG、PNG、WebP 照片或 PDF 文件")
        digest = hashlib.sha256(file.data).hexdigest()
        if s.get(Blob, digest) is None:
            s.add(Blob(sha256=digest, size=size, media_type=kind, content=file.data))
            s.flush()
        att = Attachment(sha256=digest, filename=file.filename, media_type=kind, size=size, created_by=me.id, **owner)
        s.add(att)
        s.flush()
        self._audit(s, me, "attach", "attachment", att.id, changes={"sha256": [None, digest], "filename": [None, file.filename], **{k: [None, v] for k, v in owner.items()}})
        return att

    def attachment_content(self, actor: Actor, attachment_id: int) -> tuple[AttachmentOut, bytes]:
        with self._read() as s:
            user = self._reader(s, actor)
            att = s.get(Attachment, attachment_id)
            if att is None:
                raise NotFound.one("register.not_found", "没有找到该附件")
            if att.inspection_id is not None:
                unit_id = s.get(Inspection, att.inspection_id).unit_id
            else:
                unit_id = s.get(Hazard, s.get(Evidence, att.evidence_id).hazard_id).unit_id
            self._check_unit(user, unit_id)
            return AttachmentOut.model_validate(att), s.get(Blob, att.sha256).content

    def get_inspection(self, actor: Actor, inspection_id: int) -> InspectionOut:
        with self._read() as s:
            user = self._reader(s, actor)
            row = s.get(Inspection, inspection_id)
            if row is None:
                raise NotFound.one("register.not_found", f"没有编号为 {inspection_id} 的检查记录")
            self._check_unit(user, row.unit_id)
            ids = list(s.scalars(select(Hazard.id).where(Hazard.inspection_id == row.id).order_by(Hazard.id)))
            return _inspection_out(row, ids)

    def list_inspections(
        self, actor: Actor, start: dt.date | None = None, end: dt.date | None = None, include_voided: bool = False
    ) -> list[InspectionOut]:
        with self._read() as s:
            user = self._reader(s, actor)
            q = select(Inspection).order_by(Inspection.inspected_on, Inspection.id)
            if start:
                q = q.where(Inspection.inspected_on >= start)
            if end:
                q = q.where(Inspection.inspected_on <= end)
            if not include_voided:
                q = q.where(Inspection.voided_at.is_(None))
            own = self._own_units(user)
            if own is not None:
                q = q.where(Inspection.unit_id.in_(own))
            rows = list(s.scalars(q))
            by_insp: dict[int, list[int]] = {}
            if rows:
                for hid, iid in s.execute(select(Hazard.id, Hazard.inspection_id).where(Hazard.inspection_id.in_([r.id for r in rows])).order_by(Hazard.id)):
                    by_insp.setdefault(iid, []).append(hid)
            return [_inspection_out(r, by_insp.get(r.id, [])) for r in rows]

    def get_verdict(self, actor: Actor, verdict_id: int) -> VerdictOut:
        with self._read() as s:
            user = self._reader(s, actor)
            row = s.get(StoredVerdict, verdict_id)
            if row is None:
                raise NotFound.one("register.not_found", f"没有编号为 {verdict_id} 的判定结果")
            self._check_unit(user, row.inspection.unit_id)
            return VerdictOut.model_validate(row)

    def reproduce(self, actor: Actor, verdict_id: int, engine: "JudgeEngine") -> tuple[bool, "Verdict"]:
        """Judge the stored facts again with ``engine``; True when the verdict is exactly the one stored.

        A different bundle fingerprint (criteria or rules changed since) is the usual reason for a difference.
        """
        from hazardjudge.engine.models import Inspection as Facts
        from hazardjudge.engine.models import Verdict

        stored = self.get_verdict(actor, verdict_id)
        insp = self.get_inspection(actor, stored.inspection_id)
        old = Verdict.model_validate_json(stored.verdict_json)
        new = engine.judge(Facts(facts=insp.facts, on=insp.inspected_on, sectors=insp.sectors), general_hazards=old.general_hazards or None)
        return new.model_dump(mode="json") == old.model_dump(mode="json"), new

    # ------------------------------------------------------------------ hazards: reads

    def list_hazards(self, actor: Actor, filters: HazardFilter | None = None, limit: int = 50, offset: int = 0) -> Page:
        """A page of hazards, newest first, with the total that match."""
        f = filters or HazardFilter()
        limit = max(1, min(limit, 1000))
        offset = max(0, offset)
        with self._read() as s:
            user = self._reader(s, actor)
            conds = self._conditions(user, f)
            counted = select(func.count()).select_from(Hazard)
            listed = select(Hazard)
            if f.town or f.village or f.sector or f.text:  # the units table only when a filter needs it
                counted, listed = counted.join(Unit, Hazard.unit_id == Unit.id), listed.join(Unit, Hazard.unit_id == Unit.id)
            total = s.scalar(counted.where(*conds))
            rows = list(s.scalars(listed.where(*conds).order_by(Hazard.id.desc()).limit(limit).offset(offset)))
            return Page(items=self._hazard_outs(s, rows), total=total or 0, limit=limit, offset=offset)

    def _conditions(self, user: User, f: HazardFilter) -> list[Any]:
        conds: list[Any] = []
        own = self._own_units(user)
        if own is not None:
            conds.append(Hazard.unit_id.in_(own))
        if not f.include_voided:
            conds.append(Hazard.voided_at.is_(None))
        if f.status:
            conds.append(Hazard.status.in_(f.status))
        if f.grade:
            conds.append(Hazard.grade == f.grade)
        if f.origin:
            conds.append(Hazard.origin == f.origin)
        if f.unit_id is not None:
            conds.append(Hazard.unit_id == f.unit_id)
        if f.town:
            conds.append(Unit.town == f.town)
        if f.village:
            conds.append(Unit.village == f.village)
        if f.sector:
            conds.append(Unit.sector == f.sector)
        if f.found_from:
            conds.append(Hazard.found_on >= f.found_from)
        if f.found_to:
            conds.append(Hazard.found_on <= f.found_to)
        if f.overdue is not None:
            late = and_(Hazard.status.in_(_OPEN), Hazard.deadline < self.today())
            conds.append(late if f.overdue else ~late | Hazard.deadline.is_(None))
        if f.supervised is not None:
            active = exists().where(Supervision.hazard_id == Hazard.id, Supervision.delisted_on.is_(None))
            conds.append(active if f.supervised else ~active)
        if f.text:
            pattern = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append(or_(Hazard.description.like(pattern, escape="\\"), Unit.name.like(pattern, escape="\\")))
        return conds

    def get_hazard(self, actor: Actor, hazard_id: int) -> HazardDetail:
        with self._read() as s:
            user = self._reader(s, actor)
            h = self._hazard(s, user, hazard_id)
            base = self._hazard_out(h, s).model_dump()
            history = s.scalars(select(AuditEntry).where(AuditEntry.hazard_id == h.id).order_by(AuditEntry.id))
            return HazardDetail(
                **base,
                citations=list(h.citations or []),
                reviews=[ReviewOut.model_validate(r) for r in h.reviews],
                evidence=[EvidenceOut.model_validate(e) for e in h.evidence if e.voided_at is None],
                supervisions=[SupervisionOut.model_validate(x) for x in h.supervisions],
                dual_reports=[DualReportOut.model_validate(x) for x in h.dual_reports],
                suspensions=[SuspensionOut.model_validate(x) for x in h.suspensions],
                history=[_audit_out(a) for a in history],
            )

    def history(self, actor: Actor, hazard_id: int) -> list[AuditOut]:
        return self.get_hazard(actor, hazard_id).history

    def audit_log(self, actor: Actor, limit: int = 100, offset: int = 0) -> list[AuditOut]:
        """The whole audit log, newest first (supervisors only: it names every account's actions)."""
        with self._read() as s:
            self._user(s, actor, "user.manage")
            rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
            return [_audit_out(a) for a in rows]

    def _hazard(self, s: Session, user: User, hazard_id: int, expected_version: int | None = None) -> Hazard:
        h = s.get(Hazard, hazard_id)
        if h is None:
            raise NotFound.one("register.not_found", f"没有编号为 {hazard_id} 的隐患")
        self._check_unit(user, h.unit_id)
        if expected_version is not None and h.version != expected_version:
            raise ConflictError.one("register.conflict", f"隐患 {hazard_id} 已被他人修改（当前版本 {h.version}，您看到的是 {expected_version}），请刷新后重试")
        return h

    def _writable(self, s: Session, user: User, hazard_id: int, expected_version: int | None) -> Hazard:
        h = self._hazard(s, user, hazard_id, expected_version)
        if h.voided_at is not None:
            raise WorkflowError.one("register.voided", f"隐患 {hazard_id} 已作废，不能再修改")
        return h

    def _hazard_out(self, h: Hazard, s: Session) -> HazardOut:
        return self._hazard_outs(s, [h])[0]

    def _hazard_outs(self, s: Session, rows: list[Hazard]) -> list[HazardOut]:
        if not rows:
            return []
        ids = [h.id for h in rows]
        # What the list shows beyond the hazard's own columns, for the whole page in one round trip.
        latest = select(Review).where(Review.hazard_id == Hazard.id).order_by(Review.id.desc()).limit(1)
        aux = select(
            Hazard.id,
            exists().where(Supervision.hazard_id == Hazard.id, Supervision.delisted_on.is_(None)),
            latest.with_only_columns(Review.passed).scalar_subquery(),
            latest.with_only_columns(Review.created_at).scalar_subquery(),
            select(func.max(Evidence.submitted_at)).where(Evidence.hazard_id == Hazard.id, Evidence.voided_at.is_(None)).scalar_subquery(),
        ).where(Hazard.id.in_(ids))
        extra = {hid: (sup, passed, reviewed, evidenced) for hid, sup, passed, reviewed, evidenced in s.execute(aux)}
        today = self.today()
        out = []
        for h in rows:
            sup, passed, reviewed, evidenced = extra[h.id]
            ok = bool(passed) and (evidenced is None or _aware(evidenced) <= _aware(reviewed))
            out.append(HazardOut(
                id=h.id, unit_id=h.unit_id, unit_name=h.unit.name, town=h.unit.town, village=h.unit.village, sector=h.unit.sector,
                inspection_id=h.inspection_id, verdict_id=h.verdict_id, grade=h.grade, grade_label=GRADE_ZH[h.grade], origin=h.origin,
                found_on=h.found_on, rule=h.rule, citation=h.citation, description=h.description, location=h.location,
                rectification=h.rectification, responsible=h.responsible, measures=h.measures, funds=h.funds,
                time_limit=h.time_limit, plan=h.plan, deadline=h.deadline,
                deadline_note=None if h.deadline_calendar_known or h.deadline is None else f"{h.deadline.year}年法定节假日安排未收录，期限按周一至周五计算，请人工核对",
                status=h.status, status_label=STATUS_ZH[h.status], closed_on=h.closed_on,
                overdue=h.status in _OPEN and h.voided_at is None and h.deadline is not None and h.deadline < today,
                supervised=bool(sup), review_passed=ok, voided=h.voided_at is not None, void_reason=h.void_reason,
                version=h.version,
            ))
        return out

    # ------------------------------------------------------------------ hazards: writes

    def add_hazard(self, actor: Actor, hazard: HazardIn) -> HazardOut:
        """A hazard entered by hand (e.g. from an enterprise's 自查 or a paper record)."""
        with self._write(actor, "hazard.add") as (s, me):
            self._check_unit(me, hazard.unit_id)
            if me.role is Role.enterprise and hazard.origin is not Origin.self_check:
                raise PermissionDenied.one("register.forbidden", "企业用户只能登记本单位自查发现的隐患")
            unit = s.get(Unit, hazard.unit_id)
            if unit is None or unit.voided_at is not None:
                raise NotFound.one("register.not_found", f"没有编号为 {hazard.unit_id} 的单位")
            if hazard.inspection_id is not None:
                insp = s.get(Inspection, hazard.inspection_id)
                if insp is None or insp.unit_id != hazard.unit_id:
                    raise InvalidInput.one("register.inspection_unit", "所填检查记录不存在或不属于该单位")
            h = Hazard(**hazard.model_dump(), citations=[])
            s.add(h)
            s.flush()
            self._audit(s, me, "create", "hazard", h.id, hazard_id=h.id, changes={"grade": [None, h.grade.value], "description": [None, h.description]})
            return self._hazard_out(h, s)

    def update(self, actor: Actor, hazard_id: int, changes: HazardUpdate, expected_version: int | None = None, reason: str | None = None) -> HazardOut:
        """Set 五落实, the deadline or correct the text. A 发现 hazard given any 五落实 field goes to 整改中."""
        given = changes.model_dump(exclude_none=True)
        if not given:
            raise InvalidInput.one("register.nothing", "没有要修改的内容")
        if "deadline" in given and "deadline_days" in given:
            raise InvalidInput.one("register.deadline_twice", "整改期限只能给出日期或工作日天数之一")
        with self._write(actor, "hazard.update") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            if h.status is Status.closed:
                raise WorkflowError.one("register.closed", f"隐患 {hazard_id} 已销号，不能再修改")
            diff: dict[str, list[Any]] = {}
            days = given.pop("deadline_days", None)
            if days is not None:
                given["deadline"] = add_working_days(h.found_on, days)
            elif "deadline" in given:
                given["deadline"] = on_or_after_working_day(given["deadline"])
            for key, value in given.items():
                if key == "deadline":
                    before = h.deadline
                    _set_deadline(h, value)
                    if before != h.deadline:
                        diff["deadline"] = [before, h.deadline]
                elif getattr(h, key) != value:
                    diff[key] = [getattr(h, key), value]
                    setattr(h, key, value)
            five = {"responsible", "measures", "funds", "time_limit", "plan", "deadline"}
            if h.status is Status.found and five & diff.keys():
                diff["status"] = [h.status.value, Status.rectifying.value]
                h.status = Status.rectifying
            if not diff:
                return self._hazard_out(h, s)
            s.flush()
            self._audit(s, me, "update", "hazard", h.id, hazard_id=h.id, changes=diff, reason=reason)
            return self._hazard_out(h, s)

    def submit_evidence(
        self, actor: Actor, hazard_id: int, note: str, files: Sequence[FileIn] = (), expected_version: int | None = None
    ) -> HazardOut:
        """整改 evidence (a note, photos or documents): the hazard goes to 待复查."""
        note = (note or "").strip()
        if not note and not files:
            raise InvalidInput.one("register.evidence_empty", "整改材料须有说明或附件")
        with self._write(actor, "hazard.evidence") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            if h.status is Status.closed:
                raise WorkflowError.one("register.closed", f"隐患 {hazard_id} 已销号")
            ev = Evidence(hazard_id=h.id, note=note or "（见附件）", submitted_by=me.id)
            s.add(ev)
            s.flush()
            for f in files:
                self._attach(s, me, f, evidence_id=ev.id)
            diff: dict[str, list[Any]] = {"evidence": [None, ev.id]}
            if h.status is not Status.pending_review:
                diff["status"] = [h.status.value, Status.pending_review.value]
                h.status = Status.pending_review
            h.updated_at = dt.datetime.now(dt.timezone.utc)  # bumps the version even when the status stays
            s.flush()
            self._audit(s, me, "evidence", "hazard", h.id, hazard_id=h.id, changes=diff, reason=note or None)
            s.refresh(h)
            return self._hazard_out(h, s)

    def review(
        self, actor: Actor, hazard_id: int, passed: bool, on: dt.date | None = None,
        remarks: str | None = None, expected_version: int | None = None,
    ) -> HazardOut:
        """复查: passed leaves the hazard ready for 销号; failed sends it back to 整改中."""
        if not passed and not (remarks or "").strip():
            raise InvalidInput.one("register.review_reason", "复查不通过须写明原因")
        with self._write(actor, "hazard.review") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            if h.status is not Status.pending_review:
                raise WorkflowError.one("register.review_state", f"隐患 {hazard_id} 当前为“{STATUS_ZH[h.status]}”，只有“待复查”的隐患可以复查", "请先提交整改材料")
            day = on or self.today()
            _check_day("复查日期", day, h.found_on)
            s.add(Review(hazard_id=h.id, passed=passed, reviewed_on=day, remarks=remarks, reviewer_id=me.id))
            diff: dict[str, list[Any]] = {"review": [None, "passed" if passed else "failed"]}
            if not passed:
                diff["status"] = [h.status.value, Status.rectifying.value]
                h.status = Status.rectifying
            h.updated_at = dt.datetime.now(dt.timezone.utc)
            s.flush()
            self._audit(s, me, "review_pass" if passed else "review_fail", "hazard", h.id, hazard_id=h.id, changes=diff, reason=remarks)
            s.refresh(h)
            return self._hazard_out(h, s)

    def close(self, actor: Actor, hazard_id: int, on: dt.date | None = None, reason: str | None = None, expected_version: int | None = None) -> HazardOut:
        """销号. A 重大 hazard needs evidence and a passed 复查 after it; one under 挂牌督办 is 摘牌 too (supervisors only)."""
        with self._write(actor, "hazard.close") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            if h.status is Status.closed:
                raise WorkflowError.one("register.closed", f"隐患 {hazard_id} 已销号")
            out = self._hazard_out(h, s)
            if h.grade is Grade.major:
                if not any(e.voided_at is None for e in h.evidence):
                    raise WorkflowError.one("register.close_evidence", f"重大事故隐患 {hazard_id} 尚无整改材料，不能销号")
                if not out.review_passed:
                    raise WorkflowError.one("register.close_review", f"重大事故隐患 {hazard_id} 须复查通过后才能销号")
            elif h.status is Status.pending_review and h.reviews and not h.reviews[-1].passed:
                raise WorkflowError.one("register.close_review", f"隐患 {hazard_id} 最近一次复查未通过")
            day = on or self.today()
            if day < h.found_on:
                raise InvalidInput.one("register.close_date", f"销号日期 {day} 早于发现日期 {h.found_on}")
            active = [x for x in h.supervisions if x.delisted_on is None]
            if active and me.role is not Role.supervisor:
                raise PermissionDenied.one("register.forbidden", f"隐患 {hazard_id} 正在挂牌督办：销号同时摘牌，须由督办负责人操作")
            passed = [r.reviewed_on for r in h.reviews if r.passed]
            if h.grade is Grade.major and passed and day < max(passed):
                # A 销号 dated before the 复查 that allowed it would read, on the register, as closed unchecked.
                raise InvalidInput.one("register.close_date", f"销号日期 {day} 早于复查通过日期 {max(passed)}")
            for x in active:
                x.delisted_on = day
                x.delisted_by = me.id
                self._audit(s, me, "delist", "supervision", x.id, hazard_id=h.id, changes={"delisted_on": [None, day]}, reason=reason)
            diff = {"status": [h.status.value, Status.closed.value], "closed_on": [None, day]}
            h.status = Status.closed
            h.closed_on = day
            for susp in h.suspensions:
                if susp.lifted_on is None:
                    susp.lifted_on = day
                    self._audit(s, me, "lift_suspension", "suspension", susp.id, hazard_id=h.id, changes={"lifted_on": [None, day]})
            s.flush()
            self._audit(s, me, "close", "hazard", h.id, hazard_id=h.id, changes=diff, reason=reason)
            return self._hazard_out(h, s)

    def supervise(
        self, actor: Actor, hazard_id: int, authority: str, document_number: str, listed_on: dt.date,
        due_on: dt.date | None = None, expected_version: int | None = None,
    ) -> HazardOut:
        """挂牌督办 a 重大 hazard (supervisors only); one listing at a time."""
        authority, document_number = (authority or "").strip(), (document_number or "").strip()
        if not authority or not document_number:
            raise InvalidInput.one("register.supervise_fields", "挂牌督办须写明督办单位和督办文号")
        with self._write(actor, "hazard.supervise") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            if h.grade is not Grade.major:
                raise WorkflowError.one("register.supervise_grade", f"隐患 {hazard_id} 为一般隐患，挂牌督办仅适用于重大事故隐患")
            if h.status is Status.closed:
                raise WorkflowError.one("register.closed", f"隐患 {hazard_id} 已销号")
            if any(x.delisted_on is None for x in h.supervisions):
                raise WorkflowError.one("register.supervised", f"隐患 {hazard_id} 已在挂牌督办中")
            if due_on is not None and due_on < listed_on:
                raise InvalidInput.one("register.supervise_dates", "要求完成日期早于挂牌日期")
            x = Supervision(hazard_id=h.id, authority=authority, document_number=document_number, listed_on=listed_on, due_on=due_on, listed_by=me.id)
            s.add(x)
            h.updated_at = dt.datetime.now(dt.timezone.utc)
            s.flush()
            self._audit(s, me, "supervise", "supervision", x.id, hazard_id=h.id,
                        changes={"authority": [None, authority], "document_number": [None, document_number], "listed_on": [None, listed_on], "due_on": [None, due_on]})
            s.refresh(h)
            return self._hazard_out(h, s)

    def dual_report(self, actor: Actor, hazard_id: int, recipient: str, recipient_name: str, reported_on: dt.date) -> HazardOut:
        """双报告 of a 重大 hazard: ``recipient`` is ``department`` (监管部门) or ``workers_congress`` (职代会)."""
        if recipient not in RECIPIENTS:
            raise InvalidInput.one("register.recipient", f"双报告的对象须为 department（监管部门）或 workers_congress（职代会），而不是 {recipient!r}")
        if not (recipient_name or "").strip():
            raise InvalidInput.one("register.recipient_name", "须写明报告对象的名称")
        with self._write(actor, "hazard.dual_report") as (s, me):
            h = self._writable(s, me, hazard_id, None)
            if h.grade is not Grade.major:
                raise WorkflowError.one("register.dual_grade", f"隐患 {hazard_id} 为一般隐患，双报告仅适用于重大事故隐患")
            if any(r.recipient == recipient for r in h.dual_reports):
                raise WorkflowError.one("register.dual_twice", f"隐患 {hazard_id} 已向该对象报告过")
            r = DualReport(hazard_id=h.id, recipient=recipient, recipient_name=recipient_name.strip(), reported_on=reported_on, created_by=me.id)
            s.add(r)
            s.flush()
            self._audit(s, me, "dual_report", "dual_report", r.id, hazard_id=h.id, changes={"recipient": [None, recipient], "reported_on": [None, reported_on]})
            s.refresh(h)
            return self._hazard_out(h, s)

    def order_suspension(
        self, actor: Actor, hazard_id: int, ordered_on: dt.date, document_number: str | None = None, scope: str | None = None
    ) -> HazardOut:
        """停产停业整顿 ordered for the hazard's unit (lifted when the hazard is 销号)."""
        with self._write(actor, "hazard.suspend") as (s, me):
            h = self._writable(s, me, hazard_id, None)
            if h.status is Status.closed:
                raise WorkflowError.one("register.closed", f"隐患 {hazard_id} 已销号")
            x = Suspension(hazard_id=h.id, unit_id=h.unit_id, ordered_on=ordered_on, document_number=document_number, scope=scope, created_by=me.id)
            s.add(x)
            s.flush()
            self._audit(s, me, "suspend", "suspension", x.id, hazard_id=h.id, changes={"ordered_on": [None, ordered_on], "document_number": [None, document_number]})
            s.refresh(h)
            return self._hazard_out(h, s)

    def void(self, actor: Actor, hazard_id: int, reason: str, expected_version: int | None = None) -> HazardOut:
        """Void a mistaken hazard (never deleted): kept with its reason, left out of lists and reports."""
        reason = _void_reason(reason)
        with self._write(actor, "void") as (s, me):
            h = self._writable(s, me, hazard_id, expected_version)
            h.voided_at = dt.datetime.now(dt.timezone.utc)
            h.void_reason = reason
            s.flush()
            self._audit(s, me, "void", "hazard", h.id, hazard_id=h.id, changes={"voided": [False, True]}, reason=reason)
            return self._hazard_out(h, s)

    def void_inspection(self, actor: Actor, inspection_id: int, reason: str) -> InspectionOut:
        """Void a mistaken inspection and every hazard filed from it."""
        reason = _void_reason(reason)
        with self._write(actor, "void") as (s, me):
            insp = s.get(Inspection, inspection_id)
            if insp is None:
                raise NotFound.one("register.not_found", f"没有编号为 {inspection_id} 的检查记录")
            self._check_unit(me, insp.unit_id)
            if insp.voided_at is not None:
                raise WorkflowError.one("register.voided", f"检查记录 {inspection_id} 已作废")
            now = dt.datetime.now(dt.timezone.utc)
            insp.voided_at, insp.void_reason = now, reason
            self._audit(s, me, "void", "inspection", insp.id, changes={"voided": [False, True]}, reason=reason)
            hazards = list(s.scalars(select(Hazard).where(Hazard.inspection_id == insp.id, Hazard.voided_at.is_(None))))
            for h in hazards:
                h.voided_at, h.void_reason = now, reason
                self._audit(s, me, "void", "hazard", h.id, hazard_id=h.id, changes={"voided": [False, True]}, reason=reason)
            s.flush()
            return _inspection_out(insp, [h.id for h in hazards])

    def void_unit(self, actor: Actor, unit_id: int, reason: str) -> UnitOut:
        reason = _void_reason(reason)
        with self._write(actor, "void") as (s, me):
            unit = s.get(Unit, unit_id)
            if unit is None:
                raise NotFound.one("register.not_found", f"没有编号为 {unit_id} 的单位")
            unit.voided_at, unit.void_reason = dt.datetime.now(dt.timezone.utc), reason
            s.flush()
            self._audit(s, me, "void", "unit", unit.id, changes={"voided": [False, True]}, reason=reason)
            return _unit_out(unit)

    # ------------------------------------------------------------------ spot checks (抽查检查, the 调度表's second section)

    def record_spot_check(self, actor: Actor, check: SpotCheckIn) -> SpotCheckOut:
        """File a 抽查检查 of an enterprise's 自查自改: every item of the list is stored, those not given as unknown.

        Inspectors and supervisors only. A spot check is never edited: void it and record it again.
        """
        items = spot_items.load()
        for key in check.answers:
            items.item(key)  # an unknown key is refused, not silently dropped
        if check.checked_on > self.today():
            raise InvalidInput.one("register.spot_date", f"抽查日期 {check.checked_on} 晚于今天")
        with self._write(actor, "spot_check.record") as (s, me):
            unit = s.get(Unit, check.unit_id)
            if unit is None or unit.voided_at is not None:
                raise NotFound.one("register.not_found", f"没有编号为 {check.unit_id} 的单位")
            if check.inspection_id is not None:
                insp = s.get(Inspection, check.inspection_id)
                if insp is None or insp.unit_id != check.unit_id or insp.voided_at is not None:
                    raise InvalidInput.one("register.inspection_unit", "所填检查记录不存在、已作废或不属于该单位")
            row = SpotCheck(
                unit_id=unit.id, checked_on=check.checked_on, inspectors=[i.model_dump() for i in check.inspectors],
                remarks=check.remarks, inspection_id=check.inspection_id, created_by=me.id,
            )
            s.add(row)
            s.flush()
            answers = {key: check.answers.get(key, Answer.unknown) for key in items.keys}
            for key, value in answers.items():
                s.add(SpotCheckAnswer(spot_check_id=row.id, item=key, answer=value))
            s.flush()
            self._audit(s, me, "create", "spot_check", row.id, changes={
                "unit_id": [None, unit.id], "checked_on": [None, check.checked_on], "inspection_id": [None, check.inspection_id],
                "answers": [None, {k: v.value for k, v in answers.items()}],
            })
            s.refresh(row)
            return _spot_check_out(row)

    def get_spot_check(self, actor: Actor, spot_check_id: int) -> SpotCheckOut:
        with self._read() as s:
            user = self._reader(s, actor)
            row = s.get(SpotCheck, spot_check_id)
            if row is None:
                raise NotFound.one("register.not_found", f"没有编号为 {spot_check_id} 的抽查记录")
            self._check_unit(user, row.unit_id)
            return _spot_check_out(row)

    def list_spot_checks(
        self, actor: Actor, start: dt.date | None = None, end: dt.date | None = None, unit_id: int | None = None,
        include_voided: bool = False,
    ) -> list[SpotCheckOut]:
        """Spot checks by date (oldest first); an enterprise user sees its own units' only."""
        with self._read() as s:
            user = self._reader(s, actor)
            q = select(SpotCheck).order_by(SpotCheck.checked_on, SpotCheck.id)
            if start:
                q = q.where(SpotCheck.checked_on >= start)
            if end:
                q = q.where(SpotCheck.checked_on <= end)
            if unit_id is not None:
                q = q.where(SpotCheck.unit_id == unit_id)
            if not include_voided:
                q = q.where(SpotCheck.voided_at.is_(None))
            own = self._own_units(user)
            if own is not None:
                q = q.where(SpotCheck.unit_id.in_(own))
            return [_spot_check_out(r) for r in s.scalars(q)]

    def void_spot_check(self, actor: Actor, spot_check_id: int, reason: str) -> SpotCheckOut:
        """Void a mistaken spot check (never deleted): kept with its reason, left out of lists and the 调度表."""
        reason = _void_reason(reason)
        with self._write(actor, "void") as (s, me):
            row = s.get(SpotCheck, spot_check_id)
            if row is None:
                raise NotFound.one("register.not_found", f"没有编号为 {spot_check_id} 的抽查记录")
            self._check_unit(me, row.unit_id)
            if row.voided_at is not None:
                raise WorkflowError.one("register.voided", f"抽查记录 {spot_check_id} 已作废")
            row.voided_at, row.void_reason = dt.datetime.now(dt.timezone.utc), reason
            s.flush()
            self._audit(s, me, "void", "spot_check", row.id, changes={"voided": [False, True]}, reason=reason)
            return _spot_check_out(row)

    # ------------------------------------------------------------------ reports (the queries; rendering is in reports.py)

    def session_for_reports(self, actor: Actor) -> tuple[Session, set[int] | None]:
        """A read session and the units the actor is limited to (None: all). The caller closes the session."""
        s = self._sessions()
        try:
            user = self._reader(s, actor)
            return s, self._own_units(user)
        except RegisterError:
            s.close()
            raise


_PERMISSION_ZH = {
    "read": "查看台账", "user.manage": "管理账号", "unit.write": "登记单位", "inspection.record": "登记检查记录",
    "hazard.add": "登记隐患", "hazard.update": "修改隐患", "hazard.evidence": "提交整改材料", "hazard.dual_report": "登记双报告",
    "hazard.review": "复查", "hazard.close": "销号", "hazard.supervise": "挂牌督办或摘牌", "hazard.suspend": "登记停产停业整顿",
    "spot_check.record": "登记抽查检查", "void": "作废记录",
}


def _void_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.one("register.void_reason", "作废须写明原因")
    return reason


def _check_day(what: str, day: dt.date, found_on: dt.date) -> None:
    # A date after today is not refused yet: evidence and audit times come from the wall
    # clock while "today" is injectable, so the two cannot be compared consistently.
    if day < found_on:
        raise InvalidInput.one("register.date_order", f"{what} {day} 早于发现日期 {found_on}")


def _aware(t: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _set_deadline(h: Hazard, deadline: Any) -> None:
    h.deadline = deadline.date
    h.deadline_calendar_known = deadline.calendar_known and calendar_known(deadline.date)


def _check_password(password: str) -> None:
    if len(password or "") < 8:
        raise InvalidInput.one("register.password", "密码至少 8 个字符")


def _username(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise InvalidInput.one("register.username", "用户名须为 1–64 个字符且不含空格")
    return name


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = {v: k for k, v in ROLE_ZH.items()}
        if role in names:
            return names[role]
        raise InvalidInput.one("register.role", f"未知的角色 {role!r}（可用：inspector、supervisor、enterprise、viewer）") from None


def _actor(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, display_name=user.display_name, role=user.role, unit_ids=frozenset(u.id for u in user.units))


def _user_out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role, active=user.active, unit_ids=sorted(u.id for u in user.units))


def _unit_out(u: Unit) -> UnitOut:
    return UnitOut(id=u.id, name=u.name, credit_code=u.credit_code, unit_type=u.unit_type, address=u.address, town=u.town,
                   village=u.village, sector=u.sector, voided=u.voided_at is not None, version=u.version)


def _spot_check_out(row: SpotCheck) -> SpotCheckOut:
    given = {a.item: a.answer for a in row.answers}
    answers = [
        SpotAnswerOut(number=i.number, key=i.key, label=i.label, answer=given.get(i.key, Answer.unknown),
                      answer_label=ANSWER_ZH[given.get(i.key, Answer.unknown)])
        for i in spot_items.load().items
    ]
    u = row.unit
    return SpotCheckOut(
        id=row.id, unit_id=row.unit_id, unit_name=u.name, town=u.town, village=u.village, sector=u.sector,
        checked_on=row.checked_on, inspectors=row.inspectors, answers=answers,
        findings=sum(a.answer is Answer.yes for a in answers), unknown=sum(a.answer is Answer.unknown for a in answers),
        remarks=row.remarks, inspection_id=row.inspection_id, voided=row.voided_at is not None, void_reason=row.void_reason,
    )


def _inspection_out(row: Inspection, hazard_ids: list[int]) -> InspectionOut:
    return InspectionOut(
        id=row.id, unit_id=row.unit_id, unit_name=row.unit.name, inspected_on=row.inspected_on, origin=row.origin,
        inspectors=row.inspectors, location=row.location, source=row.source, source_name=row.source_name, remarks=row.remarks,
        facts=row.facts, sectors=row.sectors, verdict_ids=[v.id for v in row.verdicts], hazard_ids=hazard_ids,
        attachments=[AttachmentOut.model_validate(a) for a in row.attachments if a.voided_at is None], voided=row.voided_at is not None,
    )


def _audit_out(a: AuditEntry) -> AuditOut:
    return AuditOut(id=a.id, at=_aware(a.at), actor=a.actor, action=a.action, action_label=ACTION_ZH.get(a.action, a.action),
                    entity=a.entity, entity_id=a.entity_id, reason=a.reason, changes=a.changes)


__all__ = ["Register", "PERMISSIONS", "ACTION_ZH", "MAX_ATTACHMENT_BYTES", "media_type_of"]
