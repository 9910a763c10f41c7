"""The notice settings on the web page, in a real headless Chromium: typed once, remembered, printed, downloaded."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)
SHOTS = Path(os.environ.get("HAZARDJUDGE_SCREENSHOTS", "/tmp/hazardjudge-screenshots"))


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from hazardjudge.service.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory, downloads):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=412,915", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def judge_pasted(driver, server):
    from selenium.webdriver.common.by import By

    driver.get(server + "/")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'input[name="sector"]'))
    driver.execute_script("document.getElementById('date').value = '2026-11-18'")
    driver.find_element(By.CSS_SELECTOR, 'input[name="sector"][value="city_gas"]').click()
    driver.find_element(By.ID, "tab-paste").click()
    driver.find_element(By.ID, "paste").send_keys("燃气经营许可证：没有")
    driver.find_element(By.ID, "judge-paste").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "outcome").text)


FIELDS = {
    "s-unit-name": "某某燃气有限公司城东储配站",
    "s-unit-address": "某市某区某路 88 号",
    "s-unit-legal": "王某某",
    "s-authority": "某市城市管理局",
    "s-number-pattern": "某城管燃改〔{year}〕第{seq}号",
    "s-sequence": "23",
    "s-issue-date": "2026-11-19",
}


def test_settings_are_remembered_and_reach_the_notice_and_its_pdf(server, browser, downloads):
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    judge_pasted(browser, server)
    for field, value in FIELDS.items():
        box = browser.find_element(By.ID, field)
        if box.get_attribute("type") == "date":
            browser.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", box, value)
        else:
            box.send_keys(value)
    rows = browser.find_elements(By.CSS_SELECTOR, ".inspector-row")
    for row, (name, cert) in zip(rows, [("张三", "35010001"), ("李四", "35010002")]):
        row.find_elements(By.TAG_NAME, "input")[0].send_keys(name)
        row.find_elements(By.TAG_NAME, "input")[1].send_keys(cert)
    browser.save_screenshot(str(SHOTS / "6-notice-settings.png"))

    # A new visit: the settings come back from this browser's storage.
    judge_pasted(browser, server)
    for field, value in FIELDS.items():
        assert browser.find_element(By.ID, field).get_attribute("value") == value
    certs = [i.get_attribute("value") for i in browser.find_elements(By.CSS_SELECTOR, 'input[name="inspector-certificate"]')]
    assert certs == ["35010001", "35010002"]

    main_window = browser.current_window_handle
    browser.find_element(By.ID, "notice").click()
    wait_for(browser, lambda d: len(d.window_handles) == 2)
    browser.switch_to.window([h for h in browser.window_handles if h != main_window][0])
    wait_for(browser, lambda d: "整改通知书" in d.find_element(By.TAG_NAME, "body").text)
    body = browser.find_element(By.TAG_NAME, "body").text
    for piece in ("某城管燃改〔2026〕第23号", "王某某", "执法证号：35010001", "执法证号：35010002", "2026年11月19日"):
        assert piece in body
    assert "（未填写）" not in body.split("主要负责人")[0]  # unit, address and legal representative all filled
    browser.close()
    browser.switch_to.window(main_window)

    browser.find_element(By.ID, "notice-docx").click()
    assert wait_for(browser, lambda d: next((p for p in downloads.glob("*.docx") if p.stat().st_size), None))
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"the PDF needs WeasyPrint's Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0): {exc}")
    browser.find_element(By.ID, "notice-pdf").click()
    pdf = wait_for(browser, lambda d: next((p for p in downloads.glob("*.pdf") if p.stat().st_size), None))
    import pypdf

    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages))
    assert "第23号" in text and "35010002" in text


def test_api_docs_render_without_the_internet(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server + "/docs")
    title = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "hazardjudge" in title[0].text
    assert wait_for(browser, lambda d: "/api/notice" in d.find_element(By.TAG_NAME, "body").text)
