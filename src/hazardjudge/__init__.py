"""hazardjudge: is this a 重大事故隐患 under the published criteria, and which clause says so?

>>> import hazardjudge
>>> verdict = hazardjudge.judge({"site.kinds": ["gas_operator"], ...}, on=datetime.date(2026, 11, 1))
>>> verdict.outcome, [f.citations[0].clause for f in verdict.findings()]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hazardjudge.api import Engine, judge, load
    from hazardjudge.errors import BundleError, EngineError, HazardJudgeError, InputError, Problem
    from hazardjudge.engine.models import (
        VERDICT_SCHEMA_VERSION,
        DocumentOutcome,
        Inspection,
        Outcome,
        OverallOutcome,
        RuleResult,
        Verdict,
    )

# The names below are imported on first use: importing the package (which every
# ``hazardjudge`` command does before parsing its arguments) stays free of pydantic,
# PyYAML and durable_rules, and the CLI decides how to run before paying for them.
_EXPORTS = {
    "Engine": "api",
    "judge": "api",
    "load": "api",
    "BundleError": "errors",
    "EngineError": "errors",
    "HazardJudgeError": "errors",
    "InputError": "errors",
    "Problem": "errors",
    "VERDICT_SCHEMA_VERSION": "engine.models",
    "DocumentOutcome": "engine.models",
    "Inspection": "engine.models",
    "Outcome": "engine.models",
    "OverallOutcome": "engine.models",
    "RuleResult": "engine.models",
    "Verdict": "engine.models",
}

__all__ = list(_EXPORTS)


# The rooms of the package, reachable as attributes (hazardjudge.engine, …) like the modules once were.
_SUBPACKAGES = {"api", "authoring", "batch", "cli", "clock", "engine", "errors", "inputs", "outputs", "service"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
