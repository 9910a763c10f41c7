"""A broken bundle is refused as a whole, and every error names file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

import hazardjudge
from hazardjudge.errors import BundleError


def load_error(root: Path) -> BundleError:
    with pytest.raises(BundleError) as info:
        hazardjudge.load(root / "criteria", root / "rules")
    return info.value


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


RULES_2017 = Path("rules/demo/v2017.yaml")
CRITERIA_2017 = Path("criteria/demo-2017.yaml")


def test_malformed_yaml_names_the_line(demo_copy):
    edit(demo_copy / RULES_2017, "rules:\n", "rules:\n  - id: [unclosed\n")
    err = load_error(demo_copy)
    (p,) = err.problems
    assert p.code == "yaml.syntax"
    assert p.position.file.endswith("v2017.yaml") and p.position.line >= 4


def test_duplicate_key_is_an_error_not_last_one_wins(demo_copy):
    edit(demo_copy / RULES_2017, "    cites: [\"6.1\"]\n", "    cites: [\"6.1\"]\n    cites: [\"7.1\"]\n")
    (p,) = load_error(demo_copy).problems
    assert p.code == "yaml.duplicate_key" and "cites" in p.message


def test_alias_bomb_is_refused(demo_copy):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n"
    (demo_copy / "rules/facts/bomb.yaml").write_text(bomb, encoding="utf-8")
    (p,) = load_error(demo_copy).problems
    assert p.code == "yaml.alias"
    assert p.position.line == 1  # the anchor that the first alias points back to


def test_misspelt_key_gets_a_suggestion_and_position(demo_copy):
    edit(demo_copy / RULES_2017, "    rectification: 拓宽出口。", "    rectifcation: 拓宽出口。")
    problems = load_error(demo_copy).problems
    extra = [p for p in problems if p.code == "schema.extra_forbidden"]
    assert extra and "rectification" in (extra[0].hint or "")
    assert extra[0].position.line > 1


def test_unknown_fact_suggests_the_closest(demo_copy):
    edit(demo_copy / RULES_2017, "{fact: demo.exit_width, lt:", "{fact: demo.exit_widht, lt:")
    (p,) = [p for p in load_error(demo_copy).problems if p.code == "rules.unknown_fact"]
    assert "demo.exit_width" in p.hint
    assert p.position.file.endswith("v2017.yaml")


def test_unknown_clause_is_refused(demo_copy):
    edit(demo_copy / RULES_2017, 'cites: ["6.1"]', 'cites: ["6.9"]')
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.unknown_clause" and "6.9" in p.message


def test_literal_of_the_wrong_type_is_refused(demo_copy):
    edit(demo_copy / RULES_2017, "condition: {fact: demo.e1, eq: true}", "condition: {fact: demo.e1, eq: 'yes'}")
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.bad_value"


def test_enum_value_not_declared_is_refused(demo_copy):
    edit(demo_copy / "rules/demo/v2025.yaml", "in: [a, b]", "in: [a, d]")
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.bad_value" and "'d'" in p.message


def test_rule_without_undetermined_case_is_refused(demo_copy):
    edit(demo_copy / "rules/demo/v2025.yaml", "      - {name: 等级未知, expect: undetermined, facts: {demo.people: 900}}\n", "")
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.missing_tests" and "undetermined" in p.message


def test_overlapping_versions_are_refused(demo_copy):
    edit(demo_copy / CRITERIA_2017, "superseded: 2025-11-01", "superseded: 2025-12-01")
    (p,) = load_error(demo_copy).problems
    assert p.code == "criteria.overlap"


def test_oversized_file_is_refused(demo_copy):
    (demo_copy / "rules/facts/huge.yaml").write_text("# " + "x" * (5 * 1024 * 1024), encoding="utf-8")
    (p,) = load_error(demo_copy).problems
    assert p.code == "input.too_large"


def test_combination_threshold_above_element_count_is_refused(demo_copy):
    edit(demo_copy / RULES_2017, "elements: [demo.e1, demo.e2, demo.e3], at_least: 2", "elements: [demo.e1, demo.e2, demo.e3], at_least: 4")
    (p,) = load_error(demo_copy).problems
    assert "at_least" in p.message


def test_all_errors_are_reported_together(demo_copy):
    edit(demo_copy / RULES_2017, 'cites: ["6.1"]', 'cites: ["6.9"]')
    edit(demo_copy / "rules/demo/v2025.yaml", "in: [a, b]", "in: [a, d]")
    assert len(load_error(demo_copy).problems) == 2


def test_cli_lint_prints_file_line_column(demo_copy, capsys):
    from hazardjudge.cli import main

    edit(demo_copy / RULES_2017, 'cites: ["6.1"]', 'cites: ["6.9"]')
    assert main(["lint", str(demo_copy)]) == 1
    out = capsys.readouterr().out
    assert "v2017.yaml:" in out and "rules.unknown_clause" in out


DEFINED = "definitions:\n  wide_exit: {fact: demo.exit_width, gt: 2}\nrules:\n"


def test_a_named_condition_is_used_where_it_is_named(demo_copy):
    edit(demo_copy / RULES_2017, "rules:\n", DEFINED)
    edit(demo_copy / RULES_2017, "condition: {fact: demo.e1, eq: true}", "condition: {use: wide_exit}")
    engine = hazardjudge.load(demo_copy / "criteria", demo_copy / "rules")
    assert engine.bundle.items["demo.e1"].item.condition.fact == "demo.exit_width"


def test_an_unknown_named_condition_is_refused_with_a_suggestion(demo_copy):
    edit(demo_copy / RULES_2017, "rules:\n", DEFINED)
    edit(demo_copy / RULES_2017, "condition: {fact: demo.e1, eq: true}", "condition: {use: wide_exits}")
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.unknown_definition" and "wide_exit" in (p.hint or "")
    assert p.position.file.endswith("v2017.yaml") and p.position.line > 1


def test_a_definition_may_not_use_another(demo_copy):
    edit(demo_copy / RULES_2017, "rules:\n", DEFINED.replace("rules:\n", "  twice: {use: wide_exit}\nrules:\n"))
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.nested_use"


def test_a_rule_whose_when_and_condition_join_too_large_is_refused_at_load(demo_copy):
    # 12 × 12 branches: each part fits the per-condition limit, the joined rule does not.
    many = "{any: [" + ", ".join(f"{{fact: demo.exit_width, eq: {i}}}" for i in range(1, 13)) + "]}"
    edit(demo_copy / RULES_2017, "condition: {fact: demo.e1, eq: true}", f"when: {many}, condition: {many.replace('exit_width,', 'exit_width_required,')}")
    (p,) = load_error(demo_copy).problems
    assert p.code == "rules.too_large" and "合并后" in p.message and p.position.line > 1


def test_a_branch_resting_only_on_which_questions_were_answered_is_refused(demo_copy):
    # "not answered" alone would make a finding out of a missing answer.
    edit(demo_copy / RULES_2017, "{fact: demo.e1, eq: true}, finding: 存在要素一",
         "{any: [{fact: demo.e1, eq: true}, {fact: demo.e2, answered: false}]}, finding: 存在要素一")
    problems = load_error(demo_copy).problems
    assert [p.code for p in problems] == ["rules.unguarded_answered"]
    assert "demo.e2未回答" in problems[0].message and problems[0].position.file.endswith("v2017.yaml")


def test_answered_takes_true_or_false_and_no_set_fact(demo_copy):
    edit(demo_copy / RULES_2017, "{fact: demo.e1, eq: true}, finding: 存在要素一",
         "{all: [{fact: demo.e1, answered: 1}, {fact: demo.kinds, answered: true}, {fact: demo.e1, eq: true}]}, finding: 存在要素一")
    codes = {p.code for p in load_error(demo_copy).problems}
    assert {"rules.bad_operator", "rules.bad_value"} <= codes


def test_a_constraint_may_not_use_answered(demo_copy):
    facts = demo_copy / "rules/facts/demo.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8")
        + "constraints:\n  - id: demo.odd\n    condition: {all: [{fact: demo.e1, eq: true}, {fact: demo.e2, answered: true}]}\n    message: 演示\n",
        encoding="utf-8",
    )
    assert "facts.constraint_answered" in {p.code for p in load_error(demo_copy).problems}
