"""The HTTP API: same models as the library, bounded input, clear 4xx, no traces."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from hazardjudge.engine.models import Verdict
from hazardjudge.service.app import MAX_BATCH, create_app


@pytest.fixture(scope="module")
def client(request):
    from hazardjudge.api import load

    return TestClient(create_app(load()), raise_server_exceptions=False)


def test_health_and_openapi(client):
    assert client.get("/api/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {"/api/judge", "/api/judge/batch", "/api/checklist", "/api/notice", "/api/documents"} <= set(spec["paths"])
    assert "Verdict" in spec["components"]["schemas"]


def test_judge_facts_returns_the_library_verdict(client, shipped):
    import datetime as dt

    body = {"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "date": "2026-11-01"}
    response = client.post("/api/judge", json=body)
    assert response.status_code == 200
    verdict = Verdict.model_validate(response.json()["verdict"])
    assert verdict == shipped.judge({"gas.license_held": False}, on=dt.date(2026, 11, 1), sectors=["city_gas"])


def test_judge_pasted_text_reports_unread_lines(client):
    response = client.post("/api/judge", json={"text": "燃气经营许可证：没有\n加臭：也许", "sectors": ["city_gas"]})
    data = response.json()
    assert response.status_code == 200 and data["verdict"]["outcome"] == "major"
    assert [p["line"] for p in data["input_problems"]] == [2]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"facts": {"gas.odorzed": "否"}}, 400),
        ({"facts": {"gas.odorized": "也许"}}, 400),
        ({}, 400),
        ({"facts": {}, "text": "x"}, 400),
        ({"facts": {}, "sectors": ["nope"]}, 400),
        ({"facts": {}, "date": "2026-13-40"}, 422),
        ({"facts": "not a mapping"}, 422),
        ({"facts": {}, "unknown_field": 1}, 422),
    ],
)
def test_bad_requests_are_clear_4xx(client, body, status):
    response = client.post("/api/judge", json=body)
    assert response.status_code == status
    data = response.json()
    assert data["error"] and "Traceback" not in json.dumps(data, ensure_ascii=False)


def test_malformed_json_is_4xx(client):
    response = client.post("/api/judge", content=b'{"facts": ', headers={"content-type": "application/json"})
    assert response.status_code == 400  # an unreadable body, as docs/service.md says; 422 is a body that does not fit the schema


def test_oversized_body_is_413(client):
    response = client.post("/api/judge", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_batch_limits_and_per_item_errors(client):
    items = [{"facts": {"gas.odorized": "否"}, "sectors": ["city_gas"]}, {"facts": {"nope": 1}}]
    response = client.post("/api/judge/batch", json={"items": items})
    assert response.status_code == 200
    first, second = response.json()
    assert first["verdict"]["outcome"] == "major" and second["problems"][0]["code"] == "answer.unknown_question"
    too_many = client.post("/api/judge/batch", json={"items": [{"facts": {}}] * (MAX_BATCH + 1)})
    assert too_many.status_code == 422


def test_checklist_and_documents(client):
    checklist = client.post("/api/checklist", json={"site_kinds": ["gas_operator"], "date": "2026-11-18"}).json()
    assert any(i["fact"] == "gas.license_held" for i in checklist["items"])
    docs = {(d["document"]["document"], d["document"]["version"]): d for d in client.get("/api/documents").json()}
    assert docs[("mohurd_city_gas_major_hazard", "2023")]["encoded"] == 22
    assert (docs[("gb35181", "2025")]["encoded"], docs[("gb35181", "2025")]["unverified"]) == (70, 0)
    assert (docs[("chem_major_hazard", "AQ3067-2026")]["encoded"], docs[("chem_major_hazard", "AQ3067-2026")]["unverified"]) == (38, 15)


def test_notice_is_rendered_and_escaped(client):
    body = {"inspection": {"facts": {"gas.odorized": "否"}, "sectors": ["city_gas"], "date": "2026-11-18"},
            "settings": {"authority": "<b>某局</b>{{ 1+1 }}"}, "format": "html"}
    response = client.post("/api/notice", json=body)
    assert response.status_code == 200 and "重大隐患整改通知书" in response.text
    assert "&lt;b&gt;某局&lt;/b&gt;{{ 1+1 }}" in response.text
    leak = client.post("/api/notice", json={**body, "settings": {"template_dir": "/etc"}})
    assert leak.status_code == 422  # a client can never choose server-side templates


def test_web_page_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "重大事故隐患判定" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../../etc/passwd").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404


@pytest.mark.parametrize("written", ["2026年11月1日", "2026.11.01", "2026/11/1", "20261101"])
def test_dates_as_inspectors_write_them(client, written):
    body = {"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "date": written}
    response = client.post("/api/judge", json=body)
    assert response.status_code == 200
    assert response.json()["verdict"]["inspection_date"] == "2026-11-01"
    assert client.post("/api/checklist", json={"date": written, "sectors": ["city_gas"]}).json()["date"] == "2026-11-01"


def test_a_date_that_does_not_exist_is_a_chinese_422(client):
    response = client.post("/api/judge", json={"facts": {}, "date": "2026-02-30"})
    assert response.status_code == 422
    assert "2026年2月只有 28 天" in json.dumps(response.json(), ensure_ascii=False)


def test_named_sector_contradicting_unit_type_is_a_400(client):
    body = {"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "site_kinds": ["construction_site"], "date": "2026-11-01"}
    response = client.post("/api/judge", json=body)
    assert response.status_code == 400
    assert response.json()["problems"][0]["code"] == "input.sector_contradiction"


def test_a_pasted_checklist_is_judged_on_its_own_date_and_numbering(client, shipped):
    import datetime as dt

    from hazardjudge.inputs import checklists

    checklist = checklists.build(shipped, dt.date(2025, 3, 1), site={"site.kinds": ["gas_operator"]})
    number = next(i.number for i in checklist.items if i.fact == "gas.license_held")
    text = checklists.to_chat(checklist) + f"{number}. 否\n"
    body = client.post("/api/judge", json={"text": text}).json()
    assert body["verdict"]["inspection_date"] == "2025-03-01"
    assert body["verdict"]["outcome"] == "major"
    assert [m["fact"] for m in body["matches"] if m["how"] == "number"] == ["gas.license_held"]
    served = client.post("/api/checklist", json={"date": "2025-03-01", "site_kinds": ["gas_operator"]}).json()
    assert served["identity"] == checklist.identity
    assert any(i["applies_when"] for i in served["items"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"facts": {"fire.in_scope": "是", "fire.in_scope": "否"}}', "json.duplicate_key"),
        ('{"facts": {', "json.syntax"),
        ('{"facts": ' + "[" * 3000 + "]" * 3000 + "}", "json.depth"),
        ('{"facts": {"gas.license_held": ' + "9" * 5000 + "}}", "json.number"),
    ],
)
def test_a_body_the_cli_would_refuse_is_refused_alike(client, body, code):
    response = client.post("/api/judge", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "请求格式有误" and response.json()["problems"][0]["code"] == code


def test_one_bad_item_fails_alone_in_a_batch(client):
    items = [{"facts": {}, "date": "2026-02-30"}, {"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "date": "2026-11-01"}]
    response = client.post("/api/judge/batch", json={"items": items})
    assert response.status_code == 200
    first, second = response.json()
    assert first["verdict"] is None and "2026年2月只有 28 天" in first["problems"][0]["message"]
    assert second["verdict"]["outcome"] == "major"


def test_the_page_forbids_foreign_scripts_and_framing(client):
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    for response in (page, client.get("/api/health"), client.get("/static/app.js")):
        assert response.headers["x-content-type-options"] == "nosniff"


def test_serve_with_two_worker_processes(tmp_path):
    """hazardjudge serve --workers 2: a real server on loopback, each worker with its own engine."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hazardjudge.cli", "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        body = None
        while time.time() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.3)
        assert body and body["status"] == "ok", proc.stderr.read().decode() if proc.poll() is not None else "no answer"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/judge",
            data=json.dumps({"facts": {"gas.license_held": False}, "sectors": ["city_gas"], "date": "2026-11-01"}).encode(),
            headers={"content-type": "application/json"},
        )
        for _ in range(6):
            with urllib.request.urlopen(request, timeout=10) as r:
                assert json.loads(r.read())["verdict"]["outcome"] == "major"
    finally:
        proc.terminate()
        proc.wait(20)


def test_a_checklist_names_a_standard_that_is_not_encoded(client):
    checklist = client.post("/api/checklist", json={"site_kinds": ["water_conservancy"], "date": "2026-11-18"}).json()
    assert any(n.startswith("应按《水利工程生产安全重大事故隐患判定标准（试行）》（水安监〔2017〕344号）判定") for n in checklist["notes"])
    verdict = client.post("/api/judge", json={"facts": {"site.kinds": ["water_conservancy"]}, "date": "2026-11-18"}).json()
    assert "本工具尚未编码其条文" in verdict["verdict"]["outcome_label"]
