"""The register's pages in a real headless Chromium: the whole loop from a judged inspection to 销号 and the 调度表."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver (.ci/run installs them)"
)
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("HAZARDJUDGE_SCREENSHOTS", "/tmp/hazardjudge-screenshots"))
TODAY = dt.date(2026, 11, 25)


def _png(path: Path) -> Path:
    """A real 8×8 PNG (a photo of the rectified site, as far as the register can tell)."""
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def _seed_general(reg, boss) -> None:
    """A year of 一般隐患 in two other units, for the charts: they never count in the 调度表 (重大 only)."""
    from hazardjudge.register import HazardIn, HazardUpdate, UnitIn

    units = [reg.add_unit(boss, UnitIn(name=name, town="城关镇", village=village, sector=sector))
             for name, village, sector in (("某某燃气站", "西山村", "city_gas"), ("某某五金厂", "南岭村", "industry_trade"))]
    for month in range(1, 12):
        for k in range(month % 3 + 1):
            unit = units[(month + k) % 2]
            h = reg.add_hazard(boss, HazardIn(unit_id=unit.id, grade="general", found_on=dt.date(2026, month, 3 + k), description=f"{month}月一般隐患{k + 1}"))
            h = reg.update(boss, h.id, HazardUpdate(responsible="安全员", deadline=dt.date(2026, month, 20)))
            if (month + k) % 4:  # most fixed within the month; the rest stay open, and overdue
                reg.close(boss, h.id, on=dt.date(2026, month, 18))


@pytest.fixture
def site(tmp_path, fast_hasher):
    import uvicorn

    from hazardjudge.api import load
    from hazardjudge.register import Register
    from hazardjudge.service.app import create_app

    reg = Register(f"sqlite:///{tmp_path / 'register.sqlite3'}", hasher=fast_hasher, today=lambda: TODAY)
    boss = reg.bootstrap("admin", "admin-pass-1", "王督办")
    reg.add_user(boss, "insp", "insp-pass-1", "inspector", display_name="张检查")
    _seed_general(reg, boss)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(load(), register=reg, secret="e2e-secret-" + "z" * 20), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", reg, boss
    srv.should_exit = True
    thread.join(10)
    reg.dispose()


@pytest.fixture
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1000", f"--user-data-dir={tmp_path_factory.mktemp('chrome')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def click_and_wait(driver, element, timeout=60):
    """Click what submits a form and wait for the next page (a click does not wait for the navigation it starts).

    The old page is marked on its window object, which the next page does not have; Chromium's
    staleness checks race the navigation ("Node … does not belong to the document").
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__hjOldPage = true")
    element.click()

    def arrived(d) -> bool:
        try:
            return d.execute_script("return !window.__hjOldPage && document.readyState === 'complete'")
        except WebDriverException:  # the navigation is under way
            return False

    WebDriverWait(driver, timeout).until(arrived)


def shoot(driver, name):
    """The whole page, not just the window (for docs/images)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height + 140, 800), 6000))
    driver.save_screenshot(str(SHOTS / name))
    driver.set_window_size(1280, 1000)


def _by():
    from selenium.webdriver.common.by import By

    return By


def login(driver, base, user, password):
    By = _by()
    driver.get(base + "/register/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, driver.find_element(By.ID, "login"))
    errors = driver.find_elements(By.ID, "login-error")
    assert not errors, errors[0].text + " / " + driver.current_url
    assert driver.find_element(By.CSS_SELECTOR, "header .who").text.startswith(("王督办", "张检查", "宾馆"))


def logout(driver):
    By = _by()
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "header .who button"))
    assert driver.find_element(By.ID, "login-form")


def submit(driver, form_id, **fields):
    """Fill the named form's fields (text, textarea, date via script) and submit it; the page that follows must say done."""
    By = _by()
    form = driver.find_element(By.ID, form_id)
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        if box.get_attribute("type") in ("date", "month"):
            driver.execute_script("arguments[0].value = arguments[1]", box, value)
        elif box.get_attribute("type") == "radio":
            form.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()
        elif box.tag_name == "select":
            from selenium.webdriver.support.ui import Select

            Select(box).select_by_value(value)
        else:
            box.clear()
            box.send_keys(value)
    click_and_wait(driver, form.find_element(By.CSS_SELECTOR, 'button[type="submit"]'))
    problems = driver.find_elements(By.ID, "problems")
    assert not problems, problems[0].text
    return driver.find_element(By.ID, "done").text


def test_the_whole_loop_in_the_browser(site, browser, tmp_path):
    By = _by()
    base, reg, boss = site
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 检查人员: judge the hotel inspection from the shipped example and file it.
    login(browser, base, "insp", "insp-pass-1")
    browser.get(base + "/register/inspections")
    form = browser.find_element(By.ID, "form-record")
    form.find_element(By.NAME, "file").send_keys(str(ROOT / "examples" / "fire_hotel.yaml"))
    form.find_element(By.NAME, "town").send_keys("城关镇")
    form.find_element(By.NAME, "village").send_keys("东风社区")
    form.find_element(By.NAME, "inspectors").send_keys("张检查:FJ-2026-001")
    click_and_wait(browser, form.find_element(By.ID, "record"))
    assert browser.find_element(By.ID, "done").text == "已判定并登记"
    assert browser.find_element(By.ID, "outcome").text.startswith("存在重大事故隐患")
    link = browser.find_element(By.CSS_SELECTOR, "#inspection-hazards a")
    hazard_url = link.get_attribute("href")
    hid = int(hazard_url.rsplit("/", 1)[1])
    unit_id = reg.get_hazard(boss, hid).unit_id
    reg.add_user(boss, "hotel", "hotel-pass-1", "enterprise", display_name="宾馆安全员", unit_ids=[unit_id])

    # 五落实 by the inspector.
    browser.get(hazard_url)
    assert "GB 35181" in browser.find_element(By.ID, "summary").text
    assert submit(browser, "form-update", responsible="总经理 李四", measures="拆除封堵救援口的广告牌", funds="2 万元",
                  time_limit="10 个工作日", plan="宾馆灭火和应急疏散预案", deadline_days="10") == "已保存五落实和整改期限"
    assert browser.find_element(By.ID, "status").text.startswith("整改中")
    assert not browser.find_elements(By.ID, "form-supervise")  # 挂牌督办 is the supervisor's
    logout(browser)

    # 督办负责人: 挂牌督办.
    login(browser, base, "admin", "admin-pass-1")
    browser.get(hazard_url)
    assert submit(browser, "form-supervise", authority="某县消防救援大队", document_number="某消督〔2026〕7号", listed_on="2026-11-21") == "已挂牌督办"
    assert "挂牌督办中" in browser.find_element(By.ID, "status").text
    logout(browser)

    # 企业用户: 整改材料 with a photo; and 双报告.
    photo = _png(tmp_path / "整改后.png")
    login(browser, base, "hotel", "hotel-pass-1")
    browser.get(hazard_url)
    assert not browser.find_elements(By.ID, "form-review") and not browser.find_elements(By.ID, "form-close")
    assert submit(browser, "form-dual", recipient="department", recipient_name="某县消防救援大队", reported_on="2026-11-21") == "已登记双报告"
    browser.find_element(By.CSS_SELECTOR, '#form-evidence input[name="files"]').send_keys(str(photo))
    assert submit(browser, "form-evidence", note="广告牌已拆除，救援口恢复畅通") == "已提交整改材料，待复查"
    assert browser.find_element(By.ID, "status").text.startswith("待复查")
    assert "整改后.png" in browser.find_element(By.ID, "evidence").text
    logout(browser)

    # 检查人员: 复查 fails, the enterprise submits again, 复查 passes.
    login(browser, base, "insp", "insp-pass-1")
    browser.get(hazard_url)
    assert submit(browser, "form-review", passed="0", remarks="救援口内侧仍堆放杂物") == "已登记复查不通过，隐患退回整改"
    assert browser.find_element(By.ID, "status").text.startswith("整改中")
    logout(browser)
    login(browser, base, "hotel", "hotel-pass-1")
    browser.get(hazard_url)
    assert submit(browser, "form-evidence", note="杂物已清理") == "已提交整改材料，待复查"
    logout(browser)
    login(browser, base, "insp", "insp-pass-1")
    browser.get(hazard_url)
    assert submit(browser, "form-review", passed="1") == "已登记复查通过"
    # Under 挂牌督办, 销号 (and with it 摘牌) is for the supervisor: the inspector is not offered it.
    assert not browser.find_elements(By.ID, "form-close")
    logout(browser)

    # 督办负责人: 销号, which 摘牌s.
    login(browser, base, "admin", "admin-pass-1")
    browser.get(hazard_url)
    assert submit(browser, "form-close", reason="复查合格") == "已销号"
    assert browser.find_element(By.ID, "status").text == "已销号"
    history = browser.find_element(By.ID, "history").text
    for step in ("登记", "更新", "挂牌督办", "双报告", "提交整改材料", "复查不通过", "复查通过", "摘牌", "销号"):
        assert step in history, step
    shoot(browser, "register-hazard.png")

    # The 调度表 for November: one 排查 major, done; one listed, done.
    browser.get(base + "/register/reports?month=2026-11")
    totals = [int(td.text) for td in browser.find_elements(By.CSS_SELECTOR, "#dispatch-1 td[data-row]")]
    assert totals == [0, 0, 1, 1, 1, 1]
    assert "某某宾馆有限公司" in browser.find_element(By.ID, "inspection-table").text
    assert browser.find_element(By.ID, "chart-months")
    shoot(browser, "register-dispatch.png")
