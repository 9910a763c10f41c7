"""The register's errors: Chinese messages, typed so callers (CLI, HTTP) can map them to exit codes and statuses."""

from __future__ import annotations

from hazardjudge.errors import HazardJudgeError, Problem


class RegisterError(HazardJudgeError):
    """A register operation was refused; nothing was written."""

    @classmethod
    def one(cls, code: str, message: str, hint: str | None = None) -> "RegisterError":
        return cls([Problem(code, message, None, hint)])


class AuthenticationError(RegisterError):
    """Unknown user, wrong password or a deactivated account (one message for all: no user enumeration)."""


class PermissionDenied(RegisterError):
    """The actor's role, or its units, do not allow this read or write."""


class NotFound(RegisterError):
    """No such record (or, for an enterprise user, none of theirs)."""


class WorkflowError(RegisterError):
    """The hazard's state does not allow this step (e.g. 销号 a 重大 hazard without 复查)."""


class ConflictError(RegisterError):
    """Someone else changed the record since it was read: reload and try again."""


class InvalidInput(RegisterError):
    """A value given to the register cannot be stored as it is."""
