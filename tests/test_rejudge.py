"""``hazardjudge rejudge``: the impact of a criteria change on stored inspections, clause by clause."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import default_dirs, example_dir
from hazardjudge.engine.yamlio import load_yaml_text

RULE = Path("city_gas") / "art09_user_inspection.yaml"


@pytest.fixture(scope="module")
def stricter(tmp_path_factory) -> Path:
    """The shipped bundle with one threshold changed: 第九条（一）'s density 0.75 read as 2.0."""
    root = tmp_path_factory.mktemp("new")
    criteria, rules = default_dirs()
    shutil.copytree(criteria, root / "criteria")
    shutil.copytree(rules, root / "rules")
    path = root / "rules" / RULE
    text = path.read_text(encoding="utf-8")
    assert text.count("gte: 0.75}") == 2
    path.write_text(text.replace("gte: 0.75}", "gte: 2.0}"), encoding="utf-8")
    return root


def _inspections(tmp_path: Path) -> Path:
    gas = json.loads(json.dumps(load_yaml_text((example_dir() / "city_gas_station.yaml").read_text(encoding="utf-8"), "x"), default=str))
    only_density = json.loads(json.dumps(gas))
    only_density["facts"]["gas.tank_overlimit_alarm"] = True  # 第五条（一） no longer found: 第九条 alone decides
    light = json.loads(json.dumps(gas))
    light["facts"]["gas.user_gas_relative_density"] = 0.6  # below either threshold: nothing moves
    fire = json.loads(json.dumps(load_yaml_text((example_dir() / "fire_hotel.yaml").read_text(encoding="utf-8"), "x"), default=str))
    rows = [{"id": "gas", **gas}, {"id": "only-density", **only_density}, {"id": "light", **light}, {"id": "fire", **fire}]
    path = tmp_path / "stored.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "not json\n", encoding="utf-8")
    return path


def test_a_changed_threshold_is_found_clause_by_clause(tmp_path, capsys, stricter):
    criteria, rules = default_dirs()
    changes = tmp_path / "changes.jsonl"
    code = main([
        "rejudge", str(_inspections(tmp_path)), "--old-criteria", str(criteria), "--old-rules", str(rules),
        "--new", str(stricter), "--format", "json", "--changes", str(changes), "--workers", "1",
    ])
    out, err = capsys.readouterr()
    assert code == 65  # the unreadable last line, reported
    assert "stored.jsonl:5: error: [json.syntax]" in err
    report = json.loads(out)
    r = report["inspections"]
    assert (r["inspections"], r["failed"], r["outcome_changed"], r["clauses_changed"], r["unchanged"]) == (5, 1, 1, 1, 2)
    assert r["by_kind"] == {"finding_dropped": 2}
    assert r["by_sector"]["city_gas"]["finding_dropped"] == 2
    assert list(r["outcomes"]) == ["major→undetermined"]
    assert r["by_sector"]["city_gas"]["major→undetermined"] == 1
    lines = [json.loads(x) for x in changes.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["gas", "only-density"]
    clause = lines[0]["clauses"][0]
    assert (clause["kind"], clause["rule"], clause["old"], clause["new"]) == ("finding_dropped", "city_gas.9-1", "triggered", "not_triggered")
    assert "建城规〔2023〕4号 第九条（一）" in clause["old_citations"]
    assert r["examples"] == lines
    # The criteria diff rides along: the one changed rule and the test cases it moves.
    assert [(c["kind"], c["key"]) for c in report["bundle"]["changes"]] == [("changed", "city_gas.9-1")]
    assert report["bundle"]["test_cases"]


def test_text_report_is_chinese(tmp_path, capsys, stricter):
    criteria, rules = default_dirs()
    old = tmp_path / "old"
    old.mkdir()
    (old / "criteria").symlink_to(criteria)
    (old / "rules").symlink_to(rules)
    main(["rejudge", str(_inspections(tmp_path)), "--old", str(old), "--new", str(stricter), "--workers", "1"])
    out = capsys.readouterr().out
    assert "结论改变 1 条" in out
    assert "存在重大隐患 → 无法判定：1" in out
    assert "不再构成重大隐患：2" in out
    assert "city_gas（城镇燃气）" in out
    assert "only-density（第 2 行）" in out
    assert "修改 规则 city_gas.9-1" in out


def test_old_bundle_is_required(tmp_path, capsys):
    assert main(["rejudge", str(_inspections(tmp_path))]) == 64
    assert "--old" in capsys.readouterr().err
