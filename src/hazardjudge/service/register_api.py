"""The hazard register's HTTP API under ``/api/register/…``: a thin layer over :class:`Register`.

Every call goes through the library API with the caller's account, so the roles and the
enterprise users' limits of ``register/store.py`` apply here exactly as on the command line;
this module only reads requests, names the caller and maps the register's errors to statuses:

=====================  ======  =====================================================
error                  status  why
=====================  ======  =====================================================
AuthenticationError     401    no, bad or expired token; wrong password
PermissionDenied        403    the role may not do this
NotFound                404    no such record — or another enterprise's (not disclosed)
ConflictError           409    changed since read; ``current_version`` says the new version
WorkflowError           409    the hazard's state does not allow this step
InvalidInput            422    a value cannot be stored as given
=====================  ======  =====================================================
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hazardjudge.api import Engine
from hazardjudge.errors import InputError, Problem
from hazardjudge.register import reports, spot_items
from hazardjudge.register.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RegisterError,
    WorkflowError,
)
from hazardjudge.register.models import Grade, Origin, Source, Status
from hazardjudge.register.store import MAX_ATTACHMENT_BYTES, Register
from hazardjudge.register.views import (
    Actor,
    AttachmentOut,
    FileIn,
    HazardDetail,
    HazardFilter,
    HazardIn,
    HazardOut,
    HazardUpdate,
    InspectionIn,
    InspectionOut,
    InspectorIn,
    Page,
    Recorded,
    UnitIn,
    UnitOut,
)
from hazardjudge.service.register_auth import TOKEN_MAX_AGE, Auth

#: files per evidence submission, and the request size that allows (each file up to the store's limit)
MAX_FILES = 5
UPLOAD_MAX_BODY = MAX_FILES * MAX_ATTACHMENT_BYTES + 1024 * 1024
_UPLOAD_PATH = re.compile(r"^(/api)?/register/hazards/\d+/evidence$|^/register/inspections$|^/api/register/inspections/\d+/attachments$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_upload(path: str) -> bool:
    """Requests that may carry attachments, and so a body beyond the app's usual limit."""
    return bool(_UPLOAD_PATH.match(path))


STATUS_OF: list[tuple[type[RegisterError], int]] = [
    (AuthenticationError, 401), (PermissionDenied, 403), (NotFound, 404),
    (ConflictError, 409), (WorkflowError, 409), (InvalidInput, 422),
]


def status_of(exc: RegisterError) -> int:
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 422  # a plain RegisterError is a refused value (e.g. an unreadable database URL is not an HTTP matter)


def problems_of(exc: Exception) -> list[dict[str, Any]]:
    return [{"code": p.code, "message": p.message, "hint": p.hint} for p in getattr(exc, "problems", [])]


# --------------------------------------------------------------------------- request bodies


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TokenRequest(_Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: Actor


class JudgeAndRecord(_Body):
    """Judge an inspection and file it in one call.

    The answers come as ``facts`` (question id → answer, strict), ``text`` (pasted answers, lenient)
    or ``document`` (an inspection file's YAML/JSON text, as ``hazardjudge judge`` reads it, with its
    own date, sectors, unit and 一般隐患). ``unit_id`` names the register's unit; without it the
    document's ``unit.name`` is looked up, or created as a new unit.
    """

    unit_id: int | None = None
    facts: dict[str, Any] | None = None
    text: str | None = Field(None, max_length=200_000)
    document: str | None = Field(None, max_length=1_000_000)
    date: dt.date | None = None
    sectors: list[str] | None = Field(None, max_length=20)
    origin: Origin = Origin.inspection
    inspectors: list[InspectorIn] = Field(default_factory=list, max_length=20)
    location: str | None = Field(None, max_length=2000)
    remarks: str | None = Field(None, max_length=2000)
    town: str | None = Field(None, max_length=100, description="新建单位时：乡镇（街道）")
    village: str | None = Field(None, max_length=100, description="新建单位时：村（社区）")


class Versioned(_Body):
    expected_version: int | None = Field(None, description="the version read: a write on a stale version is refused (409)")


class UpdateRequest(HazardUpdate):
    expected_version: int | None = None
    reason: str | None = Field(None, max_length=2000)


class ReviewRequest(Versioned):
    passed: bool
    on: dt.date | None = None
    remarks: str | None = Field(None, max_length=2000)


class CloseRequest(Versioned):
    on: dt.date | None = None
    reason: str | None = Field(None, max_length=2000)


class SuperviseRequest(Versioned):
    authority: str = Field(max_length=200)
    document_number: str = Field(max_length=200)
    listed_on: dt.date
    due_on: dt.date | None = None


class DualReportRequest(_Body):
    recipient: Literal["department", "workers_congress"]
    recipient_name: str = Field(max_length=200)
    reported_on: dt.date


class SuspensionRequest(_Body):
    ordered_on: dt.date
    document_number: str | None = Field(None, max_length=200)
    scope: str | None = Field(None, max_length=2000)


class VoidRequest(Versioned):
    reason: str = Field(max_length=2000)


class DispatchOut(BaseModel):
    year: int
    month: int
    as_of: dt.date
    rows: list[str]
    total: list[int]
    by_area: list[dict[str, Any]]
    by_sector: list[dict[str, Any]]
    # The second section (家): ``spot_rows`` are its rows (checked, then each item answered 是);
    # ``spot_unknown`` counts, per item, the enterprises whose answer was 未查明.
    spot_rows: list[str]
    spot_total: list[int]
    spot_unknown_total: list[int]


# --------------------------------------------------------------------------- shared with the pages


def parse_month(month: str | None, today: dt.date) -> tuple[int, int]:
    if not month:
        return today.year, today.month
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", month.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        raise InvalidInput.one("register.month", f"月份“{month[:20]}”无法识别，请写成 YYYY-MM，如 2026-11")
    return int(m.group(1)), int(m.group(2))


def judge_and_record(
    reg: Register, engine: Engine, actor: Actor, req: JudgeAndRecord, source: Source = Source.web,
    source_name: str | None = None, photos: list[FileIn] | None = None,
) -> tuple[Recorded, Any]:
    """Judge the answers with the server's engine and file inspection, verdict and hazards in one transaction."""
    from hazardjudge.inputs import observations
    from hazardjudge.inputs.inspections import parse_inspection
    from hazardjudge.inputs.pasting import refused

    given = [x for x in (req.facts, req.text, req.document) if x is not None]
    if len(given) != 1:
        raise InputError([Problem("register.answers", "请提供 facts（问题编号到回答）、text（粘贴的回答）或 document（检查记录文件内容）之一")])
    unit_info: dict[str, Any] = {}
    hazards: list[Any] = []
    if req.document is not None:
        parsed = parse_inspection(req.document, source_name or "<检查记录>")
        answers = engine.read(parsed.inspection.facts, parsed.positions)
        if problems := observations.check_categories(parsed.inspection.general_hazards, engine.bundle):
            raise InputError(problems)
        hazards = list(parsed.inspection.general_hazards)
        on = req.date or parsed.inspection.on
        sectors = req.sectors or parsed.inspection.sectors
        unit_info = parsed.unit
    elif req.facts is not None:
        answers, on, sectors = engine.read(req.facts), req.date, req.sectors
    else:
        answers, pasted = engine.paste(req.text, on=req.date, sectors=req.sectors)
        if problems := refused(pasted):
            raise InputError(problems)
        on, sectors, hazards = pasted.on or req.date, pasted.sectors, pasted.general_hazards
    verdict = engine.judge(answers, on=on or reg.today(), sectors=sectors, general_hazards=hazards or None)
    if req.unit_id is not None:
        unit = reg.get_unit(actor, req.unit_id)
    else:
        name = str(unit_info.get("name") or "").strip()
        if not name:
            raise InvalidInput.one("register.unit", "请选择单位（检查记录中没有 unit.name）")
        unit = reg.find_unit(actor, name) or reg.add_unit(actor, UnitIn(
            name=name, address=_text(unit_info.get("address")), unit_type=_text(unit_info.get("type") or unit_info.get("unit_type")),
            town=req.town or _text(unit_info.get("town")), village=req.village or _text(unit_info.get("village")),
            sector=sectors[0] if sectors and len(sectors) == 1 else None,
        ))
    filed = reg.record(actor, InspectionIn(
        unit_id=unit.id, inspected_on=verdict.inspection_date, origin=req.origin, inspectors=req.inspectors,
        location=req.location, remarks=req.remarks, facts=dict(answers.values), sectors=sectors,
        source=source, source_name=source_name,
    ), verdict, attachments=photos or ())
    return filed, verdict


def _text(value: Any) -> str | None:
    return (str(value).strip() or None) if value is not None else None


def read_files(uploads: list[UploadFile]) -> list[FileIn]:
    """The uploaded files, each read to one byte past the store's limit (so the store can say it is too large)."""
    files = [u for u in uploads if u.filename]
    if len(files) > MAX_FILES:
        raise InvalidInput.one("register.too_many_files", f"一次最多上传 {MAX_FILES} 个附件")
    out = []
    for u in files:
        data = u.file.read(MAX_ATTACHMENT_BYTES + 1)
        out.append(FileIn(filename=u.filename[:255], data=data))
    return out


def report_response(reg: Register, actor: Actor, kind: str, month: str | None, fmt: str) -> Response:
    year, mon = parse_month(month, reg.today())
    if fmt == "json":
        if kind == "dispatch":
            t = reports.dispatch_table(reg, actor, year, mon)

            def line(x: reports.DispatchLine) -> dict[str, Any]:
                return {"label": x.label, "counts": list(x.counts), "spot": list(x.spot), "spot_unknown": list(x.spot_unknown)}

            return JSONResponse(DispatchOut(
                year=t.year, month=t.month, as_of=t.as_of, rows=reports.DISPATCH_ROWS, total=list(t.total.counts),
                by_area=[line(x) for x in t.by_area], by_sector=[line(x) for x in t.by_sector],
                spot_rows=spot_items.load().rows, spot_total=list(t.total.spot), spot_unknown_total=list(t.total.spot_unknown),
            ).model_dump(mode="json"))
        if kind == "inspections":
            rows = reports.inspection_table(reg, actor, year, mon)
            return JSONResponse({"year": year, "month": mon, "columns": reports.INSPECTION_COLUMNS, "rows": [
                {"number": r.number, "unit": r.unit, "date": r.date.isoformat(), "photos": r.photos, "place": r.place,
                 "majors": r.majors, "handling": r.handling, "remarks": r.remarks} for r in rows]})
        rows = reports.export_rows(reg, actor, year, mon)
        return JSONResponse({"year": year, "month": mon, "columns": reports.EXPORT_COLUMNS,
                             "rows": [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in rows]})
    data = reports.render(reg, actor, kind, year, mon, fmt)
    name = {"dispatch": "调度表", "inspections": "排查表", "export": "隐患台账"}[kind] + f"-{year}-{mon:02d}.{fmt}"
    if fmt == "xlsx":
        return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename=report.xlsx; filename*=UTF-8''{quote(name)}"})
    return HTMLResponse(data.decode("utf-8"), headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"})


def attachment_response(reg: Register, actor: Actor, attachment_id: int) -> Response:
    att, data = reg.attachment_content(actor, attachment_id)
    # Always a download, never rendered in our origin: the type was recognised from the bytes, still.
    return Response(data, media_type=att.media_type, headers={
        "Content-Disposition": f"attachment; filename=attachment; filename*=UTF-8''{quote(att.filename)}",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    })


# --------------------------------------------------------------------------- the router


def install(app: FastAPI, reg: Register, engine: Engine, auth: Auth, route_class: type[APIRoute] = APIRoute) -> None:
    """Add the routes to ``app`` (``route_class``: the app's own, so JSON bodies are read as strictly as elsewhere)."""
    router = APIRouter(prefix="/api/register", tags=["隐患台账"], route_class=route_class)

    # Declared as HTTP bearer so /docs offers "Authorize"; a missing token is the register's own 401.
    bearer = HTTPBearer(auto_error=False, description="POST /api/register/token 取得的令牌")

    def actor(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials.strip():
            raise AuthenticationError.one("register.auth_required", "请先登录（Authorization: Bearer 令牌）")
        return auth.actor_from_token(creds.credentials.strip())

    Me = Depends(actor)

    @router.post("/token", response_model=TokenOut)
    def token(req: TokenRequest) -> TokenOut:
        value, who = auth.issue_token(req.username, req.password)
        return TokenOut(access_token=value, expires_in=TOKEN_MAX_AGE, user=who)

    @router.get("/me", response_model=Actor)
    def me(me: Actor = Me) -> Actor:
        return me

    # ---- units

    @router.get("/units", response_model=list[UnitOut])
    def units(me: Actor = Me) -> list[UnitOut]:
        return reg.list_units(me)

    @router.post("/units", response_model=UnitOut, status_code=201)
    def add_unit(req: UnitIn, me: Actor = Me) -> UnitOut:
        return reg.add_unit(me, req)

    @router.get("/units/{unit_id}", response_model=UnitOut)
    def get_unit(unit_id: int, me: Actor = Me) -> UnitOut:
        return reg.get_unit(me, unit_id)

    # ---- inspections

    @router.post("/inspections", response_model=Recorded, status_code=201)
    def record(req: JudgeAndRecord, me: Actor = Me) -> Recorded:
        try:
            return judge_and_record(reg, engine, me, req, Source.web)[0]
        except InputError as exc:  # unreadable answers are bad input to the register: 422 like the rest
            raise InvalidInput(exc.problems) from None

    @router.get("/inspections", response_model=list[InspectionOut])
    def inspections(month: str | None = None, me: Actor = Me) -> list[InspectionOut]:
        start = end = None
        if month:
            y, m = parse_month(month, reg.today())
            start, end = dt.date(y, m, 1), reports.month_end(y, m)
        return reg.list_inspections(me, start, end)

    @router.post("/inspections/{inspection_id}/attachments", response_model=list[AttachmentOut], status_code=201)
    def attach(inspection_id: int, files: list[UploadFile] = File(...), me: Actor = Me) -> list[AttachmentOut]:
        """排查图片: photos or documents of an inspection (one transaction each)."""
        return [reg.attach(me, inspection_id, f) for f in read_files(files)]

    @router.get("/inspections/{inspection_id}", response_model=InspectionOut)
    def inspection(inspection_id: int, me: Actor = Me) -> InspectionOut:
        return reg.get_inspection(me, inspection_id)

    # ---- hazards

    @router.get("/hazards", response_model=Page)
    def hazards(
        status: list[Status] | None = Query(None), grade: Grade | None = None, origin: Origin | None = None,
        sector: str | None = None, town: str | None = None, village: str | None = None, overdue: bool | None = None,
        supervised: bool | None = None, unit_id: int | None = None, text: str | None = Query(None, max_length=200),
        found_from: dt.date | None = None, found_to: dt.date | None = None,
        limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), me: Actor = Me,
    ) -> Page:
        f = HazardFilter(status=status, grade=grade, origin=origin, sector=sector, town=town, village=village, overdue=overdue,
                         supervised=supervised, unit_id=unit_id, text=text, found_from=found_from, found_to=found_to)
        return reg.list_hazards(me, f, limit=limit, offset=offset)

    @router.post("/hazards", response_model=HazardOut, status_code=201)
    def add_hazard(req: HazardIn, me: Actor = Me) -> HazardOut:
        return reg.add_hazard(me, req)

    @router.get("/hazards/{hazard_id}", response_model=HazardDetail)
    def hazard(hazard_id: int, me: Actor = Me) -> HazardDetail:
        return reg.get_hazard(me, hazard_id)

    @router.patch("/hazards/{hazard_id}", response_model=HazardOut)
    def update(hazard_id: int, req: UpdateRequest, me: Actor = Me) -> HazardOut:
        changes = HazardUpdate.model_validate(req.model_dump(exclude={"expected_version", "reason"}))
        return reg.update(me, hazard_id, changes, expected_version=req.expected_version, reason=req.reason)

    @router.post("/hazards/{hazard_id}/evidence", response_model=HazardOut)
    def evidence(
        hazard_id: int, note: str = Form("", max_length=2000), expected_version: int | None = Form(None),
        files: list[UploadFile] = File(default_factory=list), me: Actor = Me,
    ) -> HazardOut:
        return reg.submit_evidence(me, hazard_id, note, read_files(files), expected_version=expected_version)

    @router.post("/hazards/{hazard_id}/review", response_model=HazardOut)
    def review(hazard_id: int, req: ReviewRequest, me: Actor = Me) -> HazardOut:
        return reg.review(me, hazard_id, req.passed, req.on, req.remarks, expected_version=req.expected_version)

    @router.post("/hazards/{hazard_id}/close", response_model=HazardOut)
    def close(hazard_id: int, req: CloseRequest, me: Actor = Me) -> HazardOut:
        return reg.close(me, hazard_id, req.on, req.reason, expected_version=req.expected_version)

    @router.post("/hazards/{hazard_id}/supervise", response_model=HazardOut)
    def supervise(hazard_id: int, req: SuperviseRequest, me: Actor = Me) -> HazardOut:
        return reg.supervise(me, hazard_id, req.authority, req.document_number, req.listed_on, req.due_on, expected_version=req.expected_version)

    @router.post("/hazards/{hazard_id}/dual-report", response_model=HazardOut)
    def dual_report(hazard_id: int, req: DualReportRequest, me: Actor = Me) -> HazardOut:
        return reg.dual_report(me, hazard_id, req.recipient, req.recipient_name, req.reported_on)

    @router.post("/hazards/{hazard_id}/suspension", response_model=HazardOut)
    def suspension(hazard_id: int, req: SuspensionRequest, me: Actor = Me) -> HazardOut:
        return reg.order_suspension(me, hazard_id, req.ordered_on, req.document_number, req.scope)

    @router.post("/hazards/{hazard_id}/void", response_model=HazardOut)
    def void(hazard_id: int, req: VoidRequest, me: Actor = Me) -> HazardOut:
        return reg.void(me, hazard_id, req.reason, expected_version=req.expected_version)

    @router.get("/attachments/{attachment_id}")
    def attachment(attachment_id: int, me: Actor = Me) -> Response:
        return attachment_response(reg, me, attachment_id)

    # ---- reports

    @router.get("/reports/{kind}")
    def report(
        kind: Literal["dispatch", "inspections", "export"], month: str | None = Query(None, max_length=20),
        format: Literal["json", "xlsx", "html"] = "json", me: Actor = Me,
    ) -> Response:
        return report_response(reg, me, kind, month, format)

    app.include_router(router)

    @app.exception_handler(RegisterError)
    async def register_error(request: Request, exc: RegisterError):
        status = status_of(exc)
        page_error = getattr(request.app.state, "register_error_page", None)
        if page_error is not None and request.url.path.startswith("/register"):
            return page_error(request, exc, status)  # the pages answer in HTML (set by register_pages.install)
        body: dict[str, Any] = {"error": exc.problems[0].message if exc.problems else "请求被拒绝", "problems": problems_of(exc)}
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, ConflictError):
            hid = request.path_params.get("hazard_id")
            body["current_version"] = _current_version(reg, auth, request, hid) if hid is not None else None
        return JSONResponse(body, status_code=status, headers=headers)


def _current_version(reg: Register, auth: Auth, request: Request, hazard_id: Any) -> int | None:
    """The hazard's version now, for a 409: the client re-reads from there (None when it cannot be read)."""
    header = request.headers.get("authorization", "")
    _, _, token = header.partition(" ")
    try:
        who = auth.actor_from_token(token.strip()) if token.strip() else auth.actor_of(auth.load_session(request.cookies.get("hj_register")))
        if who is None:
            return None
        return reg.get_hazard(who, int(hazard_id)).version
    except (RegisterError, ValueError):
        return None
