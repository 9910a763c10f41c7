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
