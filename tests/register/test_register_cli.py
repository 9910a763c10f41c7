"""The register through the CLI: judge and record, 五落实, 挂牌督办, evidence, 复查 fail and pass, 销号, the 调度表."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hazardjudge.cli import main
from hazardjudge.register import db

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


@pytest.fixture
def cli(url, monkeypatch, capsys):
    monkeypatch.setenv("HAZARDJUDGE_DB", url)
    monkeypatch.delenv("HAZARDJUDGE_USER", raising=False)

    def run(*argv: str, user: str | None = "admin", password: str = "admin-pass-1") -> tuple[int, str, str]:
        if user:
            monkeypatch.setenv("HAZARDJUDGE_USER", user)
        else:
            monkeypatch.delenv("HAZARDJUDGE_USER", raising=False)
        monkeypatch.setenv("HAZARDJUDGE_PASSWORD", password)
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run("register", "init", "--name", "王督办")
    assert code == 0, err
    assert "已创建督办负责人账号：admin" in out
    return run


def test_the_loop_through_the_cli(cli, tmp_path):
    code, out, err = cli("judge", str(ROOT / "examples" / "fire_hotel.yaml"), "--record", "--town", "城关镇", "--village", "东风社区",
                         "--inspector", "张三:执法0001")
    assert code == 1, err  # 存在重大隐患, as without --record
    assert "已登记到隐患台账" in err and "隐患 1 项" in err
    code, out, _ = cli("register", "list")
    assert code == 0 and "重大\t发现\tGB 35181-2025 5.2 e)\t某某宾馆有限公司" in out
    hid = out.splitlines()[1].split("\t")[0]
    assert cli("register", "update", hid, "--responsible", "总经理", "--measures", "拆除", "--funds", "1万元", "--time-limit", "5个工作日",
               "--plan", "疏散预案", "--deadline-days", "5")[0] == 0
    assert cli("register", "supervise", hid, "--authority", "县安委办", "--number", "县安督〔2026〕5号", "--listed-on", "2026-11-21")[0] == 0
    assert cli("register", "dual-report", hid, "--to", "监管部门", "--name", "县应急管理局", "--on", "2026-11-21")[0] == 0
    assert cli("register", "dual-report", hid, "--to", "职代会", "--name", "公司职代会", "--on", "2026-11-22")[0] == 0
    photo = tmp_path / "after.png"
    photo.write_bytes(PNG)
    assert cli("register", "evidence", hid, "--note", "已拆除", "--file", str(photo))[0] == 0
    assert cli("register", "review", hid, "--fail", "--remarks", "仍有遮挡", "--on", "2026-11-25")[0] == 0
    code, _, err = cli("register", "close", hid, "--on", "2026-11-26")
    assert code == 65 and "复查通过" in err
    assert cli("register", "evidence", hid, "--note", "已全部清除")[0] == 0
    assert cli("register", "review", hid, "--pass", "--on", "2026-11-26")[0] == 0
    assert cli("register", "close", hid, "--on", "2026-11-27", "--reason", "复查合格")[0] == 0
    code, out, _ = cli("register", "show", hid, "--format", "json")
    shown = json.loads(out)
    assert shown["status"] == "closed" and shown["supervisions"][0]["delisted_on"] == "2026-11-27"
    assert [h["action"] for h in shown["history"]][-3:] == ["review_pass", "delist", "close"]
    report = tmp_path / "d.xlsx"
    assert cli("register", "report", "--month", "2026-11", "--format", "xlsx", "-o", str(report))[0] == 0
    ws = load_workbook(io.BytesIO(report.read_bytes())).worksheets[0]
    assert [ws.cell(row=r, column=3).value for r in range(4, 10)] == [0, 0, 1, 1, 1, 1]
    code, out, _ = cli("register", "report", "--month", "2026-11", "--kind", "inspections")
    assert code == 0 and "重大事故隐患排查表" in out and "已销号" in out


def test_accounts_and_refusals(cli, monkeypatch):
    assert cli("register", "unit", "某厂", "--town", "城关镇")[0] == 0
    code, _, err = cli("register", "list", user=None)
    assert code == 64 and "--user" in err
    code, _, err = cli("register", "list", password="wrong-password")
    assert code == 77 and "密码" in err
    monkeypatch.setenv("HAZARDJUDGE_NEW_PASSWORD", "viewer-pass")
    assert cli("register", "user", "view", "--role", "viewer")[0] == 0
    code, _, err = cli("register", "add", "--unit", "1", "--grade", "一般", "--description", "x", user="view", password="viewer-pass")
    assert code == 77 and "只读用户无权登记隐患" in err
    assert cli("register", "list", user="view", password="viewer-pass")[0] == 0
    code, _, err = cli("register", "show", "999")
    assert code == 66 and "没有编号为 999 的隐患" in err
    assert cli("register", "add", "--unit", "1", "--grade", "一般", "--description", "插线板串接", "--found-on", "2026-11-02")[0] == 0
    code, _, err = cli("register", "update", "1", "--measures", "更换", "--version", "7")
    assert code == 75 and "已被他人修改" in err
    code, _, err = cli("register", "void", "1", "--reason", "重复登记")
    assert code == 0
    code, out, _ = cli("register", "list", "--voided")
    assert "【已作废】" in out
    code, _, err = cli("register", "report", "--month", "2026-13")
    assert code == 64 and "月份" in err


def test_the_default_database_is_in_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("HAZARDJUDGE_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert db.resolve_url() == f"sqlite:///{tmp_path / 'hazardjudge' / 'register.sqlite3'}"
    monkeypatch.setenv("HAZARDJUDGE_DB", "sqlite:///elsewhere.sqlite3")
    assert db.resolve_url() == "sqlite:///elsewhere.sqlite3"
    assert db.resolve_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"


def test_a_bad_database_url_is_a_chinese_error():
    from hazardjudge.register import RegisterError

    with pytest.raises(RegisterError, match="数据库"):
        db.make_engine("mysql://x@y/z")
    with pytest.raises(RegisterError, match="无法识别"):
        db.make_engine("not a url")


def test_bad_values_are_chinese_errors_not_crashes(cli):
    code, _, err = cli("register", "unit", " ")
    assert code == 65 and "名称：不能为空" in err
    assert cli("register", "unit", "某厂")[0] == 0
    code, _, err = cli("register", "add", "--unit", "1", "--grade", "一般", "--description", "x" * 3000)
    assert code == 65 and "隐患描述：过长" in err
    code, _, err = cli("register", "add", "--unit", "1", "--grade", "一般", "--description", "x")
    assert code == 0
    code, _, err = cli("register", "update", "1", "--deadline-days", "-3")
    assert code == 65 and "整改期限天数" in err


def test_a_database_from_a_newer_program_is_refused(url, monkeypatch):
    from sqlalchemy import text

    from hazardjudge.register import RegisterError, Register

    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(RegisterError, match="比本程序新"):
        Register(url)


def test_record_needs_a_unit(cli, tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text("date: 2026-11-20\nsectors: [fire]\nfacts:\n  fire.in_scope: 是\n", encoding="utf-8")
    code, _, err = cli("judge", str(bare), "--record")
    assert code == 64 and "unit.name" in err
    code, _, err = cli("judge", str(bare), "--record", "--unit-id", "5")
    assert code == 66 and "没有编号为 5 的单位" in err
    code, _, err = cli("judge", str(bare), "--record", "--inspector", "张三")
    assert code == 64 and "姓名:执法证号" in err
