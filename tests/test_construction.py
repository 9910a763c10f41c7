"""Construction (房屋市政工程): whole-document behaviour of the 2024 edition beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.models import DocumentOutcome, Outcome

ON = dt.date(2026, 11, 1)
ALL_WORKS = ["excavation", "formwork", "scaffold", "lifting", "demolition", "tunnel"]


@pytest.fixture(scope="module")
def clean_site(shipped):
    """Every construction question answered with no failure present."""
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("con.") and f.type.value == "boolean"}
    facts.update({
        "site.kinds": ["construction_site"], "con.works": ALL_WORKS, "site.special_workers_certified": True,
        "cs.has_work": True, "cs.identified": True, "cs.warning_signs": True, "cs.approval": True, "cs.training": True,
        "cs.ventilate_test_first": True, "cs.guardian": True, "cs.safety_officer": True, "cs.equipment": True,
    })
    return facts


def construction(verdict):
    return next(d for d in verdict.documents if d.sector == "construction")


def test_a_clean_site_is_none_only_when_every_item_is_answered(shipped, clean_site):
    doc = construction(shipped.judge(clean_site, on=ON))
    assert doc.document.version == "2024"
    assert doc.outcome is DocumentOutcome.none, [(r.rule, r.outcome, r.missing) for r in doc.results if r.outcome is Outcome.undetermined]
    assert not doc.gaps
    cited = {c.clause for r in doc.results for c in r.citations}
    items = {c for c in cited if "（" in c} | {"第十六条", "第十七条"}
    # 第四条 to 第十五条 carry 5,4,4,3,9,5,2,4,2,7,3,3 items; 第十六条 and 第十七条 are whole articles.
    assert len(items) == 5 + 4 + 4 + 3 + 9 + 5 + 2 + 4 + 2 + 7 + 3 + 3 + 2


@pytest.mark.parametrize("fact", ["con.other_serious_violation", "con.banned_methods_used", "con.pit_sign_piping"])
def test_one_unanswered_item_keeps_the_document_undetermined(shipped, clean_site, fact):
    facts = {k: v for k, v in clean_site.items() if k != fact}
    doc = construction(shipped.judge(facts, on=ON))
    assert doc.outcome is DocumentOutcome.undetermined
    assert any(fact in r.missing for r in doc.results if r.outcome is Outcome.undetermined)


def test_the_catch_all_is_the_inspectors_call(shipped, clean_site):
    doc = construction(shipped.judge({**clean_site, "con.other_serious_violation": True}, on=ON))
    assert doc.outcome is DocumentOutcome.major
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第十七条"]


def test_works_not_on_site_are_not_asked(shipped, clean_site):
    facts = {k: v for k, v in clean_site.items() if not k.startswith(("con.tunnel", "con.shield", "con.rail"))}
    doc = construction(shipped.judge({**facts, "con.works": ["scaffold"]}, on=ON))
    assert doc.outcome is DocumentOutcome.none
    tunnel = [r for r in doc.results if r.citations[0].clause.startswith("第十三条")]
    assert len(tunnel) == 7 and all(r.outcome is Outcome.not_applicable for r in tunnel)


def test_unanswered_works_block_every_gated_item(shipped, clean_site):
    doc = construction(shipped.judge({k: v for k, v in clean_site.items() if k != "con.works"}, on=ON))
    assert doc.outcome is DocumentOutcome.undetermined
    gated = [r for r in doc.results if r.outcome is Outcome.undetermined]
    assert {r.citations[0].clause.split("（")[0] for r in gated} == {"第五条", "第六条", "第七条", "第八条", "第十二条", "第十三条"}


@pytest.mark.parametrize(("distance", "expected"), [(3.99, Outcome.triggered), (4.0, Outcome.triggered), (4.01, Outcome.not_triggered)])
def test_surcharge_band_is_measured_against_the_depth(shipped, clean_site, distance, expected):
    facts = {**clean_site, "con.unsupported_pit_surcharge": True, "con.unsupported_pit_depth": "4米",
             "con.unsupported_pit_surcharge_distance": f"{int(distance * 100)}cm"}
    doc = construction(shipped.judge(facts, on=ON))
    result = next(r for r in doc.results if r.rule == "con2024.14-2")
    assert result.outcome is expected
    if expected is Outcome.triggered:
        assert "4" in result.finding and {f.id for f in result.facts} >= {"con.unsupported_pit_depth", "con.unsupported_pit_surcharge_distance"}


def test_companion_lists_are_named_in_the_questions(shipped):
    facts = shipped.bundle.facts
    assert "严重缺陷清单" in facts["con.dw_plan_serious_defect"].question
    assert "禁止和限制使用" in facts["con.banned_methods_used"].question


def test_the_2022_edition_decides_inspections_before_2024_12_13(shipped, clean_site):
    doc = construction(shipped.judge(clean_site, on=dt.date(2024, 12, 12)))
    assert doc.document.version == "2022"
    assert doc.outcome is DocumentOutcome.none, [(r.rule, r.missing) for r in doc.results if r.outcome is Outcome.undetermined]
    cited = {c.clause for r in doc.results for c in r.citations}
    # 第四条 to 第十三条 carry 4,4,3,5,7,3,—,2,—,2 items; 第十、十二、十四、十五条 are single-sentence criteria.
    assert len(cited) == 4 + 4 + 3 + 5 + 7 + 3 + 2 + 2 + 4


@pytest.mark.parametrize(
    ("on", "rule"),
    [(dt.date(2024, 12, 12), "con2022.7-5"), (dt.date(2024, 12, 13), None)],
)
def test_the_cantilever_limit_ends_with_the_2022_edition(shipped, clean_site, on, rule):
    facts = {**clean_site, "con.attached_scaffold_in_use": True, "con.attached_scaffold_height": 20, "con.attached_scaffold_cantilever": 7}
    doc = construction(shipped.judge(facts, on=on))
    assert [r.rule for r in doc.results if r.outcome is Outcome.triggered] == ([rule] if rule else [])


def test_confined_spaces_without_work_still_conclude(shipped, clean_site):
    # 第十一条（一） is about the spaces; （二）（三）（四） about work, not applicable with none under way.
    work_items = ("cs.approval", "cs.training", "cs.ventilate_test_first", "cs.guardian", "cs.safety_officer", "cs.equipment")
    no_work = {k: v for k, v in clean_site.items() if k not in work_items} | {"cs.work_in_progress": False}
    doc = construction(shipped.judge(no_work, on=ON))
    assert doc.outcome is DocumentOutcome.none
    assert {r.rule: r.outcome for r in doc.results if r.rule.startswith("con2024.11-")} == {
        "con2024.11-1": Outcome.not_triggered, "con2024.11-2": Outcome.not_applicable,
        "con2024.11-3": Outcome.not_applicable, "con2024.11-4": Outcome.not_applicable,
    }
    doc = construction(shipped.judge(no_work | {"cs.identified": False, "cs.warning_signs": False}, on=ON))
    assert doc.outcome is DocumentOutcome.major
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第十一条（一）"]
