"""The hazard register's web pages under ``/register``: server-rendered forms, no script.

Jinja2 templates from ``register_templates/`` with autoescape on; user text is only ever a
value given to a template, never a template. Login puts a signed session cookie (HttpOnly,
SameSite=Lax) that also carries a CSRF token; every POST form sends it back and a POST without
it, or with another, is refused (403) before anything is read from the register. What a page
offers follows the user's role and the hazard's state; the register checks both again.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from hazardjudge import clock
from hazardjudge.api import Engine
from hazardjudge.errors import InputError
from hazardjudge.register import reports, spot_items
from hazardjudge.register.errors import AuthenticationError, InvalidInput, RegisterError
from hazardjudge.register.models import GRADE_ZH, ORIGIN_ZH, ROLE_ZH, STATUS_ZH, Grade, Origin, Role, Source, Status
from hazardjudge.register.store import PERMISSIONS, Register
from hazardjudge.register.views import Actor, HazardDetail, HazardFilter, HazardUpdate, InspectorIn
from hazardjudge.service.register_api import (
    MAX_FILES,
    JudgeAndRecord,
    attachment_response,
    judge_and_record,
    parse_month,
    read_files,
    report_response,
    status_of,
)
from hazardjudge.service.register_auth import SESSION_COOKIE, SESSION_MAX_AGE, Auth, Session

PAGE_SIZE = 50
#: no script at all; inline styles for the print layout and the SVG charts; forms post only here
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
#: what a successful action says on the page it returns to (fixed text: nothing from the request)
DONE = {
    "update": "已保存五落实和整改期限", "evidence": "已提交整改材料，待复查", "review_pass": "已登记复查通过",
    "review_fail": "已登记复查不通过，隐患退回整改", "close": "已销号", "supervise": "已挂牌督办",
    "dual_report": "已登记双报告", "suspend": "已登记停产停业整顿", "void": "已作废", "recorded": "已判定并登记",
}
STATUS_FILTERS = [(s.value, STATUS_ZH[s]) for s in Status]
RECIPIENT_ZH = {"department": "监管部门", "workers_congress": "职代会"}

#: the audit log's field names and coded values, as a person reads them
FIELD_ZH = {
    "grade": "等级", "status": "状态", "citation": "依据条款", "description": "隐患描述", "location": "部位",
    "responsible": "责任", "measures": "措施", "funds": "资金", "time_limit": "时限", "plan": "预案", "deadline": "整改期限",
    "evidence": "整改材料", "review": "复查", "closed_on": "销号日期", "authority": "督办单位", "document_number": "文号",
    "listed_on": "挂牌日期", "due_on": "要求完成日期", "delisted_on": "摘牌日期", "recipient": "报告对象", "reported_on": "报告日期",
    "ordered_on": "责令日期", "lifted_on": "恢复日期", "voided": "作废", "unit_id": "单位编号", "inspected_on": "检查日期",
    "filename": "文件名", "sha256": "SHA-256", "evidence_id": "整改材料编号", "inspection_id": "检查记录编号",
}
_VALUE_ZH: dict[str, dict[Any, str]] = {
    "status": {s.value: STATUS_ZH[s] for s in Status},
    "grade": {g.value: GRADE_ZH[g] for g in Grade},
    "review": {"passed": "通过", "failed": "不通过"},
    "recipient": RECIPIENT_ZH,
    "voided": {True: "是", False: "否"},
}


def changes_zh(changes: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, before, after) in Chinese; a field unchanged (both empty) is left out."""
    out = []
    for key, value in changes.items():
        before, after = value if isinstance(value, list) and len(value) == 2 else (None, value)
        if before == after:
            continue
        names = _VALUE_ZH.get(key, {})
        show = lambda v: "—" if v is None or v == "" else names.get(v, str(v)) if not isinstance(v, list) else "、".join(map(str, v))  # noqa: E731
        out.append((FIELD_ZH.get(key, key), show(before), show(after)))
    return out


def china_time(t: dt.datetime) -> str:
    """A stored instant as China's wall-clock time (SQLite hands back naive UTC)."""
    aware = t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M")


_env = Environment(
    loader=PackageLoader("hazardjudge.service", "register_templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True, lstrip_blocks=True,
)
_env.filters.update(changes_zh=changes_zh, china_time=china_time)
_env.globals.update(STATUS_ZH=STATUS_ZH, GRADE_ZH=GRADE_ZH, ORIGIN_ZH=ORIGIN_ZH, ROLE_ZH=ROLE_ZH, RECIPIENT_ZH=RECIPIENT_ZH)


def _render(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(name).render(**context), status_code=code, headers=PAGE_HEADERS)


def error_page(request: Request, exc: RegisterError, status: int) -> Response:
    """A register error on a page: to the login page when not (or no longer) logged in, else the message."""
    if status == 401:
        return _to_login(request)
    ctx = getattr(request.app.state, "register_pages", None)
    me = ctx.auth.actor_of(ctx.auth.load_session(request.cookies.get(SESSION_COOKIE))) if ctx else None
    return _render("error.html.j2", status, me=me, session=None, title="操作未完成", problems=exc.problems, status=status)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/register/login?" + urlencode({"next": target}), status_code=303)


def _safe_next(value: str | None) -> str:
    # Only a path of these pages: never another site (an open redirect) nor a scheme-relative //host.
    if value and value.startswith("/register") and not value.startswith("//") and "\\" not in value:
        return value
    return "/register"


def _date(form: FormData, key: str, required: bool = False, label: str = "日期") -> dt.date | None:
    raw = str(form.get(key) or "").strip()
    if not raw:
        if required:
            raise InvalidInput.one("register.date_required", f"请填写{label}")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.one("register.date", f"{label}“{raw[:20]}”无法识别，请写成 YYYY-MM-DD") from None


def _int(form: FormData, key: str) -> int | None:
    raw = str(form.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput.one("register.number", f"“{raw[:20]}”不是整数")
    return int(raw)


def _str(form: FormData, key: str) -> str | None:
    value = form.get(key)
    if isinstance(value, UploadFile) or value is None:
        return None
    return str(value).strip() or None


def _can(me: Actor, permission: str) -> bool:
    return me.role in PERMISSIONS[permission]


def actions(me: Actor, h: HazardDetail) -> dict[str, bool]:
    """The forms the hazard page offers this user now (the register checks every one again)."""
    live = not h.voided and h.status is not Status.closed
    major = h.grade is Grade.major
    reported = {r.recipient for r in h.dual_reports}
    return {
        "update": live and _can(me, "hazard.update"),
        "evidence": live and _can(me, "hazard.evidence"),
        "review": live and h.status is Status.pending_review and not h.review_passed and _can(me, "hazard.review"),
        "close": live and _can(me, "hazard.close") and (not major or h.review_passed)
        and (not h.supervised or me.role is Role.supervisor),
        "supervise": live and major and not h.supervised and _can(me, "hazard.supervise"),
        "dual_report": not h.voided and major and len(reported) < 2 and _can(me, "hazard.dual_report"),
        "suspend": live and _can(me, "hazard.suspend"),
        "void": not h.voided and _can(me, "void"),
    }


# --------------------------------------------------------------------------- charts (inline SVG, drawn here)


def month_chart(counts: list[reports.MonthCounts]) -> dict[str, Any]:
    """Bars of found and 销号 per month, a line of open at each month's end: coordinates for the template."""
    width, height, left, bottom, top = 640, 240, 40, 30, 20
    peak = max([1] + [max(c.found, c.closed, c.open_at_end) for c in counts])
    step = _nice(peak)
    scale_max = step * math.ceil(peak / step)
    inner_h = height - bottom - top
    slot = (width - left - 10) / 12

    def y(v: int) -> float:
        return round(top + inner_h * (1 - v / scale_max), 1)

    bars, points = [], []
    for i, c in enumerate(counts):
        x0 = left + i * slot
        bars.append({"month": c.month, "x_found": round(x0 + slot * 0.15, 1), "x_closed": round(x0 + slot * 0.5, 1),
                     "w": round(slot * 0.35, 1), "y_found": y(c.found), "y_closed": y(c.closed),
                     "h_found": round(y(0) - y(c.found), 1), "h_closed": round(y(0) - y(c.closed), 1),
                     "found": c.found, "closed": c.closed, "open": c.open_at_end, "label_x": round(x0 + slot / 2, 1)})
        points.append(f"{round(x0 + slot / 2, 1)},{y(c.open_at_end)}")
    ticks = [{"v": v, "y": y(v)} for v in range(0, scale_max + 1, step)]
    return {"w": width, "h": height, "left": left, "base": y(0), "bars": bars, "line": " ".join(points), "ticks": ticks}


def sector_chart(rows: list[tuple[str, int]], titles: dict[str, str]) -> dict[str, Any]:
    width, bar_h, gap, left = 640, 18, 8, 160
    peak = max([1] + [n for _, n in rows])
    out = []
    for i, (sector, n) in enumerate(rows):
        out.append({"label": titles.get(sector, sector), "n": n, "y": i * (bar_h + gap) + 4,
                    "w": round((width - left - 60) * n / peak, 1)})
    return {"w": width, "h": max(1, len(rows)) * (bar_h + gap) + 8, "left": left, "bar_h": bar_h, "rows": out}


def _nice(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if peak / step <= 6:
            return step
    return 10 ** len(str(peak))


# --------------------------------------------------------------------------- the pages


class Pages:
    def __init__(self, reg: Register, engine: Engine, auth: Auth) -> None:
        self.reg, self.engine, self.auth = reg, engine, auth
        self.sector_titles = {s: loc.model.title for s, loc in engine.bundle.sectors.items()}

    def session(self, request: Request) -> tuple[Session | None, Actor | None]:
        s = self.auth.load_session(request.cookies.get(SESSION_COOKIE))
        return s, self.auth.actor_of(s)

    def page(self, request: Request, name: str, me: Actor, session: Session, code: int = 200, **context: Any) -> HTMLResponse:
        done = DONE.get(request.query_params.get("done", ""))
        return _render(name, code, me=me, session=session, csrf=session.csrf, done=done,
                       sector_titles=self.sector_titles, can=lambda p: _can(me, p), **context)

    def set_cookie(self, response: Response, request: Request, session: Session) -> Response:
        response.set_cookie(
            SESSION_COOKIE, self.auth.dump_session(session), max_age=SESSION_MAX_AGE, path="/",
            httponly=True, samesite="lax", secure=request.url.scheme == "https",
        )
        return response


def install(app: FastAPI, reg: Register, engine: Engine, auth: Auth) -> None:
    pages = Pages(reg, engine, auth)
    app.state.register_pages = pages
    app.state.register_error_page = error_page

    def logged_in(request: Request) -> tuple[Session, Actor] | None:
        s, me = pages.session(request)
        return (s, me) if s is not None and me is not None else None

    async def posted(request: Request) -> tuple[FormData, Session, Actor] | Response:
        """The form of a POST, once its CSRF token matched the session's; else the refusal to send."""
        s, me = pages.session(request)
        form = await request.form(max_files=MAX_FILES + 1, max_fields=100)  # the inspection file and its photos
        if not auth.csrf_ok(s, _str(form, "csrf")):
            return _render("error.html.j2", 403, me=me, session=None, title="请求被拒绝", status=403,
                           problems=[InvalidInput.one("register.csrf", "表单已失效或来源不明（缺少有效的 CSRF 令牌），请刷新页面后重试").problems[0]])
        if me is None:
            return _to_login(request)
        return form, s, me

    # ---- login

    @app.get("/register/login", include_in_schema=False)
    def login_page(request: Request, next: str | None = None) -> Response:
        s, me = pages.session(request)
        s = s or auth.new_session()
        response = _render("login.html.j2", me=None, session=s, csrf=s.csrf, next=_safe_next(next), error=None)
        return pages.set_cookie(response, request, s)

    @app.post("/register/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        s, _ = pages.session(request)
        form = await request.form(max_files=0, max_fields=10)
        nxt = _safe_next(_str(form, "next"))
        if not auth.csrf_ok(s, _str(form, "csrf")):
            s = auth.new_session()
            r = _render("login.html.j2", 403, me=None, session=s, csrf=s.csrf, next=nxt, error="表单已失效，请重新登录")
            return pages.set_cookie(r, request, s)
        try:
            who = await run_in_threadpool(auth.reg.authenticate, _str(form, "username") or "", str(form.get("password") or ""))
        except AuthenticationError as exc:
            return _render("login.html.j2", 401, me=None, session=s, csrf=s.csrf, next=nxt, error=exc.problems[0].message)
        # A new session (and CSRF token) at login: one planted before it is worth nothing after.
        return pages.set_cookie(RedirectResponse(nxt, status_code=303), request, auth.new_session(who))

    @app.post("/register/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        response = RedirectResponse("/register/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ---- the register list

    @app.get("/register", include_in_schema=False)
    def register_list(request: Request) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        s, me = who
        q = request.query_params
        status = [x for x in q.getlist("status") if x in {st.value for st in Status}]
        grade = q.get("grade") if q.get("grade") in {g.value for g in Grade} else None
        overdue = {"1": True, "0": False}.get(q.get("overdue", ""))
        supervised = {"1": True, "0": False}.get(q.get("supervised", ""))
        unit_id = int(q["unit_id"]) if q.get("unit_id", "").isdigit() else None
        text = (q.get("text") or "").strip()[:200] or None
        town, village, sector = ((q.get(k) or "").strip()[:100] or None for k in ("town", "village", "sector"))
        page_no = int(q["page"]) if q.get("page", "").isdigit() and int(q["page"]) > 0 else 1
        f = HazardFilter(status=status or None, grade=grade, overdue=overdue, supervised=supervised, unit_id=unit_id,
                         text=text, town=town, village=village, sector=sector)
        page = reg.list_hazards(me, f, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
        units = reg.list_units(me)
        kept = [(k, v) for k, v in q.multi_items() if k != "page"]
        pages_total = max(1, math.ceil(page.total / PAGE_SIZE))
        link = lambda n: "/register?" + urlencode(kept + [("page", str(n))])  # noqa: E731
        return pages.page(request, "list.html.j2", me, s, title="隐患台账", page=page, units=units, q=q,
                          status=status, statuses=STATUS_FILTERS, page_no=page_no, pages_total=pages_total, link=link,
                          towns=sorted({u.town for u in units if u.town}), villages=sorted({u.village for u in units if u.village}))

    # ---- one hazard

    @app.get("/register/hazards/{hazard_id}", include_in_schema=False)
    def hazard_page(request: Request, hazard_id: int) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        s, me = who
        h = reg.get_hazard(me, hazard_id)
        return pages.page(request, "hazard.html.j2", me, s, title=f"隐患 {h.id}", h=h, allowed=actions(me, h),
                          today=reg.today())

    def hazard_action(name: str, run: Callable[[FormData, Actor, int], Any]) -> None:
        async def handler(request: Request, hazard_id: int) -> Response:
            got = await posted(request)
            if isinstance(got, Response):
                return got
            form, s, me = got
            try:
                done = await run_in_threadpool(run, form, me, hazard_id)
            except RegisterError as exc:
                # The hazard page again, with what went wrong; the forms show the current version.
                status = status_of(exc)
                if status in (401, 404):
                    raise
                h = await run_in_threadpool(reg.get_hazard, me, hazard_id)
                return pages.page(request, "hazard.html.j2", me, s, code=status, title=f"隐患 {h.id}", h=h,
                                  allowed=actions(me, h), today=reg.today(), problems=exc.problems)
            return RedirectResponse(f"/register/hazards/{hazard_id}?done={done or name}", status_code=303)

        app.add_api_route(f"/register/hazards/{{hazard_id}}/{name}", handler, methods=["POST"], include_in_schema=False)

    def version(form: FormData) -> int | None:
        return _int(form, "expected_version")

    def do_update(form: FormData, me: Actor, hid: int) -> None:
        fields = {k: _str(form, k) for k in ("responsible", "measures", "funds", "time_limit", "plan")}
        changes = HazardUpdate(**{k: v for k, v in fields.items() if v is not None},
                               deadline=_date(form, "deadline", label="整改期限"), deadline_days=_int(form, "deadline_days"))
        reg.update(me, hid, changes, expected_version=version(form), reason=_str(form, "reason"))

    def do_evidence(form: FormData, me: Actor, hid: int) -> None:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        reg.submit_evidence(me, hid, _str(form, "note") or "", read_files(files), expected_version=version(form))

    def do_review(form: FormData, me: Actor, hid: int) -> str:
        passed = _str(form, "passed") == "1"
        reg.review(me, hid, passed, _date(form, "on", label="复查日期"), _str(form, "remarks"), expected_version=version(form))
        return "review_pass" if passed else "review_fail"

    def do_close(form: FormData, me: Actor, hid: int) -> None:
        reg.close(me, hid, _date(form, "on", label="销号日期"), _str(form, "reason"), expected_version=version(form))

    def do_supervise(form: FormData, me: Actor, hid: int) -> None:
        reg.supervise(me, hid, _str(form, "authority") or "", _str(form, "document_number") or "",
                      _date(form, "listed_on", True, "挂牌日期"), _date(form, "due_on", label="要求完成日期"), expected_version=version(form))

    def do_dual(form: FormData, me: Actor, hid: int) -> None:
        reg.dual_report(me, hid, _str(form, "recipient") or "", _str(form, "recipient_name") or "", _date(form, "reported_on", True, "报告日期"))

    def do_suspend(form: FormData, me: Actor, hid: int) -> None:
        reg.order_suspension(me, hid, _date(form, "ordered_on", True, "责令日期"), _str(form, "document_number"), _str(form, "scope"))

    def do_void(form: FormData, me: Actor, hid: int) -> None:
        reg.void(me, hid, _str(form, "reason") or "", expected_version=version(form))

    for name, run in (("update", do_update), ("evidence", do_evidence), ("review", do_review), ("close", do_close),
                      ("supervise", do_supervise), ("dual_report", do_dual), ("suspend", do_suspend), ("void", do_void)):
        hazard_action(name, run)

    # ---- inspections

    @app.get("/register/inspections", include_in_schema=False)
    def inspections_page(request: Request) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        s, me = who
        year, month = parse_month(request.query_params.get("month"), reg.today())
        rows = reg.list_inspections(me, dt.date(year, month, 1), reports.month_end(year, month))
        return pages.page(request, "inspections.html.j2", me, s, title="检查记录", rows=rows, units=reg.list_units(me),
                          month=f"{year}-{month:02d}", today=reg.today(), problems=None, form={})

    @app.post("/register/inspections", include_in_schema=False)
    async def record(request: Request) -> Response:
        got = await posted(request)
        if isinstance(got, Response):
            return got
        form, s, me = got
        upload = form.get("file")
        try:
            document = _str(form, "document")
            name = None
            if isinstance(upload, UploadFile) and upload.filename:
                from hazardjudge.engine.yamlio import MAX_FILE_BYTES

                raw = await upload.read(MAX_FILE_BYTES + 1)
                if len(raw) > MAX_FILE_BYTES:
                    raise InvalidInput.one("register.file_size", f"检查记录文件过大（上限 {MAX_FILE_BYTES} 字节）")
                try:
                    document, name = raw.decode("utf-8"), upload.filename[:200]
                except UnicodeDecodeError:
                    raise InvalidInput.one("register.file_encoding", "检查记录文件须为 UTF-8 编码的 YAML 或 JSON") from None
            inspectors = []
            for line in (_str(form, "inspectors") or "").splitlines():
                if line.strip():
                    person, sep, cert = line.replace("：", ":").partition(":")
                    if not sep or not person.strip() or not cert.strip():
                        raise InvalidInput.one("register.inspector", f"检查人员“{line.strip()[:40]}”须写成 姓名:执法证号")
                    inspectors.append(InspectorIn(name=person.strip(), certificate=cert.strip()))
            origin = Origin.self_check if _str(form, "origin") == Origin.self_check.value else Origin.inspection
            req = JudgeAndRecord(unit_id=_int(form, "unit_id"), document=document, origin=origin, inspectors=inspectors,
                                 location=_str(form, "location"), remarks=_str(form, "remarks"), date=_date(form, "date", label="检查日期"),
                                 town=_str(form, "town"), village=_str(form, "village"))
            photos = read_files([f for f in form.getlist("photos") if isinstance(f, UploadFile)])
            filed, _ = await run_in_threadpool(judge_and_record, reg, engine, me, req, Source.web, name, photos)
        except (RegisterError, InputError) as exc:
            status = status_of(exc) if isinstance(exc, RegisterError) else 422
            if status in (401,):
                raise
            year, month = reg.today().year, reg.today().month
            rows = await run_in_threadpool(reg.list_inspections, me, dt.date(year, month, 1), reports.month_end(year, month))
            units = await run_in_threadpool(reg.list_units, me)
            return pages.page(request, "inspections.html.j2", me, s, code=status, title="检查记录", rows=rows, units=units,
                              month=f"{year}-{month:02d}", today=reg.today(), problems=exc.problems,
                              form={k: _str(form, k) or "" for k in ("document", "inspectors", "location", "remarks", "town", "village", "unit_id", "date", "origin")})
        return RedirectResponse(f"/register/inspections/{filed.inspection.id}?done=recorded", status_code=303)

    @app.get("/register/inspections/{inspection_id}", include_in_schema=False)
    def inspection_page(request: Request, inspection_id: int) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        s, me = who
        insp = reg.get_inspection(me, inspection_id)
        verdicts = [reg.get_verdict(me, v) for v in insp.verdict_ids]
        outcome = {"major": "存在重大事故隐患", "none": "未发现重大事故隐患", "undetermined": "无法判定（尚有问题待回答）"}
        hazards = [reg.get_hazard(me, h) for h in insp.hazard_ids[:200]]
        return pages.page(request, "inspection.html.j2", me, s, title=f"检查记录 {insp.id}", insp=insp, verdicts=verdicts,
                          outcome=outcome, hazards=hazards)

    # ---- reports and charts

    @app.get("/register/reports", include_in_schema=False)
    def reports_page(request: Request) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        s, me = who
        month = request.query_params.get("month")
        try:
            year, mon = parse_month(month, reg.today())
        except InvalidInput as exc:
            year, mon = reg.today().year, reg.today().month
            problems = exc.problems
        else:
            problems = None
        table = reports.dispatch_table(reg, me, year, mon)
        rows = reports.inspection_table(reg, me, year, mon)
        chart = month_chart(reports.open_closed_by_month(reg, me, year))
        overdue = sector_chart(reports.overdue_by_sector(reg, me), pages.sector_titles)
        items = spot_items.load()
        return pages.page(request, "reports.html.j2", me, s, title=f"报表（{year}年{mon}月）", t=table, rows=reports.DISPATCH_ROWS,
                          spot=items, unknown_caption=reports.SPOT_UNKNOWN_CAPTION,
                          inspections=rows, columns=reports.INSPECTION_COLUMNS, month=f"{year}-{mon:02d}", year=year, mon=mon,
                          chart=chart, overdue=overdue, problems=problems)

    @app.get("/register/reports/{kind}.{fmt}", include_in_schema=False)
    def report_download(request: Request, kind: str, fmt: str) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        if kind not in ("dispatch", "inspections", "export") or fmt not in ("xlsx", "html"):
            return _render("error.html.j2", 404, me=who[1], session=None, title="未找到", status=404, problems=[])
        return report_response(reg, who[1], kind, request.query_params.get("month"), fmt)

    @app.get("/register/attachments/{attachment_id}", include_in_schema=False)
    def attachment(request: Request, attachment_id: int) -> Response:
        who = logged_in(request)
        if who is None:
            return _to_login(request)
        return attachment_response(reg, who[1], attachment_id)
