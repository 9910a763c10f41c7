"""Rectification notices: the right document for the verdict, safe rendering, and a real browser print."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.inputs.inspections import parse_inspection
from hazardjudge.outputs import notices

ON = dt.date(2026, 11, 18)
HOSTILE = '<script>alert("x")</script>{{ 7*7 }}{% raw %}**粗体**[链接](http://x)'


def example_verdict(engine, **changes):
    parsed = parse_inspection((example_dir() / "city_gas_station.yaml").read_text(encoding="utf-8"))
    facts = {**parsed.inspection.facts, **changes}
    return engine.judge(facts, on=ON), parsed.unit


def test_major_notice_lists_every_finding_with_its_citation_and_deadline(shipped):
    verdict, unit = example_verdict(shipped)
    notice = notices.build(verdict, notices.NoticeConfig(unit=unit, issue_date=ON, major_deadline_days=20))
    assert notice.kind == "major" and notice.title == "重大隐患整改通知书"
    assert [i.clauses for i in notice.items] == ["第五条（一）", "第九条、第九条（一）"]
    assert all(i.deadline == dt.date(2026, 12, 8) for i in notice.items)
    for fmt in ("html", "md", "txt"):
        text = notices.render(notice, fmt)
        assert "建城规〔2023〕4号" in text and "行政复议" in text
        assert "撤出作业人员" in text  # measures while a major hazard is being rectified


def test_general_notice_when_only_minor_hazards(demo):
    facts = {"demo.categories": ["crowded"], "demo.e1": True, "demo.e2": False, "demo.e3": False, "demo.closed": False,
             "demo.exit_width": 2, "demo.exit_width_required": 2}
    verdict = demo.judge(facts, on=dt.date(2020, 1, 1), sectors=["demo"])
    notice = notices.build(verdict, notices.NoticeConfig(issue_date=ON))
    assert notice.kind == "general" and [i.major for i in notice.items] == [False]
    assert "撤出作业人员" not in notices.render(notice, "txt")


def test_supplementary_sheet_when_undetermined_and_nothing_found(shipped):
    verdict = shipped.judge({"site.kinds": ["gas_operator"], "fire.in_scope": False}, on=ON)
    notice = notices.build(verdict, notices.NoticeConfig())
    assert notice.kind == "supplementary" and notice.title == "补充检查单"
    text = notices.render(notice, "html")
    assert "燃气经营者是否已取得燃气经营许可证" in text and "gas.license_held" in text


def test_the_sheet_lists_unencoded_clauses_when_no_question_is_left(demo_copy):
    # Every encoded question answered clean while an article is not encoded: the sheet must
    # still say what is left to establish, never an empty table.
    criteria = demo_copy / "criteria" / "demo-2017.yaml"
    criteria.write_text(criteria.read_text(encoding="utf-8").replace("clauses:\n", "not_encoded:\n  - 第九条 其他情形\nclauses:\n", 1), encoding="utf-8")
    from hazardjudge.api import load

    engine = load(demo_copy / "criteria", demo_copy / "rules")
    facts = {"demo.categories": ["crowded"], "demo.e1": False, "demo.e2": False, "demo.e3": False, "demo.closed": False,
             "demo.exit_width": 2, "demo.exit_width_required": 1}
    verdict = engine.judge(facts, on=dt.date(2020, 1, 1), sectors=["demo"])
    assert verdict.outcome.value == "undetermined" and not verdict.questions
    notice = notices.build(verdict, notices.NoticeConfig())
    assert notice.kind == "supplementary"
    assert notice.to_check == ["《演示判定方法》（DEMO 1-2017）第九条 其他情形所列情形（本工具尚未编码该条，须对照标准原文逐项查明）"]
    for fmt in ("html", "md", "txt"):
        assert "第九条 其他情形所列情形" in notices.render(notice, fmt)


def test_no_notice_for_a_clean_verdict(shipped):
    from test_chemicals_provisional import BEFORE, CLEAN  # every 121号 item answered clean

    verdict = shipped.judge(CLEAN, on=BEFORE, sectors=["chemicals"])
    assert verdict.outcome.value == "none"
    with pytest.raises(notices.NothingToNotice, match="不需要出具整改通知书或补充检查单"):
        notices.build(verdict, notices.NoticeConfig(issue_date=ON))


def test_no_empty_sheet_when_nothing_is_left_to_ask(demo):
    # The demo's partly read combination can never end "not triggered": undetermined for good,
    # with no question the unit could answer.
    facts = {"demo.categories": ["crowded"], "demo.e1": False, "demo.e2": False, "demo.e3": False, "demo.e4": False,
             "demo.closed": False, "demo.exit_width": 2, "demo.exit_width_required": 1}
    verdict = demo.judge(facts, on=dt.date(2020, 1, 1), sectors=["demo"])
    assert verdict.outcome.value == "undetermined" and not verdict.questions
    with pytest.raises(notices.NothingToNotice, match="没有需要被检查单位补充查明的事项（5.3）"):
        notices.build(verdict, notices.NoticeConfig(issue_date=ON))


def test_notice_command_on_a_clean_inspection_says_why_there_is_none(tmp_path, capsys):
    import json

    from test_chemicals_provisional import BEFORE, CLEAN

    src = tmp_path / "clean.json"
    src.write_text(json.dumps({"date": BEFORE.isoformat(), "sectors": ["chemicals"], "facts": CLEAN}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "n.html"
    assert main(["notice", str(src), "-o", str(out)]) == 0
    assert "不需要出具整改通知书或补充检查单" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["html", "md", "txt"])
def test_hostile_text_stays_inert(shipped, fmt):
    verdict, _ = example_verdict(shipped, **{"gas.other_serious_violation": True, "gas.other_serious_violation_description": HOSTILE})
    config = notices.NoticeConfig(authority=HOSTILE, unit=notices.Party(name=HOSTILE, address="x" * 300), inspectors=[HOSTILE])
    text = notices.render(notices.build(verdict, config), fmt)
    # {{ 7*7 }} was never evaluated (the bundle's hex fingerprint may contain 49 by chance).
    assert "49" not in re.sub(r"[0-9a-f]{16}", "", text)
    if fmt == "html":
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert "{{ 7*7 }}" in text
    elif fmt == "md":
        assert "\\*\\*粗体\\*\\*" in text and "\\[链接\\]" in text
    else:
        assert HOSTILE in text


def test_an_office_can_supply_its_own_template(shipped, tmp_path):
    (tmp_path / "notice.txt").write_text("【本局模板】{{ n.title }} {{ n.config.unit.name }}\n", encoding="utf-8")
    verdict, unit = example_verdict(shipped)
    text = notices.render(notices.build(verdict, notices.NoticeConfig(unit=unit, template_dir=tmp_path)), "txt")
    assert text == "【本局模板】重大隐患整改通知书 某某燃气有限公司城东储配站\n"
    # Formats the office did not override still come from the package.
    html = notices.render(notices.build(verdict, notices.NoticeConfig(template_dir=tmp_path)), "html")
    assert "送达回执" in html


def test_notice_command(tmp_path, capsys):
    out = tmp_path / "n.html"
    code = main(["notice", str(example_dir() / "city_gas_station.yaml"), "--config", str(example_dir() / "notice.yaml"),
                 "--inspector", "王五", "-o", str(out)])
    assert code == 1
    page = out.read_text(encoding="utf-8")
    assert "某城管燃改〔2026〕第18号" in page and "王五" in page and "某某燃气有限公司城东储配站" in page


def test_bad_notice_config_is_a_clear_error(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("authority: 某局\nmajor_deadline_days: 0\nfoo: 1\n", encoding="utf-8")
    assert main(["notice", str(example_dir() / "city_gas_station.yaml"), "--config", str(config)]) == 65
    err = capsys.readouterr().err
    assert "major_deadline_days" in err and "foo" in err


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="headless Chromium not installed (Debian package 'chromium'; .ci/run installs it)")
def test_html_notice_prints_in_a_real_browser_with_every_finding_and_citation(shipped, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    verdict, unit = example_verdict(shipped)
    notice = notices.build(verdict, notices.NoticeConfig(unit=unit, issue_date=ON))
    html = tmp_path / "notice.html"
    html.write_text(notices.render(notice, "html"), encoding="utf-8")
    pdf = tmp_path / "notice.pdf"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    reader = pypdf.PdfReader(str(pdf))
    # PDF text comes back with compatibility and variant ideographs (⼤, 戶, ⻔) and layout
    # breaks: compare NFKC with the variants folded and no white space.
    variants = str.maketrans({"戶": "户", "⻔": "门", "⻓": "长", "⻅": "见", "⻢": "马"})
    flat = lambda s: re.sub(r"\s+", "", unicodedata.normalize("NFKC", s).translate(variants))
    text = flat("".join(page.extract_text() for page in reader.pages))
    assert reader.pages[0].mediabox.width == pytest.approx(595, abs=3)  # A4 portrait
    for item in notice.items:
        assert all(flat(c.clause) in text for c in item.citations)  # one line per clause
        assert flat(item.finding[:20]) in text
    assert flat("建城规〔2023〕4号") in text and flat("送达回执") in text
