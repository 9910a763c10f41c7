"""The corpus of named bad inputs: each file in tests/fixtures/bad_inputs/ with its expected outcome beside it.

``<name>.expected.yaml`` says how the input is run (``runs``: CLI arguments, the exit code, a
fragment of standard error or output that must appear, one that must not) and, where it applies,
what HTTP answers (``http``: the endpoint, the file sent as the JSON body or as pasted ``text``, the
status and a fragment of the answer). The input is the file ``input`` names, else the one file
named ``<name>.*``; ``generate`` makes a binary input here instead (kept out of the repository: a
workbook bomb, a file beyond the size limit); ``bundle: true`` overlays the folder ``<name>/`` on
the demo bundle. Placeholders in arguments: ``{input}``, ``{bundle}``, ``{examples}``, ``{tmp}``
(an empty folder).
"""

from __future__ import annotations

import io
import json
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.yamlio import load_yaml_file

CORPUS = Path(__file__).parent / "fixtures" / "bad_inputs"
DEMO = Path(__file__).parent / "fixtures" / "demo"
SPECS = sorted(CORPUS.glob("*.expected.yaml"))


def _name(spec: Path) -> str:
    return spec.name.removesuffix(".expected.yaml")


def _checklist_xlsx() -> bytes:
    import datetime as dt

    import hazardjudge
    from hazardjudge.inputs import checklists

    engine = hazardjudge.load()
    return checklists.to_xlsx(checklists.build(engine, dt.date(2026, 11, 1), site={"site.kinds": ["gas_operator"]}))


def _xlsx_bomb(path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_checklist_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/padding.xml", b"<a>" + b" " * (40 * 1024 * 1024) + b"</a>")
    path.write_bytes(out.getvalue())


def _xlsx_rows(path: Path) -> None:
    """A sheet of 6,000 rows written as XML directly (openpyxl would take seconds to save it)."""
    from hazardjudge.inputs.pasting import MAX_LINES

    rows = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>gas.license_held</t></is></c><c r="B{i}" t="inlineStr"><is><t>否</t></is></c></row>'
        for i in range(1, MAX_LINES + 1000)
    )
    sheet = f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_checklist_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(info))
    path.write_bytes(out.getvalue())


def _oversize(path: Path) -> None:
    from hazardjudge.engine.yamlio import MAX_FILE_BYTES

    path.write_bytes(("gas.license_held: 否\n" * (MAX_FILE_BYTES // 20 + 1000)).encode())


GENERATORS = {"xlsx_bomb": (_xlsx_bomb, "xlsx"), "xlsx_rows": (_xlsx_rows, "xlsx"), "oversize": (_oversize, "yaml")}


def _input(spec: dict, name: str, tmp_path: Path) -> Path | None:
    if "input" in spec:
        return CORPUS / spec["input"]
    if "generate" in spec:
        make, ext = GENERATORS[spec["generate"]]
        path = tmp_path / f"{name}.{ext}"
        make(path)
        return path
    found = [p for p in CORPUS.glob(f"{name}.*") if not p.name.endswith(".expected.yaml")]
    assert len(found) <= 1, found
    return found[0] if found else None


def _bundle(name: str, tmp_path: Path) -> Path:
    root = tmp_path / "bundle"
    shutil.copytree(DEMO, root)
    shutil.copytree(CORPUS / name, root, dirs_exist_ok=True)
    return root


@pytest.mark.parametrize("spec_path", SPECS, ids=_name)
def test_each_bad_input_gives_its_exit_code_and_message(spec_path, tmp_path, capsys):
    spec, name = load_yaml_file(spec_path), _name(spec_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    values = {"examples": str(example_dir()), "tmp": str(empty)}
    if (path := _input(spec, name, tmp_path)) is not None:
        values["input"] = str(path)
    if spec.get("bundle"):
        values["bundle"] = str(_bundle(name, tmp_path))
    for run in spec["runs"]:
        code = main([str(arg).format(**values) for arg in run["args"]])
        out, err = capsys.readouterr()
        assert code == run["exit"], (run["args"], err[-800:])
        assert "Traceback" not in err and "内部错误" not in err
        for stream, text in (("stderr", err), ("stdout", out)):
            if run.get(stream):
                assert run[stream] in text, (stream, text[-800:])
        if run.get("absent"):
            assert run["absent"] not in out + err


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from hazardjudge.service.app import create_app

    return TestClient(create_app(), raise_server_exceptions=False)


HTTP_SPECS = [p for p in SPECS if "http" in load_yaml_file(p)]


@pytest.mark.parametrize("spec_path", HTTP_SPECS, ids=_name)
def test_each_bad_input_over_http(spec_path, client, tmp_path):
    spec = load_yaml_file(spec_path)
    http = spec["http"]
    data = _input(spec, _name(spec_path), tmp_path).read_bytes()
    body = data if http["send"] == "body" else json.dumps({"text": data.decode("utf-8"), "sectors": ["city_gas"], "date": "2026-11-01"}).encode()
    response = client.post(http["path"], content=body, headers={"content-type": "application/json"})
    assert response.status_code == http["status"], response.text[:800]
    assert http["fragment"] in response.text
    if "also" in http:
        assert http["also"] in response.text.replace(" ", "")
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "problems"}


def test_every_file_in_the_corpus_belongs_to_an_entry():
    used = set()
    for spec_path in SPECS:
        spec, name = load_yaml_file(spec_path), _name(spec_path)
        used.add(spec_path.name)
        used.add(spec.get("input") or "")
        used.update(p.name for p in CORPUS.glob(f"{name}.*"))
        if spec.get("bundle"):
            used.add(name)
    assert sorted(p.name for p in CORPUS.iterdir() if p.name not in used) == []
