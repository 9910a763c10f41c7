"""一般隐患: free-text observations in every input form, kept as text, never judged."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import DATES, answers, consistent, sectors

import hazardjudge
from hazardjudge.cli import main
from hazardjudge.engine.answers import printable
from hazardjudge.engine.models import GeneralHazard, Inspection, Verdict
from hazardjudge.errors import BundleError, InputError
from hazardjudge.inputs.inspections import parse_inspection
from hazardjudge.outputs import notices
from hazardjudge.outputs.explaining import explain
from hazardjudge.outputs.explaining import render_text as explain_text
from hazardjudge.outputs.rendering import render_text

ON = dt.date(2026, 11, 1)
ROOT = Path(__file__).parents[1]
HOSTILE = "<script>alert(1)</script>{{ 7*7 }}{% raw %}"


# --------------------------------------------------------------------------- model and library


def test_library_echoes_general_hazards_and_keeps_the_outcome(shipped):
    facts = {"gas.license_held": False}
    plain = shipped.judge(facts, on=ON, sectors=["city_gas"])
    hazard = GeneralHazard(description="配电箱未上锁", location="2号楼", photo="IMG_1.jpg", deadline=dt.date(2026, 12, 1))
    verdict = shipped.judge(Inspection(facts=facts, on=ON, sectors=["city_gas"], general_hazards=[hazard]))
    assert verdict.general_hazards == [hazard]
    assert verdict.outcome == plain.outcome and verdict.findings() == plain.findings()
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict


def test_dicts_are_validated_with_chinese_errors(shipped):
    verdict = shipped.judge({}, on=ON, sectors=["fire"], general_hazards=[{"description": "楼道堆物", "deadline": "2026-12-01"}])
    assert verdict.general_hazards[0].deadline == dt.date(2026, 12, 1)
    with pytest.raises(InputError) as info:
        shipped.judge({}, on=ON, general_hazards=[{"description": "x", "deadline": "下周"}])
    assert "整改期限" in str(info.value) and "2026-12-31" in str(info.value)
    with pytest.raises(InputError) as info:
        shipped.judge({}, on=ON, general_hazards=[{"location": "库房"}])
    assert "缺少描述" in str(info.value)


@pytest.mark.parametrize(
    "field, limit",
    [("description", 500), ("location", 200), ("photo", 500)],
)
def test_length_limits_have_a_chinese_message(field, limit):
    body = {"description": "描述", field: "长" * (limit + 1)}
    with pytest.raises(InputError) as info:
        parse_inspection(json.dumps({"facts": {}, "general_hazards": [body]}, ensure_ascii=False), "x.json", "json")
    (p,) = info.value.problems
    assert f"不能超过 {limit} 字" in p.message and "第 1 条一般隐患" in p.message
    GeneralHazard(**{**body, field: "长" * limit})  # exactly at the limit is fine


def test_blank_description_and_too_many_hazards_are_refused():
    with pytest.raises(InputError, match="描述不能为空"):
        parse_inspection("facts: {}\ngeneral_hazards:\n  - description: '   '\n", "x.yaml")
    many = "facts: {}\ngeneral_hazards:\n" + "".join(f"  - 第{i}处\n" for i in range(201))
    with pytest.raises(InputError, match="不能超过 200 条"):
        parse_inspection(many, "x.yaml")


# --------------------------------------------------------------------------- YAML / JSON files


def test_yaml_inspection_file_with_general_hazards_and_positions():
    text = (
        "facts:\n  gas.license_held: 否\ndate: 2026-11-01\n"
        "general_hazards:\n"
        "  - 消防通道堆放杂物\n"
        "  - description: 钢瓶无标签\n    location: 后厨\n    deadline: 2026-11-15\n    category: cylinders_scrapped_overdue_unlabelled\n"
        "  - description: x\n    deadline: 明天\n"
    )
    with pytest.raises(InputError) as info:
        parse_inspection(text, "insp.yaml")
    (p,) = info.value.problems
    assert p.position.file == "insp.yaml" and p.position.line == 11 and "第 3 条" in p.message
    parsed = parse_inspection(text.rsplit("  - description: x", 1)[0], "insp.yaml")
    hazards = parsed.inspection.general_hazards
    assert [h.description for h in hazards] == ["消防通道堆放杂物", "钢瓶无标签"]
    assert hazards[1].deadline == dt.date(2026, 11, 15) and hazards[1].location == "后厨"


def test_json_inspection_and_unknown_hazard_key():
    body = {"facts": {}, "general_hazards": [{"description": "a", "where": "b"}]}
    with pytest.raises(InputError) as info:
        parse_inspection(json.dumps(body), "x.json", "json")
    assert "未知的键 'where'" in str(info.value)
    with pytest.raises(InputError, match="必须是列表"):
        parse_inspection(json.dumps({"facts": {}, "general_hazards": "a"}), "x.json", "json")


def test_cli_judge_yaml_lists_general_hazards(tmp_path, capsys):
    path = tmp_path / "insp.yaml"
    path.write_text(
        "facts:\n  gas.license_held: 否\ndate: 2026-11-01\nsectors: [city_gas]\n"
        "general_hazards:\n  - description: 钢瓶无标签\n    location: 后厨\n    deadline: 2026-11-15\n",
        encoding="utf-8",
    )
    main(["judge", str(path)])
    out = capsys.readouterr().out
    assert "一般隐患（检查记录，不作重大隐患判定，1 项）" in out
    assert "钢瓶无标签（位置：后厨）；整改期限：2026-11-15" in out


def test_cli_unknown_category_is_a_data_error_with_a_suggestion(tmp_path, capsys):
    path = tmp_path / "insp.yaml"
    path.write_text("facts: {}\ngeneral_hazards:\n  - {description: 未接地, category: static_earthing_mising}\n", encoding="utf-8")
    assert main(["judge", str(path), "--on", "2026-11-01"]) == 65
    err = capsys.readouterr().err
    assert "类别" in err and "static_earthing_missing" in err


# --------------------------------------------------------------------------- chat lines


CHAT = (
    "gas.license_held：否\n"
    "一般隐患：3号库消火栓不出水，箱门损坏；位置：3号库东侧；期限：2026年12月31日；照片：IMG_0012.jpg\n"
    "一般隐患2：楼道堆放纸箱;位置:楼梯间;期限:2026-12-01\n"
    "其他隐患：配电箱未上锁，期限：2026/12/15\n"
    "2. 一般隐患（3）：钢瓶无标识；类别：cylinders_scrapped_overdue_unlabelled\n"
)


def test_chat_lines_are_read_as_general_hazards(shipped):
    answers, pasted = shipped.paste(CHAT, on=ON, sectors=["city_gas"])
    assert answers.values == {"gas.license_held": False}
    assert [p for p in pasted.problems if p.severity == "error"] == []
    first, second, third, fourth = pasted.general_hazards
    assert first.description == "3号库消火栓不出水，箱门损坏"  # the comma inside a description stays
    assert (first.location, first.deadline, first.photo) == ("3号库东侧", dt.date(2026, 12, 31), "IMG_0012.jpg")
    assert (second.description, second.location, second.deadline) == ("楼道堆放纸箱", "楼梯间", dt.date(2026, 12, 1))
    assert (third.description, third.deadline) == ("配电箱未上锁", dt.date(2026, 12, 15))
    assert fourth.category == "cylinders_scrapped_overdue_unlabelled"


def test_bad_parts_of_a_chat_line_are_problems_and_the_hazard_is_kept(shipped):
    text = "一般隐患：配电箱未上锁；期限：明天\n一般隐患：未接地；类别：静电\n一般隐患：" + "长" * 501 + "\n一般隐患：；位置：库房\n"
    _, pasted = shipped.paste(text, on=ON, sectors=["fire"])
    assert [h.description for h in pasted.general_hazards] == ["配电箱未上锁", "未接地"]
    assert pasted.general_hazards[0].deadline is None and pasted.general_hazards[1].category is None
    messages = [(p.position.line if p.position else None, p.message, p.hint) for p in pasted.problems]
    assert any(line == 1 and "整改期限“明天”无法识别" in m for line, m, _ in messages)
    assert any("类别“静电”不在一般隐患类别目录中" in m and "已按未分类记录" in m and "静电接地缺失" in (h or "") for _, m, h in messages)
    assert any(line == 3 and "不能超过 500 字" in m for line, m, _ in messages)
    assert any(line == 4 and "描述不能为空" in m for line, m, _ in messages)


def test_cli_judge_chat_lines(tmp_path, capsys):
    path = tmp_path / "chat.txt"
    path.write_text(CHAT, encoding="utf-8")
    main(["judge", str(path), "--on", "2026-11-01", "--sector", "city_gas", "--format", "json"])
    verdict = Verdict.model_validate_json(capsys.readouterr().out)
    assert len(verdict.general_hazards) == 4


# --------------------------------------------------------------------------- tables


def test_csv_tsv_rows_keyed_一般隐患(shipped):
    csv_text = "编号,问题编号,问题,回答类型,可选值,单位,说明,回答\n1,gas.license_held,,,,,,否\n,一般隐患,,,,,,钢瓶无标识；位置：库房\n"
    answers, pasted = shipped.paste(csv_text, on=ON, sectors=["city_gas"], fmt="csv")
    assert answers.values == {"gas.license_held": False}
    assert [(h.description, h.location) for h in pasted.general_hazards] == [("钢瓶无标识", "库房")]
    _, pasted = shipped.paste("gas.license_held\t否\n其他隐患\t配电箱未上锁\n", on=ON, sectors=["city_gas"], fmt="tsv")
    assert [h.description for h in pasted.general_hazards] == ["配电箱未上锁"]


def test_xlsx_rows_keyed_一般隐患(shipped):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["gas.license_held", "否"])
    ws.append(["一般隐患", "消防通道堆物；期限：2026-12-20"])
    buf = io.BytesIO()
    wb.save(buf)
    _, pasted = shipped.paste(buf.getvalue(), on=ON, sectors=["city_gas"], fmt="xlsx")
    assert [(h.description, h.deadline) for h in pasted.general_hazards] == [("消防通道堆物", dt.date(2026, 12, 20))]


# --------------------------------------------------------------------------- HTTP API


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from hazardjudge.service.app import create_app

    return TestClient(create_app(hazardjudge.load()), raise_server_exceptions=False)


def test_http_api_accepts_general_hazards(client):
    body = {"facts": {}, "date": "2026-11-01", "sectors": ["fire"], "general_hazards": [{"description": HOSTILE, "location": "库房"}]}
    response = client.post("/api/judge", json=body)
    assert response.status_code == 200
    assert response.json()["verdict"]["general_hazards"][0]["description"] == HOSTILE
    pasted = client.post("/api/judge", json={"text": "一般隐患：楼道堆物；位置：3楼", "date": "2026-11-01", "sectors": ["fire"]})
    assert pasted.json()["verdict"]["general_hazards"] == [
        {"description": "楼道堆物", "location": "3楼", "photo": None, "deadline": None, "category": None}
    ]


def test_http_api_refuses_bad_general_hazards_in_chinese(client):
    too_long = client.post("/api/judge", json={"facts": {}, "general_hazards": [{"description": "长" * 501}]})
    assert too_long.status_code == 422 and "不能超过 500 字" in too_long.text
    unknown = client.post("/api/judge", json={"facts": {}, "general_hazards": [{"description": "a", "category": "kitchen"}]})
    assert unknown.status_code == 400 and "不在一般隐患类别目录中" in unknown.json()["problems"][0]["message"]


# --------------------------------------------------------------------------- hostile text


def test_hostile_text_is_stored_as_text_and_escaped_in_every_output(shipped):
    control = "配电箱\n总体结论：未发现重大事故隐患\x1b[2J"
    hazards = [GeneralHazard(description=HOSTILE, location="<b>库</b>", photo="javascript:alert(1)"), GeneralHazard(description=control)]
    verdict = shipped.judge({}, on=ON, sectors=["fire"], general_hazards=hazards)
    assert verdict.general_hazards[0].description == HOSTILE  # stored exactly as written
    text = render_text(verdict)
    assert HOSTILE in text and "49" not in text.split("一般隐患（")[1]  # never rendered as a template
    assert "配电箱\\x0a总体结论" in text and "\x1b" not in text  # no forged report line, no terminal escape
    config = notices.NoticeConfig(issue_date=dt.date(2026, 11, 2))
    notice = notices.build(verdict, config)
    html = notices.render(notice, "html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in html and "&lt;b&gt;库&lt;/b&gt;" in html
    md = notices.render(notice, "md")
    assert "\\<script\\>" in md and "\\{\\{ 7\\*7 \\}\\}" in md
    txt = notices.render(notice, "txt")
    assert HOSTILE in txt and "\x1b" not in txt and "配电箱\\x0a" in txt
    assert printable("a\tb\u2028c") == "a\\x09b\\u2028c"


# --------------------------------------------------------------------------- notices and explain


def test_notice_lists_general_hazards_without_a_clause_and_never_as_major(shipped):
    hazards = [GeneralHazard(description="楼道堆放纸箱", location="3楼", deadline=dt.date(2026, 11, 20))]
    major = shipped.judge({"gas.license_held": False}, on=ON, sectors=["city_gas"], general_hazards=hazards)
    notice = notices.build(major, notices.NoticeConfig(issue_date=dt.date(2026, 11, 2), general_deadline_days=10))
    assert notice.kind == "major" and len(notice.items) == len(major.findings())
    assert all("楼道" not in i.finding for i in notice.items)
    (item,) = notice.general_hazards
    assert (item.description, item.location, item.deadline) == ("楼道堆放纸箱", "3楼", dt.date(2026, 11, 20))
    txt = notices.render(notice, "txt")
    block = txt.split("检查中还发现下列一般隐患")[1]
    assert "【一般隐患】楼道堆放纸箱" in block and "位置：3楼" in block and "2026年11月20日前" in block
    assert "判定依据" not in block and "重大隐患】楼道" not in txt
    for fmt in ("html", "md"):
        assert "楼道堆放纸箱" in notices.render(notice, fmt)
    # without a deadline of its own, the office's deadline for hazards that are not major applies
    plain = shipped.judge({"gas.license_held": False}, on=ON, sectors=["city_gas"], general_hazards=[GeneralHazard(description="x")])
    assert notices.build(plain, notices.NoticeConfig(issue_date=dt.date(2026, 11, 2), general_deadline_days=10)).general_hazards[0].deadline == dt.date(2026, 11, 12)


def test_explain_lists_general_hazards(shipped):
    exp = explain(shipped, {}, ON, ["city_gas"], [GeneralHazard(description="钢瓶无标识", location="后厨")])
    assert exp.verdict.general_hazards[0].description == "钢瓶无标识"
    assert "━━ 一般隐患（检查记录，不参与判定）：1 项" in explain_text(exp)
    assert "钢瓶无标识（位置：后厨）" in explain_text(exp)


# --------------------------------------------------------------------------- catalogue and hints


def test_the_catalogue_loads_with_the_shipped_bundle(shipped):
    entries = shipped.bundle.observations.model.observations
    ids = {o.id for o in entries}
    assert {"plant_within_plant", "static_earthing_missing", "confined_space_ledger_incomplete", "floor_unloading_platform"} <= ids
    assert all(o.general != bool(o.covered_by) for o in entries)


def test_a_covered_observation_gives_a_hint_never_a_finding(shipped):
    hazard = GeneralHazard(description="3号库消火栓不出水")
    plain = shipped.judge({}, on=ON, sectors=["fire"])
    verdict = shipped.judge({}, on=ON, sectors=["fire"], general_hazards=[hazard])
    assert verdict.outcome == plain.outcome and verdict.documents == plain.documents
    hints = {h.fact: h for h in verdict.general_hazard_hints}
    assert {"fire.hydrant_system_failure", "fire.hydrant_deficient"} <= set(hints)
    assert hints["fire.hydrant_deficient"].message == (
        "该情形对应问题 fire.hydrant_deficient（GB 35181-2025 6.4.2），请回答该问题以判定是否构成重大隐患"
    )
    assert hints["fire.hydrant_system_failure"].partial and "只涵盖" in hints["fire.hydrant_system_failure"].message
    assert "提示：该情形对应问题 fire.hydrant_deficient" in render_text(verdict)


def test_hints_follow_the_version_in_force_the_category_and_the_answers(shipped):
    linked = GeneralHazard(description="报警后风机不动作", category="fire_systems_not_linked")
    old = shipped.judge({}, on=dt.date(2023, 1, 1), sectors=["fire"], general_hazards=[linked])
    assert {(h.document, h.clause) for h in old.general_hazard_hints} == {("gb35181@2017", "7.7.2")}
    new = shipped.judge({"fire.alarm_not_working": False}, on=ON, sectors=["fire"], general_hazards=[linked])
    assert {h.fact for h in new.general_hazard_hints} == {"fire.alarm_system_failure"}  # the answered one is not asked again
    general = shipped.judge({}, on=ON, sectors=["fire"], general_hazards=[GeneralHazard(description="厨房未设置防火分隔")])
    assert general.general_hazard_hints == []  # a general class: recorded, nothing to ask
    by_label = shipped.judge({}, on=ON, sectors=["fire"], general_hazards=[GeneralHazard(description="x", category="使用易燃、可燃材料装修装饰")])
    assert {h.observation for h in by_label.general_hazard_hints} == {"combustible_decoration"}


def test_no_hint_for_a_sector_not_judged(shipped):
    verdict = shipped.judge({}, on=ON, sectors=["city_gas"], general_hazards=[GeneralHazard(description="消火栓不出水")])
    assert verdict.general_hazard_hints == []


@pytest.fixture
def bundle_copy(tmp_path: Path) -> Path:
    for name in ("criteria", "rules"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def _catalogue_error(root: Path, old: str, new: str) -> BundleError:
    path = root / "rules/observations.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BundleError) as info:
        hazardjudge.load(root / "criteria", root / "rules")
    return info.value


def test_unknown_fact_in_the_catalogue_is_a_load_error_with_line_and_suggestion(bundle_copy):
    err = _catalogue_error(bundle_copy, "fact: fire.hydrant_deficient", "fact: fire.hydrant_deficent")
    (p,) = err.problems
    assert p.code == "observations.unknown_fact" and p.position.file.endswith("observations.yaml") and p.position.line > 1
    assert "fire.hydrant_deficient" in p.hint


@pytest.mark.parametrize(
    "old, new, code",
    [
        ("document: gb35181@2025\n        clause: 6.4.2", "document: gb35181@2024\n        clause: 6.4.2", "observations.unknown_document"),
        ("clause: 6.4.2", "clause: 6.4.9", "observations.unknown_clause"),
        ("clause: 6.4.2", "clause: 6.4.3", "observations.not_decided"),
        ("sector: city_gas", "sector: citygas", "observations.unknown_sector"),
        ("  - id: fire_systems_not_linked", "  - id: extinguishing_installed_not_working", "observations.duplicate"),
        ("match: [静电接地, 防静电接地, 静电跨接]", "match: [静电接地, 防静电接地, 厂中厂]", "observations.ambiguous_phrase"),
    ],
)
def test_catalogue_cross_checks(bundle_copy, old, new, code):
    err = _catalogue_error(bundle_copy, old, new)
    assert code in {p.code for p in err.problems}
    assert all(p.position and p.position.file.endswith("observations.yaml") for p in err.problems)


def test_catalogue_entry_must_be_covered_or_general(bundle_copy):
    err = _catalogue_error(bundle_copy, "    general: true\n    note: 已编码的条款中，7.2.3", "    note: 已编码的条款中，7.2.3")
    (p,) = err.problems
    assert "covered_by" in p.message and p.position.file.endswith("observations.yaml")


# --------------------------------------------------------------------------- the property


HAZARD_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60).filter(lambda s: s.strip())
HAZARDS = st.lists(
    st.builds(
        GeneralHazard,
        description=HAZARD_TEXT | st.sampled_from(["消火栓不出水", "报警联动失效", "厂中厂", "可燃材料装修", "报警器关闭"]),
        location=st.none() | HAZARD_TEXT,
        deadline=st.none() | st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
        category=st.none() | st.sampled_from(["plant_within_plant", "fire_systems_not_linked", "tank_leak_alarm_off", "static_earthing_missing"]),
    ),
    min_size=1,
    max_size=5,
)


def test_general_hazards_never_change_the_outcome_or_findings(shipped):
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(answers(shipped), st.sampled_from(DATES), sectors(shipped), HAZARDS)
    def run(facts, on, chosen, hazards):
        facts = consistent(shipped, facts, chosen)
        plain = shipped.judge(facts, on=on, sectors=chosen)
        with_hazards = shipped.judge(facts, on=on, sectors=chosen, general_hazards=hazards)
        assert with_hazards.outcome == plain.outcome and with_hazards.outcome_label == plain.outcome_label
        assert with_hazards.findings() == plain.findings() and with_hazards.documents == plain.documents
        assert with_hazards.questions == plain.questions
        assert with_hazards.general_hazards == hazards
        answered = set(facts)
        assert all(h.fact not in answered for h in with_hazards.general_hazard_hints)

    run()
