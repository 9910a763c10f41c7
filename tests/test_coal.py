"""煤矿 (《煤矿重大事故隐患判定标准》, 令第4号 then 令第21号): whole-document behaviour beyond each rule's YAML cases."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.cli import main
from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import DocumentOutcome, FactType, Outcome, OverallOutcome

ON = dt.date(2026, 6, 18)  # 令第4号 in force
ARTICLE_ITEMS = {"第四条": 6, "第五条": 3, "第六条": 7, "第七条": 2, "第八条": 10, "第九条": 9, "第十条": 3, "第十一条": 5,
                 "第十二条": 4, "第十三条": 6, "第十四条": 3, "第十五条": 4, "第十六条": 5, "第十七条": 3, "第十八条": 10}
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
            "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九"]
GATED_BY_TYPE = {
    "low_gas": {"coal2021.6", "coal2021.7", "coal2021.8-9", "coal2021.12-2", "coal2021.18-10"},
    "high_gas": {"coal2021.6", "coal2021.18-10"},
    "outburst": {"coal2021.7", "coal2021.12-2", "coal2021.18-10"},
    "open_pit": {"coal2021.6", "coal2021.7", "coal2021.8-9", "coal2021.12-2"},
}


def coal(verdict):
    return next(d for d in verdict.documents if d.sector == "coal")


def is_gated(rule, mine_type):
    return any(rule == g or rule.startswith(g + "-") for g in GATED_BY_TYPE[mine_type])


def clean(shipped, mine_type):
    facts = {fid: False for fid, f in shipped.bundle.facts.items() if fid.startswith("coal.") and f.type is FactType.boolean}
    facts.update({"site.kinds": ["coal_mine"], "coal.mine_type": mine_type})
    return facts


def test_every_published_item_is_encoded_once(shipped):
    doc = coal(shipped.judge({"site.kinds": ["coal_mine"]}, on=ON, sectors=["coal"]))
    cited = sorted(c.clause for r in doc.results for c in r.citations)
    expected = sorted(f"{art}（{NUMERALS[i]}）" for art, n in ARTICLE_ITEMS.items() for i in range(n))
    assert cited == expected and len(cited) == 80
    assert doc.document.number == "应急管理部令第4号" and doc.gaps == []


@pytest.mark.parametrize("mine_type", ["low_gas", "high_gas", "outburst", "open_pit"])
def test_clean_mine_concludes_none_and_gates_follow_the_mine_type(shipped, mine_type):
    doc = coal(shipped.judge(clean(shipped, mine_type), on=ON, sectors=["coal"]))
    assert doc.outcome is DocumentOutcome.none
    for r in doc.results:
        expected = Outcome.not_applicable if is_gated(r.rule, mine_type) else Outcome.not_triggered
        assert r.outcome is expected, r.rule


def test_one_unanswered_question_keeps_it_undetermined(shipped):
    facts = clean(shipped, "high_gas")
    del facts["coal.belt_not_tested_or_protection_failed"]
    verdict = shipped.judge(facts, on=ON, sectors=["coal"])
    assert coal(verdict).outcome is DocumentOutcome.undetermined
    assert "coal.belt_not_tested_or_protection_failed" in [q.id for q in verdict.questions]


def test_unknown_mine_type_keeps_the_gated_items_open(shipped):
    facts = clean(shipped, "low_gas")
    del facts["coal.mine_type"]
    doc = coal(shipped.judge(facts, on=ON, sectors=["coal"]))
    assert doc.outcome is DocumentOutcome.undetermined
    undetermined = {r.rule for r in doc.results if r.outcome is Outcome.undetermined}
    assert {"coal2021.6-1", "coal2021.7-2", "coal2021.8-9", "coal2021.12-2", "coal2021.18-10"} <= undetermined


def test_outburst_mine_methane_sensors_count_under_article_eighteen(shipped):
    facts = clean(shipped, "outburst") | {"coal.methane_sensor_failure": True}
    doc = coal(shipped.judge(facts, on=ON, sectors=["coal"]))
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第十八条（六）"]
    facts["coal.mine_type"] = "high_gas"
    doc = coal(shipped.judge(facts, on=ON, sectors=["coal"]))
    assert [c.clause for r in doc.results if r.outcome is Outcome.triggered for c in r.citations] == ["第七条（二）"]


def test_findings_carry_the_single_source_flag(shipped):
    facts = clean(shipped, "low_gas") | {"coal.output_over_capacity": True}
    doc = coal(shipped.judge(facts, on=ON, sectors=["coal"]))
    hit = next(r for r in doc.results if r.outcome is Outcome.triggered)
    assert [(c.clause, c.verification) for c in hit.citations] == [("第四条（一）", "single_source")]


@pytest.mark.parametrize("on", [dt.date(2026, 6, 30), dt.date(2026, 7, 1)])
def test_version_boundary_at_order_21(shipped, on):
    facts = clean(shipped, "high_gas") | {"coal.single_circuit": True}
    doc = coal(shipped.judge(facts, on=on))
    if on < dt.date(2026, 7, 1):
        assert (doc.document.version, doc.document.number) == ("2021", "应急管理部令第4号")
        assert doc.outcome is DocumentOutcome.major
    else:
        # 令第21号 decides it by 第十六条（一） (the same 单回路供电 question); no 令第4号 rule is applied.
        assert (doc.document.version, doc.document.number) == ("2026", "应急管理部令第21号")
        assert doc.outcome is DocumentOutcome.major and not doc.identity_only
        hits = [r for r in doc.results if r.outcome is Outcome.triggered]
        assert [r.rule for r in hits] == ["coal2026.16-1"]
        assert [(c.clause, c.verification) for c in hits[0].citations] == [("第十六条（一）", "single_source")]
        assert all(r.rule.startswith("coal2026.") for r in doc.results)
        assert doc.gaps == []  # 第五条、第六条 encoded: every item of 第四条–第二十条 has a rule


def test_before_order_4_no_version_is_in_force(shipped):
    verdict = shipped.judge({"site.kinds": ["coal_mine"], "coal.single_circuit": True}, on=dt.date(2020, 12, 31))
    assert verdict.outcome is not OverallOutcome.major
    assert all(r.outcome is not Outcome.triggered for d in verdict.documents for r in d.results)


@pytest.mark.parametrize("kinds", [["other"], ["industry_trade"], ["fireworks"]])
def test_units_that_are_not_coal_mines_are_not_applicable(shipped, kinds):
    verdict = shipped.judge({"site.kinds": kinds, "coal.single_circuit": True}, on=ON)
    doc = coal(verdict)
    assert doc.outcome is DocumentOutcome.not_applicable
    assert "煤矿" in doc.outcome_label


def test_coal_mine_and_other_are_contradictory(shipped):
    from hazardjudge.errors import InputError

    with pytest.raises(InputError, match="其他单位"):
        shipped.judge({"site.kinds": ["coal_mine", "other"]}, on=ON)


def test_cli_judges_the_coal_example(capsys):
    assert main(["judge", str(example_dir() / "coal_mine.yaml")]) == 1
    out = capsys.readouterr().out
    assert "应急管理部令第4号" in out and "【第八条（八）】" in out



ORDER_21 = dt.date(2026, 7, 1)
ORDER_21_ITEMS = {"第四条": 3, "第五条": 9, "第六条": 6, "第七条": 5, "第八条": 17, "第九条": 3, "第十条": 16, "第十一条": 9, "第十二条": 3,
                  "第十三条": 6, "第十四条": 8, "第十五条": 4, "第十六条": 3, "第十七条": 3, "第十八条": 7, "第十九条": 2,
                  "第二十条": 19}


def test_order_21_encoded_items_are_each_encoded_once(shipped):
    doc = coal(shipped.judge({"site.kinds": ["coal_mine"]}, on=ORDER_21, sectors=["coal"]))
    cited = sorted(c.clause for r in doc.results for c in r.citations)
    expected = sorted(f"{a}（{NUMERALS[i]}）" for a, n in ORDER_21_ITEMS.items() for i in range(n))
    assert cited == expected


@pytest.mark.parametrize("mine_type", ["low_gas", "high_gas", "outburst", "open_pit"])
def test_order_21_clean_site_concludes_none_and_gates_follow_the_mine_type(shipped, mine_type):
    # Every 2026 item answered "否": with 第五条、第六条 encoded there is no gap left, so it concludes 未发现.
    doc = coal(shipped.judge(clean(shipped, mine_type), on=ORDER_21))
    assert doc.document.version == "2026"
    assert doc.outcome is DocumentOutcome.none and doc.gaps == []
    assert {r.rule for r in doc.results if r.outcome is Outcome.undetermined} == set()
    gated = {r.rule for r in doc.results if r.outcome is Outcome.not_applicable}
    open_pit_only = {f"coal2026.15-{n}" for n in range(1, 5)} | {"coal2026.20-1", "coal2026.20-2"}
    underground_only = {f"coal2026.16-{n}" for n in range(1, 4)}  # 国家矿山安全监察局答复：仅针对井工煤矿
    gas_only = {f"coal2026.7-{n}" for n in range(1, 6)} | {"coal2026.8-14"}  # 高瓦斯、突出矿井
    low_gas_only = {"coal2026.8-7"}
    outburst_only = {"coal2026.8-8"} | {f"coal2026.6-{n}" for n in range(1, 7)}
    expected = {
        "low_gas": open_pit_only | gas_only | outburst_only,
        "high_gas": open_pit_only | low_gas_only | outburst_only,
        "outburst": open_pit_only | low_gas_only,
        "open_pit": gas_only | underground_only | low_gas_only | outburst_only,
    }[mine_type]
    assert gated == expected


def test_shipped_order_21_example(shipped):
    import yaml

    data = yaml.safe_load((example_dir() / "coal_mine_2026.yaml").read_text(encoding="utf-8"))
    doc = coal(shipped.judge(data["facts"], on=data["date"]))
    assert doc.document.version == "2026"
    hits = [r.rule for r in doc.results if r.outcome is Outcome.triggered]
    assert hits == ["coal2026.15-4"] and doc.outcome is DocumentOutcome.major


def test_shipped_order_21_clean_example_concludes_none(shipped):
    # 第五条、第六条 encoded and answered 否 in the example: the fully answered 高瓦斯 mine is 未发现, not 无法判定.
    import yaml

    data = yaml.safe_load((example_dir() / "coal_mine_2026_clean.yaml").read_text(encoding="utf-8"))
    doc = coal(shipped.judge(data["facts"], on=data["date"]))
    assert doc.document.version == "2026"
    assert doc.outcome is DocumentOutcome.none and doc.gaps == []
