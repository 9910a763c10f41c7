"""Checklists generated from the rules, and answers pasted back in every form inspectors use."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazardjudge.cli import main
from hazardjudge.engine.answers import display_value
from hazardjudge.engine.conditions import referenced_facts
from hazardjudge.engine.models import Combination, Exclusion, FactType, Rule
from hazardjudge.inputs import checklists
from hazardjudge.inputs.pasting import parse, parse_lines

PASTES = Path(__file__).parent / "fixtures" / "pastes"
ON = dt.date(2026, 11, 18)


def facts_read_by_rules(engine, key):
    read = set()
    for src in engine.bundle.items_of(key):
        item = src.item
        if isinstance(item, Rule):
            read |= set(referenced_facts(item.when)) | set(referenced_facts(item.condition))
        elif isinstance(item, Exclusion):
            read |= set(referenced_facts(item.condition))
        elif isinstance(item, Combination):
            read |= {f for v in item.variants for f in referenced_facts(v.when)}
    return read


@pytest.mark.parametrize("bundle", ["shipped", "demo"])
def test_every_fact_a_rule_can_read_is_asked(bundle, request):
    engine = request.getfixturevalue(bundle)
    for key, version in engine.bundle.documents.items():
        sector = next(s for s, loc in engine.bundle.sectors.items() if loc.model.document == version.doc.document)
        checklist = checklists.build(engine, version.doc.effective, [sector])
        asked = {i.fact for i in checklist.items}
        assert facts_read_by_rules(engine, key) <= asked, key
    unnamed = checklists.build(engine, ON)
    scope_facts = {f for loc in engine.bundle.sectors.values() for f in referenced_facts(loc.model.applies_when)}
    assert scope_facts <= {i.fact for i in unnamed.items}


def test_site_kind_selects_sectors_and_site_questions_come_first(shipped):
    checklist = checklists.build(shipped, ON, site={"site.kinds": ["gas_operator"]})
    assert checklist.sectors == ["city_gas", "fire"]
    assert checklist.items[0].section == "单位基本情况"
    other = checklists.build(shipped, ON, site={"site.kinds": ["other"]})
    assert "city_gas" not in other.sectors


def test_follow_ups_are_marked(shipped):
    checklist = checklists.build(shipped, ON, ["city_gas"])
    item = next(i for i in checklist.items if i.fact == "gas.tank_overlimit_alarm")
    assert item.follow_up_of == ["gas.operates_station", "gas.station_has_storage_tank"]
    assert not next(i for i in checklist.items if i.fact == "gas.license_held").follow_up_of


# --------------------------------------------------------------------------- round trips


def sample_value(fact, i):
    if fact.type is FactType.boolean:
        return i % 2 == 0
    if fact.type is FactType.set:
        return frozenset([sorted(fact.values)[0]])
    if fact.type is FactType.enum:
        return sorted(fact.values)[i % len(fact.values)]
    if fact.type in (FactType.integer, FactType.number):
        return 1 if fact.type is FactType.integer else 1.5
    return f"说明{i}"


def filled(engine, checklist):
    from hazardjudge.engine.conditions import evaluate, referenced_facts

    out = {item.fact: sample_value(engine.bundle.facts[item.fact], n) for n, item in enumerate(checklist.items)}
    # Arbitrary values can contradict each other (a 1.5 % damage rate recorded as 不符合):
    # such questions are left unanswered, as an inspector's consistent sheet would have them.
    for loc in engine.bundle.constraints:
        for c in loc.model.constraints:
            if evaluate(c.condition, out) is True:
                for fid in referenced_facts(c.condition):
                    out.pop(fid, None)
    return out


def shown(engine, fid, value):
    return "" if value is None else display_value(engine.bundle.facts[fid], value)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "yaml", "json", "lines", "numbers"])
@pytest.mark.parametrize("bundle", ["shipped", "demo"])
def test_a_generated_checklist_filled_in_parses_back_to_the_same_facts(bundle, fmt, request):
    engine = request.getfixturevalue(bundle)
    sectors = sorted(engine.bundle.sectors)
    on = dt.date(2020, 6, 1)
    checklist = checklists.build(engine, on, sectors)
    answers = filled(engine, checklist)
    if fmt in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(checklists.to_csv(checklist))))
        header = rows.index(checklists.CSV_HEADER)  # below the metadata rows
        for row in rows[header + 1 :]:
            row[-1] = shown(engine, row[1], answers.get(row[1]))
        delimiter = "," if fmt == "csv" else "\t"
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
        data = out.getvalue()
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(checklists.to_xlsx(checklist)))
        ws = wb.active
        header = next(r[0].row for r in ws.iter_rows() if r[0].value == checklists.CSV_HEADER[0])
        for row in ws.iter_rows(min_row=header + 1):
            row[-1].value = shown(engine, row[1].value, answers.get(row[1].value))
        buffer = io.BytesIO()
        wb.save(buffer)
        data = buffer.getvalue()
    elif fmt == "yaml":
        template = yaml.safe_load(checklists.to_yaml(checklist))
        template["facts"] = {k: shown(engine, k, answers.get(k)) for k in template["facts"]}
        data = yaml.safe_dump(template, allow_unicode=True)
        read = engine.read(yaml.safe_load(data)["facts"])
        assert read.values == answers
        return
    elif fmt == "json":
        template = json.loads(checklists.to_json(checklist))
        template["facts"] = {k: shown(engine, k, answers.get(k)) for k in template["facts"]}
        assert engine.read(template["facts"]).values == answers
        return
    elif fmt == "lines":
        data = "\n".join(f"{i.number}. {i.question}：{shown(engine, i.fact, answers[i.fact])}" for i in checklist.items if i.fact in answers)
    else:  # checklist numbers only, as typed in a chat
        data = "\n".join(f"{i.number}：{shown(engine, i.fact, answers[i.fact])}" for i in checklist.items if i.fact in answers)
    read, pasted = engine.paste(data, on=on, sectors=sectors)
    assert [p for p in pasted.problems if p.severity == "error"] == []
    assert read.values == answers


# --------------------------------------------------------------------------- real-looking pastes


def test_wechat_style_message(shipped):
    answers, pasted = shipped.paste((PASTES / "wechat.txt").read_text(encoding="utf-8"), on=ON)
    values = answers.values
    assert values["site.kinds"] == frozenset({"gas_operator"})
    assert values["fire.in_scope"] is False
    assert values["gas.license_held"] is True and values["gas.tank_overlimit_alarm"] is False
    assert values["gas.user_gas_relative_density"] == 1.6
    assert "gas.odorized" not in values  # 未检查 is unknown, never 否
    by_question = [m for m in pasted.matches if m.how == "question"]
    assert by_question and all(m.score >= 0.6 for m in by_question)
    verdict = shipped.judge(answers, on=ON)
    assert verdict.outcome.value == "major"  # 第五条（一）: monitoring without over-limit alarm


def test_excel_copy_with_empty_cells(shipped):
    answers, pasted = shipped.paste((PASTES / "excel_copy.tsv").read_text(encoding="utf-8"), on=ON)
    assert answers.values["gas.odorized"] is False
    assert "gas.license_held" not in answers.values  # empty cell: unanswered
    assert not [p for p in pasted.problems if p.severity == "error"]


def test_unreadable_answers_are_reported_with_line_text_and_reason(shipped):
    text = "gas.license_held：也许\n燃气经营许可证吗：是\n用户燃气相对密度：1.6 kg\n完全无关的问题文字：是\ngas.odorized：是\ngas.odorized：否\n"
    answers, pasted = shipped.paste(text, on=ON, sectors=["city_gas"])
    by_line = {p.position.line: p for p in pasted.problems}
    assert by_line[1].code == "paste.invalid_answer" and "也许" in by_line[1].message
    assert by_line[3].code == "paste.invalid_answer" and "kg" in by_line[3].message
    assert by_line[4].code == "paste.unknown_question"
    assert by_line[6].code == "paste.conflict"
    assert answers.values == {"gas.license_held": True}  # line 2; both gas.odorized answers dropped


def test_enum_value_not_allowed_lists_the_allowed(demo):
    _, pasted = demo.paste("demo.grade：丁\n", on=dt.date(2026, 1, 1), sectors=["demo"])
    assert "可选值" in pasted.problems[0].message and "甲" in pasted.problems[0].message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes_and_invents_no_answer(shipped, text):
    pasted = parse_lines(text, shipped.bundle.facts)
    lines = text.splitlines()
    for m in pasted.matches:
        assert lines[m.line - 1].strip() == m.text
    assert set(pasted.facts) <= {m.fact for m in pasted.matches}


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parsers(data):
    import hazardjudge

    engine = _engine_cache.setdefault("e", hazardjudge.load())
    for fmt in ("lines", "csv", "tsv", "xlsx"):
        parse(data, engine.bundle.facts, None, fmt)


_engine_cache: dict = {}


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fmt", ["md", "csv", "yaml", "json"])
def test_checklist_command(fmt, capsys):
    assert main(["checklist", "--site", "gas_operator", "--on", "2026-11-18", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "gas.license_held" in out


def test_checklist_xlsx_has_drop_downs(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "c.xlsx"
    assert main(["checklist", "--sector", "city_gas", "--format", "xlsx", "-o", str(path)]) == 0
    ws = load_workbook(path).active
    assert ws.cell(1, 1).value == "检查表编号"  # the metadata rows come first
    assert [ws.cell(r, 1).value for r in (2, 3)] == ["检查日期", "判定行业"]
    assert ws.cell(5, 2).value == "问题编号"
    assert ws.data_validations.dataValidation, "yes/no cells need a drop-down"


def test_judge_a_pasted_chat_message(capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO((PASTES / "wechat.txt").read_text(encoding="utf-8")))
    assert main(["judge", "-", "--on", "2026-11-18"]) == 1
    captured = capsys.readouterr()
    assert "第五条（一）" in captured.out
    assert "按问题文字匹配" in captured.err and "paste.invalid_answer" not in captured.err


def test_site_answers_that_chose_the_checklist_count_as_answers(shipped):
    # The checklist for a chosen unit type leaves that question out; pasted answers must not lose it.
    answers, _ = shipped.paste("gas.odorized：否", on=ON, site={"site.kinds": ["gas_operator"]})
    assert answers.values["site.kinds"] == frozenset({"gas_operator"})
    verdict = shipped.judge(answers, on=ON)
    assert next(d for d in verdict.documents if d.sector == "city_gas").applicability.value == "applicable"


def test_bounded_question_matching_agrees_with_scoring_every_question(shipped):
    """The rapidfuzz bound only skips work: the match is the one exhaustive difflib scoring gives."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from hazardjudge.inputs.pasting import MATCH_MARGIN, MATCH_THRESHOLD, _closest, _similarity

    questions = sorted({f.question for f in shipped.bundle.facts.values()})
    pieces = st.sampled_from(questions).flatmap(
        lambda q: st.tuples(st.integers(0, len(q)), st.integers(0, len(q))).map(lambda ij: q[min(ij) : max(ij)])
    )

    @settings(max_examples=150, deadline=None)
    @given(st.lists(pieces, min_size=1, max_size=2).map("".join))
    def run(key):
        exhaustive = sorted(((_similarity(key, q), q) for q in questions), reverse=True)
        bounded = _closest(key, questions)
        if not key:
            return
        if exhaustive[0][0] < MATCH_THRESHOLD:  # no match either way; the walk may stop early
            assert not bounded or bounded[0][0] < MATCH_THRESHOLD
            return
        assert bounded[0] == exhaustive[0]
        best = exhaustive[0][0]
        near = [x for x in exhaustive if best - x[0] < MATCH_MARGIN]
        assert [x for x in bounded if best - x[0] < MATCH_MARGIN] == near

    run()
