"""Milestone roles, decided without Discord or a database.

A phase is *done* for a member when every checkpoint in it is marked done in one of their cohorts
on that roadmap. A completion that leaves the phase done earns its configured role once; an undo
that leaves it undone in every cohort takes back a role the bot gave for it. What the bot did is
kept as a grant, whose state says what to do next:

- ``claimed``: a grant is on its way to Discord (the claim is what makes a double click grant once);
- ``granted``: the member has the role from the bot;
- ``failed``: Discord refused the grant; the member's progress stands and moderators are told;
- ``removing``: the role is being taken back after an undo;
- ``remove_failed``: Discord refused to take it back; moderators are told.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from bot.kernel.roadmap import Phase, Roadmap

MAX_PHASE_OPTION = 100  # the largest phase number the option accepts; roadmaps have far fewer


class GrantState(StrEnum):
    CLAIMED = "claimed"
    GRANTED = "granted"
    FAILED = "failed"
    REMOVING = "removing"
    REMOVE_FAILED = "remove_failed"


class Decision(StrEnum):
    NOTHING = "nothing"
    GRANT = "grant"  # give the configured role (and claim the grant first)
    REMOVE = "remove"  # take back the role the grant records
    FORGET = "forget"  # the grant never reached the member: drop it, nothing to take back


NEEDS_ATTENTION = frozenset({GrantState.FAILED, GrantState.REMOVE_FAILED})


def phase_of(roadmap: Roadmap, checkpoint_key: str) -> Phase | None:
    """The phase holding ``checkpoint_key``, or None when the roadmap has no such checkpoint."""
    found = roadmap.find_checkpoint(checkpoint_key)
    return found[0] if found else None


def phase_numbered(roadmap: Roadmap, number: int) -> Phase | None:
    """The phase members call ``number`` (1-based), or None when there is no such phase."""
    return roadmap.phases[number - 1] if 1 <= number <= len(roadmap.phases) else None


def phase_keyed(roadmap: Roadmap, key: str) -> tuple[int, Phase] | None:
    """A stored phase key back to its current number and phase (None once the roadmap dropped it)."""
    for number, phase in enumerate(roadmap.phases, start=1):
        if phase.key == key:
            return number, phase
    return None


def phase_done(phase: Phase, completed: Collection[str]) -> bool:
    return all(checkpoint.key in completed for checkpoint in phase.checkpoints)


def cohorts_with_phase_done(phase: Phase, completed_by_cohort: Mapping[int, Collection[str]]) -> list[int]:
    """The member's cohorts (ids, ascending) in which every checkpoint of ``phase`` is done."""
    return sorted(cohort for cohort, keys in completed_by_cohort.items() if phase_done(phase, keys))


def after_done(*, done: bool, role_id: int | None, grant: GrantState | None) -> Decision:
    """What marking a checkpoint of the phase done means for its milestone role.

    Granted once: a grant that reached the member (or is on its way) is never repeated, even when
    the role was configured anew or a moderator took it off by hand. A grant Discord refused, or a
    take-back still pending, is tried again: the member qualifies, so they should have the role.
    """
    if not done or role_id is None:
        return Decision.NOTHING
    if grant in (None, GrantState.FAILED, GrantState.REMOVING, GrantState.REMOVE_FAILED):
        return Decision.GRANT
    return Decision.NOTHING


def after_undo(*, done: bool, grant: GrantState | None) -> Decision:
    """What unmarking a checkpoint means: the role goes when no cohort has the phase done any more.

    The configuration plays no part: a role the bot gave is taken back even after the milestone
    role was cleared, because the grant records which role it gave. A refused grant is dropped.
    """
    if done or grant is None:
        return Decision.NOTHING
    if grant is GrantState.FAILED:
        return Decision.FORGET
    return Decision.REMOVE
