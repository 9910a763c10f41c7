"""National criteria recorded for routing without encoded clauses (identity only).

A unit under such a standard is told which one applies ("应按《…》（…）判定，本工具尚未编码其
条文"), never 未发现; the checklist says the same; coverage lists every criterion in force and
the README's sector list matches it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from hazardjudge.authoring.coverage import compute
from hazardjudge.engine.models import CriteriaDocument, DocumentOutcome, OverallOutcome
from hazardjudge.inputs import checklists

ROOT = Path(__file__).parents[1]
ON = dt.date(2026, 11, 20)

#: sector → the unit type that routes to it, and the version in force on ON
# Recorded by identity only and in force on ON (education and 公路水运工程, the earlier examples, are now partly
# encoded; the 2022 power trial is identity-only but ended before ON).
IDENTITY_ONLY = {
    "water_conservancy": ("water_conservancy", "water_conservancy_major_hazard@2017试行"),
}


def note(engine, key: str) -> str:
    doc = engine.bundle.documents[key].doc
    return f"应按《{doc.title}》（{doc.number}）判定，本工具尚未编码其条文"


@pytest.mark.parametrize("sector", sorted(IDENTITY_ONLY))
def test_a_unit_is_told_which_standard_applies(shipped, sector):
    kind, key = IDENTITY_ONLY[sector]
    verdict = shipped.judge({"site.kinds": [kind], "fire.in_scope": False}, on=ON)
    doc = next(d for d in verdict.documents if d.sector == sector)
    assert doc.identity_only and doc.outcome is DocumentOutcome.undetermined
    assert doc.outcome_label == f"无法判定：{note(shipped, key)}"
    assert doc.gaps  # never a document that could still end "none"
    assert verdict.outcome is OverallOutcome.undetermined
    assert note(shipped, key) in verdict.outcome_label
    assert OverallOutcome.none not in verdict.possible_outcomes
    # Nothing to ask: no question can decide a clause that is not encoded.
    assert not [q for q in verdict.questions if any(t.document == key.split("@")[0] for t in q.decides)]


@pytest.mark.parametrize("sector", sorted(IDENTITY_ONLY))
def test_naming_the_sector_gives_the_same_answer_without_the_unit_type(shipped, sector):
    _, key = IDENTITY_ONLY[sector]
    verdict = shipped.judge({}, on=ON, sectors=[sector])
    assert verdict.outcome_label == f"无法判定：{note(shipped, key)}"


def test_two_unencoded_standards_are_both_named(shipped):
    # Before 2026-07-01 the power sector's version in force is the 2022 trial, recorded by identity only.
    verdict = shipped.judge({"site.kinds": ["water_conservancy", "power"], "fire.in_scope": False}, on=dt.date(2026, 3, 1))
    assert verdict.outcome_label == (
        "无法判定：应按《重大电力安全隐患判定标准（试行）》（国能综通安全〔2022〕123号）、"
        "《水利工程生产安全重大事故隐患判定标准（试行）》（水安监〔2017〕344号）判定，本工具尚未编码其条文"
    )


def test_an_encoded_major_finding_still_wins(shipped):
    verdict = shipped.judge({"site.kinds": ["gas_operator", "water_conservancy"], "gas.license_held": False}, on=ON)
    assert verdict.outcome is OverallOutcome.major
    other = next(d for d in verdict.documents if d.sector == "water_conservancy")
    assert other.outcome is DocumentOutcome.undetermined and other.identity_only


def test_an_unclear_unit_type_is_told_conditionally(shipped):
    verdict = shipped.judge({"fire.in_scope": False}, on=ON, sectors=None)
    doc = next(d for d in verdict.documents if d.sector == "water_conservancy")
    assert doc.outcome_label.startswith("无法判定：如属适用范围，应按《水利工程生产安全重大事故隐患判定标准（试行）》")


@pytest.mark.parametrize(
    "sector, day, version",
    [
        ("water_conservancy", dt.date(2017, 10, 31), None),
        ("water_conservancy", dt.date(2017, 11, 1), "2017试行"),
    ],
)
def test_version_boundaries(shipped, sector, day, version):
    verdict = shipped.judge({}, on=day, sectors=[sector])
    (doc,) = verdict.documents
    if version is None:
        assert doc.outcome is DocumentOutcome.no_version_in_force and doc.document is None
    else:
        assert doc.document.version == version and doc.identity_only
        assert verdict.outcome is OverallOutcome.undetermined


def test_the_checklist_says_the_same(shipped):
    cl = checklists.build(shipped, ON, None, {"site.kinds": ["water_conservancy"], "fire.in_scope": False})
    expected = note(shipped, IDENTITY_ONLY["water_conservancy"][1])
    assert cl.notes == [expected]
    for fmt in ("md", "chat", "csv", "tsv", "yaml", "json"):
        assert expected in checklists.RENDERERS[fmt](cl), fmt
    # Without the unit type every standard is named, conditionally.
    open_cl = checklists.build(shipped, ON)
    assert any(n.startswith("单位属于“水利工程”时，应按《水利工程") for n in open_cl.notes)


@pytest.mark.parametrize("fmt", ["chat", "md", "csv", "yaml", "json"])
def test_a_returned_checklist_note_is_no_answer(shipped, fmt):
    cl = checklists.build(shipped, ON, None, {"site.kinds": ["water_conservancy"]})
    text = checklists.RENDERERS[fmt](cl)
    if fmt in ("chat", "md", "csv"):
        answers, pasted = shipped.paste(text.encode("utf-8"), fmt={"chat": "lines", "md": "lines", "csv": "csv"}[fmt])
        assert not [p for p in pasted.problems if p.severity == "error"], pasted.problems
    else:
        from hazardjudge.inputs.inspections import parse_inspection

        parse_inspection(text, "<checklist>", fmt)


def test_a_version_without_clauses_must_name_its_parts():
    with pytest.raises(ValueError, match="unread_parts 或 not_encoded"):
        CriteriaDocument.model_validate(
            {
                "schema": "hazardjudge/criteria/1", "document": "x", "version": "1", "title": "t", "number": "n",
                "kind": "k", "issuer": "i", "effective": "2024-01-01", "major_label": "重大事故隐患", "scope": "s",
                "sources": [{"id": "s", "title": "t"}],
            }
        )


def test_coverage_lists_every_criterion_in_force(shipped):
    report = {v.key: v for v in compute(shipped, results=[], on=ON)}
    in_force = {k for k, v in report.items() if v.in_force}
    assert {key for _, key in IDENTITY_ONLY.values()} <= in_force
    for _, key in IDENTITY_ONLY.values():
        assert report[key].status == "仅登记，未编码" and report[key].gaps >= 1
    # One version per sector in force (the sectors tile time).
    assert len(in_force) == len({v.sector for v in report.values() if v.in_force})


def test_the_readme_sector_list_matches_coverage(shipped):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## National criteria in force", 1)[1].split("\n## ", 1)[0]
    report = [v for v in compute(shipped, results=[], on=ON) if v.in_force]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| sector") and "---" not in line]
    assert len(rows) == len(report)
    for v in report:
        (row,) = [r for r in rows if f"`{v.sector}`" in r]
        assert v.number in row and v.title in row, row
        assert v.status in row, row


def test_identity_sources_are_declared(tmp_path):
    import shutil

    import hazardjudge
    from hazardjudge.errors import BundleError

    copy = tmp_path / "b"
    shutil.copytree(ROOT / "criteria", copy / "criteria")
    shutil.copytree(ROOT / "rules", copy / "rules")
    (path,) = (copy / "criteria/water_conservancy").glob("*.yaml")
    text = path.read_text(encoding="utf-8")
    assert "sources: [notice_repost, bjx_2018]" in text
    path.write_text(text.replace("sources: [notice_repost, bjx_2018]", "sources: [notice_reposts, bjx_2018]"), encoding="utf-8")
    with pytest.raises(BundleError) as exc:
        hazardjudge.load(copy / "criteria", copy / "rules")
    (p,) = exc.value.problems
    assert p.code == "criteria.unknown_source" and p.hint and "notice_repost" in p.hint and re.search(r"shuianjian-2017-344", p.position.file)


def test_coverage_command_lists_them_in_text_and_html(tmp_path, capsys):
    from hazardjudge.cli import main

    assert main(["coverage"]) == 0
    out = capsys.readouterr().out
    head = out.split("\n\n", 1)[0]
    assert head.startswith("现行判定标准（")
    assert "水利工程（water_conservancy）《水利工程生产安全重大事故隐患判定标准（试行）》水安监〔2017〕344号，2017-11-01 起：仅登记，未编码" in head
    assert "文件信息单一来源（未核实：effective、superseded）" in head
    html = tmp_path / "cov.html"
    assert main(["coverage", "--format", "html", "-o", str(html)]) == 0
    page = html.read_text(encoding="utf-8")
    assert "<h2>现行判定标准</h2>" in page and page.count("仅登记，未编码") >= len(IDENTITY_ONLY)


@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_a_notice_says_the_same(shipped, fmt):
    from hazardjudge.outputs import notices

    verdict = shipped.judge({"site.kinds": ["water_conservancy"], "fire.in_scope": False}, on=ON)
    notice = notices.build(verdict, notices.NoticeConfig())
    assert notice.kind == "supplementary"
    assert notice.not_encoded == ["应按《水利工程生产安全重大事故隐患判定标准（试行）》（水安监〔2017〕344号）判定，本工具尚未编码其条文"]
    assert "水安监〔2017〕344号" in notices.render(notice, fmt)
