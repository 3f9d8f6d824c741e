"""What the milestone-role use cases return: plain data, worded by ``cogs/_milestones.py``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.milestones.rules import Decision


class Refusal(StrEnum):
    """Why Discord did not (or would not) give or take back a role, as stored on a grant."""

    NO_MANAGE_ROLES = "no_manage_roles"
    ROLE_TOO_HIGH = "role_too_high"
    ROLE_MANAGED = "role_managed"
    ROLE_GONE = "role_gone"
    MEMBER_GONE = "member_gone"
    FORBIDDEN = "forbidden"
    DISCORD_ERROR = "discord_error"

    @classmethod
    def of(cls, stored: str | None) -> Refusal:
        try:
            return cls(stored or "")
        except ValueError:
            return cls.DISCORD_ERROR


@dataclass(frozen=True, slots=True)
class PhaseRef:
    roadmap_key: str
    roadmap_title: str
    number: int
    key: str
    title: str


@dataclass(frozen=True, slots=True)
class RoleAction:
    """A role to give or take back now; the caller reports how it went (``granted``, ``failed``...)."""

    decision: Decision  # GRANT or REMOVE
    grant_id: int
    guild_id: int
    user_id: int
    role_id: int
    phase: PhaseRef


@dataclass(frozen=True, slots=True)
class Configured:
    phase: PhaseRef
    role_id: int
    previous_role_id: int | None

    @property
    def changed(self) -> bool:
        return self.previous_role_id != self.role_id


@dataclass(frozen=True, slots=True)
class Cleared:
    phase: PhaseRef
    role_id: int | None  # None: no role was set for the phase


@dataclass(frozen=True, slots=True)
class Trouble:
    """Members Discord refused for one phase: how many, and the latest reason."""

    waiting: int  # the grant failed: they finished the phase but lack the role
    unremoved: int  # the take-back failed: they still have a role they no longer qualify for
    latest: Refusal


@dataclass(frozen=True, slots=True)
class MilestoneRoleView:
    """One phase with a milestone role (or with grants that still need a moderator)."""

    roadmap_key: str
    roadmap_title: str | None  # None: the roadmap is no longer in the catalog
    phase_key: str
    number: int | None  # None: the roadmap no longer has this phase
    phase_title: str | None
    role_id: int | None  # None: cleared, listed only because of its trouble
    granted: int
    trouble: Trouble | None


@dataclass(frozen=True, slots=True)
class CohortTrouble:
    """What ``/cohort info`` shows: the cohort's members Discord refused a milestone role."""

    waiting: int
    unremoved: int
    latest: Refusal
