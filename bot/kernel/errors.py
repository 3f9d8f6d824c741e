"""Domain errors carry a sentence a member can read; the bot shows it as-is, ephemerally."""

from __future__ import annotations


class DomainError(Exception):
    """Base for every expected failure: bad input, unknown names, missing permission."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """Something named by the user does not exist (in this server)."""


class InvalidInputError(DomainError):
    """The input is malformed: a date, a time, a URL, a length."""


class ConflictError(DomainError):
    """The action clashes with existing state, such as a duplicate cohort name."""


class PermissionDeniedError(DomainError):
    """The user may not do this here."""


def did_you_mean(suggestion: str | None) -> str:
    return f" Did you mean `{suggestion}`?" if suggestion else ""
