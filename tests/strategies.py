"""hypothesis strategies that answer any subset of a bundle's questions with valid values."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from hypothesis import strategies as st

from hazardjudge.engine.conditions import evaluate, referenced_facts
from hazardjudge.engine.models import FactType

#: generated cases run per fuzz test (tests/test_fuzz.py), reported at the end of the run (conftest.py)
FUZZ_CASES: Counter = Counter()

DATES = [dt.date(2018, 6, 30), dt.date(2018, 7, 1), dt.date(2023, 9, 20), dt.date(2023, 9, 21), dt.date(2025, 10, 31), dt.date(2025, 11, 1), dt.date(2026, 11, 22)]


def value_of(fact):
    t = fact.type
    if t is FactType.boolean:
        return st.booleans()
    if t in (FactType.integer, FactType.number):
        lo = fact.min if fact.min is not None else -1000
        hi = fact.max if fact.max is not None else 1000
        # Edges matter most: thresholds in the rules are round numbers.
        edges = st.sampled_from([v for v in (lo, hi, 0, 0.6, 0.75, 1, 1.05, 1.4, 500, 501) if lo <= v <= hi])
        if t is FactType.integer:
            return st.one_of(edges.map(int).filter(lambda v: lo <= v <= hi), st.integers(int(lo), int(hi)))
        # Answers are written decimals: the engine treats differences below 1e-9 as float error
        # (compiling.EPSILON), so a float like 1e-308 against 0 is not an answer anyone gives.
        return st.one_of(edges, st.floats(lo, hi, allow_nan=False).map(lambda v: min(max(round(v, 6), lo), hi)))
    if t is FactType.enum:
        return st.sampled_from(sorted(fact.values))
    if t is FactType.set:
        return st.lists(st.sampled_from(sorted(fact.values)), unique=True)
    if t is FactType.date:
        return st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1))
    return st.text(max_size=20)


def answers(engine, exclude_constraint_violations=True):
    """A dict of answers over a random subset of the engine's facts."""
    facts = engine.bundle.facts
    constraints = [c for loc in engine.bundle.constraints for c in loc.model.constraints]
    parts = {fid: st.one_of(st.none(), value_of(f)) for fid, f in sorted(facts.items())}

    def clean(d):
        out = {k: v for k, v in d.items() if v is not None}
        if exclude_constraint_violations:
            # The bundles' constraints all say a catch-all value ("other", "none") excludes every
            # specific value of its set.
            for fid, value in out.items():
                if facts[fid].type is FactType.set and len(value) > 1:
                    for catch_all in ("other", "none"):
                        if catch_all in value:
                            out[fid] = [catch_all]
                            break
            # Any other contradiction (e.g. more damaged doors than doors): leave those
            # questions unanswered, which is always a valid inspection.
            for c in constraints:
                if evaluate(c.condition, out) is True:
                    for fid in referenced_facts(c.condition):
                        out.pop(fid, None)
        return out

    # Two shapes: every fact answered or left open at random, and a few facts answered. The few-facts shape comes
    # first because Hypothesis starts from a strategy's smallest input and refuses one over half its buffer
    # (HealthCheck.large_base_example): with ~1,000 facts the all-facts shape alone is past that.
    few = st.lists(st.sampled_from(sorted(facts)), unique=True, max_size=40).flatmap(
        lambda ids: st.fixed_dictionaries({fid: value_of(facts[fid]) for fid in ids})
    )
    return st.one_of(few, st.fixed_dictionaries(parts)).map(clean)


def sectors(engine):
    return st.one_of(st.none(), st.lists(st.sampled_from(sorted(engine.bundle.sectors)), min_size=1, unique=True))


def consistent(engine, facts, chosen):
    """Drop the scope answers that rule out a named sector: naming it then is refused as input."""
    if not chosen:
        return facts
    out = dict(facts)
    for sector in chosen:
        applies = engine.bundle.sectors[sector].model.applies_when
        if evaluate(applies, out) is False:
            for fid in referenced_facts(applies):
                out.pop(fid, None)
    return out
