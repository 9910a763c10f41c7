"""Notices as documents an office signs and files: PDF and Word, read back and looked at.

Every shipped example becomes a PDF (WeasyPrint) and a Word file; both are read back
(pypdf, python-docx) for the same content, and the PDF's pages are rendered to images
(pdftoppm) for the layout: page numbers, repeated table headers, the sign-off never
parted from the seal and date.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

from hazardjudge import workdays
from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.errors import InputError
from hazardjudge.inputs.inspections import parse_inspection
from hazardjudge.outputs import notices

EXAMPLES = sorted(p.name for p in example_dir().glob("*.yaml") if p.name != "notice.yaml")
ISSUE = dt.date(2026, 12, 2)
OFFICE = dict(
    authority="某市应急管理局",
    document_number_pattern="某应急责改〔{year}〕{seq:3}号",
    sequence=7,
    inspectors=[{"name": "张三", "certificate": "A0001"}, "李四（执法证号 B0002）"],
    issue_date=ISSUE,
)


def _weasyprint_missing() -> str | None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"WeasyPrint cannot load (Debian: libpango-1.0-0 libpangoft2-1.0-0; .ci/run installs them): {exc}"
    from hazardjudge.outputs import printing

    if printing.cjk_font_installed() is False:
        return "no CJK font (Debian: fonts-noto-cjk; .ci/run installs it)"
    return None


needs_pdf = pytest.mark.skipif(bool(_weasyprint_missing()), reason=_weasyprint_missing() or "")
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (Debian: poppler-utils; .ci/run installs it)")

# PDF text comes back with compatibility and variant ideographs and layout breaks:
# compare NFKC with the variants folded and no white space.
_VARIANTS = str.maketrans({"戶": "户", "⻔": "门", "⻓": "长", "⻅": "见", "⻢": "马", "⻚": "页", "⾯": "面"})


def flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(_VARIANTS))


def example_notice(engine, name: str, on: dt.date | None = None, **settings) -> notices.Notice:
    parsed = parse_inspection((example_dir() / name).read_text(encoding="utf-8"))
    i = parsed.inspection
    verdict = engine.judge(i.facts, on=on or i.on, sectors=i.sectors, general_hazards=i.general_hazards)
    return notices.build(verdict, notices.NoticeConfig.model_validate({"unit": parsed.unit, **OFFICE, **settings}))


def pdf_pages(data: bytes) -> list[str]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def docx_text(data: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(data))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def essentials(n: notices.Notice) -> list[str]:
    """What every format must carry."""
    out = [n.title, n.document_number, n.config.authority, "送达回执", "A0001", "B0002", notices.cn_date(n.issue_date)]
    if n.kind == "supplementary":  # asks, orders nothing: no legal basis or remedy to state
        out += [q for _, q in n.questions] + n.to_check
    else:
        out += [n.legal_basis, n.remedy]
    for i in n.items:
        out += [i.label, i.finding[:15], notices.cn_date(i.deadline), *(c.clause for c in i.citations)]
    for h in n.general_hazards:
        out.append(h.description[:15])
    for p in n.pending:
        out.append(p.finding[:15])
    return out


# --------------------------------------------------------------------------- content


def test_the_hotels_blocked_rescue_opening_is_one_line_under_its_highest_grade(shipped):
    n = example_notice(shipped, "fire_hotel.yaml")
    rescue = [i for i in n.items if "消防救援口" in i.finding]
    assert len(rescue) == 1
    (item,) = rescue
    assert item.major and item.label == "【重大火灾隐患】"
    assert [c.clause for c in item.citations] == ["5.2 e)", "6.6.5"] and item.clauses == "5.2 e)、6.6.5"
    # the general elements of other conditions stay lines of their own
    assert [i.clauses for i in n.items if not i.major] == ["6.2.4", "6.5.5", "6.6.2"]
    assert all(i.label == "【一般火灾隐患】" for i in n.items if not i.major)


@pytest.mark.parametrize(
    ("example", "title", "basis"),
    [
        ("fire_hotel.yaml", "重大火灾隐患整改通知书", "《中华人民共和国消防法》第五十四条"),
        ("city_gas_station.yaml", "重大隐患整改通知书", "《中华人民共和国安全生产法》第六十五条第一款第（三）项"),
        ("fireworks_retail.yaml", "重大生产安全事故隐患整改通知书", "《中华人民共和国安全生产法》第六十五条第一款第（三）项"),
    ],
)
def test_each_sector_has_its_own_term_and_legal_basis(shipped, example, title, basis):
    n = example_notice(shipped, example)
    assert n.title == title and n.legal_basis == basis and n.legal_basis_configured
    text = notices.render(n, "txt")
    assert f"存在下列{n.major_label}。依据{basis}，现责令" in text and f"对上述{n.major_label}" in text
    assert "六十日内" in text and "六个月内" in text and "《中华人民共和国行政诉讼法》第四十六条" in text


def test_an_office_sets_its_own_basis_and_remedy(shipped):
    n = example_notice(shipped, "fire_hotel.yaml", legal_basis={"fire": "《某省消防条例》第三十条"}, remedy="如不服，可依法申请复议。")
    text = notices.render(n, "html")
    assert "依据《某省消防条例》第三十条" in text and "如不服，可依法申请复议。" in text and "六十日" not in text


def test_a_sector_without_a_verified_basis_prints_a_placeholder(demo):
    facts = {"demo.categories": ["crowded"], "demo.e1": True, "demo.e2": False, "demo.e3": False, "demo.closed": False,
             "demo.exit_width": 2, "demo.exit_width_required": 2}
    verdict = demo.judge(facts, on=dt.date(2020, 1, 1), sectors=["demo"])
    n = notices.build(verdict, notices.NoticeConfig(issue_date=ISSUE))
    assert not n.legal_basis_configured
    assert "请在通知书设置 legal_basis 中填写" in notices.render(n, "txt")


def test_document_number_from_the_office_numbering(shipped):
    assert example_notice(shipped, "fire_hotel.yaml").document_number == "某应急责改〔2026〕007号"
    assert example_notice(shipped, "fire_hotel.yaml", document_number="某消改〔2026〕1号").document_number == "某消改〔2026〕1号"
    assert example_notice(shipped, "fire_hotel.yaml", sequence=None).document_number == "（文号：请填写序号）"
    with pytest.raises(ValueError, match="seq"):
        notices.NoticeConfig(document_number_pattern="某应急责改〔{year}〕号")


def test_inspectors_carry_their_certificate_numbers(shipped):
    n = example_notice(shipped, "fire_hotel.yaml")
    assert [(i.name, i.certificate) for i in n.config.inspectors] == [("张三", "A0001"), ("李四", "B0002")]
    for fmt in ("html", "md", "txt"):
        text = notices.render(n, fmt)
        assert "执法证号：A0001" in text and "执法证号：B0002" in text


def test_issue_date_before_the_inspection_is_refused(shipped, tmp_path, capsys):
    with pytest.raises(InputError, match="早于检查日期"):
        example_notice(shipped, "fire_hotel.yaml", issue_date=dt.date(2026, 11, 19))
    code = main(["notice", str(example_dir() / "fire_hotel.yaml"), "--issue-date", "2026-11-19", "-o", str(tmp_path / "n.html")])
    assert code == 65 and "签发日期 2026-11-19早于检查日期 2026-11-20" in capsys.readouterr().err
    assert not (tmp_path / "n.html").exists()


# 09-01 + 30 days is National Day, 09-16 + 17 a Saturday in the National Day week, 11-04 + 17 a Saturday.
@pytest.mark.parametrize("issue", [dt.date(2026, 9, 1), dt.date(2026, 9, 16), dt.date(2026, 11, 4)])
@pytest.mark.parametrize("working", [False, True])
def test_deadlines_fall_on_working_days(shipped, issue, working):
    n = example_notice(shipped, "fire_hotel.yaml", on=issue, issue_date=issue, deadline_in_working_days=working,
                       major_deadline_days=30, general_deadline_days=17)
    assert n.items
    for item in n.items:
        assert workdays.is_working_day(item.deadline)
        days = 30 if item.major else 17
        expected = (workdays.add_working_days(issue, days) if working
                    else workdays.on_or_after_working_day(issue + dt.timedelta(days=days))).date
        assert item.deadline == expected


def test_a_deadline_past_the_known_calendar_is_marked(shipped, capsys, tmp_path):
    # 2026-12-02 + 30 days is in 2027, whose holidays the calendar does not carry yet.
    n = example_notice(shipped, "fire_hotel.yaml")
    (major,) = [i for i in n.items if i.major]
    if workdays.calendar_known(major.deadline):
        pytest.skip("the calendar now covers 2027")
    assert major.deadline_note and major.deadline_note in notices.render(n, "txt")
    main(["notice", str(example_dir() / "fire_hotel.yaml"), "--issue-date", "2026-12-02", "-o", str(tmp_path / "n.txt"), "--format", "txt"])
    assert "法定节假日安排未收录" in capsys.readouterr().err


def test_the_unverified_remark_is_per_clause(shipped):
    parsed = parse_inspection((example_dir() / "fire_hotel.yaml").read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection.facts, on=parsed.inspection.on, sectors=["fire"])
    doc = verdict.documents[0]
    results = []
    for r in doc.results:
        if r.rule.endswith("6-6-5"):
            r = r.model_copy(update={"citations": [c.model_copy(update={"verification": "single_source"}) for c in r.citations]})
        results.append(r)
    verdict = verdict.model_copy(update={"documents": [doc.model_copy(update={"results": results}), *verdict.documents[1:]]})
    n = notices.build(verdict, notices.NoticeConfig(issue_date=ISSUE))
    (item,) = [i for i in n.items if "消防救援口" in i.finding]
    assert [c.verification_note for c in item.citations] == [None, "6.6.5 的条文尚未与官方原文逐字核对"]
    assert all(c.verification_note is None for i in n.items if i is not item for c in i.citations)
    assert notices.render(n, "html").count("尚未与官方原文逐字核对") == 1


def test_a_provisional_finding_carries_its_label_in_every_format(shipped):
    n = example_notice(shipped, "chemical_plant.yaml")
    (item,) = [i for i in n.items if i.status == "provisional"]
    assert item.label == "【参照判定，待核对】" and "效力未核实" in item.status_note
    for fmt in ("html", "md", "txt"):
        assert item.status_note in notices.render(n, fmt).replace("\\-", "-")


# --------------------------------------------------------------------------- PDF and Word


@needs_pdf
@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_as_pdf_and_docx_with_the_same_content(shipped, example, tmp_path):
    from hazardjudge.outputs import printing

    try:
        n = example_notice(shipped, example)
    except notices.NothingToNotice as exc:  # a clean site: no document to issue
        assert exc.outcome.value == "none"
        return
    pages = pdf_pages(printing.pdf(n))
    text = flat("".join(pages))
    word = flat(docx_text(printing.docx(n)))
    for piece in essentials(n):
        assert flat(piece) in text, piece
        assert flat(piece) in word, piece
    total = len(pages)
    for k, page in enumerate(pages, start=1):
        assert f"第{k}页共{total}页" in flat(page)
    assert "送达回执" in flat(pages[-1])


@needs_pdf
def test_table_headers_repeat_and_the_sign_off_stays_with_the_seal(shipped):
    from hazardjudge.outputs import printing

    base = example_notice(shipped, "fire_hotel.yaml")
    # Lengthen the table one line at a time so the sign-off meets the page end at every height.
    for extra in range(0, 9):
        items = base.items + [i.model_copy(update={"number": len(base.items) + k + 1}) for k, i in enumerate(base.items[1:] * 3)][:extra]
        pages = [flat(p) for p in pdf_pages(printing.pdf(base.model_copy(update={"items": items})))]
        seal = [p for p in pages if "(印章)" in p]
        assert len(seal) == 1
        (page,) = seal
        assert "检查人员:张三执法证号:A0001签名" in page and "执法证号:B0002" in page
        assert "被检查单位负责人(签名)" in page and "2026年12月2日" in page
        assert "如不服本通知" in page  # the signatures never without the text they sign
        table_pages = [p for p in pages if "【一般火灾隐患】" in p or "【重大火灾隐患】" in p]
        assert all("隐患情况" in p and "整改期限" in p for p in table_pages)  # the header on each page
    assert len(table_pages) >= 2  # the longest table did run over a page


def test_docx_repeats_header_rows_numbers_pages_and_keeps_the_sign_off_together(shipped):
    import docx
    from docx.oxml.ns import qn

    from hazardjudge.outputs import printing

    d = docx.Document(io.BytesIO(printing.docx(example_notice(shipped, "fire_hotel.yaml"))))
    items = next(t for t in d.tables if t.rows[0].cells[1].text == "隐患情况")
    assert items.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in items.rows)
    footer = d.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "NUMPAGES" in footer and "页 共" in footer
    section = d.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    texts = [p.text for p in d.paragraphs]
    first = next(k for k, t in enumerate(texts) if t.startswith("检查人员：张三"))
    seal = next(k for k, t in enumerate(texts) if t.endswith("（印章）"))
    remedy = next(k for k, t in enumerate(texts) if t.startswith("如不服本通知"))
    assert remedy < first
    assert all(d.paragraphs[k].paragraph_format.keep_with_next for k in range(remedy, seal + 1))  # through the date
    assert texts[seal + 1] == "2026年12月2日"


def test_hostile_text_in_a_word_file_stays_text(shipped):
    import docx

    from hazardjudge.outputs import printing

    hostile = '<w:p>{{ 7*7 }}\x00\x1b]0;x\x07'
    n = example_notice(shipped, "fire_hotel.yaml", authority=hostile, unit={"name": hostile})
    text = docx_text(printing.docx(n))
    assert "<w:p>{{ 7*7 }}\\x00\\x1b]0;x\\x07" in text


@needs_pdf
def test_cli_writes_pdf_and_docx(tmp_path, capsys):
    for fmt, magic in (("pdf", b"%PDF"), ("docx", b"PK")):
        out = tmp_path / f"n.{fmt}"
        code = main(["notice", str(example_dir() / "fire_hotel.yaml"), "--config", str(example_dir() / "notice.yaml"),
                     "--sequence", "12", "--issue-date", "2026-12-02", "--format", fmt, "-o", str(out)])
        assert code == 1 and out.read_bytes().startswith(magic)
    assert main(["notice", str(example_dir() / "fire_hotel.yaml"), "--format", "pdf"]) == 64
    assert "-o" in capsys.readouterr().err


# --------------------------------------------------------------------------- looked at


@needs_pdf
@needs_pdftoppm
@pytest.mark.parametrize("example", EXAMPLES)
def test_pdf_pages_render_as_a4_with_ink_in_the_margins_only_where_numbered(shipped, example, tmp_path):
    from pdf2image import convert_from_bytes

    from hazardjudge.outputs import printing

    try:
        n = example_notice(shipped, example)
    except notices.NothingToNotice as exc:  # a clean site (coal_mine_2026_clean.yaml): no document to render
        assert exc.outcome.value == "none"
        return
    images = convert_from_bytes(printing.pdf(n), dpi=40)
    for image in images:
        width, height = image.size
        assert abs(width / height - 210 / 297) < 0.01  # A4 portrait
        gray = image.convert("L")
        inked = lambda box: gray.crop(box).getextrema()[0] < 128
        assert inked((0, 0, width, height))  # nothing blank
        # the left and right margins stay clear; the bottom margin holds the page number
        assert not inked((0, 0, int(width * 0.05), height)) and not inked((int(width * 0.95), 0, width, height))
        assert inked((int(width * 0.3), int(height * 0.93), int(width * 0.7), height))


def test_without_pango_the_pdf_is_a_clear_chinese_error(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as it does without the libraries
    out = tmp_path / "n.pdf"
    code = main(["notice", str(example_dir() / "fire_hotel.yaml"), "--issue-date", "2026-12-02", "--format", "pdf", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 78 and "生成 PDF 需要 WeasyPrint 和 Pango 库" in err and "libpango-1.0-0" in err
    assert not out.exists()


@needs_pdf
def test_a_url_in_an_office_template_is_never_fetched(shipped, tmp_path):
    import http.server
    import threading

    from hazardjudge.outputs import printing

    hits = []

    class Count(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = (Path(notices.__file__).parent / "templates" / "notices" / "notice.html").read_text(encoding="utf-8")
        url = f"http://127.0.0.1:{server.server_port}"
        page = page.replace('<div class="sheet">', f'<div class="sheet"><img src="{url}/logo.png"><link rel="stylesheet" href="{url}/x.css">')
        (tmp_path / "notice.html").write_text(page, encoding="utf-8")
        data = printing.pdf(example_notice(shipped, "fire_hotel.yaml", template_dir=tmp_path))
    finally:
        server.shutdown()
    assert data.startswith(b"%PDF") and hits == []
