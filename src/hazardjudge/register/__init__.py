"""The hazard register (隐患台账): from a verdict to 整改, 复查 and 销号, with 挂牌督办 and the monthly reports.

    from hazardjudge.register import Register, UnitIn, InspectionIn
    reg = Register("sqlite:///register.sqlite3")      # creates or upgrades the schema
    boss = reg.bootstrap("admin", "password…")         # the first account, a supervisor
    unit = reg.add_unit(boss, UnitIn(name="某某宾馆", town="某镇", village="某社区", sector="fire"))
    filed = reg.record(boss, InspectionIn(unit_id=unit.id, inspected_on=verdict.inspection_date), verdict)

See docs/register.md for the workflow, the roles and the reports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names load on first use: ``hazardjudge judge`` builds the register's CLI parser on every run
# and must not pay for importing SQLAlchemy, Alembic and argon2 when it records nothing.
_WHERE = {
    **dict.fromkeys(["RegisterError", "AuthenticationError", "PermissionDenied", "NotFound", "WorkflowError", "ConflictError", "InvalidInput"], "errors"),
    **dict.fromkeys(["Role", "Status", "Grade", "Origin", "Source", "Answer", "ANSWER_ZH", "ROLE_ZH", "STATUS_ZH", "GRADE_ZH", "ORIGIN_ZH"], "models"),
    **dict.fromkeys(["Register", "PERMISSIONS", "ACTION_ZH", "MAX_ATTACHMENT_BYTES"], "store"),
    **dict.fromkeys([
        "Actor", "UserOut", "UnitIn", "UnitOut", "InspectorIn", "InspectionIn", "InspectionOut", "VerdictOut", "Recorded",
        "HazardIn", "HazardUpdate", "HazardFilter", "HazardOut", "HazardDetail", "Page", "FileIn", "AttachmentOut",
        "ReviewOut", "EvidenceOut", "SupervisionOut", "DualReportOut", "SuspensionOut", "AuditOut",
        "SpotCheckIn", "SpotCheckOut", "SpotAnswerOut",
    ], "views"),
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hazardjudge.register' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hazardjudge.register.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from hazardjudge.register.errors import (
        AuthenticationError,
        ConflictError,
        InvalidInput,
        NotFound,
        PermissionDenied,
        RegisterError,
        WorkflowError,
    )
    from hazardjudge.register.models import (
        ANSWER_ZH,
        GRADE_ZH,
        ORIGIN_ZH,
        ROLE_ZH,
        STATUS_ZH,
        Answer,
        Grade,
        Origin,
        Role,
        Source,
        Status,
    )
    from hazardjudge.register.store import ACTION_ZH, MAX_ATTACHMENT_BYTES, PERMISSIONS, Register
    from hazardjudge.register.views import (
        Actor,
        AttachmentOut,
        AuditOut,
        DualReportOut,
        EvidenceOut,
        FileIn,
        HazardDetail,
        HazardFilter,
        HazardIn,
        HazardOut,
        HazardUpdate,
        InspectionIn,
        InspectionOut,
        InspectorIn,
        Page,
        Recorded,
        ReviewOut,
        SpotAnswerOut,
        SpotCheckIn,
        SpotCheckOut,
        SupervisionOut,
        SuspensionOut,
        UnitIn,
        UnitOut,
        UserOut,
        VerdictOut,
    )
