"""Verdict parts are built with ``trusted()``, not ``model_construct``: the objects must be the same."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel

from hazardjudge.engine.loading import example_dir
from hazardjudge.engine.models import ClauseGap, GapReason, OverallOutcome, RuleResult, Verdict, _Out
from hazardjudge.inputs.inspections import parse_inspection


def _parts(value):
    if isinstance(value, BaseModel):
        yield value
        for v in value.__dict__.values():
            yield from _parts(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _parts(v)


@pytest.mark.parametrize("example", ["city_gas_station.yaml", "construction_site.yaml", "chemical_plant.yaml"])
def test_every_part_matches_model_construct(shipped, example):
    parsed = parse_inspection((example_dir() / example).read_text(encoding="utf-8"))
    verdict = shipped.judge(parsed.inspection, on=dt.date(2026, 11, 18))
    parts = list(_parts(verdict))
    assert {type(p) for p in parts} >= {Verdict, RuleResult}
    for part in parts:
        assert isinstance(part, _Out)
        assert list(part.__dict__) == list(type(part).model_fields)
        given = {k: v for k, v in part.__dict__.items() if k in part.model_fields_set}
        twin = type(part).model_construct(**given)
        assert twin == part and twin.model_fields_set == part.model_fields_set
        assert twin.model_dump_json() == part.model_dump_json()


def test_plain_defaults_are_filled_and_left_unset():
    kwargs = dict(inspection_date=dt.date(2026, 1, 1), outcome=OverallOutcome.none, outcome_label="x",
                  documents=[], questions=[], possible_outcomes=[], further_questions=[], bundle="b")
    built, reference = Verdict.trusted(**kwargs), Verdict.model_construct(**kwargs)
    assert built == reference and built.model_fields_set == reference.model_fields_set
    assert list(built.__dict__) == list(reference.__dict__)


def test_unknown_or_missing_fields_are_refused():
    with pytest.raises(TypeError, match="unknown"):
        ClauseGap.trusted(clause="1", summary="s", reason=GapReason.unverified, extra=1)
    with pytest.raises(TypeError, match="missing"):
        ClauseGap.trusted(clause="1", summary="s")
    with pytest.raises(TypeError, match="missing"):  # lists with a default factory must be given
        RuleResult.trusted(rule="r", kind="rule", major=True, outcome="triggered", citations=[])
