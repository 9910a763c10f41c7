"""Render verdicts for people. Templates get the verdict as data only.

Jinja2 autoescapes HTML templates; user text (answers, unit names) is only
ever a value passed into a template, never a template itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined, select_autoescape

from hazardjudge.engine.answers import printable
from hazardjudge.engine.models import Outcome, Verdict


def bytecode_cache() -> FileSystemBytecodeCache | None:
    """Compiled templates kept between runs (keyed by source checksum, so never stale).

    Compiling the report template is a fifth of a CLI run; without a writable cache
    directory the templates are simply compiled each time.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    directory = Path(base) / "hazardjudge" / "jinja"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(directory)) if os.access(directory, os.W_OK) else None


_env = Environment(
    loader=PackageLoader("hazardjudge.outputs", "templates"),
    bytecode_cache=bytecode_cache(),
    autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

TYPE_HINTS = {"boolean": "是/否", "integer": "整数", "number": "数值", "date": "日期", "text": "文字"}


def _answer_hint(question) -> str:
    if question.values:
        return "可选：" + "、".join(question.values.values())
    hint = TYPE_HINTS.get(question.type.value, "")
    return f"{hint}，单位：{question.unit}" if question.unit else hint


_env.filters["answer_hint"] = _answer_hint
_env.filters["printable"] = printable


def render_text(verdict: Verdict) -> str:
    return _env.get_template("verdict.txt.j2").render(v=verdict, O=Outcome)
