"""Weekly peer-review pairing: opting in, running a round, recording reviews, reminders, reports.

``bot.reviews.pairing`` decides the groups; this service decides who can be paired (opted in,
still in the cohort and the server, not snoozed) and keeps everything else in the database, which
is the source of truth: the unique (cohort, week) key on ``review_rounds`` makes a round happen
once a week however often the scheduler, a moderator or a restarted process asks for it.

A round's life: created with its groups (a lone participant is stored as a group of one, so a
re-run shows the same week) -> published by the cog (announcement, one thread per group, both
recorded here so a restart finishes what is missing) -> a reminder two days before it is due ->
closed once due, when each member's missed-round streak is updated and a third miss in a row
snoozes them until they opt in again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository, MemberRepository
from bot.cohorts.resolve import member_cohort
from bot.cohorts.service import CohortService
from bot.db.models import Cohort, ReviewCompletion, ReviewParticipant, ReviewRound
from bot.kernel import calendar, slots
from bot.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from bot.progress.service import ProgressService
from bot.reviews.pairing import Candidate, PairingHistory, make_groups
from bot.reviews.repository import ReviewRepository, StoredGroup
from bot.reviews.rules import (
    MISSED_ROUNDS_LIMIT,
    REMINDER_LEAD,
    REVIEW_WINDOW,
    auto_snooze_notice,
    first_skippable_week,
    is_available,
    member_phase_index,
    members_without_review,
    next_missed_streak,
    parse_languages,
    reminder_is_due,
    round_seed,
    snoozed_until,
    utc_offset_minutes,
    validate_link,
    validate_snooze_weeks,
)

log = logging.getLogger(__name__)


# Above this many candidates the pairing search runs in a worker thread (about a second for 2,000),
# so the event loop keeps answering commands and heartbeats meanwhile.
PAIRING_IN_THREAD_ABOVE = 100


InGuild = Callable[[int], bool]


# --- pure rules --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupView:
    id: int
    member_ids: tuple[int, ...]
    thread_id: int | None

    @property
    def is_lone(self) -> bool:
        """A group of one: the week's only participant, told there is nobody to pair with."""
        return len(self.member_ids) < 2


@dataclass(frozen=True, slots=True)
class RoundView:
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
    # (reviewer, reviewee) pairs recorded with /review done.
    reviews: frozenset[tuple[int, int]] = frozenset()

    @property
    def paired_groups(self) -> tuple[GroupView, ...]:
        return tuple(group for group in self.groups if not group.is_lone)

    @property
    def paired_member_ids(self) -> tuple[int, ...]:
        return tuple(user_id for group in self.paired_groups for user_id in group.member_ids)

    @property
    def lone_member_ids(self) -> tuple[int, ...]:
        return tuple(user_id for group in self.groups if group.is_lone for user_id in group.member_ids)

    @property
    def is_published(self) -> bool:
        return self.announcement_message_id is not None and all(
            group.thread_id is not None for group in self.paired_groups
        )

    def group_of(self, user_id: int) -> GroupView | None:
        return next((group for group in self.groups if user_id in group.member_ids), None)

    def without_review(self, group: GroupView) -> tuple[int, ...]:
        return () if group.is_lone else members_without_review(group.member_ids, self.reviews)


@dataclass(frozen=True, slots=True)
class AutoSnoozed:
    """A member just snoozed for missing rounds; the cog tells them once (DM, else on next use)."""

    guild_id: int
    cohort_id: int
    cohort_name: str
    user_id: int

    @property
    def notice(self) -> str:
        return auto_snooze_notice(self.cohort_name)


@dataclass(frozen=True, slots=True)
class RoundOutcome:
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
    week: int
    partner_ids: tuple[int, ...]
    gave: tuple[tuple[int, str | None], ...]  # (reviewee, link)
    received: tuple[tuple[int, str | None], ...]  # (reviewer, link)
    closed: bool


@dataclass(frozen=True, slots=True)
class HistoryView:
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
    cohort_id: int
    guild_id: int
    cohort_name: str
    slot: slots.WeeklySlot
    enabled: bool
    follows_prompt_slot: bool
    next_run: datetime


# --- the service -------------------------------------------------------------------------------


class ReviewService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cohorts: CohortService,
        progress: ProgressService,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._cohorts = cohorts
        self._progress = progress
        self._clock = clock

    # --- opting in and out ---------------------------------------------------------------------

    async def join(
        self,
        guild_id: int,
        user_id: int,
        cohort_name: str,
        *,
        languages: str | None = None,
        timezone: str | None = None,
    ) -> OptIn:
        """Opt in, or update preferences; options left out keep their saved value."""
        parsed_languages = parse_languages(languages) if languages is not None else None
        zone = slots.parse_timezone(timezone) if timezone is not None and timezone.strip() else None
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await member_cohort(session, guild_id, user_id, cohort_name)
            repository = ReviewRepository(session)
            participant = await repository.participant(cohort.id, user_id)
            first_time = participant is None
            came_back = False
            if participant is None:
                participant = ReviewParticipant(
                    guild_id=guild_id,
                    cohort_id=cohort.id,
                    user_id=user_id,
                    active=True,
                    languages="",
                    missed_streak=0,
                    auto_snooze_notice=False,
                    joined_at=now,
                )
                repository.add_participant(participant)
            else:
                # Joining again always means "pair me from the next round": it ends any snooze.
                week = self._week(cohort, now)
                round_exists = await repository.round_for_week(cohort.id, week) is not None
                came_back = _participation(participant, week, round_exists) is not Participation.ACTIVE
                participant.active = True
                participant.snoozed_until_week = None
                participant.missed_streak = 0
                participant.auto_snooze_notice = False
            if parsed_languages is not None:
                participant.languages = ",".join(parsed_languages)
            if zone is not None:
                participant.timezone = zone
            saved_languages = _split_languages(participant.languages)
            saved_zone = participant.timezone
        log.info("guild=%s user=%s opted in to reviews in %r", guild_id, user_id, cohort.name)
        return OptIn(cohort.name, first_time, came_back, saved_languages, saved_zone)

    async def leave(self, guild_id: int, user_id: int, cohort_name: str) -> OptOut:
        """Opt out of future rounds; past rounds and reviews stay for fairness and history."""
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            participant = await ReviewRepository(session).participant(cohort.id, user_id)
            if participant is None or not participant.active:
                return OptOut(cohort.name, changed=False)
            participant.active = False
        log.info("guild=%s user=%s opted out of reviews in %r", guild_id, user_id, cohort.name)
        return OptOut(cohort.name, changed=True)

    async def snooze(self, guild_id: int, user_id: int, cohort_name: str, weeks: int) -> SnoozeResult:
        validate_snooze_weeks(weeks)
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            repository = ReviewRepository(session)
            participant = await repository.participant(cohort.id, user_id)
            if participant is None or not participant.active:
                raise NotFoundError(
                    f"You aren't opted in to review pairing in **{cohort.name}**: use `/review join` first."
                )
            week = self._week(cohort, now)
            round_exists = await repository.round_for_week(cohort.id, week) is not None
            until = snoozed_until(week, round_exists, weeks)
            participant.snoozed_until_week = until
        return SnoozeResult(cohort.name, weeks, until - weeks + 1, until + 1)

    # --- rounds --------------------------------------------------------------------------------

    async def run_round(self, guild_id: int, cohort_name: str, in_guild: InGuild) -> RoundOutcome:
        """This week's round for a moderator: created now, or the existing one if it already ran."""
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            week = self._week(cohort, now)
            if week < 1:
                raise ConflictError(
                    f"**{cohort.name}** starts on {cohort.start_date.isoformat()}, so its first review"
                    " round can run from that day."
                )
            return await self._round(session, cohort, week, now, in_guild)

    async def run_scheduled_round(self, cohort_id: int, in_guild: InGuild) -> RoundOutcome | None:
        """What the weekly job does; None when there is nothing to do this week, with the reason logged."""
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
            if cohort is None or not cohort.review_enabled:
                return None
            roadmap = self._cohorts.roadmap(cohort.roadmap_key)
            where = calendar.position(cohort.start_date, slots.local_date(now, cohort.timezone), roadmap)
            if not where.started or where.finished:
                log.info("cohort=%s no review round: the cohort is not running", cohort_id)
                return None
            try:
                return await self._round(session, cohort, where.week, now, in_guild)
            except ConflictError as error:
                log.info("cohort=%s no review round: %s", cohort_id, error.message)
                return None

    async def _round(
        self, session: AsyncSession, cohort: Cohort, week: int, now: datetime, in_guild: InGuild
    ) -> RoundOutcome:
        repository = ReviewRepository(session)
        existing = await repository.round_for_week(cohort.id, week)
        if existing is not None:
            return RoundOutcome(await self._view(session, cohort, existing), created=False)
        # Close what is due first, so members who just missed a third round are not paired.
        auto_snoozed = await self._close_rounds(session, await repository.open_rounds_due_by(now, cohort.id))

        roadmap = self._cohorts.roadmap(cohort.roadmap_key)
        members = {member.user_id for member in await MemberRepository(session).active_in(cohort.id)}
        eligible = [
            participant
            for participant in await repository.participants(cohort.id)
            if is_available(
                participant.active, participant.snoozed_until_week, participant.missed_streak, week
            )
            and participant.user_id in members
            and in_guild(participant.user_id)
        ]
        if not eligible:
            raise ConflictError(
                f"Nobody in **{cohort.name}** is available for review pairing this week:"
                " members opt in with `/review join`."
            )
        completed = await repository.completed_checkpoints(cohort.id)
        candidates = [
            Candidate(
                user_id=participant.user_id,
                utc_offset_minutes=utc_offset_minutes(participant.timezone, now),
                languages=frozenset(_split_languages(participant.languages)),
                phase_index=member_phase_index(roadmap, completed.get(participant.user_id, set())),
            )
            for participant in eligible
        ]
        past_rounds = await repository.rounds(cohort.id, before_week=week)
        past_groups = await repository.groups_of(past.id for past in past_rounds)
        history = PairingHistory.from_rounds(
            (past.week, [group.member_ids for group in past_groups[past.id]]) for past in past_rounds
        )
        seed = round_seed(cohort.id, week)
        if len(candidates) > PAIRING_IN_THREAD_ABOVE:
            result = await asyncio.to_thread(make_groups, candidates, history, week, seed)
        else:
            result = make_groups(candidates, history, week, seed)

        try:
            async with session.begin_nested():
                review_round = ReviewRound(
                    guild_id=cohort.guild_id,
                    cohort_id=cohort.id,
                    week=week,
                    seed=seed,
                    created_at=now,
                    due_at=now + REVIEW_WINDOW,
                )
                repository.add_round(review_round)
                await session.flush()
                for group in result.groups:
                    await repository.add_group(cohort.guild_id, review_round.id, group)
                for lone in result.unpaired:
                    await repository.add_group(cohort.guild_id, review_round.id, (lone,))
                await session.flush()
        except IntegrityError:  # another process paired this week first: show its round
            existing = await repository.round_for_week(cohort.id, week)
            if existing is None:
                raise
            return RoundOutcome(await self._view(session, cohort, existing), False, tuple(auto_snoozed))
        log.info(
            "guild=%s cohort=%s week=%s paired %d groups (%d repeat pairs, %d alone)",
            cohort.guild_id,
            cohort.id,
            week,
            len(result.groups),
            result.repeat_pairs,
            len(result.unpaired),
        )
        return RoundOutcome(await self._view(session, cohort, review_round), True, tuple(auto_snoozed))

    async def cohorts_missing_their_round(self, grace: timedelta) -> list[int]:
        """Cohorts whose review slot passed less than ``grace`` ago without a round this week.

        The scheduler only fires while the bot runs; after downtime across a slot, the hourly
        upkeep asks this and runs the round late rather than skipping the week.
        """
        now = self._clock()
        missing: list[int] = []
        async with self._sessions() as session:
            repository = ReviewRepository(session)
            for cohort in await CohortRepository(session).all():
                if not cohort.review_enabled:
                    continue
                week = self._week(cohort, now)
                if week < 1:
                    continue
                decision = slots.catch_up_decision(
                    self._schedule_view(cohort).slot,
                    cohort.start_date,
                    await repository.latest_round_week(cohort.id),
                    now,
                    grace,
                )
                # Only this week's slot: a slot from the previous cohort week is not caught up.
                if decision.post_week == week:
                    missing.append(cohort.id)
        return missing

    async def mark_announced(self, round_id: int, message_id: int) -> None:
        async with self._sessions.begin() as session:
            review_round = await ReviewRepository(session).round_by_id(round_id)
            if review_round is not None:
                review_round.announcement_message_id = message_id

    async def set_thread(self, group_id: int, thread_id: int) -> None:
        async with self._sessions.begin() as session:
            group = await ReviewRepository(session).group_by_id(group_id)
            if group is not None:
                group.thread_id = thread_id

    async def unpublished_rounds(self) -> list[RoundView]:
        """Open rounds whose announcement or threads are missing (a crash or an outage mid-post)."""
        async with self._sessions() as session:
            views = [
                await self._view(session, None, review_round)
                for review_round in await ReviewRepository(session).open_rounds()
            ]
        return [view for view in views if not view.is_published]

    # --- closing, reminders, notices -----------------------------------------------------------

    async def close_due_rounds(self) -> list[AutoSnoozed]:
        """Close every round past its due date and update missed-round streaks (idempotent)."""
        async with self._sessions.begin() as session:
            due = await ReviewRepository(session).open_rounds_due_by(self._clock())
            return await self._close_rounds(session, due)

    async def _close_rounds(self, session: AsyncSession, rounds: Sequence[ReviewRound]) -> list[AutoSnoozed]:
        repository = ReviewRepository(session)
        now = self._clock()
        snoozed: list[AutoSnoozed] = []
        for review_round in rounds:
            if not await repository.claim_close(review_round.id, now):
                continue
            review_round.closed_at = now  # the claim bypassed the loaded object
            groups = (await repository.groups_of([review_round.id]))[review_round.id]
            reviews = {
                (completion.reviewer_id, completion.reviewee_id)
                for completion in await repository.completions_of([review_round.id])
                if completion.reviewer_id is not None and completion.reviewee_id is not None
            }
            paired = [group for group in groups if len(group.member_ids) >= 2]
            missing = {
                user_id for group in paired for user_id in members_without_review(group.member_ids, reviews)
            }
            user_ids = [user_id for group in paired for user_id in group.member_ids]
            participants = await repository.participants_by_user(review_round.cohort_id, user_ids)
            cohort = await CohortRepository(session).by_id(review_round.cohort_id)
            for user_id, participant in participants.items():
                before = participant.missed_streak
                participant.missed_streak = next_missed_streak(before, reviewed=user_id not in missing)
                if before < MISSED_ROUNDS_LIMIT <= participant.missed_streak and participant.active:
                    participant.auto_snooze_notice = True
                    snoozed.append(
                        AutoSnoozed(
                            review_round.guild_id,
                            review_round.cohort_id,
                            cohort.name if cohort else "your cohort",
                            user_id,
                        )
                    )
            log.info(
                "cohort=%s week=%s closed: %d of %d members recorded no review",
                review_round.cohort_id,
                review_round.week,
                len(missing),
                len(user_ids),
            )
        return snoozed

    async def claim_due_reminders(self) -> list[ReminderBatch]:
        """Rounds due within two days whose reminder has not gone out; each is claimed once."""
        now = self._clock()
        batches: list[ReminderBatch] = []
        async with self._sessions.begin() as session:
            repository = ReviewRepository(session)
            for review_round in await repository.rounds_needing_reminder(now + REMINDER_LEAD, now):
                if not reminder_is_due(review_round.due_at, now):
                    continue
                if not await repository.claim_reminder(review_round.id, now):
                    continue
                review_round.reminder_sent_at = now
                view = await self._view(session, None, review_round)
                pending = tuple(
                    (group, missing)
                    for group in view.paired_groups
                    if (missing := view.without_review(group))
                )
                batches.append(ReminderBatch(view, pending))
        return batches

    async def take_notices(self, guild_id: int, user_id: int) -> list[str]:
        """Auto-snooze notices not yet delivered (one line each); taking them marks them told."""
        async with self._sessions.begin() as session:
            notices: list[str] = []
            for participant in await ReviewRepository(session).pending_notices(guild_id, user_id):
                participant.auto_snooze_notice = False
                cohort = await CohortRepository(session).by_id(participant.cohort_id)
                if cohort is not None:
                    notices.append(auto_snooze_notice(cohort.name))
        return notices

    async def mark_notice_told(self, cohort_id: int, user_id: int) -> None:
        async with self._sessions.begin() as session:
            participant = await ReviewRepository(session).participant(cohort_id, user_id)
            if participant is not None:
                participant.auto_snooze_notice = False

    # --- recording and reporting ---------------------------------------------------------------

    async def record_done(
        self,
        guild_id: int,
        user_id: int,
        partner_id: int,
        *,
        link: str | None = None,
        cohort_name: str | None = None,
    ) -> DoneResult:
        """Record that ``user_id`` reviewed ``partner_id``'s work in their current group."""
        clean_link = validate_link(link)
        if partner_id == user_id:
            raise InvalidInputError("You can't record a review of your own work: pick your partner.")
        now = self._clock()
        async with self._sessions.begin() as session:
            cohort = await self._review_cohort(session, guild_id, user_id, cohort_name, must_be_member=True)
            repository = ReviewRepository(session)
            open_rounds = list(await repository.open_rounds(cohort_id=cohort.id))
            groups = await repository.groups_of(review_round.id for review_round in open_rounds)
            mine = [
                (review_round, group)
                for review_round in open_rounds  # newest first
                for group in groups[review_round.id]
                if user_id in group.member_ids
            ]
            if not mine:
                raise await self._no_round_error(repository, cohort, now)
            found = next(((rnd, group) for rnd, group in mine if partner_id in group.member_ids), None)
            if found is None:
                if all(len(group.member_ids) < 2 for _, group in mine):
                    raise InvalidInputError(
                        "You had no partner this round (you were the only one available), so there's"
                        " no review to record."
                    )
                raise InvalidInputError(
                    "That member isn't in your review group this round: `/review status` shows your partner."
                )
            review_round, group = found
            existing = await repository.completion(review_round.id, user_id, partner_id)
            changed = existing is None
            if existing is None:
                try:
                    async with session.begin_nested():  # a double submit races us: treat it as done
                        repository.add_completion(
                            ReviewCompletion(
                                guild_id=guild_id,
                                round_id=review_round.id,
                                reviewer_id=user_id,
                                reviewee_id=partner_id,
                                link=clean_link,
                                completed_at=now,
                            )
                        )
                except IntegrityError:
                    changed = False
            elif clean_link is not None:
                existing.link = clean_link
            await session.flush()
            reviewed = {
                completion.reviewee_id
                for completion in await repository.completions_of([review_round.id])
                if completion.reviewer_id == user_id
            }
            still = tuple(
                member for member in group.member_ids if member != user_id and member not in reviewed
            )
        log.info("guild=%s user=%s reviewed %s (week %s)", guild_id, user_id, partner_id, review_round.week)
        return DoneResult(cohort.name, review_round.week, partner_id, changed, clean_link, still)

    async def _no_round_error(
        self, repository: ReviewRepository, cohort: Cohort, now: datetime
    ) -> NotFoundError:
        week = self._week(cohort, now)
        this_week = await repository.round_for_week(cohort.id, week) if week >= 1 else None
        if this_week is None:
            return NotFoundError(
                f"There's no review round in **{cohort.name}** yet this week; a moderator can start one"
                " with `/review pair`."
            )
        if this_week.closed_at is not None:
            return NotFoundError(f"This week's review round in **{cohort.name}** is already closed.")
        return NotFoundError(
            f"You aren't in this week's review round in **{cohort.name}**; opt in with `/review join`"
            " to be paired next time."
        )

    async def status(self, guild_id: int, user_id: int, cohort_name: str | None = None) -> StatusView:
        now = self._clock()
        async with self._sessions() as session:
            cohort = await self._review_cohort(session, guild_id, user_id, cohort_name, must_be_member=False)
            repository = ReviewRepository(session)
            week = self._week(cohort, now)
            this_week = await repository.round_for_week(cohort.id, week) if week >= 1 else None
            participant = await repository.participant(cohort.id, user_id)
            current: ReviewRound | None = None
            for review_round in await repository.rounds_of_member(cohort.id, user_id):  # newest first
                if review_round.closed_at is None or review_round.week == week:
                    current = review_round
                    break
            view = await self._view(session, cohort, current) if current is not None else None
        participation = _participation(participant, week, this_week is not None)
        return StatusView(
            user_id=user_id,
            cohort_name=cohort.name,
            week=week,
            participation=participation,
            snoozed_until_week=participant.snoozed_until_week if participant else None,
            languages=_split_languages(participant.languages) if participant else (),
            timezone=participant.timezone if participant else None,
            round=view,
            round_this_week=this_week is not None,
        )

    async def history(
        self, guild_id: int, user_id: int, cohort_name: str | None = None, *, who: str = "You"
    ) -> HistoryView:
        async with self._sessions() as session:
            cohort = await self._review_cohort(
                session, guild_id, user_id, cohort_name, must_be_member=False, who=who
            )
            repository = ReviewRepository(session)
            rounds = await repository.rounds_of_member(cohort.id, user_id)
            groups = await repository.groups_of(review_round.id for review_round in rounds)
            completions = await repository.completions_of(review_round.id for review_round in rounds)
        entries = []
        for review_round in rounds:
            group = next(group for group in groups[review_round.id] if user_id in group.member_ids)
            in_round = [completion for completion in completions if completion.round_id == review_round.id]
            entries.append(
                HistoryEntry(
                    week=review_round.week,
                    partner_ids=tuple(member for member in group.member_ids if member != user_id),
                    gave=tuple(
                        (completion.reviewee_id, completion.link)
                        for completion in in_round
                        if completion.reviewer_id == user_id and completion.reviewee_id is not None
                    ),
                    received=tuple(
                        (completion.reviewer_id, completion.link)
                        for completion in in_round
                        if completion.reviewee_id == user_id and completion.reviewer_id is not None
                    ),
                    closed=review_round.closed_at is not None,
                )
            )
        return HistoryView(cohort.name, user_id, tuple(entries))

    async def counts(self, guild_id: int, user_id: int, cohort_name: str) -> ReviewCounts:
        """Reviews given and received in one cohort, for ``/progress`` and exports."""
        async with self._sessions() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            given, received = await ReviewRepository(session).review_counts(cohort.id, user_id)
        return ReviewCounts(given, received)

    # --- the weekly slot -----------------------------------------------------------------------

    async def review_slots(self) -> list[ScheduleView]:
        """Every cohort's review slot, for registering the weekly jobs at start-up."""
        async with self._sessions() as session:
            cohorts = await CohortRepository(session).all()
        return [self._schedule_view(cohort) for cohort in cohorts]

    async def slot_of(self, cohort_id: int) -> ScheduleView | None:
        async with self._sessions() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
        return self._schedule_view(cohort) if cohort is not None else None

    async def schedule_of(self, guild_id: int, cohort_name: str) -> ScheduleView:
        async with self._sessions() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
        return self._schedule_view(cohort)

    async def set_schedule(
        self,
        guild_id: int,
        cohort_name: str,
        *,
        weekday: str | None = None,
        at: str | None = None,
        enabled: bool | None = None,
    ) -> ScheduleView:
        """Move the weekly round, or turn it off; options left out keep their value."""
        new_weekday = slots.parse_weekday(weekday) if weekday is not None else None
        new_time = slots.parse_time(at) if at is not None else None
        async with self._sessions.begin() as session:
            cohort = await self._cohorts.get(session, guild_id, cohort_name)
            if new_weekday is not None:
                cohort.review_weekday = new_weekday
            if new_time is not None:
                cohort.review_time = new_time
            if enabled is not None:
                cohort.review_enabled = enabled
        log.info("guild=%s cohort=%s review slot changed", guild_id, cohort.id)
        return self._schedule_view(cohort)

    def _schedule_view(self, cohort: Cohort) -> ScheduleView:
        slot = slots.WeeklySlot(
            weekday=cohort.review_weekday if cohort.review_weekday is not None else cohort.weekday,
            at=cohort.review_time if cohort.review_time is not None else cohort.slot_time,
            timezone=cohort.timezone,
        )
        return ScheduleView(
            cohort_id=cohort.id,
            guild_id=cohort.guild_id,
            cohort_name=cohort.name,
            slot=slot,
            enabled=cohort.review_enabled,
            follows_prompt_slot=cohort.review_weekday is None and cohort.review_time is None,
            next_run=slots.next_slot(slot, self._clock()),
        )

    # --- helpers -------------------------------------------------------------------------------

    def _week(self, cohort: Cohort, now: datetime) -> int:
        """The cohort week of ``now`` (0 before the start): a round's number and history index."""
        today: date = slots.local_date(now, cohort.timezone)
        return calendar.position(cohort.start_date, today, self._cohorts.roadmap(cohort.roadmap_key)).week

    async def _review_cohort(
        self,
        session: AsyncSession,
        guild_id: int,
        user_id: int,
        cohort_name: str | None,
        *,
        must_be_member: bool,
        who: str = "You",
    ) -> Cohort:
        """The named cohort, else the only one the member reviews in, else their only cohort."""
        if cohort_name:
            if must_be_member:
                return await member_cohort(session, guild_id, user_id, cohort_name)
            return await self._cohorts.get(session, guild_id, cohort_name)
        participating = await ReviewRepository(session).participating_cohorts(guild_id, user_id)
        if len(participating) == 1:
            return participating[0]
        return await member_cohort(session, guild_id, user_id, None)

    async def _view(
        self, session: AsyncSession, cohort: Cohort | None, review_round: ReviewRound
    ) -> RoundView:
        repository = ReviewRepository(session)
        if cohort is None:
            cohort = await CohortRepository(session).by_id(review_round.cohort_id)
            assert cohort is not None  # rounds are deleted with their cohort
        groups = (await repository.groups_of([review_round.id]))[review_round.id]
        reviews = frozenset(
            (completion.reviewer_id, completion.reviewee_id)
            for completion in await repository.completions_of([review_round.id])
            if completion.reviewer_id is not None and completion.reviewee_id is not None
        )
        return RoundView(
            id=review_round.id,
            guild_id=review_round.guild_id,
            cohort_id=cohort.id,
            cohort_name=cohort.name,
            channel_id=cohort.channel_id,
            week=review_round.week,
            created_at=review_round.created_at,
            due_at=review_round.due_at,
            announcement_message_id=review_round.announcement_message_id,
            reminder_sent_at=review_round.reminder_sent_at,
            closed_at=review_round.closed_at,
            groups=tuple(_group_view(group) for group in groups),
            reviews=reviews,
        )


def _group_view(group: StoredGroup) -> GroupView:
    return GroupView(group.id, group.member_ids, group.thread_id)


def _split_languages(stored: str) -> tuple[str, ...]:
    return tuple(language for language in stored.split(",") if language)


def _participation(participant: ReviewParticipant | None, week: int, round_this_week: bool) -> Participation:
    if participant is None:
        return Participation.NOT_OPTED_IN
    if not participant.active:
        return Participation.LEFT
    if participant.missed_streak >= MISSED_ROUNDS_LIMIT:
        return Participation.AUTO_SNOOZED
    until = participant.snoozed_until_week
    if until is not None and first_skippable_week(week, round_this_week) <= until:
        return Participation.SNOOZED
    return Participation.ACTIVE


def describe_groups(groups: Iterable[GroupView]) -> tuple[int, int]:
    """(pairs, trios) in a round, for one-line summaries."""
    sizes = [len(group.member_ids) for group in groups]
    return sizes.count(2), sizes.count(3)
