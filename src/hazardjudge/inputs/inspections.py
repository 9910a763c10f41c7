"""Read an inspection (facts, date, sectors) from YAML or JSON text.

Two shapes are accepted: a mapping with ``facts:`` (and optional ``date``,
``sectors``, ``unit``), or a flat mapping whose keys are all fact ids. A
generated checklist (``hazardjudge checklist --format yaml/json``) is the first
shape plus ``checklist`` (its identity), ``site`` (the site answers that chose
it, answers too), ``questions`` (the JSON form's question list) and ``notes`` (the
standards that apply but are not encoded, and why a provisional reference is asked), the last two ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hazardjudge.engine.models import Inspection
from hazardjudge.engine.normalising import parse_date_text
from hazardjudge.engine.yamlio import LocDict, load_json_text, load_yaml_text
from hazardjudge.errors import InputError, Position, Problem, validation_message_zh
from hazardjudge.inputs import observations

STRUCTURED_KEYS = {"facts", "date", "sectors", "unit", "general_hazards", "checklist", "site", "questions", "notes"}


@dataclass
class InspectionInput:
    inspection: Inspection
    positions: dict[str, Position] = field(default_factory=dict)
    unit: dict[str, Any] = field(default_factory=dict)


_YAML_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*\s*:(?:\s|$)")
#: the first column header of a generated checklist (CSV, TSV, XLSX)
CHECKLIST_FIRST_HEADER = "编号"
#: the Chinese labels of a checklist's leading metadata lines and rows, and their machine keys
META_LABELS = {"检查表编号": "checklist", "检查日期": "date", "判定行业": "sectors"}
_TABLE_STARTS = tuple(label + sep for label in (CHECKLIST_FIRST_HEADER, *META_LABELS) for sep in (",", "\t"))


_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def decode_text(data: bytes, name: str = "<输入>") -> tuple[str, str | None]:
    """The text of pasted or saved bytes, and the encoding's name when it was not UTF-8.

    Excel and WPS on Chinese Windows save CSV and text as GBK (GB18030 is its superset),
    and "Unicode text" as UTF-16 with a byte-order mark; read as UTF-8 with replacement
    characters those files became unrecognised lines and a silent 无法判定.
    """
    decoded = None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            decoded = data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            pass
    else:
        for codec, label in (("utf-8-sig", None), ("gb18030", "GB18030（GBK）")):
            try:
                decoded = data.decode(codec), label
                break
            except UnicodeDecodeError:
                pass
    if decoded is None:
        raise InputError([Problem("input.encoding", "无法识别文件的文字编码（支持 UTF-8、GBK/GB18030、带 BOM 的 UTF-16）", Position(name, 1, 1))])
    # Many binary files (images, archives, programs) decode as UTF-8 or GB18030 all the same;
    # their control characters, which no typed or pasted text holds, tell them apart.
    if (m := _BINARY.search(decoded[0])) is not None:
        line = decoded[0].count("\n", 0, m.start()) + 1
        raise InputError([Problem("input.binary", "文件含有控制字符，是二进制文件而不是文字检查记录", Position(name, line, 1))])
    return decoded


def is_blank(text: str) -> bool:
    """Nothing but blank lines and ``#`` comments: no answer at all."""
    return not any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.lstrip("\ufeff").splitlines())


def detect(data: bytes | str) -> str:
    if isinstance(data, bytes) and data[:2] == b"PK":
        return "xlsx"
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    meaningful = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    first = meaningful[0].strip() if meaningful else ""
    if first.startswith(("{", "[")):
        return "json"
    if first.startswith(_TABLE_STARTS):
        return "csv" if "," in first.split("\t", 1)[0] else "tsv"
    # YAML only when every top-level line is an ASCII key followed by ": " (chat lines start with
    # Chinese text, a number or a bullet, and often use the full-width colon).
    top = [ln for ln in meaningful if not ln[:1].isspace() and not ln.startswith("-")]
    if top and all(_YAML_KEY.match(ln) for ln in top):
        return "yaml"
    if "\t" in text:
        return "tsv"
    return "lines"




def _json_positions(text: str, keys: list[str], name: str) -> dict[str, Position]:
    """json gives no positions; find each key's first quoted occurrence instead."""
    out = {}
    for key in keys:
        idx = text.find(f'"{key}"')
        if idx >= 0:
            line = text.count("\n", 0, idx) + 1
            col = idx - (text.rfind("\n", 0, idx) + 1) + 1
            out[key] = Position(name, line, col)
    return out


def parse_inspection(text: str, name: str = "<stdin>", fmt: str | None = None) -> InspectionInput:
    fmt = fmt or ("json" if detect(text) == "json" else "yaml")
    data = load_json_text(text, name) if fmt == "json" else load_yaml_text(text, name)
    return inspection_from_data(data, name, text)


def inspection_from_data(data: Any, name: str = "<stdin>", text: str = "") -> InspectionInput:
    """An inspection from already parsed YAML/JSON data (``text``, when given, locates JSON keys)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError([Problem("input.shape", "检查记录的顶层必须是“问题编号: 回答”的映射", Position(name, 1, 1))])
    structured = "facts" in data
    if structured:
        extra = [k for k in data if k not in STRUCTURED_KEYS]
        if extra:
            raise InputError(
                [Problem("input.unknown_key", f"未知的键 {k!r}（可用：{'、'.join(sorted(STRUCTURED_KEYS))}）", _pos(data, k, name)) for k in extra]
            )
        facts = data.get("facts") or {}
        if not isinstance(facts, dict):
            raise InputError([Problem("input.shape", "facts 必须是“问题编号: 回答”的映射", _pos(data, "facts", name))])
        site = data.get("site") or {}
        if not isinstance(site, dict):
            raise InputError([Problem("input.shape", "site 必须是“问题编号: 回答”的映射（选出检查表的单位情况）", _pos(data, "site", name))])
        # The site answers chose the checklist and are answers too; one given under facts as well wins.
        located = {**(site.key_pos if isinstance(site, LocDict) else {}), **(facts.key_pos if isinstance(facts, LocDict) else {})}
        facts = {**site, **facts}
        body = {"facts": dict(facts), "on": data.get("date"), "sectors": data.get("sectors")}
        body["general_hazards"] = observations.from_data(data.get("general_hazards"), data, name)
        unit = data.get("unit") or {}
    else:
        facts = data
        body = {"facts": dict(data)}
        unit = {}
        located = data.key_pos if isinstance(data, LocDict) else {}
    try:
        inspection = Inspection.model_validate(body)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(s) for s in err["loc"])
            problems.append(Problem("input.invalid", f"{where}：{validation_message_zh(err)}", Position(name, 1, 1)))
        raise InputError(problems) from None
    positions = located if located else _json_positions(text, list(facts), name)
    if not isinstance(unit, dict):
        raise InputError([Problem("input.shape", "unit 必须是映射（单位名称、地址等）", _pos(data, "unit", name))])
    return InspectionInput(inspection, positions, dict(unit))


def _pos(data: Any, key: str, name: str) -> Position:
    if isinstance(data, LocDict) and key in data.key_pos:
        return data.key_pos[key]
    return Position(name, 1, 1)


def parse_date(text: str) -> dt.date:
    """A date as inspectors write it (2026-11-20, 2026年11月20日, 2026.11.20, 20261120, …)."""
    try:
        return parse_date_text(text)
    except ValueError as exc:
        raise InputError([Problem("input.date", str(exc))]) from None
