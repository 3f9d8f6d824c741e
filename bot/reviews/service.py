"""Peer-review pairing for members: opting in and out, snoozing, recording reviews, reading status.

The round lifecycle (pairing, closing, reminders) lives in ``bot.reviews.rounds`` and the weekly
slot in ``bot.reviews.schedule``; all three keep their state in the database, the source of truth.
Cohorts are resolved with ``bot.cohorts.resolve`` inside this service's own session.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, cohort_week, member_cohort
from bot.db.models import Cohort, ReviewCompletion, ReviewParticipant, ReviewRound
from bot.kernel import slots
from bot.kernel.errors import InvalidInputError, NotFoundError
from bot.momentum import tally
from bot.reviews import queries
from bot.reviews.repository import ReviewRepository, StoredGroup
from bot.reviews.rules import (
    MISSED_ROUNDS_LIMIT,
    first_skippable_week,
    parse_languages,
    snoozed_until,
    split_languages,
    validate_link,
    validate_snooze_weeks,
)
from bot.reviews.views import (
    AutoSnoozed,
    DoneResult,
    HistoryEntry,
    HistoryView,
    OptIn,
    OptOut,
    Participation,
    ReviewCounts,
    RoundView,
    SnoozeResult,
    StatusView,
)

log = logging.getLogger(__name__)


class ReviewService:
    """What a member does with review pairing; each call is one unit of work."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
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
                participant = await _new_participant(repository, guild_id, cohort.id, user_id, now)
            else:
                # Joining again always means "pair me from the next round": it ends any snooze.
                week = cohort_week(cohort, now)
                round_exists = await repository.round_for_week(cohort.id, week) is not None
                came_back = participation_of(participant, week, round_exists) is not Participation.ACTIVE
                _reactivate(participant)
            if parsed_languages is not None:
                participant.languages = ",".join(parsed_languages)
            if zone is not None:
                participant.timezone = zone
            saved_languages = split_languages(participant.languages)
            saved_zone = participant.timezone
        log.info("guild=%s user=%s opted in to reviews in %r", guild_id, user_id, cohort.name)
        return OptIn(cohort.name, first_time, came_back, saved_languages, saved_zone)

    async def leave(self, guild_id: int, user_id: int, cohort_name: str) -> OptOut:
        """Opt out of future rounds; past rounds and reviews stay for fairness and history."""
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
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
            cohort = await cohort_named(session, guild_id, cohort_name)
            repository = ReviewRepository(session)
            participant = await repository.participant(cohort.id, user_id)
            if participant is None or not participant.active:
                raise NotFoundError(
                    f"You aren't opted in to review pairing in **{cohort.name}**: use `/review join` first."
                )
            week = cohort_week(cohort, now)
            round_exists = await repository.round_for_week(cohort.id, week) is not None
            until = snoozed_until(week, round_exists, weeks)
            participant.snoozed_until_week = until
        return SnoozeResult(cohort.name, weeks, until - weeks + 1, until + 1)

    # --- recording reviews ---------------------------------------------------------------------

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
            review_round, group = await self._shared_group(repository, cohort, user_id, partner_id)
            changed = await repository.add_completion_if_new(
                {
                    "guild_id": guild_id,
                    "round_id": review_round.id,
                    "reviewer_id": user_id,
                    "reviewee_id": partner_id,
                    "link": clean_link,
                    "completed_at": now,
                }
            )
            if changed:  # the reviewer's point, in the same transaction
                await tally.refresh(session, cohort, user_id, [now])
            elif clean_link is not None:  # recorded before: take the newly given link
                await repository.set_completion_link(review_round.id, user_id, partner_id, clean_link)
            reviews = await queries.reviews_touching(session, review_round.id, (user_id,))
            reviewed = {reviewee for reviewer, reviewee in reviews if reviewer == user_id}
            still = tuple(
                member for member in group.member_ids if member != user_id and member not in reviewed
            )
        log.info("guild=%s user=%s reviewed %s (week %s)", guild_id, user_id, partner_id, review_round.week)
        return DoneResult(cohort.name, review_round.week, partner_id, changed, clean_link, still)

    async def _shared_group(
        self, repository: ReviewRepository, cohort: Cohort, user_id: int, partner_id: int
    ) -> tuple[ReviewRound, StoredGroup]:
        """The open round and group the member shares with ``partner_id``, or why there is none."""
        session = repository.session
        seats = await queries.open_member_rounds(session, cohort.id, user_id)  # newest first
        groups = await queries.groups_by_id(session, (group_id for _, group_id in seats))
        mine = [(review_round, groups[group_id]) for review_round, group_id in seats]
        if not mine:
            raise await self._no_round_error(repository, cohort)
        found = next(((rnd, group) for rnd, group in mine if partner_id in group.member_ids), None)
        if found is not None:
            return found
        if all(len(group.member_ids) < 2 for _, group in mine):
            raise InvalidInputError(
                "You had no partner this round (you were the only one available), so there's"
                " no review to record."
            )
        raise InvalidInputError(
            "That member isn't in your review group this round: `/review status` shows your partner."
        )

    async def _no_round_error(self, repository: ReviewRepository, cohort: Cohort) -> NotFoundError:
        week = cohort_week(cohort, self._clock())
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

    # --- reading -------------------------------------------------------------------------------

    async def status(self, guild_id: int, user_id: int, cohort_name: str | None = None) -> StatusView:
        now = self._clock()
        async with self._sessions() as session:
            cohort = await self._review_cohort(session, guild_id, user_id, cohort_name, must_be_member=False)
            repository = ReviewRepository(session)
            week = cohort_week(cohort, now)
            this_week = await repository.round_for_week(cohort.id, week) if week >= 1 else None
            participant = await repository.participant(cohort.id, user_id)
            seats = await queries.member_rounds(session, cohort.id, user_id, current_week=week)
            view: RoundView | None = None
            if seats:  # newest first: the open round, or this week's closed one
                current, group_id = seats[0]
                group, reviews = await queries.group_contents(session, group_id)
                view = RoundView.of(current, cohort, [group], reviews)
        return StatusView(
            user_id=user_id,
            cohort_name=cohort.name,
            week=week,
            participation=participation_of(participant, week, this_week is not None),
            snoozed_until_week=participant.snoozed_until_week if participant else None,
            languages=split_languages(participant.languages) if participant else (),
            timezone=participant.timezone if participant else None,
            round=view,
            round_this_week=this_week is not None,
        )

    async def history(self, guild_id: int, user_id: int, cohort_name: str | None = None) -> HistoryView:
        async with self._sessions() as session:
            cohort = await self._review_cohort(session, guild_id, user_id, cohort_name, must_be_member=False)
            seats = await queries.member_rounds(session, cohort.id, user_id)
            groups = await queries.groups_by_id(session, (group_id for _, group_id in seats))
            completions = await queries.member_completions(
                session, user_id, [review_round.id for review_round, _ in seats]
            )
        entries = [
            _history_entry(
                review_round,
                groups[group_id],
                [completion for completion in completions if completion.round_id == review_round.id],
                user_id,
            )
            for review_round, group_id in seats
        ]
        return HistoryView(cohort.name, user_id, tuple(entries))

    async def counts(self, guild_id: int, user_id: int, cohort_name: str) -> ReviewCounts:
        """Reviews given and received in one cohort, for ``/progress`` and exports."""
        async with self._sessions() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
            given, received = await queries.review_counts(session, cohort.id, user_id)
        return ReviewCounts(given, received)

    # --- auto-snooze notices -------------------------------------------------------------------

    async def take_notices(self, guild_id: int, user_id: int) -> list[AutoSnoozed]:
        """Auto-snoozes the member was not told about yet; taking them marks them told."""
        notices: list[AutoSnoozed] = []
        async with self._sessions.begin() as session:
            for participant in await ReviewRepository(session).pending_notices(guild_id, user_id):
                participant.auto_snooze_notice = False
                cohort = await CohortRepository(session).by_id(participant.cohort_id)
                if cohort is not None:
                    notices.append(AutoSnoozed(guild_id, cohort.id, cohort.name, user_id))
        return notices

    async def mark_notice_told(self, cohort_id: int, user_id: int) -> None:
        async with self._sessions.begin() as session:
            participant = await ReviewRepository(session).participant(cohort_id, user_id)
            if participant is not None:
                participant.auto_snooze_notice = False

    # --- helpers -------------------------------------------------------------------------------

    async def _review_cohort(
        self,
        session: AsyncSession,
        guild_id: int,
        user_id: int,
        cohort_name: str | None,
        *,
        must_be_member: bool,
    ) -> Cohort:
        """The named cohort, else the only one the member reviews in, else their only cohort."""
        if cohort_name:
            if must_be_member:
                return await member_cohort(session, guild_id, user_id, cohort_name)
            return await cohort_named(session, guild_id, cohort_name)
        participating = await ReviewRepository(session).participating_cohorts(guild_id, user_id)
        if len(participating) == 1:
            return participating[0]
        return await member_cohort(session, guild_id, user_id, None)


def _history_entry(
    review_round: ReviewRound, group: StoredGroup, in_round: list[ReviewCompletion], user_id: int
) -> HistoryEntry:
    """One round of a member's history; a partner who erased their data stays as None.

    Every review the member gave or received counts, whoever is left on the other side, so the
    totals agree with ``ReviewRepository.review_counts`` (``/progress``).
    """
    return HistoryEntry(
        week=review_round.week,
        partner_ids=tuple(member for member in group.member_ids if member != user_id),
        gave=tuple(
            (completion.reviewee_id, completion.link)
            for completion in in_round
            if completion.reviewer_id == user_id
        ),
        received=tuple(
            (completion.reviewer_id, completion.link)
            for completion in in_round
            if completion.reviewee_id == user_id
        ),
        closed=review_round.closed_at is not None,
        former_partners=group.former,
    )


async def _new_participant(
    repository: ReviewRepository, guild_id: int, cohort_id: int, user_id: int, now: datetime
) -> ReviewParticipant:
    """Opt a member in; a double click that raced us to it leaves its row, which we update."""
    participant = ReviewParticipant(
        guild_id=guild_id,
        cohort_id=cohort_id,
        user_id=user_id,
        active=True,
        languages="",
        missed_streak=0,
        auto_snooze_notice=False,
        joined_at=now,
    )
    try:
        async with repository.savepoint():
            repository.add_participant(participant)
    except IntegrityError:
        existing = await repository.participant(cohort_id, user_id)
        if existing is None:
            raise
        _reactivate(existing)
        return existing
    return participant


def _reactivate(participant: ReviewParticipant) -> None:
    participant.active = True
    participant.snoozed_until_week = None
    participant.missed_streak = 0
    participant.auto_snooze_notice = False


def participation_of(
    participant: ReviewParticipant | None, week: int, round_this_week: bool
) -> Participation:
    """Where a member stands in ``week``: opted in, snoozed (by hand or for misses), or out."""
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
