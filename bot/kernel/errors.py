"""Domain errors carry a sentence a member can read; the bot shows it as-is, ephemerally."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from bot.kernel.lists import capped


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

    It carries the facts (whose cohorts, which names) so the Discord layer can word it for the
    reader: "You aren't…" to the caller, "Alice isn't…" about Alice. ``message`` is the caller's.
    """

    reason: CohortChoice

    def __init__(self, subject_id: int, cohort_names: Sequence[str]) -> None:
        self.subject_id = subject_id
        self.cohort_names = tuple(cohort_names)
        super().__init__(self.sentence(None))

    def sentence(self, subject_name: str | None) -> str:
        """The refusal about ``subject_name``, or about the caller when it is None."""
        who, be, not_be = ("You", "are", "aren't") if subject_name is None else (subject_name, "is", "isn't")
        if self.reason is CohortChoice.NOT_A_MEMBER:
            return f"{who} {not_be} in **{self.cohort_names[0]}**. Join it first with `/cohort join`."
        if self.reason is CohortChoice.NO_COHORT:
            return f"{who} {not_be} in any cohort yet. Join one with `/cohort join`."
        names = capped([f"**{name}**" for name in self.cohort_names], budget=1200)
        return f"{who} {be} in several cohorts ({names}); pick one with the `cohort` option."


class NotCohortMemberError(CohortChoiceError, PermissionDeniedError):
    reason = CohortChoice.NOT_A_MEMBER


class NoCohortError(CohortChoiceError, NotFoundError):
    reason = CohortChoice.NO_COHORT


class SeveralCohortsError(CohortChoiceError, InvalidInputError):
    reason = CohortChoice.SEVERAL
