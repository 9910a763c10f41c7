"""hazardjudge: is this a 重大事故隐患 under the published criteria, and which clause says so?

>>> import hazardjudge
>>> verdict = hazardjudge.judge({"site.kinds": ["gas_operator"], ...}, on=datetime.date(2026, 11, 1))
>>> verdict.outcome, [f.citations[0].clause for f in verdict.findings()]
"""

from .api import Engine, judge, load
from .errors import BundleError, EngineError, HazardJudgeError, InputError, Problem
from .models import (
    VERDICT_SCHEMA_VERSION,
    DocumentOutcome,
    Inspection,
    Outcome,
    OverallOutcome,
    RuleResult,
    Verdict,
)

__all__ = [
    "Engine",
    "judge",
    "load",
    "BundleError",
    "EngineError",
    "HazardJudgeError",
    "InputError",
    "Problem",
    "VERDICT_SCHEMA_VERSION",
    "DocumentOutcome",
    "Inspection",
    "Outcome",
    "OverallOutcome",
    "RuleResult",
    "Verdict",
]
