"""Errors that reach users: each is a list of problems with a position and a hint."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, slots=True)
class Position:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    position: Position | None = None
    hint: str | None = None
    severity: str = "error"  # "error" refuses the bundle or the input; "warning" does not

    def sort_key(self) -> tuple:
        p = self.position
        return (p.file, p.line, p.column, self.code) if p else ("", 0, 0, self.code)

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        hint = f"（{self.hint}）" if self.hint else ""
        return f"{where}{self.severity}: [{self.code}] {self.message}{hint}"


class HazardJudgeError(Exception):
    """Base for errors whose problems are meant to be shown to a person."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):
        # Rebuilt from its problems, not its message: a Dask worker's error reaches the client intact.
        return type(self), (self.problems,)


class InputError(HazardJudgeError):
    """The inspection facts (or a file given to the CLI) cannot be read as they are."""


class BundleError(HazardJudgeError):
    """The criteria/rules folders do not form a valid bundle; nothing is evaluated."""


class EngineError(Exception):
    """durable_rules refused a ruleset or an assertion; the verdict cannot be trusted."""


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)
    return ("是否想写：" + "、".join(close)) if close else None


# pydantic's own messages are English ("Input should be a valid integer"); the people who meet
# them — an inspector's form, a clerk's settings file, another system's JSON — read Chinese.
# Keyed by pydantic's stable error ``type``; ``ctx`` fills the numbers in.
_PYDANTIC_ZH: dict[str, str] = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键",
    "string_type": "应为文字",
    "string_too_short": "不能为空或过短（至少 {min_length} 个字符）",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "string_pattern_mismatch": "格式不符合要求",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为“是”或“否”（true/false）",
    "bool_parsing": "应为“是”或“否”（true/false）",
    "date_type": "应为日期，如 2026-12-31",
    "date_parsing": "日期无法识别，请写成 2026-12-31 的形式",
    "date_from_datetime_parsing": "日期无法识别，请写成 2026-12-31 的形式",
    "date_from_datetime_inexact": "应为日期，不能带时刻",
    "datetime_type": "应为日期时间，如 2026-12-31T09:30:00",
    "datetime_parsing": "日期时间无法识别，请写成 2026-12-31T09:30:00 的形式",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的整数倍",
    "too_short": "项数过少（至少 {min_length} 项）",
    "too_long": "项数过多（最多 {max_length} 项）",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "set_type": "应为列表",
    "dict_type": "应为映射（键：值）",
    "model_type": "应为映射（键：值）",
    "model_attributes_type": "应为映射（键：值）",
    "literal_error": "取值无效，可用：{expected}",
    "enum": "取值无效，可用：{expected}",
    "union_tag_invalid": "类型无效，可用：{expected_tags}",
    "union_tag_not_found": "缺少类型字段 {discriminator}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "应为 JSON 文本",
    "url_parsing": "网址无法识别",
    "uuid_parsing": "应为 UUID",
    "none_required": "应为空",
}


def validation_message_zh(err: dict) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) as a Chinese message.

    Our own validators raise ``ValueError`` with Chinese text already; pydantic wraps it as
    "Value error, …", so the text is taken from the wrapped error. An error type not listed
    keeps pydantic's message after a Chinese lead, so nothing is ever lost.
    """
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        return str(cause) if cause is not None else str(err.get("msg", ""))
    template = _PYDANTIC_ZH.get(kind)
    if template is None:
        return f"取值无效（{err.get('msg', kind)}）"
    try:
        return template.format(**{k: _shown(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].rstrip("（：，")


def _shown(value: object) -> str:
    # pydantic's ctx renders choices as "'a', 'b' or 'c'"; show them the way the messages above do.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text.replace("' or '", "'、'").replace("', '", "'、'")
