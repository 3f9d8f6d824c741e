"""Domain errors carry a sentence a member can read; the bot shows it as-is, ephemerally."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum


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


class CohortChoice(Enum):
    NOT_A_MEMBER = "not a member"
    NO_COHORT = "no cohort"
    SEVERAL = "several"


class CohortChoiceError(DomainError):
    """Which cohort a member meant could not be settled.

    It carries the facts (whose cohorts, which names); the Discord layer words it for the reader,
    so the same refusal says "You aren't…" to the caller and "Alice isn't…" about Alice.
    """

    def __init__(self, reason: CohortChoice, subject_id: int, cohort_names: Sequence[str]) -> None:
        self.reason = reason
        self.subject_id = subject_id
        self.cohort_names = tuple(cohort_names)
        super().__init__(f"cohort choice: {reason.value} ({', '.join(self.cohort_names)})")
