"""A review round's life: paired once a week, published, reminded, closed.

``bot.reviews.pairing`` decides the groups; this service decides who can be paired (opted in,
still in the cohort and the server, not snoozed) and keeps everything else in the database, which
is the source of truth: the unique (cohort, week) key on ``review_rounds`` makes a round happen
once a week however often the scheduler, a moderator or a restarted process asks for it.

A round is created with its groups (a lone participant is stored as a group of one, so a re-run
shows the same week) -> published by the cog (announcement, one thread per group, both recorded
here so a restart finishes what is missing) -> a reminder two days before it is due -> closed once
due, when each member's missed-round streak is updated and a third miss in a row snoozes them
until they opt in again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
from array import array
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository
from bot.cohorts.resolve import cohort_named, cohort_week, review_slot, roadmap_of
from bot.content import RoadmapCatalog
from bot.db.engine import opens_elsewhere
from bot.db.models import Cohort, ReviewRound
from bot.kernel import calendar, slots
from bot.kernel.errors import ConflictError
from bot.kernel.slices import in_slices
from bot.reviews.claims import RoundClaims, is_filling
from bot.reviews.pairing import (
    Candidate,
    PackedWeek,
    PairingResult,
    meeting_triples,
    pair_week,
)
from bot.reviews.repository import ReviewRepository
from bot.reviews.round_writes import close_round, store_round
from bot.reviews.rules import (
    REMINDER_LEAD,
    is_available,
    phase_index_from_counts,
    reminder_is_due,
    round_seed,
    split_languages,
    utc_offset_minutes,
    without_review_by_group,
)
from bot.reviews.views import AutoSnoozed, ReminderBatch, RoundOutcome, RoundView
from bot.reviews.worker import LargeWeek, read_and_pair, warm_up

log = logging.getLogger(__name__)

# Above this many candidates the pairing search runs in a worker thread, and above the second
# number in a worker process (the history is built there too: a second or more at 10,000 members),
# so the event loop keeps answering commands and heartbeats meanwhile.
PAIRING_IN_THREAD_ABOVE = 100
PAIRING_IN_PROCESS_ABOVE = 1_000
# A claim to post an announcement or open a thread that was never confirmed this long after it
# was made belongs to a process that stopped mid-post: another may take it over.
STALE_PUBLISH_CLAIM = timedelta(minutes=10)

# How long a run that finds this week's round still being filled by another waits for it.
FILL_WAIT_POLL = timedelta(milliseconds=50)
FILL_WAIT_POLLS = 600

InGuild = Callable[[int], bool]
Owns = Callable[[int], bool]  # guild id -> this process's shards hold it (``Scheduling.owns``)


class ReviewRounds:
    """Runs, publishes (bookkeeping only), reminds and closes review rounds."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: RoadmapCatalog,
        clock: Clock,
        database_url: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock
        # Where the pairing process reads a large round's history (None: it cannot, read here).
        self._shared_url = database_url if database_url and opens_elsewhere(database_url) else None
        self._pairing_process: ProcessPoolExecutor | None = None

    # --- running a round -----------------------------------------------------------------------

    async def run_round(self, guild_id: int, cohort_name: str, in_guild: InGuild) -> RoundOutcome:
        """This week's round for a moderator: created now, or the existing one if it already ran."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await cohort_named(session, guild_id, cohort_name)
        week = cohort_week(cohort, now)
        if week < 1:
            raise ConflictError(
                f"**{cohort.name}** starts on {cohort.start_date.isoformat()}, so its first review"
                " round can run from that day."
            )
        return await self._round(cohort, week, now, in_guild)

    async def run_scheduled_round(self, cohort_id: int, in_guild: InGuild) -> RoundOutcome | None:
        """What the weekly job does; None when there is nothing to do this week, with the reason logged."""
        now = self._clock()
        async with self._sessions() as session:
            cohort = await CohortRepository(session).by_id(cohort_id)
        if cohort is None or not cohort.review_enabled:
            return None
        roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
        where = calendar.position(cohort.start_date, slots.local_date(now, cohort.timezone), roadmap)
        if not where.started or where.finished:
            log.info("cohort=%s no review round: the cohort is not running", cohort_id)
            return None
        try:
            return await self._round(cohort, cohort_week(cohort, now), now, in_guild)
        except ConflictError as error:
            log.info("cohort=%s no review round: %s", cohort_id, error.message)
            return None

    async def _round(self, cohort: Cohort, week: int, now: datetime, in_guild: InGuild) -> RoundOutcome:
        """Read, pair outside any transaction, then write in short batches (``round_writes``)."""
        existing = await self._view_of_week(cohort, week)
        if existing is not None:
            return RoundOutcome(existing, created=False)
        async with self._sessions() as session:
            large = await ReviewRepository(session).participant_count(cohort.id) > PAIRING_IN_PROCESS_ABOVE
        if large:
            self._start_worker()
        # Close what is due first, so members who just missed a third round are not paired.
        auto_snoozed = tuple(await self._close_due(now, cohort.id))
        async with self._sessions() as session:
            candidates = await self._candidates(session, cohort, week, now, in_guild)
        seed = round_seed(cohort.id, week)
        result = await self._pair(cohort, week, seed, candidates)
        round_id = await store_round(self._sessions, cohort, week, seed, now, result)
        if round_id is None:  # another process paired this week first: show its round
            existing = await self._view_of_week(cohort, week)
            if existing is None:
                raise ConflictError("Another run was pairing this week and stopped: try again.")
            return RoundOutcome(existing, False, auto_snoozed)
        log.info(
            "guild=%s cohort=%s week=%s paired %d groups (%d repeat pairs, %d alone)",
            cohort.guild_id,
            cohort.id,
            week,
            len(result.groups),
            result.repeat_pairs,
            len(result.unpaired),
        )
        return RoundOutcome(await self._view_of_week(cohort, week) or _gone(), True, auto_snoozed)

    async def _pair(self, cohort: Cohort, week: int, seed: int, candidates: list[Candidate]) -> PairingResult:
        """Pair the week. A large one is read and paired in the worker process, so the event
        loop and the GIL stay with members' commands while it runs (seconds at 10,000 members);
        a smaller one reads its history here and pairs in a thread."""
        roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
        phase_of_key = roadmap.phase_of_key()
        if len(candidates) > PAIRING_IN_PROCESS_ABOVE and self._shared_url is not None:
            job = LargeWeek(
                self._shared_url,
                cohort.id,
                week,
                seed,
                phase_of_key,
                roadmap.phase_sizes,
                PackedWeek.of(candidates, array("q")),
            )
            try:
                return await asyncio.get_running_loop().run_in_executor(self._worker(), read_and_pair, job)
            except BrokenProcessPool:  # the process could not start or was killed: pair here
                log.warning("the pairing process stopped; pairing this round in a thread")
                self.shutdown()
        async with self._sessions() as session:
            repository = ReviewRepository(session)
            done = await repository.phase_counts(cohort.id, phase_of_key)
            meetings = meeting_triples(await repository.past_meetings(cohort.id, week))
        phased = [
            dataclasses.replace(
                candidate, phase_index=phase_index_from_counts(roadmap, done.get(candidate.user_id, {}))
            )
            for candidate in candidates
        ]
        if len(candidates) > PAIRING_IN_THREAD_ABOVE:
            return await asyncio.to_thread(pair_week, phased, meetings, week, seed)
        return pair_week(phased, meetings, week, seed)

    def _worker(self) -> ProcessPoolExecutor:
        """One pairing process, started on the first large round and kept for the next ones."""
        if self._pairing_process is None:
            self._pairing_process = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pairing_process

    def _start_worker(self) -> None:
        """Start the pairing process now, so it is ready when the round has read its rows."""
        try:
            self._worker().submit(warm_up)
        except BrokenProcessPool:  # ``_pair`` falls back to a thread
            self.shutdown()

    def shutdown(self) -> None:
        """Stop the pairing process, if one was started (the bot's ``close``)."""
        if self._pairing_process is not None:
            self._pairing_process.shutdown(wait=False, cancel_futures=True)
            self._pairing_process = None

    async def _view_of_week(self, cohort: Cohort, week: int) -> RoundView | None:
        """The week's round as stored; one that another run is still filling is waited for
        (briefly), so nobody publishes a round without all its groups."""
        for _ in range(FILL_WAIT_POLLS):
            async with self._sessions() as session:
                review_round = await ReviewRepository(session).round_for_week(cohort.id, week)
                if review_round is None:
                    return None
                if not is_filling(review_round.announcement_message_id):
                    return await _round_view(session, review_round, cohort)
            await asyncio.sleep(FILL_WAIT_POLL.total_seconds())
        raise ConflictError("This week's round is still being paired: try again in a minute.")

    async def _close_due(
        self, now: datetime, cohort_id: int | None = None, owns: Owns | None = None
    ) -> list[AutoSnoozed]:
        """Close the rounds due by ``now``, each in its own short transaction."""
        async with self._sessions() as session:
            due = [
                review_round.id
                for review_round in await ReviewRepository(session).open_rounds_due_by(now, cohort_id)
                if owns is None or owns(review_round.guild_id)
            ]
        snoozed: list[AutoSnoozed] = []
        for round_id in due:
            snoozed.extend(await close_round(self._sessions, round_id, now))
        return snoozed

    async def _candidates(
        self, session: AsyncSession, cohort: Cohort, week: int, now: datetime, in_guild: InGuild
    ) -> list[Candidate]:
        """Who can be paired this week: opted in, not snoozed, in the cohort and the server
        (where they are on the roadmap is read with the history, in ``_pair``)."""
        repository = ReviewRepository(session)
        eligible = [
            row
            async for rows in in_slices(await repository.pairing_rows(cohort.id))
            for row in rows
            if is_available(row.active, row.snoozed_until_week, row.missed_streak, week)
            and in_guild(row.user_id)
        ]
        if not eligible:
            raise ConflictError(
                f"Nobody in **{cohort.name}** is available for review pairing this week:"
                " members opt in with `/review join`."
            )
        offsets = {zone: utc_offset_minutes(zone, now) for zone in {row.timezone for row in eligible}}
        languages = {text: frozenset(split_languages(text)) for text in {row.languages for row in eligible}}
        return [
            Candidate(
                user_id=row.user_id,
                utc_offset_minutes=offsets[row.timezone],
                languages=languages[row.languages],
                phase_index=None,  # filled in by ``_pair`` from the member's checkpoints
            )
            async for rows in in_slices(eligible)
            for row in rows
        ]

    async def cohorts_missing_their_round(self, grace: timedelta) -> list[int]:
        """Cohorts whose review slot passed less than ``grace`` ago without a round this week.

        The scheduler only fires while the bot runs; after downtime across a slot, the start-up
        catch-up and the hourly upkeep ask this and run the round late rather than skip the week.
        """
        now = self._clock()
        missing: list[int] = []
        async with self._sessions() as session:
            repository = ReviewRepository(session)
            for cohort in await CohortRepository(session).all():
                if not cohort.review_enabled:
                    continue
                week = cohort_week(cohort, now)
                if week < 1:
                    continue
                decision = slots.catch_up_decision(
                    review_slot(cohort),
                    cohort.start_date,
                    await repository.latest_round_week(cohort.id),
                    now,
                    grace,
                )
                # Only this week's slot: a slot from the previous cohort week is not caught up.
                if decision.post_week == week:
                    missing.append(cohort.id)
        return missing

    # --- publishing bookkeeping ----------------------------------------------------------------

    async def claim_announcement(self, round_id: int) -> bool:
        """True for the one caller that is to post the round's announcement now.

        Two ``/review pair`` at the same moment, or one beside the weekly job, both find the
        round unannounced; the claim is committed before anything is posted, so only one posts.
        """
        claim, stale_before = self._claim_times()
        async with self._sessions.begin() as session:
            return await RoundClaims(session).claim_announcement(round_id, claim, stale_before)

    async def claim_thread(self, group_id: int) -> bool:
        """True for the one caller that is to open the group's thread now."""
        claim, stale_before = self._claim_times()
        async with self._sessions.begin() as session:
            return await RoundClaims(session).claim_thread(group_id, claim, stale_before)

    async def release_announcement(self, round_id: int) -> None:
        """Give back a claim whose post failed, so the hourly upkeep retries it."""
        async with self._sessions.begin() as session:
            await RoundClaims(session).release_announcement(round_id)

    async def release_thread(self, group_id: int) -> None:
        async with self._sessions.begin() as session:
            await RoundClaims(session).release_thread(group_id)

    def _claim_times(self) -> tuple[int, int]:
        now = self._clock()
        return int(now.timestamp()), int((now - STALE_PUBLISH_CLAIM).timestamp())

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
                await _round_view(session, review_round)
                for review_round in await ReviewRepository(session).open_rounds()
            ]
        return [view for view in views if not view.is_published]

    # --- closing and reminders -----------------------------------------------------------------

    async def close_due_rounds(self, owns: Owns | None = None) -> list[AutoSnoozed]:
        """Close every round past its due date and update missed-round streaks (idempotent).

        ``owns(guild_id)`` keeps a sharded process to its own guilds: the process that closes a
        round is the one whose member cache can tell the auto-snoozed members.
        """
        return await self._close_due(self._clock(), owns=owns)

    async def claim_due_reminders(self, owns: Owns | None = None) -> list[ReminderBatch]:
        """Rounds due within two days whose reminder has not gone out; each is claimed once.

        ``owns(guild_id)`` (a sharded process) leaves the other processes' rounds unclaimed, so
        each reminder is claimed and posted by the process whose shard holds its guild.
        """
        now = self._clock()
        batches: list[ReminderBatch] = []
        async with self._sessions.begin() as session:
            repository = ReviewRepository(session)
            for review_round in await repository.rounds_needing_reminder(now + REMINDER_LEAD, now):
                if owns is not None and not owns(review_round.guild_id):
                    continue
                if not reminder_is_due(review_round.due_at, now):
                    continue
                if not await RoundClaims(repository.session).claim_reminder(review_round.id, now):
                    continue
                review_round.reminder_sent_at = now
                view = await _round_view(session, review_round)
                groups = view.paired_groups
                missing = without_review_by_group(
                    [(group.member_ids, group.former) for group in groups], view.reviews
                )
                pending = tuple(
                    (group, members) for group, members in zip(groups, missing, strict=True) if members
                )
                batches.append(ReminderBatch(view, pending))
        return batches


def _gone() -> RoundView:
    raise ConflictError("This week's round was removed while it was being shown: try again.")


async def _round_view(
    session: AsyncSession, review_round: ReviewRound, cohort: Cohort | None = None
) -> RoundView:
    """A stored round as a view; its cohort is loaded when the caller does not have it."""
    if cohort is None:
        cohort = await CohortRepository(session).by_id(review_round.cohort_id)
        assert cohort is not None  # rounds are deleted with their cohort
    return RoundView.of(
        review_round, cohort, *await ReviewRepository(session).round_contents(review_round.id)
    )
