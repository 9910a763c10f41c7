"""Typed answers, the engine's input: known values by fact id, and how a value is shown."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from hazardjudge.engine.models import FactDef, FactType


@dataclass
class Answers:
    """Known values by fact id; every other declared fact is unknown."""

    values: dict[str, Any] = field(default_factory=dict)


def display_value(fact: FactDef, value: Any) -> str:
    if value is None:
        return "未回答"
    if fact.type is FactType.boolean:
        return "是" if value else "否"
    if fact.type is FactType.enum:
        return (fact.values or {}).get(value, str(value))
    if fact.type is FactType.set:
        labels = [(fact.values or {}).get(v, v) for v in sorted(value)]
        return "、".join(labels) if labels else "（无）"
    if fact.type in (FactType.integer, FactType.number):
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{text}{fact.unit or ''}" if not fact.unit or fact.unit in ("%",) else f"{text} {fact.unit}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(value: Any) -> str:
    """Control characters shown as escapes, so plain-text output keeps its lines."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(value))
