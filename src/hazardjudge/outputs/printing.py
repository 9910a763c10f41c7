"""A notice as a file an office signs and files: PDF (WeasyPrint) and Word (python-docx).

The PDF is the HTML notice itself, laid out by WeasyPrint: A4, page numbers 第 X 页 共 Y 页 in
the bottom margin, table headers repeated on every page, the signatures kept on one page
with the seal and date, the 送达回执 on a page of its own. It needs Pango (Debian:
libpango-1.0-0, libpangoft2-1.0-0) and a CJK font (Debian: fonts-noto-cjk).

The Word file carries the same content from the same :class:`Notice` and the same
wording (:func:`notices.paragraphs`), as ordinary paragraphs and tables a clerk can edit
in Word or WPS: the same footer numbering, header rows repeated, rows never split, the
sign-off kept together.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from functools import cache

from hazardjudge.engine.answers import printable
from hazardjudge.outputs import notices
from hazardjudge.outputs.notices import Notice, cn_date

CJK_FONT_PACKAGE = "fonts-noto-cjk"
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"


class PrintingUnavailable(RuntimeError):
    """The PDF cannot be made on this machine (a system library is missing); the message is Chinese."""


@cache
def cjk_font_installed() -> bool | None:
    """Whether fontconfig knows a Chinese font (None: fontconfig's tools are not there to ask)."""
    if shutil.which("fc-list") is None:
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
    return bool(out.stdout.strip())


def pdf(notice: Notice) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise PrintingUnavailable(f"生成 PDF 需要 WeasyPrint 和 Pango 库（Debian：apt-get install {PANGO_PACKAGES}）：{exc}") from exc
    html = notices.render(notice, "html")
    # The notice loads nothing: a URL in an office's template never reaches the network or
    # the disk (an image there is left out, the notice still prints).
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def docx(notice: Notice) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    n = notice
    p = notices.paragraphs(n)
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    section.left_margin = section.right_margin = Mm(18)

    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")

    def para(text: str = "", *, align=None, size: float | None = None, bold: bool = False, indent: bool = False, keep: bool = False):
        out = doc.add_paragraph()
        if text:
            run = out.add_run(printable(text))  # XML takes no control characters
            run.bold = bold
            if size:
                run.font.size = Pt(size)
        if align is not None:
            out.alignment = align
        if indent:
            out.paragraph_format.first_line_indent = Pt(24)
        out.paragraph_format.keep_with_next = keep
        return out

    def field(paragraph, code: str) -> None:
        simple = OxmlElement("w:fldSimple")
        simple.set(qn("w:instr"), code)
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        simple.append(run)
        paragraph._p.append(simple)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    field(footer, "PAGE")
    footer.add_run(" 页 共 ")
    field(footer, "NUMPAGES")
    footer.add_run(" 页")

    def table(header: list[str] | None, rows: list[list[str]], widths: list[float]):
        t = doc.add_table(rows=0, cols=len(widths))
        t.style = "Table Grid"
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, cells in enumerate(([header] if header else []) + rows):
            row = t.add_row()
            tr_pr = row._tr.get_or_add_trPr()
            cant_split = OxmlElement("w:cantSplit")
            tr_pr.append(cant_split)
            if header and r == 0:
                repeat = OxmlElement("w:tblHeader")  # repeated at the top of every page
                tr_pr.append(repeat)
            for c, value in enumerate(cells):
                cell = row.cells[c]
                cell.width = Mm(widths[c])
                lines = [printable(line) for line in value.split("\n")]
                cell.paragraphs[0].add_run(lines[0]).bold = bool(header and r == 0)
                for line in lines[1:]:
                    cell.add_paragraph(line)
        para()
        return t

    para(n.config.authority, align=WD_ALIGN_PARAGRAPH.CENTER, size=14)
    para(n.title, align=WD_ALIGN_PARAGRAPH.CENTER, size=20, bold=True)
    para(n.document_number, align=WD_ALIGN_PARAGRAPH.RIGHT)
    unit = n.config.unit
    inspectors = "、".join(f"{i.name}（执法证号：{i.certificate}）" if i.certificate else i.name for i in n.config.inspectors)
    table(None, [
        ["被检查单位", unit.name or "（未填写）"],
        ["地址", unit.address or "（未填写）"],
        ["法定代表人", unit.legal_representative or "（未填写）"],
        ["主要负责人", (unit.responsible_person or "（未填写）") + (f"　电话：{unit.phone}" if unit.phone else "")],
        ["检查日期", cn_date(n.inspection_date)],
        ["检查人员", inspectors or "（未填写）"],
    ], [30, 144])

    for text in n.not_encoded:
        para(f"注：{text}，须另行对照该标准检查判定。", size=10)
    para(p["intro"], indent=True)
    if n.kind == "supplementary":
        table(["序号", "需要查明的事项", "查明情况"],
              [[str(k), f"{q}\n编号：{fid}", ""] for k, (fid, q) in enumerate(n.questions, start=1)]
              + [[str(k), t, ""] for k, t in enumerate(n.to_check, start=len(n.questions) + 1)], [12, 122, 40])
        if n.open_clauses:
            para("涉及的判定条款：" + "、".join(n.open_clauses), size=10)
    else:
        rows = []
        for i in n.items:
            cites = "\n".join(
                f"{c.clause}：{c.summary}" + (f"\n注：{c.verification_note}" if c.verification_note else "") for c in i.citations
            )
            finding = f"{i.label}{i.finding}" + (f"\n标注：{i.status_note}" if i.status_note else "")
            due = f"{cn_date(i.deadline)}前" + (f"\n{i.deadline_note}" if i.deadline_note else "")
            rows.append([str(i.number), finding, f"{i.document}\n{cites}", i.rectification, due])
        table(["序号", "隐患情况", "判定依据", "整改要求", "整改期限"], rows, [10, 44, 50, 44, 26])
        for note in n.reference_notes:
            para(f"说明：标注“参照判定”的事项依据的文件效力未核实，不是已确认的重大事故隐患判定。{note}", size=10)
        for text in p["after"]:
            para(text, indent=True)
    if n.pending:
        para(f"待集体讨论、专家论证等确认的事项（尚未认定为{n.major_label}，不属于本通知认定的隐患）", bold=True, keep=True)
        table(["序号", "情况", "依据", "尚待确认"],
              [[str(x.number), f"【待确认】{x.finding}", f"{x.document} {x.clauses}", x.condition] for x in n.pending], [10, 60, 44, 60])
    if n.general_hazards:
        para(f"检查中还发现下列一般隐患（检查记录，不属于{n.major_label}），请一并整改：", indent=True, keep=True)
        table(["序号", "一般隐患", "位置", "整改期限"], [
            [str(h.number), f"【一般隐患】{printable(h.description)}" + (f"\n照片：{printable(h.photo)}" if h.photo else ""),
             printable(h.location or ""), f"{cn_date(h.deadline)}前" + (f"\n{h.deadline_note}" if h.deadline_note else "")]
            for h in n.general_hazards
        ], [10, 94, 44, 26])
    # The sign-off, from the remedies to the date: every paragraph kept with the next, so the
    # seal and date never stand alone and the signatures never without the text they sign.
    if p["remedy"]:
        para(p["remedy"], indent=True, keep=True)
    if n.config.contact:
        para(f"联系人及电话：{n.config.contact}", indent=True, keep=True)
    para(keep=True)
    for i in n.config.inspectors or [None, None]:
        name = i.name if i else "＿＿＿＿＿＿"
        cert = (i.certificate if i else "") or "＿＿＿＿＿＿"
        para(f"检查人员：{name}　执法证号：{cert}　签名：＿＿＿＿＿＿＿＿", keep=True)
    para("被检查单位负责人（签名）：＿＿＿＿＿＿＿＿　　　　年　　月　　日", keep=True)
    para(keep=True)
    para(f"{n.config.authority}（印章）", align=WD_ALIGN_PARAGRAPH.RIGHT, keep=True)
    para(cn_date(n.issue_date), align=WD_ALIGN_PARAGRAPH.RIGHT, keep=True)
    para(f"本通知书一式两份，一份交被检查单位，一份存档。判定规则版本：{n.bundle}。", size=10)

    para().add_run().add_break(WD_BREAK.PAGE)
    para("送达回执", align=WD_ALIGN_PARAGRAPH.CENTER, size=16, bold=True)
    table(None, [
        ["送达文书", f"{n.title}　{n.document_number}"],
        ["受送达人", unit.name], ["送达地点", unit.address], ["送达方式", ""],
        ["受送达人签收", "　　　　　　　　　　　　年　　月　　日"], ["代收人及代收理由", ""],
        ["送达人", "　　　　　　　　　　　　年　　月　　日"], ["备注", ""],
    ], [36, 138])

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
