"""The notice over HTTP: office settings, PDF and Word downloads, dates checked; API docs that work offline."""

from __future__ import annotations

import io
import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from hazardjudge.service.app import create_app

INSPECTION = {"facts": {"gas.odorized": "否"}, "sectors": ["city_gas"], "date": "2026-11-18"}
SETTINGS = {
    "authority": "某市城市管理局",
    "unit": {"name": "某某燃气有限公司", "address": "某路 1 号", "legal_representative": "王某"},
    "document_number_pattern": "某城管燃改〔{year}〕{seq:3}号",
    "sequence": 5,
    "inspectors": [{"name": "张三", "certificate": "0001"}, {"name": "李四", "certificate": "0002"}],
    "issue_date": "2026-11-19",
}


@pytest.fixture(scope="module")
def client():
    from hazardjudge.api import load

    return TestClient(create_app(load()), raise_server_exceptions=False)


def test_settings_from_the_page_reach_the_notice(client):
    response = client.post("/api/notice", json={"inspection": INSPECTION, "settings": SETTINGS, "format": "html"})
    assert response.status_code == 200
    page = response.text
    for piece in ("某城管燃改〔2026〕005号", "王某", "执法证号：0001", "执法证号：0002", "重大隐患整改通知书", "2026年11月19日"):
        assert piece in page


def test_no_document_for_a_clean_verdict_is_a_409_that_says_why(client):
    from test_chemicals_provisional import BEFORE, CLEAN

    inspection = {"facts": CLEAN, "sectors": ["chemicals"], "date": BEFORE.isoformat()}
    response = client.post("/api/notice", json={"inspection": inspection, "format": "html"})
    assert response.status_code == 409
    assert response.json()["outcome"] == "none" and "不需要出具整改通知书" in response.json()["error"]


def test_issue_date_before_the_inspection_is_a_chinese_400(client):
    settings = {**SETTINGS, "issue_date": "2026-11-17"}
    response = client.post("/api/notice", json={"inspection": INSPECTION, "settings": settings, "format": "pdf"})
    assert response.status_code == 400
    assert "早于检查日期" in response.json()["problems"][0]["message"]


def test_word_download(client):
    import docx

    response = client.post("/api/notice", json={"inspection": INSPECTION, "settings": SETTINGS, "format": "docx"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert "attachment" in response.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs)
    assert "某城管燃改〔2026〕005号" in text and "执法证号：0002" in text


def test_pdf_download(client):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint cannot load (Debian: libpango-1.0-0 libpangoft2-1.0-0): {exc}")
    import pypdf

    response = client.post("/api/notice", json={"inspection": INSPECTION, "settings": SETTINGS, "format": "pdf"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.content)).pages))
    assert "005号" in text and "0001" in text


def test_api_docs_are_served_from_the_package(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert assets and not [a for a in assets if a.startswith(("http://", "https://", "//"))]  # no CDN
    for asset in assets:
        if asset.endswith((".js", ".css")):
            assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 200


def test_without_pango_the_pdf_is_a_503_in_chinese(client, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = client.post("/api/notice", json={"inspection": INSPECTION, "settings": SETTINGS, "format": "pdf"})
    assert response.status_code == 503 and "Pango" in response.json()["error"]
