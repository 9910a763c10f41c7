"""Positions survive the loader's fast paths: plain strings, mappings and sequences are built
directly, every other tag by PyYAML, and each must still say where it came from."""

from __future__ import annotations

import datetime as dt

import pytest

from hazardjudge.engine.yamlio import LocDict, LocList, load_yaml_text, position_of
from hazardjudge.errors import InputError, Position

DOC = """\
name: 甲
count: 3
since: 2026-01-02
tags: !!set {a, b}
items:
  - plain
  - {k: v, n: 1.5}
  - [x, 'y']
"""


def test_every_key_and_item_keeps_its_position():
    data = load_yaml_text(DOC, "f.yaml")
    assert isinstance(data, LocDict) and data.pos == Position("f.yaml", 1, 1)
    assert data == {"name": "甲", "count": 3, "since": dt.date(2026, 1, 2), "tags": {"a", "b"},
                    "items": ["plain", {"k": "v", "n": 1.5}, ["x", "y"]]}
    assert data.key_pos == {k: Position("f.yaml", line, 1) for line, k in enumerate(data, start=1)}
    items = data["items"]
    assert isinstance(items, LocList) and items.pos == Position("f.yaml", 6, 3)
    assert items.item_pos == [Position("f.yaml", line, 5) for line in (6, 7, 8)]
    assert items[1].key_pos == {"k": Position("f.yaml", 7, 6), "n": Position("f.yaml", 7, 12)}
    assert position_of(data, ("items", 2, 1), None) == Position("f.yaml", 8, 9)
    assert position_of(data, ("items", 1, "missing"), None) == Position("f.yaml", 7, 5)


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: &x v\nb: *x\n", "yaml.alias", (1, 4)),
        ("&x a: 1\nb: {*x : 2}\n", "yaml.alias", (1, 1)),
        ("a: 1\nb: 2\na: 3\n", "yaml.duplicate_key", (3, 1)),
        ("? [1]\n: v\n", "yaml.key", (1, 3)),
    ],
)
def test_refusals_name_the_node(text, code, where):
    with pytest.raises(InputError) as info:
        load_yaml_text(text, "g.yaml")
    (p,) = info.value.problems
    assert p.code == code and (p.position.line, p.position.column) == where
