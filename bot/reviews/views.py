"""What the review services answer with: frozen facts, never sentences (the cog words them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.db.models import Cohort, ReviewRound
from bot.kernel import slots
from bot.reviews.repository import ReviewPair, StoredGroup
from bot.reviews.rules import members_without_review


@dataclass(frozen=True, slots=True)
class GroupView:
    """One group of a round; its thread once the cog has opened it.

    ``former`` counts members of the group who have since erased their data: they are no longer
    named, but the group keeps its size (a pair stays a pair, never "the only one available").
    """

    id: int
    member_ids: tuple[int, ...]
    thread_id: int | None
    former: int = 0

    @property
    def size(self) -> int:
        return len(self.member_ids) + self.former

    @property
    def is_lone(self) -> bool:
        """A group of one: the week's only participant, told there is nobody to pair with."""
        return self.size < 2

    @property
    def needs_thread(self) -> bool:
        """A paired group with someone still here to talk to, and no thread yet."""
        return not self.is_lone and bool(self.member_ids) and self.thread_id is None


@dataclass(frozen=True, slots=True)
class RoundView:
    """A round as stored: its groups, its posts and the reviews recorded so far."""

    id: int
    guild_id: int
    cohort_id: int
    cohort_name: str
    channel_id: int
    week: int
    created_at: datetime
    due_at: datetime
    announcement_message_id: int | None
    reminder_sent_at: datetime | None
    closed_at: datetime | None
    groups: tuple[GroupView, ...]
    # (reviewer, reviewee) pairs recorded with /review done; None for a member who erased their data.
    reviews: frozenset[ReviewPair] = frozenset()

    @property
    def paired_groups(self) -> tuple[GroupView, ...]:
        return tuple(group for group in self.groups if not group.is_lone)

    @property
    def lone_member_ids(self) -> tuple[int, ...]:
        return tuple(user_id for group in self.groups if group.is_lone for user_id in group.member_ids)

    @property
    def is_published(self) -> bool:
        return self.announcement_message_id is not None and not any(
            group.needs_thread for group in self.paired_groups
        )

    def group_of(self, user_id: int) -> GroupView | None:
        return next((group for group in self.groups if user_id in group.member_ids), None)

    def without_review(self, group: GroupView) -> tuple[int, ...]:
        if group.is_lone:
            return ()
        return members_without_review(group.member_ids, self.reviews, group.former)

    def reviewed(self, reviewer: int | None, reviewee: int | None) -> bool:
        """Whether ``reviewer`` recorded a review of ``reviewee`` (None: a former member)."""
        return (reviewer, reviewee) in self.reviews

    @classmethod
    def of(
        cls,
        review_round: ReviewRound,
        cohort: Cohort,
        groups: Iterable[StoredGroup],
        reviews: frozenset[ReviewPair],
    ) -> RoundView:
        """The view of a stored round, from its rows (``ReviewRepository.round_contents``).

        A negative announcement or thread id is a claim being posted (``ReviewRepository``
        ``claim_*``), not a Discord id: the view shows it as not posted yet.
        """
        return cls(
            id=review_round.id,
            guild_id=review_round.guild_id,
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            channel_id=cohort.channel_id,
            week=review_round.week,
            created_at=review_round.created_at,
            due_at=review_round.due_at,
            announcement_message_id=_posted(review_round.announcement_message_id),
            reminder_sent_at=review_round.reminder_sent_at,
            closed_at=review_round.closed_at,
            groups=tuple(
                GroupView(group.id, group.member_ids, _posted(group.thread_id), group.former)
                for group in groups
            ),
            reviews=reviews,
        )


def _posted(discord_id: int | None) -> int | None:
    return discord_id if discord_id is not None and discord_id > 0 else None


@dataclass(frozen=True, slots=True)
class AutoSnoozed:
    """A member snoozed for missing rounds; the cog tells them once (DM, else on next use)."""

    guild_id: int
    cohort_id: int
    cohort_name: str
    user_id: int


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """A run's round: ``created`` is False when the week already had one (shown again, not re-paired)."""

    round: RoundView
    created: bool
    auto_snoozed: tuple[AutoSnoozed, ...] = ()


@dataclass(frozen=True, slots=True)
class OptIn:
    cohort_name: str
    first_time: bool
    came_back: bool  # had left, or was snoozed by hand or for missed rounds
    languages: tuple[str, ...]
    timezone: str | None


@dataclass(frozen=True, slots=True)
class OptOut:
    cohort_name: str
    changed: bool


@dataclass(frozen=True, slots=True)
class SnoozeResult:
    cohort_name: str
    weeks: int
    first_skipped_week: int
    back_in_week: int


@dataclass(frozen=True, slots=True)
class DoneResult:
    cohort_name: str
    week: int
    partner_id: int
    changed: bool
    link: str | None
    still_to_review: tuple[int, ...]


class Participation(StrEnum):
    NOT_OPTED_IN = "not opted in"
    ACTIVE = "opted in"
    SNOOZED = "snoozed"
    AUTO_SNOOZED = "snoozed after missed rounds"
    LEFT = "opted out"


@dataclass(frozen=True, slots=True)
class StatusView:
    """``/review status`` for one member: their participation, current round, group and reviews."""

    user_id: int
    cohort_name: str
    week: int
    participation: Participation
    snoozed_until_week: int | None
    languages: tuple[str, ...]
    timezone: str | None
    round: RoundView | None
    round_this_week: bool

    @property
    def group(self) -> GroupView | None:
        return self.round.group_of(self.user_id) if self.round else None

    @property
    def partner_ids(self) -> tuple[int, ...]:
        group = self.group
        return tuple(member for member in group.member_ids if member != self.user_id) if group else ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One past round of a member; None (and ``former_partners``) stand for erased members."""

    week: int
    partner_ids: tuple[int, ...]
    gave: tuple[tuple[int | None, str | None], ...]  # (reviewee, link)
    received: tuple[tuple[int | None, str | None], ...]  # (reviewer, link)
    closed: bool
    former_partners: int = 0


@dataclass(frozen=True, slots=True)
class HistoryView:
    """A member's past rounds in one cohort, newest first."""

    cohort_name: str
    user_id: int
    entries: tuple[HistoryEntry, ...]

    @property
    def given(self) -> int:
        return sum(len(entry.gave) for entry in self.entries)

    @property
    def received(self) -> int:
        return sum(len(entry.received) for entry in self.entries)


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    given: int
    received: int


@dataclass(frozen=True, slots=True)
class ReminderBatch:
    """One round's reminder: for each group, who has not recorded a review yet."""

    round: RoundView
    pending: tuple[tuple[GroupView, tuple[int, ...]], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A cohort's review slot, for the scheduler and for ``/review schedule``."""

    cohort_id: int
    guild_id: int
    cohort_name: str
    slot: slots.WeeklySlot
    enabled: bool
    follows_prompt_slot: bool
    next_run: datetime
