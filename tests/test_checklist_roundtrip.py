"""Every checklist goes out and comes back: exported in each format, filled in as an inspector would,
judged on its own (no --site/--sector/--on), it gives the verdict the library gives for the same
answers, date and site. Numbered chat answers are tied to the checklist's identity; follow-ups
apply only when the answers that open them say so."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazardjudge.cli import main
from hazardjudge.engine.models import OverallOutcome
from hazardjudge.errors import InputError
from hazardjudge.inputs import checklists
from hazardjudge.inputs.pasting import chinese_number, parse

ON = dt.date(2026, 11, 18)
SITE = {"site.kinds": ["gas_operator"]}
# A major finding (no licence), a gate opened (a station) and one of its follow-ups answered.
ANSWERS = {"fire.in_scope": "否", "gas.license_held": "否", "gas.operates_station": "是", "gas.station_auto_shutoff": "否"}
WEB = Path(__file__).parents[1] / "src" / "hazardjudge" / "service" / "web" / "app.js"


def expected(engine, answers=ANSWERS, on=ON, site=SITE, sectors=None):
    return engine.judge(engine.read({**site, **answers}), on=on, sectors=sectors).model_dump(mode="json")


def judged(path, capsys, *options):
    code = main(["judge", str(path), "--format", "json", *options])
    out = capsys.readouterr().out
    assert code in (0, 1, 2), capsys.readouterr().err
    return json.loads(out)


def export(fmt, tmp_path, *options):
    path = tmp_path / f"checklist.{fmt}"
    assert main(["checklist", "--on", ON.isoformat(), "--format", fmt, "-o", str(path), *options]) == 0
    return path


def fill_rows(rows, answers):
    header = rows.index(checklists.CSV_HEADER)
    for row in rows[header + 1 :]:
        if row[1] in answers:
            row[-1] = answers[row[1]]
    return rows


def fill(fmt, path, answers):
    """The answers written into an exported checklist the way a person fills it in."""
    if fmt in ("csv", "tsv"):
        delimiter = "," if fmt == "csv" else "\t"
        rows = fill_rows(list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=delimiter)), answers)
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)  # as Excel saves it
        path.write_text(out.getvalue(), encoding="utf-8")
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path)
        for row in wb.active.iter_rows():
            if row[1].value in answers and row[0].value != checklists.CSV_HEADER[0]:
                row[-1].value = answers[row[1].value]
        wb.save(path)
    elif fmt == "yaml":
        text = path.read_text(encoding="utf-8")
        for fid, value in answers.items():
            text = text.replace(f"  {fid}: 未检查", f"  {fid}: {value}")
        path.write_text(text, encoding="utf-8")
    elif fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        data["facts"].update(answers)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    elif fmt == "md":
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            fid = next((f for f in answers if f"回答（{f}，" in line), None)
            lines.append(line + answers[fid] if fid else line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "chat":  # each answer typed after its question, as a reply quoting the message
        identity = re.search(r"检查表编号：(\S+)", path.read_text(encoding="utf-8")).group(1)
        items = {i.fact: i for i in checklists.rebuild(_engine(), identity).items}
        numbers = {f"{items[f].number}. ": v for f, v in answers.items()}
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines():
            key = next((k for k in numbers if line.lstrip().startswith(k)), None)
            lines.append(line + numbers[key] if key else line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_cache: dict = {}


def _engine():
    import hazardjudge

    return _cache.setdefault("e", hazardjudge.load())


FORMATS = ["md", "chat", "csv", "tsv", "xlsx", "yaml", "json"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_filled_checklist_judged_alone_gives_the_verdict_of_its_answers_date_and_site(fmt, shipped, tmp_path, capsys):
    path = export(fmt, tmp_path, "--site", "gas_operator")
    fill(fmt, path, ANSWERS)
    verdict = judged(path, capsys)
    assert verdict == expected(shipped)
    assert verdict["outcome"] == "major"
    # ...and the same as naming the options again.
    assert judged(path, capsys, "--site", "gas_operator", "--on", ON.isoformat()) == verdict


@pytest.mark.parametrize("fmt", FORMATS)
def test_named_sectors_come_back_named(fmt, shipped, tmp_path, capsys):
    # Named sectors apply whatever the scope answers say; a file that forgot it would judge all sectors.
    path = export(fmt, tmp_path, "--sector", "city_gas", "--sector", "fire")
    answers = {"gas.license_held": "否", "gas.operates_station": "否"}
    fill(fmt, path, answers)
    verdict = judged(path, capsys)
    assert verdict == expected(shipped, answers, site={}, sectors=["city_gas", "fire"])
    assert {d["sector"] for d in verdict["documents"]} == {"city_gas", "fire"}


@pytest.mark.parametrize("fmt", ["md", "csv", "tsv", "yaml", "json"])
def test_a_date_changed_in_the_file_on_purpose_is_the_date_judged(fmt, shipped, tmp_path, capsys):
    path = export(fmt, tmp_path, "--site", "gas_operator")
    fill(fmt, path, ANSWERS)
    path.write_text(path.read_text(encoding="utf-8").replace("2026-11-18", "2025-03-01"), encoding="utf-8")
    verdict = judged(path, capsys)
    assert verdict["inspection_date"] == "2025-03-01"
    assert verdict == expected(shipped, on=dt.date(2025, 3, 1))


def test_a_date_typed_over_in_excel_becomes_a_date_cell_and_still_reads(shipped, tmp_path, capsys):
    from openpyxl import load_workbook

    path = export("xlsx", tmp_path, "--site", "gas_operator")
    fill("xlsx", path, ANSWERS)
    wb = load_workbook(path)
    assert wb.active.cell(2, 1).value == "检查日期"
    wb.active.cell(2, 2).value = dt.datetime(2025, 3, 1)
    wb.save(path)
    assert judged(path, capsys) == expected(shipped, on=dt.date(2025, 3, 1))


def test_markdown_copied_through_a_chat_window_reads_back(shipped, tmp_path, capsys):
    path = export("md", tmp_path, "--site", "gas_operator")
    fill("md", path, ANSWERS)
    # A chat shows the Markdown rendered and copies it as plain text: no heading marks, no
    # indentation, no blank lines.
    copied = [line.strip().lstrip("#").strip() for line in path.read_text(encoding="utf-8").splitlines()]
    answers, pasted = shipped.paste("\n".join(line for line in copied if line))
    assert [p for p in pasted.problems if p.severity == "error"] == []
    assert pasted.on == ON
    assert shipped.judge(answers, on=pasted.on, sectors=pasted.sectors).model_dump(mode="json") == expected(shipped)


def test_the_unfilled_text_checklists_read_back_without_problems(shipped):
    checklist = checklists.build(shipped, ON, site=SITE)
    for render in (checklists.to_markdown, checklists.to_chat):
        answers, pasted = shipped.paste(render(checklist))
        assert pasted.problems == [] and answers.values == {"site.kinds": frozenset({"gas_operator"})}


def test_the_json_checklist_is_judged_back(tmp_path, capsys):
    path = export("json", tmp_path, "--site", "gas_operator")
    assert main(["judge", str(path)]) == 2  # nothing answered yet: undetermined, not an input error
    assert "未知的键" not in capsys.readouterr().err
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["checklist"].startswith("20261118-auto-gas_operator-") and data["site"] == SITE


def test_a_checklist_shows_its_identity_in_every_rendering(shipped, tmp_path):
    checklist = checklists.build(shipped, ON, site=SITE)
    assert checklist.identity.startswith("20261118-auto-gas_operator-")
    for render in checklists.RENDERERS.values():
        assert checklist.identity in render(checklist)
    assert "检查表编号：" + checklist.identity in checklists.to_markdown(checklist)
    # The same request names the same checklist; another site or date another one.
    assert checklists.build(shipped, ON, site=SITE).identity == checklist.identity
    assert checklists.build(shipped, ON, site={"site.kinds": ["chemical"]}).identity != checklist.identity
    assert checklists.rebuild(shipped, checklist.identity) == checklist


# --------------------------------------------------------------------------- numbered answers


def other_code(identity):
    return identity[:-8] + ("00000000" if not identity.endswith("00000000") else "11111111")


def checklist_with_eleven(shipped):
    checklist = checklists.build(shipped, ON, site=SITE)
    return checklist, checklist.by_number()


@pytest.mark.parametrize(
    "line, number",
    [
        ("3. 是", 3), ("3．是", 3), ("4、是", 4), ("（六）：是", 6), ("(6) 是", 6), ("第11题：是", 11),
        ("11题 是", 11), ("11：是", 11), ("第11项 是", 11), ("第十一题：是", 11), ("第十一题 是", 11),
        ("  - 3. 是", 3), ("3.是", 3), ("（3）：是", 3), ("3\t是", 3),
    ],
)
def test_every_numbering_form_names_its_question(line, number, shipped):
    checklist, by_number = checklist_with_eleven(shipped)
    answers, pasted = shipped.paste(f"检查表编号：{checklist.identity}\n{line}")
    assert [p for p in pasted.problems if p.severity == "error"] == []
    assert answers.values[by_number[number].fact] is True
    assert pasted.numbered_by == checklist.identity


def test_chinese_numerals():
    assert [chinese_number(t) for t in ("一", "六", "十", "十一", "二十", "二十三", "一百零五")] == [1, 6, 10, 11, 20, 23, 105]


def test_numbers_without_an_identity_use_the_checklist_of_the_given_date_and_site(shipped):
    checklist, by_number = checklist_with_eleven(shipped)
    answers, pasted = shipped.paste("2. 否\n第十一题：是", on=ON, site=SITE)
    assert answers.values[by_number[2].fact] is False and answers.values[by_number[11].fact] is True
    assert pasted.numbered_by == checklist.identity


def test_the_identity_decides_the_numbering_not_the_options(shipped):
    # Checklist for a gas operator, answers pasted while the page had another unit type chosen.
    checklist, by_number = checklist_with_eleven(shipped)
    answers, pasted = shipped.paste(f"检查表编号：{checklist.identity}\n2. 否", on=ON, site={"site.kinds": ["chemical"]})
    assert answers.values[by_number[2].fact] is False


def test_a_number_the_checklist_does_not_have_is_a_problem(shipped):
    checklist, _ = checklist_with_eleven(shipped)
    answers, pasted = shipped.paste(f"检查表编号：{checklist.identity}\n999. 是\n第九百题：否")
    assert [p.code for p in pasted.problems] == ["paste.unknown_number", "paste.unknown_number"]
    assert "999" in pasted.problems[0].message and checklist.identity in pasted.problems[0].message
    assert answers.values == {}


def test_a_changed_identity_refuses_numbers_but_keeps_answers_by_id_and_text(shipped):
    checklist, _ = checklist_with_eleven(shipped)
    forged = other_code(checklist.identity)
    text = f"检查表编号：{forged}\n2. 否\ngas.odorized：否\n燃气经营者是否已取得燃气经营许可证：是"
    answers, pasted = shipped.paste(text, on=ON, site=SITE)
    refused = [p for p in pasted.problems if p.code == "paste.numbering_refused"]
    assert len(refused) == 1 and refused[0].position.line == 2 and "不一致" in refused[0].message
    assert answers.values["gas.odorized"] is False and answers.values["gas.license_held"] is True
    unreadable = shipped.paste("检查表编号：随便写的\n2. 否", on=ON)[1]
    assert [p.code for p in unreadable.problems] == ["paste.numbering_refused"]


def test_numbers_from_a_checklist_made_under_other_rules_are_refused(demo, demo_copy):
    import hazardjudge

    on = dt.date(2026, 1, 1)
    old = checklists.build(demo, on, ["demo"])
    rules = sorted((demo_copy / "rules").rglob("*.yaml"))[0]
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    new = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert checklists.rebuild(new, old.identity).identity != old.identity
    first = old.items[0]
    answers, pasted = new.paste(f"检查表编号：{old.identity}\n1：{'是' if first.type.value == 'boolean' else '1'}\n")
    assert [p.code for p in pasted.problems] == ["paste.numbering_refused"]
    assert "规则或问题已更新" in pasted.problems[0].message
    assert answers.values == {}


def test_without_any_checklist_numbers_are_refused_not_guessed(shipped):
    pasted = parse("3. 是", shipped.bundle.facts)
    assert [p.code for p in pasted.problems] == ["paste.numbering_refused"] and pasted.facts == {}


def test_a_heading_is_not_an_answer(shipped):
    answers, pasted = shipped.paste("一、基本情况\n（一）燃气经营许可证：有", on=ON, sectors=["city_gas"])
    assert answers.values == {"gas.license_held": True}
    assert [p.severity for p in pasted.problems] == ["warning"]


# --------------------------------------------------------------------------- skip logic


def test_follow_ups_carry_their_condition_and_open_as_the_parent_is_answered(shipped):
    checklist = checklists.build(shipped, ON, site=SITE)
    items = {i.fact: i for i in checklist.items}
    follow = items["gas.station_auto_shutoff"]
    parent = items["gas.operates_station"]
    assert follow.follow_up_of == ["gas.operates_station"] and follow.parent == parent.number
    assert follow.applies_when == {"fact": "gas.operates_station", "op": "eq", "value": True}
    assert follow.applies_text == f"第{parent.number}题答“是”"
    assert follow.number == parent.number + 1  # shown right under its parent
    assert checklists.visibility(checklist, {})["gas.station_auto_shutoff"] is None  # not yet
    assert checklists.visibility(checklist, {"gas.operates_station": True})["gas.station_auto_shutoff"] is True
    assert checklists.visibility(checklist, {"gas.operates_station": False})["gas.station_auto_shutoff"] is False
    tank = items["gas.tank_overlimit_alarm"]
    assert tank.follow_up_of == ["gas.operates_station", "gas.station_has_storage_tank"]
    assert checklists.visibility(checklist, {"gas.operates_station": True})[tank.fact] is None
    assert checklists.visibility(checklist, {"gas.operates_station": False})[tank.fact] is False
    first = checklists.open_questions(checklist, {})
    assert all(i.applies_when is None for i in first) and len(first) < len(checklist.items)


def test_every_follow_up_condition_reads_only_questions_of_the_checklist_or_the_site(shipped):
    from hazardjudge.engine.conditions import referenced_facts

    built = [checklists.build(shipped, ON, [sector]) for sector in sorted(shipped.bundle.sectors)]
    built += [checklists.build(shipped, ON, site={"site.kinds": [kind]}) for kind in sorted(shipped.bundle.facts["site.kinds"].values)]
    for checklist in built + [checklists.build(shipped, ON)]:
        numbers = {i.fact: i.number for i in checklist.items}
        sector = checklist.identity
        for item in checklist.items:
            if item.applies_when is not None:
                for fid in referenced_facts(checklists.deserialise(item.applies_when)):
                    assert fid in numbers or fid in checklist.site_values(), (sector, item.fact, fid)
                assert item.parent is None or item.parent < item.number


def test_a_sector_whose_scope_is_open_asks_its_questions_once_the_scope_says_it_applies(shipped):
    checklist = checklists.build(shipped, ON, site=SITE)
    items = {i.fact: i for i in checklist.items}
    scope = items["fire.in_scope"]
    assert scope.applies_when is None and scope.section == "单位基本情况"
    fire = [i for i in checklist.items if i.section.startswith("消防")]
    assert fire and all("fire.in_scope" in i.follow_up_of for i in fire)
    for answer, shown in ((None, None), (True, True), (False, False)):
        values = {} if answer is None else {"fire.in_scope": answer}
        seen = checklists.visibility(checklist, values)
        unconditional_in_fire = [i for i in fire if i.applies_when == {"fact": "fire.in_scope", "op": "eq", "value": True}]
        assert unconditional_in_fire and {seen[i.fact] for i in unconditional_in_fire} == {shown}
    # City gas is in scope by the unit type alone: its questions are not gated by a scope question.
    assert items["gas.license_held"].applies_when is None
    # Named, a sector applies whatever its scope says: nothing waits for fire.in_scope.
    named = checklists.build(shipped, ON, ["fire"])
    assert all("fire.in_scope" not in i.follow_up_of for i in named.items)


def test_skip_logic_in_the_renderings(shipped, tmp_path):
    from openpyxl import load_workbook

    checklist = checklists.build(shipped, ON, site=SITE)
    follow = next(i for i in checklist.items if i.fact == "gas.station_auto_shutoff")
    md = checklists.to_markdown(checklist)
    assert f"\n    {follow.number}. {follow.question}（第{follow.parent}题答“是”时回答）\n" in md
    chat = checklists.to_chat(checklist)
    assert f"\n  {follow.number}. {follow.question}（是/否；第{follow.parent}题答“是”时回答）\n" in chat
    rows = list(csv.reader(io.StringIO(checklists.to_csv(checklist))))
    row = next(r for r in rows if len(r) > 1 and r[1] == follow.fact)
    assert row[checklists.CSV_HEADER.index("上级问题")] == str(follow.parent)
    assert row[checklists.CSV_HEADER.index("适用条件")] == f"第{follow.parent}题答“是”时回答"
    path = tmp_path / "c.xlsx"
    path.write_bytes(checklists.to_xlsx(checklist))
    ws = load_workbook(path).active
    at = next(r[0].row for r in ws.iter_rows() if r[1].value == follow.fact)
    parent_at = next(r[0].row for r in ws.iter_rows() if r[1].value == "gas.operates_station")
    assert ws.row_dimensions[at].outline_level == 1 and ws.row_dimensions[parent_at].outline_level == 0
    assert ws.cell(at, 3).font.color.rgb.endswith("777777")


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node to run the page's skip logic outside a browser")
def test_the_page_reads_the_conditions_as_the_library_does(shipped):
    """The web page's evaluate() against conditions.evaluate, over every follow-up of every sector."""
    from hazardjudge.inputs.reading import coerce

    cases = []
    built = [checklists.build(shipped, ON, [sector]) for sector in sorted(shipped.bundle.sectors)]
    built += [checklists.build(shipped, ON, site={"site.kinds": [kind]}) for kind in sorted(shipped.bundle.facts["site.kinds"].values)]
    built.append(checklists.build(shipped, ON))
    for checklist in built:
        gates = [i for i in checklist.items if i.type.value in ("boolean", "enum", "set", "integer", "number")]
        for n in range(3):
            answers = {}
            for k, gate in enumerate(gates):
                if (k + n) % 3 == 0:
                    continue  # some left unanswered
                if gate.type.value == "boolean":
                    answers[gate.fact] = "是" if (k + n) % 2 else "否"
                elif gate.type.value in ("integer", "number"):
                    fact = shipped.bundle.facts[gate.fact]
                    low, high = fact.min if fact.min is not None else 0, fact.max if fact.max is not None else 40
                    answers[gate.fact] = str(int(low + (k * 7) % (high - low + 1)))
                else:
                    answers[gate.fact] = sorted(gate.values)[(k + n) % len(gate.values)]
            typed = {f: coerce(shipped.bundle.facts[f], v) for f, v in answers.items()}
            page = {f: sorted(v) if isinstance(v, frozenset) else v for f, v in typed.items()}
            shown = checklists.visibility(checklist, typed)
            for item in checklist.items:
                if item.applies_when is not None:
                    cases.append({"cond": item.applies_when, "values": page, "expected": shown[item.fact]})
    assert cases and {c["expected"] for c in cases} == {True, False, None}
    script = (
        f"const {{ evaluate }} = require({json.dumps(str(WEB))});"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const wrong = cases.filter((c) => evaluate(c.cond, c.values) !== c.expected);"
        "process.stdout.write(JSON.stringify(wrong.slice(0, 3)));"
    )
    run = subprocess.run([NODE, "-e", script], input=json.dumps(cases), capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == []


# --------------------------------------------------------------------------- bad metadata


def test_an_unreadable_date_in_the_file_stops_the_judgement_unless_given(shipped, tmp_path, capsys):
    path = export("csv", tmp_path, "--site", "gas_operator")
    fill("csv", path, ANSWERS)
    path.write_text(path.read_text(encoding="utf-8").replace("2026-11-18", "十一月某天"), encoding="utf-8")
    assert main(["judge", str(path)]) == 65
    assert "paste.meta_date" in capsys.readouterr().err
    assert judged(path, capsys, "--on", ON.isoformat()) == expected(shipped)


def test_two_different_dates_stop_the_judgement(shipped):
    with pytest.raises(InputError) as exc:
        shipped.paste("检查日期：2026-11-18\n检查日期：2025-01-01\ngas.odorized：否")
    assert [p.code for p in exc.value.problems] == ["paste.meta_conflict"]
    answers, pasted = shipped.paste("检查日期：2026-11-18\n检查日期：2025-01-01\ngas.odorized：否", on=ON)
    assert answers.values == {"gas.odorized": False} and pasted.on == ON


def test_two_different_identities_refuse_numbers(shipped):
    checklist, _ = checklist_with_eleven(shipped)
    text = f"检查表编号：{checklist.identity}\n检查表编号：{other_code(checklist.identity)}\n2. 否"
    _, pasted = shipped.paste(text)
    assert [p.code for p in pasted.problems] == ["paste.meta_conflict", "paste.numbering_refused"]


def test_an_unknown_sector_in_the_file_is_an_input_error(shipped, tmp_path, capsys):
    path = export("csv", tmp_path, "--sector", "city_gas")
    path.write_text(path.read_text(encoding="utf-8").replace("判定行业,city_gas", "判定行业,city_gass"), encoding="utf-8")
    assert main(["judge", str(path)]) == 65
    err = capsys.readouterr().err
    assert "未知的行业 'city_gass'" in err and "city_gas" in err


CN_DIGITS = "零一二三四五六七八九"


def in_chinese(n):
    tens, ones = divmod(n, 10)
    hundreds, tens = divmod(tens, 10)
    text = (CN_DIGITS[hundreds] + "百" if hundreds else "")
    if tens:
        text += ("" if tens == 1 and not hundreds else CN_DIGITS[tens]) + "十"
    elif hundreds and ones:
        text += "零"
    return text + (CN_DIGITS[ones] if ones else "")


FORMS = ["{n}. {a}", "{n}．{a}", "{n}、{a}", "（{c}）：{a}", "({n}) {a}", "第{n}题：{a}", "{n}题 {a}", "{n}：{a}",
         "第{n}项 {a}", "第{c}题：{a}", "第{c}题 {a}"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=400), form=st.sampled_from(FORMS), yes=st.booleans())
def test_a_number_names_its_question_or_none(shipped, n, form, yes):
    checklist = _cache.setdefault("gas", checklists.build(shipped, ON, site=SITE))
    item = checklist.by_number().get(n)
    answer = "是" if yes else "否"
    if item is not None and item.type.value != "boolean":
        answer = "未检查"
    text = f"检查表编号：{checklist.identity}\n" + form.format(n=n, c=in_chinese(n), a=answer)
    answers, pasted = shipped.paste(text)
    if item is None:
        assert [p.code for p in pasted.problems] == ["paste.unknown_number"] and answers.values == {}
    else:
        assert pasted.problems == [] and [m.fact for m in pasted.matches] == [item.fact]
        if item.type.value == "boolean":
            assert answers.values[item.fact] is yes


def test_a_chat_reply_with_only_the_identity_line_is_judged_on_its_checklist(shipped):
    """Inspectors reply with 检查表编号 and numbered answers, not the date and unit-type lines."""
    checklist = checklists.build(shipped, dt.date(2025, 3, 1), site={"site.kinds": ["gas_operator"]})
    number = next(i.number for i in checklist.items if i.fact == "gas.license_held")
    reply = f"检查表编号：{checklist.identity}\n{number}. 否\n"
    answers, pasted = shipped.paste(reply)
    assert pasted.on == dt.date(2025, 3, 1)
    verdict = shipped.judge(answers, on=pasted.on, sectors=pasted.sectors)
    direct = shipped.judge({"site.kinds": ["gas_operator"], "gas.license_held": False}, on=dt.date(2025, 3, 1))
    assert verdict.outcome == direct.outcome == OverallOutcome.major
    assert [r.rule for r in verdict.findings()] == [r.rule for r in direct.findings()]
