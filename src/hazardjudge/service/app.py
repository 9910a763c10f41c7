"""HTTP API and the inspectors' web page, served by one ASGI app (FastAPI under uvicorn).

The app holds one loaded :class:`~hazardjudge.api.Engine` and nothing else:
no request leaves state behind. Request bodies and batches are bounded, every
input problem is a 4xx with the problems listed, and an unexpected error is a
500 without a trace.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hazardjudge import clock
from hazardjudge.api import Engine, load
from hazardjudge.authoring import coverage
from hazardjudge.engine.models import MAX_GENERAL_HAZARDS, DocumentRef, GeneralHazard, Verdict, WrittenDate
from hazardjudge.engine.verdicts import doc_ref
from hazardjudge.engine.yamlio import load_json_text
from hazardjudge.errors import InputError, Problem, validation_message_zh
from hazardjudge.inputs import checklists
from hazardjudge.inputs.pasting import refused
from hazardjudge.outputs import notices

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH = 200


class ProblemOut(BaseModel):
    code: str
    message: str
    line: int | None = None
    hint: str | None = None
    severity: str = "error"

    @classmethod
    def of(cls, p: Problem) -> "ProblemOut":
        return cls(code=p.code, message=p.message, line=p.position.line if p.position else None, hint=p.hint, severity=p.severity)


class JudgeRequest(BaseModel):
    """Answers as a mapping (strict), or pasted text (chat lines, CSV, tab-separated; lenient)."""

    model_config = ConfigDict(extra="forbid")

    facts: dict[str, Any] | None = None
    text: str | None = Field(None, max_length=200_000)
    date: WrittenDate | None = None
    sectors: list[str] | None = Field(None, max_length=20)
    site_kinds: list[str] | None = Field(None, max_length=20)
    # 一般隐患 recorded beside the answers (with text, also read from its 一般隐患 lines)
    general_hazards: list[GeneralHazard] = Field(default_factory=list, max_length=MAX_GENERAL_HAZARDS)


class MatchOut(BaseModel):
    line: int
    fact: str
    how: str
    score: float


class JudgeResponse(BaseModel):
    verdict: Verdict
    input_problems: list[ProblemOut] = []
    matches: list[MatchOut] = []


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Each item is checked on its own (as a JudgeRequest), so one bad item is one failed
    # result, not a refused batch.
    items: list[dict[str, Any]] = Field(max_length=MAX_BATCH, description="JudgeRequest bodies, one result each")


class BatchItem(BaseModel):
    verdict: Verdict | None = None
    problems: list[ProblemOut] = []


class ChecklistRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: WrittenDate | None = None
    sectors: list[str] | None = Field(None, max_length=20)
    site_kinds: list[str] | None = Field(None, max_length=20)


class NoticeSettings(notices.NoticeConfig):
    """The notice settings a client may send: everything but a server-side template folder."""

    model_config = ConfigDict(extra="forbid")
    template_dir: None = None


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inspection: JudgeRequest
    settings: NoticeSettings = NoticeSettings()
    format: Literal["html", "md", "txt", "pdf", "docx"] = "html"


class DocumentOut(BaseModel):
    """A document version (the same reference verdicts carry) and how much of it is encoded."""

    sector: str
    document: DocumentRef
    deciding_clauses: int
    encoded: int
    verified: int
    single_source: int
    unverified: int


class SectorOut(BaseModel):
    id: str
    title: str
    scope_note: str


class SiteKindsOut(BaseModel):
    sectors: list[SectorOut]
    site_kinds: dict[str, str]


# The inspectors' page runs only its own script and loads nothing from elsewhere; no
# other site may frame it. Inline styles stay allowed: the printable notice, opened from
# the page as a blob document, inherits this policy and carries its A4 layout inline.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
}


def _validation_problems(errors: list[dict]) -> list[dict[str, Any]]:
    return [{"code": "request.invalid", "message": f"{'.'.join(map(str, e['loc']))}：{validation_message_zh(e)}"} for e in errors]


class StrictJSONRoute(APIRoute):
    """Reads a JSON body with the project's own JSON reader before FastAPI does.

    json.loads keeps the last of two equal keys, so {"fire.in_scope": "是", "fire.in_scope": "否"}
    would be judged on whichever came last, where the CLI refuses it; the reader also
    bounds nesting and number size and reports errors with line and column, in Chinese.
    The body is cached on the request, so FastAPI's own parse reads the same bytes.
    """

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            if request.method in ("POST", "PATCH") and "json" in request.headers.get("content-type", ""):
                body = await request.body()
                try:
                    load_json_text(body.decode("utf-8"), "<请求体>")
                except UnicodeDecodeError:
                    return _bad_body([{"code": "request.encoding", "message": "请求体须为 UTF-8 编码的 JSON"}])
                except InputError as exc:
                    return _bad_body([ProblemOut.of(p).model_dump() for p in exc.problems])
            return await handler(request)

        return strict


def _bad_body(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"error": "请求格式有误", "problems": problems}, status_code=400)


def _site(kinds: list[str] | None) -> dict[str, Any] | None:
    return {"site.kinds": kinds} if kinds else None


def create_app(engine: Engine | None = None, max_body: int = MAX_BODY_BYTES, register: Any = None, secret: str | bytes | None = None) -> FastAPI:
    """The app; with ``register`` (a :class:`~hazardjudge.register.store.Register`) also the register's
    API under /api/register and its pages under /register, signed with ``secret`` (else
    ``$HAZARDJUDGE_SECRET``, else one generated now: sessions then end with the process)."""
    engine = engine or load()
    engine._evaluator.warm()
    # /docs and /redoc from assets the fastapi-offline package ships: they work without the internet.
    app = FastAPIOffline(
        title="hazardjudge",
        version="0.1.0",
        description="重大事故隐患判定：按检查日期适用的判定标准给出结论、条款依据和待补充的问题。",
    )
    app.router.route_class = StrictJSONRoute  # before any route is declared
    documents = _documents(engine)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    uploads = None
    if register is not None:
        from hazardjudge.service import register_api

        uploads = register_api

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        # Register evidence carries photos: its own, larger bound (each file is checked by the register too).
        limit = uploads.UPLOAD_MAX_BODY if uploads is not None and uploads.is_upload(request.url.path) else max_body
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse({"error": f"请求体过大（上限 {limit} 字节）"}, status_code=413)
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            # Without a declared length the size cannot be bounded before reading: refuse.
            return JSONResponse({"error": "请求须带 Content-Length"}, status_code=411)
        return await call_next(request)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        return JSONResponse({"error": "输入有误", "problems": [ProblemOut.of(p).model_dump() for p in exc.problems]}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"error": "请求格式有误", "problems": _validation_problems(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        return JSONResponse({"error": "内部错误，请联系管理员（已记录）"}, status_code=500)

    def judge_one(req: JudgeRequest) -> JudgeResponse:
        if (req.facts is None) == (req.text is None):
            raise InputError([Problem("request.answers", "请提供 facts（问题编号到回答的映射）或 text（粘贴的回答）之一")])
        on = req.date or clock.today()
        if req.facts is not None:
            # The unit type chosen on the page is an answer too (the checklist leaves it out).
            answers = engine.read({**(_site(req.site_kinds) or {}), **req.facts})
            return JudgeResponse(verdict=engine.judge(answers, on=on, sectors=req.sectors, general_hazards=req.general_hazards))
        # A pasted checklist's own date and sectors apply unless the request gives them.
        answers, pasted = engine.paste(req.text, on=req.date, sectors=req.sectors, site=_site(req.site_kinds))
        if problems := refused(pasted):
            raise InputError(problems)
        hazards = pasted.general_hazards + req.general_hazards
        return JudgeResponse(
            verdict=engine.judge(answers, on=pasted.on or on, sectors=pasted.sectors, general_hazards=hazards),
            input_problems=[ProblemOut.of(p) for p in pasted.problems],
            matches=[MatchOut(line=m.line, fact=m.fact, how=m.how, score=m.score) for m in pasted.matches],
        )

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "bundle": engine.bundle.fingerprint}

    @app.get("/api/sectors", response_model=SiteKindsOut)
    def sectors() -> SiteKindsOut:
        kinds = engine.bundle.facts.get("site.kinds")
        return SiteKindsOut(
            sectors=[SectorOut(id=s, title=loc.model.title, scope_note=loc.model.scope_note) for s, loc in sorted(engine.bundle.sectors.items())],
            site_kinds=dict(kinds.values or {}) if kinds else {},
        )

    @app.get("/api/documents", response_model=list[DocumentOut])
    def list_documents() -> list[DocumentOut]:
        return documents

    @app.post("/api/checklist", response_model=checklists.Checklist)
    def checklist(req: ChecklistRequest) -> checklists.Checklist:
        return checklists.build(engine, req.date or clock.today(), req.sectors, _site(req.site_kinds))

    @app.post("/api/judge", response_model=JudgeResponse)
    def judge(req: JudgeRequest) -> JudgeResponse:
        return judge_one(req)

    @app.post("/api/judge/batch", response_model=list[BatchItem])
    def judge_batch(req: BatchRequest) -> list[BatchItem]:
        out = []
        for raw in req.items:
            try:
                item = JudgeRequest.model_validate(raw)
            except ValidationError as exc:
                out.append(BatchItem(problems=[ProblemOut(**p) for p in _validation_problems(exc.errors())]))
                continue
            try:
                out.append(BatchItem(verdict=judge_one(item).verdict))
            except InputError as exc:
                out.append(BatchItem(problems=[ProblemOut.of(p) for p in exc.problems]))
        return out

    @app.post("/api/notice")
    def notice(req: NoticeRequest) -> Response:
        verdict = judge_one(req.inspection).verdict
        settings = notices.NoticeConfig.model_validate(req.settings.model_dump(exclude={"template_dir"}))
        try:
            notice = notices.build(verdict, settings)
        except notices.NothingToNotice as exc:
            # The judgement succeeded; 409 says there is no document to issue for its outcome, and why.
            return JSONResponse({"error": str(exc), "outcome": exc.outcome.value}, status_code=409)
        if req.format in ("pdf", "docx"):
            return _notice_file(notice, req.format)
        text = notices.render(notice, req.format)
        media = {"html": HTMLResponse, "md": PlainTextResponse, "txt": PlainTextResponse}[req.format]
        return media(text)

    if register is not None:
        from hazardjudge.service import register_pages
        from hazardjudge.service.register_auth import Auth, server_secret

        auth = Auth(register, server_secret(secret))
        register_api.install(app, register, engine, auth, StrictJSONRoute)
        register_pages.install(app, register, engine, auth)

    static = resources.files("hazardjudge.service") / "web"

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"), headers=PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        types = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
        if name not in types:  # a fixed list: no path ever reaches the file system from a request
            return JSONResponse({"error": "未找到"}, status_code=404)
        return Response((static / name).read_text(encoding="utf-8"), media_type=types[name])

    return app


NOTICE_MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _notice_file(notice: notices.Notice, fmt: str) -> Response:
    from urllib.parse import quote

    from hazardjudge.outputs import printing

    try:
        data = printing.pdf(notice) if fmt == "pdf" else printing.docx(notice)
    except printing.PrintingUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    name = quote(f"{notice.title}.{fmt}")
    return Response(data, media_type=NOTICE_MEDIA[fmt], headers={"Content-Disposition": f"attachment; filename=notice.{fmt}; filename*=UTF-8''{name}"})


def _documents(engine: Engine) -> list[DocumentOut]:
    report = {v.key: v for v in coverage.compute(engine)}
    out = []
    for key, version in sorted(engine.bundle.documents.items()):
        sector = next((s for s, loc in engine.bundle.sectors.items() if loc.model.document == version.doc.document), "")
        deciding = report[key].deciding if key in report else []
        out.append(
            DocumentOut(
                sector=sector, document=doc_ref(version), deciding_clauses=len(deciding),
                encoded=sum(bool(c.rules) for c in deciding),
                verified=sum(c.verification == "verified" for c in deciding),
                single_source=sum(c.verification == "single_source" for c in deciding),
                unverified=sum(c.verification == "unverified" for c in deciding),
            )
        )
    return out
