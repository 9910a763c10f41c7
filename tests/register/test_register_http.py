"""The register over HTTP (FastAPI TestClient), on SQLite and on PostgreSQL: auth, roles, CSRF, conflicts, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hazardjudge.register import UnitIn

ROOT = Path(__file__).resolve().parents[2]
HOTEL = (ROOT / "examples" / "fire_hotel.yaml").read_text(encoding="utf-8")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>{{ 7*7 }}'


@pytest.fixture(scope="module")
def engine():
    from hazardjudge.api import load

    return load()


@pytest.fixture
def app(reg, engine):
    from hazardjudge.service.app import create_app

    return create_app(engine, register=reg, secret="test-secret-" + "x" * 20)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(reg, boss):
    """Two enterprises, a user of each, an inspector and a viewer; one hazard in each enterprise."""
    from hazardjudge.register import HazardIn

    a = reg.add_unit(boss, UnitIn(name="甲公司", town="城关镇", village="东风社区", sector="fire"))
    b = reg.add_unit(boss, UnitIn(name="乙公司", town="城关镇", village="西山村", sector="city_gas"))
    reg.add_user(boss, "ent_a", "ent-a-pass-1", "enterprise", unit_ids=[a.id])
    reg.add_user(boss, "ent_b", "ent-b-pass-1", "enterprise", unit_ids=[b.id])
    reg.add_user(boss, "insp", "insp-pass-1", "inspector")
    reg.add_user(boss, "view", "view-pass-1", "viewer")
    import datetime as dt

    ha = reg.add_hazard(boss, HazardIn(unit_id=a.id, grade="major", found_on=dt.date(2026, 11, 2), description="甲的隐患"))
    hb = reg.add_hazard(boss, HazardIn(unit_id=b.id, grade="major", found_on=dt.date(2026, 11, 3), description="乙的隐患"))
    return {"a": a, "b": b, "ha": ha, "hb": hb}


PASSWORDS = {"admin": "admin-pass-1", "ent_a": "ent-a-pass-1", "ent_b": "ent-b-pass-1", "insp": "insp-pass-1", "view": "view-pass-1"}


def bearer(client, user: str) -> dict[str, str]:
    r = client.post("/api/register/token", json={"username": user, "password": PASSWORDS[user]})
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def login(client, user: str) -> None:
    page = client.get("/register/login")
    r = client.post("/register/login", data={"csrf": csrf_of(page.text), "username": user, "password": PASSWORDS[user], "next": "/register"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


# --------------------------------------------------------------------------- API


def test_every_api_call_needs_a_valid_token(client, world):
    for method, path in [("get", "/api/register/hazards"), ("get", f"/api/register/hazards/{world['ha'].id}"), ("get", "/api/register/units"),
                         ("post", f"/api/register/hazards/{world['ha'].id}/close"), ("get", "/api/register/reports/dispatch?month=2026-11")]:
        r = getattr(client, method)(path, **({"json": {}} if method == "post" else {}))
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert "登录" in r.json()["error"]
    assert client.get("/api/register/hazards", headers={"Authorization": "Bearer forged.token.value"}).status_code == 401
    r = client.post("/api/register/token", json={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"] == "用户名或密码不正确"


def test_a_token_signed_with_another_secret_is_refused(client, world, reg, engine):
    from hazardjudge.service.app import create_app

    other = TestClient(create_app(engine, register=reg, secret="another-secret-" + "y" * 20))
    token = bearer(other, "admin")
    assert client.get("/api/register/me", headers=token).status_code == 401
    assert other.get("/api/register/me", headers=token).json()["username"] == "admin"


def test_an_enterprise_user_sees_only_its_own_hazards(client, world):
    a = bearer(client, "ent_a")
    listed = client.get("/api/register/hazards", headers=a).json()
    assert [h["id"] for h in listed["items"]] == [world["ha"].id] and listed["total"] == 1
    # Another enterprise's hazard answers exactly like one that does not exist.
    other = client.get(f"/api/register/hazards/{world['hb'].id}", headers=a)
    missing = client.get("/api/register/hazards/999999", headers=a)
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"] == "没有找到该记录"
    assert client.patch(f"/api/register/hazards/{world['hb'].id}", json={"responsible": "某人"}, headers=a).status_code == 404
    assert client.get(f"/api/register/units/{world['b'].id}", headers=a).status_code == 404
    assert [u["name"] for u in client.get("/api/register/units", headers=a).json()] == ["甲公司"]


def test_a_viewer_reads_but_cannot_write(client, world):
    v = bearer(client, "view")
    hid = world["ha"].id
    assert client.get(f"/api/register/hazards/{hid}", headers=v).status_code == 200
    for path, body in [(f"/api/register/hazards/{hid}/close", {}), (f"/api/register/hazards/{hid}/review", {"passed": True}),
                       (f"/api/register/hazards/{hid}/supervise", {"authority": "县应急局", "document_number": "督〔2026〕1号", "listed_on": "2026-11-05"})]:
        r = client.post(path, json=body, headers=v)
        assert r.status_code == 403, (path, r.text)
        assert "只读用户无权" in r.json()["error"]
    assert client.patch(f"/api/register/hazards/{hid}", json={"responsible": "某人"}, headers=v).status_code == 403
    assert client.post("/api/register/units", json={"name": "丙公司"}, headers=v).status_code == 403


def test_a_write_on_a_stale_version_is_409_with_the_current_version(client, world):
    t = bearer(client, "insp")
    hid = world["ha"].id
    first = client.patch(f"/api/register/hazards/{hid}", json={"responsible": "张总", "expected_version": 1}, headers=t)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(f"/api/register/hazards/{hid}", json={"responsible": "李总", "expected_version": 1}, headers=t)
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and "已被他人修改" in stale.json()["error"]
    assert client.get(f"/api/register/hazards/{hid}", headers=t).json()["responsible"] == "张总"


def test_bad_input_is_422_in_chinese(client, world):
    t = bearer(client, "insp")
    hid = world["ha"].id
    assert client.post(f"/api/register/hazards/{hid}/review", json={"passed": "maybe"}, headers=t).status_code == 422
    r = client.post(f"/api/register/hazards/{hid}/void", json={"reason": "  "}, headers=t)
    assert r.status_code == 422 and r.json()["error"] == "作废须写明原因"
    r = client.get("/api/register/reports/dispatch?month=2026-13", headers=t)
    assert r.status_code == 422 and "YYYY-MM" in r.json()["error"]
    r = client.post(f"/api/register/hazards/{hid}/evidence", data={"note": "见附件"}, files=[("files", ("a.exe", b"MZ\x90\x00", "image/png"))], headers=t)
    assert r.status_code == 422 and "类型不受支持" in r.json()["error"]
    r = client.post("/api/register/inspections", json={"facts": {"fire.in_scope": "也许吧"}, "unit_id": world["a"].id, "sectors": ["fire"]}, headers=t)
    assert r.status_code == 422, r.text
    # A workflow step the state does not allow: 409, the message says why.
    r = client.post(f"/api/register/hazards/{hid}/close", json={}, headers=t)
    assert r.status_code == 409 and "整改材料" in r.json()["error"]


def test_the_whole_loop_over_the_api(client, world):
    boss, t, ent = bearer(client, "admin"), bearer(client, "insp"), bearer(client, "ent_a")
    r = client.post("/api/register/inspections", json={"document": HOTEL, "unit_id": world["a"].id,
                                                       "inspectors": [{"name": "张三", "certificate": "FJ-001"}]}, headers=t)
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["verdict"]["outcome"] == "major"
    major = next(h for h in filed["hazards"] if h["grade"] == "major")
    hid, ver = major["id"], major["version"]
    assert "GB 35181" in major["citation"]
    r = client.patch(f"/api/register/hazards/{hid}", json={"responsible": "总经理", "measures": "拆除广告牌", "deadline_days": 10, "expected_version": ver}, headers=ent)
    assert r.status_code == 200 and r.json()["status"] == "rectifying"
    assert client.post(f"/api/register/hazards/{hid}/supervise", json={"authority": "县消防救援大队", "document_number": "督〔2026〕7号", "listed_on": "2026-11-21"}, headers=t).status_code == 403
    r = client.post(f"/api/register/hazards/{hid}/supervise", json={"authority": "县消防救援大队", "document_number": "督〔2026〕7号", "listed_on": "2026-11-21"}, headers=boss)
    assert r.status_code == 200 and r.json()["supervised"]
    for recipient in ("department", "workers_congress"):
        assert client.post(f"/api/register/hazards/{hid}/dual-report", json={"recipient": recipient, "recipient_name": "某单位", "reported_on": "2026-11-21"}, headers=ent).status_code == 200
    r = client.post(f"/api/register/hazards/{hid}/evidence", data={"note": "已拆除"}, files=[("files", ("现场.png", PNG, "image/png"))], headers=ent)
    assert r.status_code == 200 and r.json()["status"] == "pending_review"
    r = client.post(f"/api/register/hazards/{hid}/review", json={"passed": True, "on": "2026-11-23"}, headers=t)
    assert r.status_code == 200 and r.json()["review_passed"]
    # Under 挂牌督办: 销号 also 摘牌s, a supervisor's call.
    assert client.post(f"/api/register/hazards/{hid}/close", json={"on": "2026-11-24"}, headers=t).status_code == 403
    r = client.post(f"/api/register/hazards/{hid}/close", json={"on": "2026-11-24"}, headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "closed" and not r.json()["supervised"]
    detail = client.get(f"/api/register/hazards/{hid}", headers=ent).json()
    assert [a["action"] for a in detail["history"]][-1] == "close"
    att = detail["evidence"][0]["attachments"][0]
    got = client.get(f"/api/register/attachments/{att['id']}", headers=ent)
    assert got.content == PNG and got.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/api/register/attachments/{att['id']}", headers=bearer(client, "ent_b")).status_code == 404
    d = client.get("/api/register/reports/dispatch?month=2026-11", headers=boss).json()
    # 排查 majors: the two by hand (one each enterprise) + the hotel's; one done; one listed, done.
    assert d["total"][2:] == [3, 1, 1, 1]
    listed = client.get("/api/register/hazards", params={"status": "closed", "grade": "major"}, headers=boss).json()
    assert [h["id"] for h in listed["items"]] == [hid]
    x = client.get("/api/register/reports/dispatch?month=2026-11&format=xlsx", headers=boss)
    assert x.status_code == 200 and x.content[:2] == b"PK"
    rows = client.get("/api/register/reports/inspections?month=2026-11", headers=boss).json()["rows"]
    assert rows[0]["unit"] == "甲公司" and rows[0]["majors"].startswith("有")


def test_list_filters_and_paging(client, world, reg, boss):
    import datetime as dt

    from hazardjudge.register import HazardIn, HazardUpdate

    for i in range(5):
        h = reg.add_hazard(boss, HazardIn(unit_id=world["a"].id, grade="general", found_on=dt.date(2026, 10, 1), description=f"一般{i}"))
        if i < 2:
            reg.update(boss, h.id, HazardUpdate(deadline=dt.date(2026, 10, 20)))
    t = bearer(client, "view")
    page = client.get("/api/register/hazards", params={"limit": 3, "offset": 0}, headers=t).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    assert client.get("/api/register/hazards", params={"limit": 3, "offset": 6}, headers=t).json()["items"][0]["id"] == world["ha"].id
    assert client.get("/api/register/hazards", params={"overdue": "true"}, headers=t).json()["total"] == 2
    assert client.get("/api/register/hazards", params={"sector": "city_gas"}, headers=t).json()["total"] == 1
    assert client.get("/api/register/hazards", params={"village": "东风社区", "grade": "major"}, headers=t).json()["total"] == 1
    assert client.get("/api/register/hazards", params={"unit_id": world["b"].id}, headers=t).json()["total"] == 1
    assert client.get("/api/register/hazards", params={"status": ["found", "rectifying"]}, headers=t).json()["total"] == 7
    assert client.get("/api/register/hazards", params={"status": "nonsense"}, headers=t).status_code == 422


# --------------------------------------------------------------------------- pages


def test_pages_need_login_and_posts_need_the_csrf_token(client, world):
    r = client.get(f"/register/hazards/{world['ha'].id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/register/login")
    # Login itself is CSRF-protected: a post with no token (another site's form) is refused.
    r = client.post("/register/login", data={"username": "admin", "password": "admin-pass-1"}, follow_redirects=False)
    assert r.status_code == 403
    login(client, "insp")
    page = client.get(f"/register/hazards/{world['ha'].id}")
    assert page.status_code == 200 and 'id="form-update"' in page.text
    for data in ({"responsible": "某人", "expected_version": "1"}, {"responsible": "某人", "expected_version": "1", "csrf": "forged"}):
        r = client.post(f"/register/hazards/{world['ha'].id}/update", data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
    h = client.get(f"/api/register/hazards/{world['ha'].id}", headers=bearer(client, "insp")).json()
    assert h["responsible"] is None and h["version"] == 1  # nothing was written
    r = client.post(f"/register/hazards/{world['ha'].id}/update", data={"responsible": "某人", "expected_version": "1", "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert "已保存五落实" in client.get(r.headers["location"]).text
    # The same form again, now stale: 409 and the page says so.
    r = client.post(f"/register/hazards/{world['ha'].id}/update", data={"responsible": "别人", "expected_version": "1", "csrf": csrf_of(page.text)})
    assert r.status_code == 409 and "已被他人修改" in r.text


def test_the_session_cookie_is_httponly_and_samesite(client, world):
    page = client.get("/register/login")
    r = client.post("/register/login", data={"csrf": csrf_of(page.text), "username": "admin", "password": "admin-pass-1"}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    # Never to another site after login.
    page = client.get("/register/login")
    r = client.post("/register/login", data={"csrf": csrf_of(page.text), "username": "admin", "password": "admin-pass-1", "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/register"


def test_pages_keep_enterprises_apart_and_offer_only_allowed_forms(client, world):
    login(client, "ent_a")
    assert client.get(f"/register/hazards/{world['hb'].id}").status_code == 404
    mine = client.get(f"/register/hazards/{world['ha'].id}").text
    assert 'id="form-update"' in mine and 'id="form-evidence"' in mine and 'id="form-dual"' in mine
    assert 'id="form-supervise"' not in mine and 'id="form-close"' not in mine and 'id="form-review"' not in mine
    listed = client.get("/register").text
    assert "甲的隐患" in listed and "乙的隐患" not in listed
    # A form the page did not offer, posted anyway: the register refuses it.
    r = client.post(f"/register/hazards/{world['ha'].id}/supervise", data={"csrf": csrf_of(mine), "authority": "x", "document_number": "y", "listed_on": "2026-11-05"})
    assert r.status_code == 403
    client.cookies.clear()
    login(client, "view")
    seen = client.get(f"/register/hazards/{world['ha'].id}").text
    assert "<form method=\"post\" action=\"/register/hazards/" not in seen


def test_hostile_text_is_escaped_on_every_page(client, world, reg, boss):
    import datetime as dt

    from hazardjudge.register import HazardIn

    unit = reg.add_unit(boss, UnitIn(name=HOSTILE, town="<b>镇</b>", village="村", sector="fire"))
    h = reg.add_hazard(boss, HazardIn(unit_id=unit.id, grade="major", found_on=dt.date(2026, 11, 4), description=HOSTILE, location=HOSTILE))
    login(client, "admin")
    for path in (f"/register/hazards/{h.id}", "/register", f"/register?text={HOSTILE}", "/register/reports?month=2026-11", "/register/inspections"):
        body = client.get(path).text
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>镇</b>" not in body, path
        assert "{{ 7*7 }}" not in body or "49" not in body  # never rendered as a template
    page = client.get(f"/register/hazards/{h.id}").text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page and "{{ 7*7 }}" in page
    r = client.get(f"/register/hazards/{h.id}")
    assert "script-src" not in r.headers["content-security-policy"] and "default-src 'none'" in r.headers["content-security-policy"]


def test_an_expired_token_and_an_expired_session_end_the_login(client, world, monkeypatch):
    from hazardjudge.service import register_auth

    token = bearer(client, "insp")
    login(client, "insp")
    assert client.get("/api/register/me", headers=token).status_code == 200
    monkeypatch.setattr(register_auth, "TOKEN_MAX_AGE", -1)
    monkeypatch.setattr(register_auth, "SESSION_MAX_AGE", -1)
    r = client.get("/api/register/me", headers=token)
    assert r.status_code == 401 and r.json()["error"] == "登录已过期，请重新获取令牌"
    assert client.get("/register", follow_redirects=False).headers["location"].startswith("/register/login")


def test_evidence_uploads_are_bounded_by_the_register_not_the_judging_limit(client, world):
    t = bearer(client, "insp")
    hid = world["ha"].id
    big = PNG + b"\x00" * (2 * 1024 * 1024)  # beyond the judging API's 1 MiB body, within the register's 10 MB a file
    r = client.post(f"/api/register/hazards/{hid}/evidence", data={"note": "照片"}, files=[("files", ("大图.png", big, "image/png"))], headers=t)
    assert r.status_code == 200, r.text
    too_big = PNG + b"\x00" * (10 * 1024 * 1024)
    r = client.post(f"/api/register/hazards/{hid}/evidence", data={"note": "照片"}, files=[("files", ("过大.png", too_big, "image/png"))], headers=t)
    assert r.status_code == 422 and "过大" in r.json()["error"]
    r = client.post(f"/api/register/hazards/{hid}/evidence", data={"note": "照片"}, files=[("files", (f"{i}.png", PNG, "image/png")) for i in range(6)], headers=t)
    assert r.status_code in (400, 422)
    # Elsewhere the usual bound still holds.
    r = client.post("/api/register/units", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers={**t, "content-type": "application/json"})
    assert r.status_code == 413


def test_recording_from_the_page_says_what_is_wrong_with_the_file(client, world):
    login(client, "insp")
    page = client.get("/register/inspections")
    assert 'id="form-record"' in page.text
    bad = "facts:\n  fire.in_scope: 也许\n"
    r = client.post("/register/inspections", data={"csrf": csrf_of(page.text), "unit_id": str(world["a"].id), "document": bad})
    assert r.status_code == 422 and 'id="problems"' in r.text
    assert "也许" in r.text  # the pasted text is kept in the form, escaped
    r = client.post("/register/inspections", data={"csrf": csrf_of(page.text)}, files={"file": ("hotel.yaml", HOTEL.encode("gb18030"), "text/yaml")})
    assert r.status_code == 422 and "UTF-8" in r.text
    r = client.post("/register/inspections", data={"csrf": csrf_of(page.text), "town": "城关镇"},
                    files=[("file", ("hotel.yaml", HOTEL.encode(), "text/yaml")), ("photos", ("救援口.png", PNG, "image/png"))],
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=recorded")
    shown = client.get(r.headers["location"]).text
    assert "某某宾馆有限公司" in shown and "存在重大事故隐患" in shown and "hotel.yaml" in shown and "救援口.png" in shown
    iid = int(r.headers["location"].split("/")[-1].split("?")[0])
    t = bearer(client, "insp")
    more = client.post(f"/api/register/inspections/{iid}/attachments", files=[("files", ("另一张.png", PNG + b"1", "image/png"))], headers=t)
    assert more.status_code == 201 and more.json()[0]["filename"] == "另一张.png"
    rows = client.get("/api/register/reports/inspections?month=2026-11", headers=t).json()["rows"]
    assert rows[-1]["photos"] == ["救援口.png", "另一张.png"]
    client.cookies.clear()
    login(client, "view")
    assert 'id="form-record"' not in client.get("/register/inspections").text


def test_without_a_database_the_service_has_no_register(engine):
    from hazardjudge.service.app import create_app

    plain = TestClient(create_app(engine))
    assert plain.get("/register").status_code == 404
    assert plain.post("/api/register/token", json={"username": "a", "password": "b"}).status_code == 404


def test_a_patch_with_a_key_twice_is_refused_not_guessed(client, world):
    t = bearer(client, "insp")
    body = '{"responsible": "张总", "responsible": "李总", "expected_version": 1}'
    r = client.patch(f"/api/register/hazards/{world['ha'].id}", content=body.encode(), headers={**t, "content-type": "application/json"})
    assert r.status_code == 400
    assert client.get(f"/api/register/hazards/{world['ha'].id}", headers=t).json()["responsible"] is None


def test_the_secret_comes_from_the_environment_or_is_new_each_start(monkeypatch):
    from hazardjudge.register import RegisterError
    from hazardjudge.service.register_auth import SECRET_ENV, server_secret

    monkeypatch.delenv(SECRET_ENV, raising=False)
    assert server_secret() != server_secret() and len(server_secret()) == 32
    monkeypatch.setenv(SECRET_ENV, "a-long-enough-server-secret")
    assert server_secret() == b"a-long-enough-server-secret"
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(RegisterError, match="过短"):
        server_secret()


def test_the_dispatch_report_carries_the_spot_check_section(client, world, reg, boss):
    """The 调度表's second section (家) over HTTP and on the page: 是 counted, 未查明 shown apart, never as 否."""
    import datetime as dt

    from hazardjudge.register.views import InspectorIn, SpotCheckIn

    reg.record_spot_check(boss, SpotCheckIn(
        unit_id=world["a"].id, checked_on=dt.date(2026, 11, 10), inspectors=[InspectorIn(name="张三", certificate="执法证 001")],
        answers={"5": "是", "6": "否"}))
    d = client.get("/api/register/reports/dispatch?month=2026-11", headers=bearer(client, "view")).json()
    assert d["spot_rows"][0] == "抽查检查的企业总数" and len(d["spot_rows"]) == 8
    assert d["spot_total"][0] == 1 and d["spot_total"][5] == 1 and d["spot_total"][6] == 0
    assert d["spot_unknown_total"][4] == 0 and d["spot_unknown_total"][5] == 0 and d["spot_unknown_total"][0] == 1
    area = next(x for x in d["by_area"] if "东风社区" in x["label"])
    assert area["spot"][0] == 1
    login(client, "view")
    page = client.get("/register/reports?month=2026-11").text
    assert "对企业自查自改进行抽查检查情况" in page and "其中未查明的企业" in page
    assert '<td class="n" data-spot="0">1</td>' in page
