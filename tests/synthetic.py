"""Write a synthetic bundle of N rules, for limit tests and the benchmark.

Rule i reads its own boolean fact, and every third rule also compares a
measured value with a required one (a fact-to-fact comparison), so the
bundle exercises the same pattern shapes as the real sectors at scale.
"""

from __future__ import annotations

from pathlib import Path

import yaml


def write_synthetic(root: Path, n: int) -> Path:
    (root / "criteria").mkdir(parents=True, exist_ok=True)
    (root / "rules/facts").mkdir(parents=True, exist_ok=True)
    (root / "rules/synth").mkdir(parents=True, exist_ok=True)
    clauses = [
        {"id": f"{i + 1}", "summary": f"合成条款 {i + 1}", "decides": True, "verification": {"status": "verified", "sources": ["s"]}}
        for i in range(n)
    ]
    criteria = {
        "schema": "hazardjudge/criteria/1",
        "document": "synthetic",
        "version": "1",
        "title": "合成判定标准",
        "number": "SYN-1",
        "kind": "测试",
        "issuer": "测试",
        "effective": "2020-01-01",
        "major_label": "重大隐患",
        "scope": "测试",
        "sources": [{"id": "s", "title": "合成"}],
        "clauses": clauses,
    }
    facts = [{"id": "synth.kinds", "type": "set", "question": "类型？", "values": {"synth": "合成", "other": "其他"}}]
    rules = []
    for i in range(n):
        facts.append({"id": f"synth.f{i}", "type": "boolean", "question": f"问题 {i}？"})
        cond: dict = {"fact": f"synth.f{i}", "eq": True}
        if i % 3 == 0:
            facts.append({"id": f"synth.m{i}", "type": "number", "unit": "m", "min": 0, "max": 1000, "question": f"实测 {i}？"})
            facts.append({"id": f"synth.r{i}", "type": "number", "unit": "m", "min": 0, "max": 1000, "question": f"规定 {i}？"})
            cond = {"any": [cond, {"fact": f"synth.m{i}", "lt": {"fact": f"synth.r{i}", "times": 0.75}}]}
        rules.append(
            {
                "id": f"synth.r{i}",
                "cites": [f"{i + 1}"],
                "condition": cond,
                "finding": f"合成隐患 {i}",
                "rectification": "整改",
                "tests": [
                    {"name": "有", "expect": "triggered", "facts": {f"synth.f{i}": True}},
                    {"name": "无", "expect": "not_triggered", "facts": {f"synth.f{i}": False, **({f"synth.m{i}": 1, f"synth.r{i}": 1} if i % 3 == 0 else {})}},
                    {"name": "未知", "expect": "undetermined", "facts": {}},
                ],
            }
        )
    dump = lambda obj: yaml.safe_dump(obj, allow_unicode=True, sort_keys=False)
    (root / "criteria/synthetic.yaml").write_text(dump(criteria), encoding="utf-8")
    (root / "rules/facts/synth.yaml").write_text(dump({"schema": "hazardjudge/facts/1", "facts": facts}), encoding="utf-8")
    sector = {"schema": "hazardjudge/sector/1", "id": "synth", "title": "合成", "document": "synthetic",
              "applies_when": {"fact": "synth.kinds", "contains": "synth"}, "scope_note": "测试"}
    (root / "rules/synth/sector.yaml").write_text(dump(sector), encoding="utf-8")
    body = {"schema": "hazardjudge/rules/1", "document": "synthetic", "version": "1", "rules": rules}
    (root / "rules/synth/rules.yaml").write_text(dump(body), encoding="utf-8")
    return root


def synthetic_facts(n: int, findings: int) -> dict:
    """Every question answered; exactly ``findings`` rules trigger."""
    facts: dict = {"synth.kinds": ["synth"]}
    for i in range(n):
        facts[f"synth.f{i}"] = i < findings
        if i % 3 == 0:
            facts[f"synth.m{i}"] = 10.0
            facts[f"synth.r{i}"] = 10.0
    return facts
