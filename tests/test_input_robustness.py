"""Inputs that used to crash (exit 70 or, before that, 1) or be misread: each is now an input error or read right."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.inputs import checklists

ON = "2026-11-01"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("deep.json", '{"facts": ' + "[" * 3000 + "]" * 3000 + "}", "json.depth"),
        ("deep.yaml", "facts: " + "[" * 3000 + "]" * 3000, "yaml."),
        ("bigint.json", '{"facts": {"gas.license_held": ' + "9" * 5000 + "}}", "json.number"),
        ("bigint.yaml", "facts:\n  gas.license_held: " + "9" * 5000 + "\n", "yaml.value"),
        ("baddate.yaml", "date: 2026-02-30\nfacts:\n  gas.license_held: 否\n", "yaml.value"),
    ],
)
def test_hostile_files_are_input_errors(tmp_path, capsys, name, content, code):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["judge", str(path), "--sector", "city_gas"]) == 65
    err = capsys.readouterr().err
    assert code in err and "内部错误" not in err


def test_an_impossible_yaml_date_says_where(tmp_path, capsys):
    path = tmp_path / "i.yaml"
    path.write_text("date: 2026-02-30\nfacts: {}\n", encoding="utf-8")
    assert main(["judge", str(path)]) == 65
    assert "i.yaml:1:7" in capsys.readouterr().err


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16"])
def test_chat_lines_saved_by_chinese_windows_are_read(tmp_path, capsys, encoding):
    path = tmp_path / "chat.txt"
    path.write_bytes("燃气经营者是否已取得燃气经营许可证：否\n".encode(encoding))
    assert main(["judge", str(path), "--sector", "city_gas", "--on", ON]) == 1
    captured = capsys.readouterr()
    assert "第四条（一）" in captured.out
    assert "不是 UTF-8 编码" in captured.err


def test_a_checklist_saved_as_gb18030_comes_back(shipped, tmp_path):
    checklist = checklists.build(shipped, dt.date(2026, 11, 1), site={"site.kinds": ["gas_operator"]})
    lines = checklists.to_csv(checklist).splitlines()
    filled = [ln + "否" if ",gas.license_held," in ln else ln for ln in lines]
    path = tmp_path / "checklist.csv"
    path.write_bytes(("\n".join(filled) + "\n").encode("gb18030"))  # GBK lacks ², which the units use
    assert main(["judge", str(path)]) == 1  # its date, unit type and the answer all read back


def test_undecodable_bytes_are_refused(tmp_path, capsys):
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes([0x81, 0x30, 0xFF, 0xFE, 0x00]) * 10)
    assert main(["judge", str(path), "--input-format", "lines"]) == 65
    assert "input.encoding" in capsys.readouterr().err


def test_a_gbk_yaml_inspection_is_refused_clearly(tmp_path, capsys):
    path = tmp_path / "i.yaml"
    path.write_bytes("facts:\n  gas.license_held: 否\n".encode("gbk"))
    assert main(["judge", str(path), "--sector", "city_gas"]) == 65
    assert "须为 UTF-8 编码" in capsys.readouterr().err


def _workbook_with_padding(shipped, padding: int) -> bytes:
    import io
    import zipfile

    checklist = checklists.build(shipped, dt.date(2026, 11, 1), site={"site.kinds": ["gas_operator"]})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(checklists.to_xlsx(checklist))) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/padding.xml", b"<a>" + b" " * padding + b"</a>")
    return out.getvalue()


def test_a_workbook_that_expands_hugely_is_refused_before_it_is_parsed(shipped):
    bomb = _workbook_with_padding(shipped, 40 * 1024 * 1024)
    assert len(bomb) < 200_000  # small on the wire
    _, pasted = shipped.paste(bomb)
    assert [p.code for p in pasted.problems] == ["paste.too_large"] and not pasted.facts


def test_a_workbook_with_too_many_rows_stops_at_the_limit(shipped):
    import io

    from openpyxl import Workbook

    from hazardjudge.inputs.pasting import MAX_LINES

    wb = Workbook()
    for i in range(MAX_LINES + 500):
        wb.active.append([i, "gas.license_held", "否"])
    data = io.BytesIO()
    wb.save(data)
    _, pasted = shipped.paste(data.getvalue())
    assert [p.code for p in pasted.problems] == ["paste.too_long"] and not pasted.facts


def test_many_unknown_question_ids_are_counted_not_each_matched(shipped):
    import hazardjudge
    from hazardjudge.inputs.reading import MAX_SUGGESTIONS

    with pytest.raises(hazardjudge.InputError) as info:
        shipped.read({f"x.unknown_{i}": True for i in range(20_000)})
    problems = info.value.problems
    assert len(problems) == MAX_SUGGESTIONS + 1
    assert any(f"另有 {20_000 - MAX_SUGGESTIONS} 个未知的问题编号" in p.message for p in problems)


def test_a_workbook_of_many_parts_is_refused_before_openpyxl_reads_it(shipped):
    import io
    import zipfile

    from hazardjudge.inputs.pasting import MAX_XLSX_ENTRIES

    checklist = checklists.build(shipped, dt.date(2026, 11, 1), site={"site.kinds": ["gas_operator"]})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(checklists.to_xlsx(checklist))) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        for i in range(MAX_XLSX_ENTRIES):
            dst.writestr(f"x/{i}", b"")
    _, pasted = shipped.paste(out.getvalue())
    assert [p.code for p in pasted.problems] == ["paste.too_large"] and "个部件" in pasted.problems[0].message
