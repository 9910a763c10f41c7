"""A document version that only adds to the previous one declares `extends:` instead of copying it.

The criteria version carries the earlier version's clauses and sources; its rule file takes every
item of the earlier version's rule files, renamed by a declared prefix mapping, with their tests.
Everything is checked as if written out in full, and problems in inherited parts name the base
file's lines. The metal-mine pair (矿安〔2022〕88号 and the version with its 2024 supplement) is
the real case: its verdicts must stay exactly what they were when both files were written out.

``verdicts_before.json.gz`` (gzipped: 1.4 MB of JSON) was written by the code and files from before
inheritance existed (commit 2e81865)::

    git archive 2e81865 | tar -x -C /tmp/before
    cp tests/test_version_inheritance.py /tmp/before/tests/
    PYTHONPATH=/tmp/before/src python /tmp/before/tests/test_version_inheritance.py > \\
        tests/fixtures/version_inheritance/verdicts_before.json.gz
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import sys
from pathlib import Path

import pytest

import hazardjudge
from hazardjudge.errors import BundleError

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "version_inheritance"
ROOT = HERE.parent
BEFORE = FIXTURE / "verdicts_before.json.gz"

BEFORE_SUPPLEMENT = dt.date(2023, 6, 1)
WITH_SUPPLEMENT = dt.date(2025, 6, 1)


# --------------------------------------------------------------------------- the metal-mine verdicts


def _clean(engine, parts=("underground", "open_pit", "tailings_pond")) -> dict:
    # As tests/test_metal_mine.py's clean(): every question 否 but the premise that opens most items.
    facts = {fid: False for fid, f in engine.bundle.facts.items() if fid.startswith("mm.") and f.type.value == "boolean"}
    facts.update({"site.kinds": ["metal_mine"], "mm.parts": list(parts), "mm.ug_open_pit_to_underground": True})
    return facts


def metal_mine_inspections(engine) -> list[tuple[str, dict, dt.date, list[str] | None]]:
    """Inspections on both sides of 2024-04-23: clean, with findings, open, one part only, the boundary."""
    out: list[tuple[str, dict, dt.date, list[str] | None]] = []
    for on in (BEFORE_SUPPLEMENT, WITH_SUPPLEMENT):
        tag = on.isoformat()
        out.append((f"clean {tag}", _clean(engine), on, ["metal_mine"]))
        hits = _clean(engine)
        hits.update({"mm.op_slope_radial_cracks": True, "mm.otu_joint_sequence_mismatch": True, "mm.tp_phreatic_too_shallow": True})
        hits.pop("mm.ug_banned_equipment")
        out.append((f"findings {tag}", hits, on, ["metal_mine"]))
        supplement = _clean(engine)
        supplement["mm.tp_extreme_weather_no_stop"] = True
        out.append((f"supplement item {tag}", supplement, on, ["metal_mine"]))
        out.append((f"unanswered {tag}", {"site.kinds": ["metal_mine"]}, on, ["metal_mine"]))
    out.append(
        (
            "tailings pond only",
            {"site.kinds": ["tailings_pond"], "fire.in_scope": False, "mm.parts": ["tailings_pond"], "mm.tp_over_height_capacity": True},
            WITH_SUPPLEMENT,
            None,
        )
    )
    for day in (dt.date(2024, 4, 22), dt.date(2024, 4, 23)):
        out.append((f"boundary {day}", {"mm.parts": ["underground"], "mm.ug_exits_obstructed": True}, day, ["metal_mine"]))
    return out


def metal_mine_verdicts(engine) -> dict[str, dict]:
    """Each inspection's verdict as JSON, without the bundle fingerprint (it covers the files' text)."""
    out = {}
    for name, facts, on, sectors in metal_mine_inspections(engine):
        verdict = json.loads(engine.judge(facts, on=on, sectors=sectors).model_dump_json())
        verdict.pop("bundle")
        out[name] = verdict
    return out


def _metal_mine_documents(verdicts: dict[str, dict]) -> dict[str, dict]:
    """A case judged under every sector lists every sector's document: only metal mine's are compared,
    so other sectors' later changes (教育 encoded, 水利 recorded, …) do not touch this record."""
    for verdict in verdicts.values():
        verdict["documents"] = [d for d in verdict["documents"] if d["sector"] == "metal_mine"]
    return verdicts


def test_metal_mine_verdicts_are_unchanged_by_inheritance(shipped):
    before = _metal_mine_documents(json.loads(gzip.decompress(BEFORE.read_bytes())))
    after = _metal_mine_documents(metal_mine_verdicts(shipped))
    assert sorted(after) == sorted(before)
    for name in before:
        assert after[name] == before[name], name
    # The stored ids stay each version's own.
    ids = {r["rule"] for d in after[f"findings {WITH_SUPPLEMENT}"]["documents"] for r in d["results"]}
    assert ids and all(i.startswith("mm2024.") for i in ids)
    ids = {r["rule"] for d in after[f"findings {BEFORE_SUPPLEMENT}"]["documents"] for r in d["results"]}
    assert ids and all(i.startswith("mm2022.") for i in ids)


def test_the_2024_version_carries_every_2022_clause_and_rule(shipped):
    bundle = shipped.bundle
    old, new = bundle.documents["metal_mine_major_hazard@2022"], bundle.documents["metal_mine_major_hazard@2022+2024"]
    assert list(new.clauses)[: len(old.clauses)] == list(old.clauses)
    assert [c for c in new.clauses if c not in old.clauses] == [
        "补充情形", "补充情形一", "补充情形一（一）", "补充情形一（二）", "补充情形一（三）", "补充情形一（四）",
        "补充情形二", "补充情形二（一）", "补充情形二（二）", "补充情形三", "补充情形三（一）", "补充情形三（二）",
    ]
    assert all(new.clauses[c].clause == old.clauses[c].clause for c in old.clauses)
    # Clause positions name the file that writes them.
    assert new.clauses["一（一）1"].position.file.endswith("criteria/metal_mine/kuangan-2022-88.yaml")
    assert new.clauses["补充情形一（一）"].position.file.endswith("kuangan-2022-88-2024-41.yaml")
    old_items = bundle.items_of(old.key)
    new_items = bundle.items_of(new.key)
    assert len(old_items) == 120 and len(new_items) == 128
    for a, b in zip(old_items, new_items):
        assert b.item.id == "mm2024." + a.item.id.removeprefix("mm2022.")
        assert b.item.model_dump(exclude={"id"}) == a.item.model_dump(exclude={"id"})
        assert b.pos("id") == a.pos("id")  # an inherited rule is reported where it is written
    rf = new_items[0].file
    assert rf.bases and rf.bases[-1].name == "kuangan-2022-88.yaml" and rf.inherited["mm2024.1-1-1"] == "mm2022.1-1-1"


def test_inherited_cases_run_under_the_inheriting_version(shipped):
    from hazardjudge.authoring.testing import iter_cases, run_case

    cases = [c for c in iter_cases(shipped) if c.source.item.id.startswith("mm2024.1-1-1")]
    assert cases and all(c.document_key == "metal_mine_major_hazard@2022+2024" for c in cases)
    for case in cases:
        assert case.position.file.endswith("rules/metal_mine/kuangan-2022-88.yaml")
        result = run_case(shipped, case)
        assert result.passed, result.message
    # Every 88号 case runs under both versions, the supplement's under 2024 only.
    keys = [c.document_key for c in iter_cases(shipped) if c.document_key.startswith("metal_mine_major_hazard@")]
    supplement = sum(len(s.item.tests) for s in shipped.bundle.items_of("metal_mine_major_hazard@2022+2024") if s.item.id.startswith("mm2024.s"))
    assert keys.count("metal_mine_major_hazard@2022+2024") == keys.count("metal_mine_major_hazard@2022") + supplement


def test_coverage_counts_the_inherited_items_in_the_inheriting_version(shipped):
    from hazardjudge.authoring.coverage import compute

    report = {v.key: v for v in compute(shipped, on=WITH_SUPPLEMENT)}
    old, new = report["metal_mine_major_hazard@2022"], report["metal_mine_major_hazard@2022+2024"]
    assert len(new.deciding) == len(old.deciding) + 8 and new.encoded == len(new.deciding)
    assert all(c.complete for c in new.deciding if c.verification != "unverified")
    assert {r.rule for r in new.rules} >= {"mm2024.1-1-1", "mm2024.s3-2"}
    hits = {r.rule: r.hit for r in new.rules}
    assert all(hits["mm2024." + r.rule.removeprefix("mm2022.")] == r.hit for r in old.rules)


def test_a_version_diff_shows_only_the_supplement(shipped):
    from hazardjudge.authoring.diffing import diff_versions, render_text

    report = diff_versions(shipped, "metal_mine_major_hazard@2022", "metal_mine_major_hazard@2022+2024")
    by_what: dict[str, list] = {}
    for c in report.changes:
        by_what.setdefault(c.what, []).append(c)
    assert set(by_what) == {"document", "clause", "rule"}
    assert all(c.kind == "added" for c in by_what["clause"] + by_what["rule"])
    assert [c.key for c in by_what["clause"]][0] == "补充情形" and len(by_what["clause"]) == 12
    assert [c.key for c in by_what["rule"]] == [f"mm2024.s{p}" for p in ("1-1", "1-2", "1-3", "1-4", "2-1", "2-2", "3-1", "3-2")]
    # The version's own identity differs, as it should; what it inherits does not.
    assert "title" in by_what["document"][0].detail and "clauses" not in by_what["document"][0].detail
    assert "新增 规则 mm2024.s3-2" in render_text(report)
    assert not report.test_cases  # every 88号 case has the same outcome under both versions


def _metal_mine_only(root: Path, inherited: bool) -> Path:
    """The metal-mine sector with the shipped questions; ``inherited=False`` writes the 2024 files out in full."""
    (root / "criteria").mkdir(parents=True)
    shutil.copytree(ROOT / "criteria" / "metal_mine", root / "criteria" / "metal_mine")
    (root / "rules").mkdir()
    shutil.copytree(ROOT / "rules" / "facts", root / "rules" / "facts")
    shutil.copytree(ROOT / "rules" / "metal_mine", root / "rules" / "metal_mine")
    if not inherited:
        _write_out(root)
    return root


def _write_out(root: Path) -> None:
    """The 2024 files as they were before `extends:` (the 2022 text copied in, ids renamed)."""
    crit_old = (root / "criteria/metal_mine/kuangan-2022-88.yaml").read_text(encoding="utf-8")
    crit_new_path = root / "criteria/metal_mine/kuangan-2022-88-2024-41.yaml"
    crit_new = crit_new_path.read_text(encoding="utf-8")
    old_sources = crit_old.split("\nsources:\n", 1)[1].split("\nidentity:\n", 1)[0]
    old_clauses = crit_old.split("\nclauses:\n", 1)[1]
    head, rest = crit_new.split("\nsources:", 1)
    head = head.replace('extends:\n  version: "2022"', "").replace("\n\n", "\n")
    new_sources = rest.split("\n", 1)[1].split("\nidentity:\n", 1)[0]
    identity = "identity:\n" + rest.split("\nidentity:\n", 1)[1].split("\nclauses:", 1)[0]
    own_clauses = rest.split("\nclauses:", 1)[1].split("\n", 1)[1]
    crit_new_path.write_text(
        f"{head}\nsources:\n{old_sources}\n{new_sources}\n{identity}\nclauses:\n{old_clauses}{own_clauses}", encoding="utf-8"
    )
    rules_old = (root / "rules/metal_mine/kuangan-2022-88.yaml").read_text(encoding="utf-8")
    rules_new_path = root / "rules/metal_mine/kuangan-2022-88-2024-41.yaml"
    rules_new = rules_new_path.read_text(encoding="utf-8")
    own_rules = rules_new.split("\nrules:\n", 1)[1]
    old_rules = rules_old.split("\nrules:\n", 1)[1].replace("id: mm2022.", "id: mm2024.")
    rules_new_path.write_text(
        'schema: hazardjudge/rules/1\ndocument: metal_mine_major_hazard\nversion: "2022+2024"\nrules:\n' + old_rules + own_rules,
        encoding="utf-8",
    )


def test_the_written_out_and_the_inheriting_files_are_the_same_bundle(tmp_path):
    from hazardjudge.authoring.diffing import diff

    full = _metal_mine_only(tmp_path / "full", inherited=False)
    assert "extends" not in (full / "rules/metal_mine/kuangan-2022-88-2024-41.yaml").read_text(encoding="utf-8")
    short = _metal_mine_only(tmp_path / "short", inherited=True)
    old = hazardjudge.load(full / "criteria", full / "rules")
    new = hazardjudge.load(short / "criteria", short / "rules")
    report = diff(old, new)
    # Only the document's declaration differs: every clause, source and item is the same.
    assert [(c.kind, c.what, c.key, c.detail) for c in report.changes] == [
        ("changed", "document", "metal_mine_major_hazard@2022+2024", "extends")
    ]
    assert not report.test_cases
    # Each line of the criteria is now written once.
    lines = lambda root: sum(len(p.read_text(encoding="utf-8").splitlines()) for p in (root / "criteria/metal_mine").glob("*.yaml"))
    assert lines(short) < 0.6 * lines(full)


# --------------------------------------------------------------------------- the made-up pair


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    root = tmp_path / "pair"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("*.json", "*.md"))
    return root


def load(root: Path) -> hazardjudge.Engine:
    return hazardjudge.load(root / "criteria", root / "rules")


def problems_of(root: Path):
    with pytest.raises(BundleError) as info:
        load(root)
    return info.value.problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


V1_CRITERIA, V2_CRITERIA = Path("criteria/inh/v1.yaml"), Path("criteria/inh/v2.yaml")
V1_RULES, V2_RULES = Path("rules/inh/v1.yaml"), Path("rules/inh/v2.yaml")


def test_the_pair_loads_and_every_case_passes(pair):
    from hazardjudge.authoring.testing import run_all

    engine = load(pair)
    v2 = engine.bundle.documents["inh_standard@2"]
    assert list(v2.clauses) == ["1", "1.1", "1.2", "2", "4", "3"]
    assert [s.id for s in v2.doc.sources] == ["first", "second"]
    ids = [s.item.id for s in engine.bundle.items_of("inh_standard@2")]
    assert ids == ["inh2.a", "inh2.b", "inh2.e1", "inh2.e2", "inh2.s", "inh2.both", "inh2.idle"]
    both = engine.bundle.items["inh2.both"].item
    assert both.variants[0].elements == ["inh2.e1", "inh2.e2"]
    assert engine.bundle.items["inh2.idle"].item.applies_to == ["inh2.a"]
    results = run_all(engine)
    assert results and all(r.passed for r in results), [r.message for r in results if not r.passed]
    assert {r.case.document_key for r in results if r.case.source.item.id == "inh2.a"} == {"inh_standard@2"}


def test_an_inherited_item_is_judged_under_the_later_version(pair):
    engine = load(pair)
    verdict = engine.judge({"inh.in_scope": True, "inh.a": True, "inh.idle": False}, on=dt.date(2024, 1, 1))
    (doc,) = verdict.documents
    assert doc.document.version == "2"
    (hit,) = verdict.findings()
    assert hit.rule == "inh2.a" and [c.clause for c in hit.citations] == ["1.1"] and hit.citations[0].number == "INH 1、INH 2"
    excluded = engine.judge({"inh.in_scope": True, "inh.a": True, "inh.idle": True}, on=dt.date(2024, 1, 1))
    assert not excluded.findings() and excluded.documents[0].results[0].excluded_by == ["inh2.idle"]


def test_an_unknown_base_names_the_line(pair):
    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"', 'extends:\n  version: "0"')
    edit(pair / V2_RULES, '  version: "1"', '  version: "9"')
    found = {p.code: p for p in problems_of(pair)}
    crit = found["criteria.extends_unknown"]
    assert crit.position.file.endswith("v2.yaml") and crit.position.line == line_of(pair / V2_CRITERIA, 'version: "0"')
    assert "inh_standard@0" in crit.message and crit.hint and "1" in crit.hint


def test_an_unknown_rule_base_names_the_line(pair):
    edit(pair / V2_RULES, '  version: "1"', '  version: "9"')
    (p,) = problems_of(pair)
    assert p.code == "rules.extends_unknown" and "inh_standard@9" in p.message
    assert p.position.file.endswith(str(V2_RULES)) and p.position.line == line_of(pair / V2_RULES, 'version: "9"')


def test_a_cycle_is_an_error_with_its_line(pair):
    edit(pair / V1_CRITERIA, 'version: "1"\n', 'version: "1"\nextends: {version: "2"}\n')
    (p,) = [p for p in problems_of(pair) if p.code == "criteria.extends_cycle"]
    assert "inh_standard@1" in p.message and "inh_standard@2" in p.message
    assert p.position.line in (line_of(pair / V2_CRITERIA, 'version: "1"'), line_of(pair / V1_CRITERIA, "extends: {version"))


def test_a_version_cannot_extend_itself(pair):
    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"', 'extends:\n  version: "2"')
    (p,) = problems_of(pair)
    assert p.code == "criteria.extends_cycle" and p.position.file.endswith(str(V2_CRITERIA))


def test_a_later_base_is_refused(pair):
    # v1 extends v2 (later), v2 no longer extends anything: not a cycle, still refused.
    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"\n', "")
    edit(pair / V2_CRITERIA, "clauses:\n", "clauses:\n  - {id: \"9\", summary: 另一条。, decides: true, verification: {status: verified, sources: [second]}}\n")
    edit(pair / V1_CRITERIA, 'version: "1"\n', 'version: "1"\nextends: {version: "2"}\n')
    codes = {p.code for p in problems_of(pair)}
    assert "criteria.extends_later" in codes


def test_a_rule_cycle_is_an_error(pair):
    edit(pair / V1_RULES, 'version: "1"\n', 'version: "1"\nextends: {version: "2", ids: {from: inh2., to: inh1.}}\n')
    codes = [p.code for p in problems_of(pair)]
    assert "rules.extends_cycle" in codes


def test_an_inherited_rules_problem_is_reported_at_the_base_files_line(pair):
    # Version 2 rewrites clause 1 without 1.2: the inherited rule citing 1.2 now cites nothing.
    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"', 'extends:\n  version: "1"\n  overrides: ["1"]')
    edit(
        pair / V2_CRITERIA,
        "clauses:\n",
        'clauses:\n  - id: "1"\n    summary: 第一部分（改写）\n    verification: {status: verified, sources: [first]}\n'
        '    clauses:\n      - {id: "1.1", summary: 情形一。, decides: true, verification: {status: verified, sources: [first]}}\n',
    )
    (p,) = problems_of(pair)
    assert p.code == "rules.unknown_clause" and "inh_standard@2" in p.message and "1.2" in p.message
    assert p.position.file.endswith(str(V1_RULES))
    assert p.position.line == line_of(pair / V1_RULES, 'cites: ["1.2"]')


def test_a_validation_error_in_a_base_rule_is_reported_once_at_its_line(pair):
    edit(pair / V1_RULES, "condition: {fact: inh.b, eq: true}", "condition: {fact: inh.bb, eq: true}")
    (p,) = problems_of(pair)
    assert p.code == "rules.unknown_fact" and p.position.file.endswith(str(V1_RULES))
    assert p.position.line == line_of(pair / V1_RULES, "inh.bb")


def test_a_schema_error_in_the_base_is_not_reported_again_as_a_missing_base(pair):
    edit(pair / V1_RULES, "    finding: 存在情形二。", "    findng: 存在情形二。")
    problems = problems_of(pair)
    assert {p.code for p in problems} == {"schema.extra_forbidden", "schema.missing"}
    assert all(p.position.file.endswith(str(V1_RULES)) for p in problems)


def test_lint_points_inherited_rules_to_the_base_file(pair, capsys):
    # An unverified clause in the version that inherits it: the warning on the inherited rule names the base line.
    from hazardjudge.authoring.linting import semantic_problems

    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"', 'extends:\n  version: "1"\n  overrides: ["1.2"]')
    edit(pair / V2_CRITERIA, "clauses:\n", 'clauses:\n  - {id: "1.2", summary: 情形二（原文待核）。, decides: true, verification: {status: unverified}}\n')
    engine = load(pair)
    assert engine.bundle.documents["inh_standard@2"].clauses["1.2"].clause.verification.status == "unverified"
    assert engine.bundle.documents["inh_standard@1"].clauses["1.2"].clause.verification.status == "verified"
    (p,) = [p for p in semantic_problems(engine.bundle) if p.code == "logic.cites_unverified"]
    assert "inh2.b" in p.message and p.position.file.endswith(str(V1_RULES))
    assert p.position.line == line_of(pair / V1_RULES, 'cites: ["1.2"]')
    # The rewritten clause keeps its place in the tree, under 1.
    assert list(engine.bundle.documents["inh_standard@2"].clauses) == ["1", "1.1", "1.2", "2", "4", "3"]


def test_an_inherited_clause_or_rule_written_again_must_say_so(pair):
    edit(pair / V2_CRITERIA, "clauses:\n", 'clauses:\n  - {id: "1.1", summary: 改写。, decides: true, verification: {status: verified, sources: [first]}}\n')
    edit(pair / V2_RULES, "rules:\n", "rules:\n  - id: inh2.b\n    cites: [\"1.2\"]\n    condition: {fact: inh.b, eq: true}\n"
         "    finding: 改写。\n    rectification: 改写。\n")
    found = {p.code: p for p in problems_of(pair)}
    assert found["criteria.inherited_clause"].position.line == line_of(pair / V2_CRITERIA, '"1.1"')
    assert "overrides" in found["criteria.inherited_clause"].hint
    assert found["rules.inherited_id"].position.line == line_of(pair / V2_RULES, "id: inh2.b")


def test_a_declared_rule_override_takes_the_inherited_place(pair):
    edit(pair / V2_RULES, "  ids: {from: inh1., to: inh2.}\n", "  ids: {from: inh1., to: inh2.}\n  overrides: [inh2.b]\n")
    edit(pair / V2_RULES, "rules:\n", "rules:\n  - id: inh2.b\n    cites: [\"1.2\"]\n    condition: {fact: inh.b, eq: true}\n"
         "    finding: 存在情形二（新版文字）。\n    rectification: 消除情形二。\n    tests:\n"
         "      - {name: 有, expect: triggered, facts: {inh.b: true}}\n      - {name: 无, expect: not_triggered, facts: {inh.b: false}}\n"
         "      - {name: 未查, expect: undetermined, facts: {}}\n")
    engine = load(pair)
    ids = [s.item.id for s in engine.bundle.items_of("inh_standard@2")]
    assert ids == ["inh2.a", "inh2.b", "inh2.e1", "inh2.e2", "inh2.s", "inh2.both", "inh2.idle"]
    src = engine.bundle.items["inh2.b"]
    assert src.item.finding == "存在情形二（新版文字）。" and src.pos("id").file.endswith(str(V2_RULES))
    assert "inh2.b" not in src.file.inherited


def test_override_lists_name_real_items(pair):
    edit(pair / V2_RULES, "  ids: {from: inh1., to: inh2.}\n", "  ids: {from: inh1., to: inh2.}\n  overrides: [inh2.zz, inh2.a]\n")
    edit(pair / V2_CRITERIA, 'extends:\n  version: "1"', 'extends:\n  version: "1"\n  overrides: ["7"]')
    codes = sorted(p.code for p in problems_of(pair))
    assert codes == ["criteria.extends_override_unknown", "rules.extends_override_missing", "rules.extends_override_unknown"]


def test_ids_outside_the_declared_prefix_are_refused_at_their_line(pair):
    edit(pair / V1_RULES, "  - id: inh1.b\n", "  - id: other.b\n")
    (p,) = problems_of(pair)
    assert p.code == "rules.extends_prefix" and p.position.file.endswith(str(V1_RULES))
    assert p.position.line == line_of(pair / V1_RULES, "id: other.b")


def test_a_source_the_base_declares_is_not_declared_again(pair):
    edit(pair / V2_CRITERIA, "  - {id: second, title: 虚构来源二}\n", "  - {id: second, title: 虚构来源二}\n  - {id: first, title: 又一份}\n")
    (p,) = problems_of(pair)
    assert p.code == "criteria.inherited_source" and p.position.line == line_of(pair / V2_CRITERIA, "又一份")


def test_two_files_cannot_inherit_the_same_rules_twice(pair):
    shutil.copy(pair / V2_RULES, pair / "rules/inh/v2b.yaml")
    edit(pair / "rules/inh/v2b.yaml", "  - id: inh2.s\n", "  - id: inh2.t\n")
    codes = [p.code for p in problems_of(pair)]
    assert "rules.extends_twice" in codes


def test_a_failing_inherited_case_names_its_base_line_and_the_version(pair):
    import subprocess
    import xml.etree.ElementTree as ET

    from hazardjudge.authoring.testing import junit_xml, run_all

    edit(pair / V1_RULES, "{name: 无, expect: not_triggered, facts: {inh.b: false}}", "{name: 无, expect: not_triggered, facts: {inh.b: true}}")
    line = line_of(pair / V1_RULES, "{name: 无, expect: not_triggered, facts: {inh.b: true}}")
    failed = {r.case.id: r for r in run_all(load(pair)) if not r.passed}
    assert sorted(failed) == ["inh1.b::无", "inh2.b::无"]
    assert "inh_standard@2 继承的 inh1.b 的用例" in failed["inh2.b::无"].message
    assert failed["inh2.b::无"].case.position.line == line
    cases = {c.get("classname"): c for c in ET.fromstring(junit_xml(list(failed.values()))).iter("testcase")}
    assert cases["inh2.b"].get("file").endswith(str(V1_RULES)) and cases["inh2.b"].get("line") == str(line)
    # The pytest plugin collects the inherited cases under the inheriting file.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(pair / V2_RULES)],
        capture_output=True, text=True, cwd=pair, env={**__import__("os").environ, "HAZARDJUDGE_CACHE": "off"},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"v1.yaml:{line}:" in run.stdout and "inh2.b::无" in run.stdout and "1 failed" in run.stdout


def test_a_version_diff_and_a_changed_base(pair):
    from hazardjudge.authoring.diffing import diff, diff_versions

    engine = load(pair)
    report = diff_versions(engine, "inh_standard@1", "inh_standard@2")
    assert [(c.kind, c.what, c.key) for c in report.changes if c.what != "document"] == [("added", "clause", "3"), ("added", "rule", "inh2.s")]
    assert not report.test_cases
    # A rule the later version writes anew shows as changed, and its cases as judged under each version.
    rewritten = pair.parent / "rewritten"
    shutil.copytree(pair, rewritten)
    edit(rewritten / V2_RULES, "  ids: {from: inh1., to: inh2.}\n", "  ids: {from: inh1., to: inh2.}\n  overrides: [inh2.b]\n")
    edit(rewritten / V2_RULES, "rules:\n", "rules:\n  - id: inh2.b\n    cites: [\"1.2\"]\n    condition: {fact: inh.b, eq: false}\n"
         "    finding: 存在情形二。\n    rectification: 消除情形二。\n    tests:\n"
         "      - {name: 有, expect: triggered, facts: {inh.b: false}}\n      - {name: 无, expect: not_triggered, facts: {inh.b: true}}\n"
         "      - {name: 未查, expect: undetermined, facts: {}}\n")
    report = diff_versions(load(rewritten), "inh_standard@1", "inh_standard@2")
    assert ("changed", "rule", "inh2.b", "condition") in [(c.kind, c.what, c.key, c.detail) for c in report.changes]
    assert sorted((c.subject, c.old, c.new) for c in report.test_cases) == [
        ("inh2.b::无", "not_triggered", "triggered"), ("inh2.b::有", "triggered", "not_triggered")
    ]
    # A change to the base is a change to both versions, in `hazardjudge diff` too.
    changed = pair.parent / "changed"
    shutil.copytree(pair, changed)
    edit(changed / V1_RULES, "finding: 存在情形一。", "finding: 存在情形一（改）。")
    other = load(changed)
    keys = [(c.what, c.key, c.detail) for c in diff(engine, other).changes]
    assert keys == [("rule", "inh1.a", "finding"), ("rule", "inh2.a", "finding")]
    assert other.bundle.fingerprint != engine.bundle.fingerprint


def test_the_cache_misses_when_only_the_base_file_changes(pair, tmp_path, monkeypatch):
    from hazardjudge.engine import cache

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    for _ in range(3):
        first = load(pair)
    assert first.bundle.items["inh2.a"].item.finding == "存在情形一。"
    edit(pair / V1_RULES, "finding: 存在情形一。", "finding: 存在情形一（改）。")
    second = load(pair)
    assert second.bundle.fingerprint != first.bundle.fingerprint
    assert second.bundle.items["inh2.a"].item.finding == "存在情形一（改）。"


def test_an_overlay_replacing_the_base_leaves_the_inheritor_as_loaded(pair, tmp_path):
    office = tmp_path / "office"
    (office / "rules" / "inh").mkdir(parents=True)
    (office / "overlay.yaml").write_text("schema: hazardjudge/overlay/1\nid: office\ntitle: 测试叠加层\n", encoding="utf-8")
    text = (pair / V1_RULES).read_text(encoding="utf-8").split("\ncombinations:\n")[0]
    text = text.replace("  - id: inh1.a\n", "  - id: inh1.a\n    replaces: {reason: 本区口径测试}\n").replace("存在情形一。", "本区：存在情形一。")
    (office / "rules/inh/v1.yaml").write_text(text.replace("inh1.b", "inh1.b_office").replace("inh1.e", "inh1.e_office"), encoding="utf-8")
    engine = hazardjudge.load(pair / "criteria", pair / "rules", overlays=[office])
    assert engine.bundle.items["inh1.a"].item.finding == "本区：存在情形一。"
    assert engine.bundle.items["inh2.a"].item.finding == "存在情形一。"  # resolved within its own layer
    assert [r.id for r in engine.bundle.replacements] == ["inh1.a"]


def test_joined_lists_keep_each_items_file():
    from hazardjudge.engine.yamlio import entries_of, joined_list, load_yaml_text, position_of, with_values

    a = load_yaml_text("items:\n  - x\n  - y\n", "a.yaml")
    b = load_yaml_text("top: 1\nitems:\n  - z\n", "b.yaml")
    joined = with_values(b, {"items": joined_list(entries_of(a["items"]) + entries_of(b["items"]), b["items"])})
    assert joined["items"] == ["x", "y", "z"]
    assert [str(p) for p in joined["items"].item_pos] == ["a.yaml:2:5", "a.yaml:3:5", "b.yaml:3:5"]
    assert str(position_of(joined, ("items", 1), None)) == "a.yaml:3:5"
    assert str(position_of(joined, ("top",), None)) == "b.yaml:1:1"


if __name__ == "__main__":
    # Writes the verdicts the fixture holds (see the module docstring for when and how).
    text = json.dumps(metal_mine_verdicts(hazardjudge.load()), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    sys.stdout.buffer.write(gzip.compress(text.encode("utf-8"), mtime=0))


def test_the_diff_command_compares_two_versions_of_one_document(capsys):
    from hazardjudge.cli import main

    assert main(["diff", "--versions", "metal_mine_major_hazard@2022", "metal_mine_major_hazard@2022+2024"]) == 0
    out = capsys.readouterr().out
    assert "新增 规则 mm2024.s1-1" in out and "新增 条款 补充情形一（一）" in out
    assert "mm2024.1-1-1" not in out  # inherited unchanged: not a change
    assert main(["diff", "--versions", "metal_mine_major_hazard@2021", "metal_mine_major_hazard@2022+2024"]) == 64
    err = capsys.readouterr().err
    assert "不在规则包中" in err and "metal_mine_major_hazard@2022" in err
    assert main(["diff", "--versions", "metal_mine_major_hazard@2022", "coal_major_hazard@2021"]) == 64
    assert "不是同一文件的两个版本" in capsys.readouterr().err
    assert main(["diff"]) == 64
    assert "--versions" in capsys.readouterr().err
