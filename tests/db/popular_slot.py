"""A popular slot on a real database: many cohorts whose prompt and review round fire together.

Shared by ``tests/db/test_popular_slot.py`` and ``bench/bench_popular_slot.py``. Each simulated
process is what a bot's ``setup_hook`` builds for its jobs: its own engine and services over the
same database, its own ``Scheduling`` (ownership, gate, retry hook). The weekly prompt job body is
the real one minus Discord: ``claim_scheduled`` then, for a claim, one "send" and ``mark_sent``.
The review job body is ``run_scheduled_round``. Every job fires at once, as at the slot.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.container import Services, build_services
from bot.content import RoadmapCatalog
from bot.db.engine import create_engine
from bot.db.models import Cohort, CohortMember, PromptPost, ReviewParticipant, ReviewRound
from bot.scheduling import Ownership, Scheduling, retry_transient

# Monday 5 January 2026, 18:00 in Berlin: week 1's prompt slot, and the review slot that follows it.
SLOT_INSTANT = datetime(2026, 1, 5, 17, 0, 1, tzinfo=UTC)
MEMBERS_PER_COHORT = 2


def guild_id_of(number: int) -> int:
    """Snowflake-shaped guild ids spread over every shard."""
    return ((10**6 + number) << 22) | number


async def seed(settings: Settings, cohorts: int) -> None:
    """``cohorts`` cohorts in as many guilds, one slot for all, two members opted in to review each."""
    engine = create_engine(settings.database_url)
    created = datetime(2025, 12, 1, tzinfo=UTC)
    cohort_rows, member_rows, participant_rows = [], [], []
    for number in range(1, cohorts + 1):
        guild = guild_id_of(number)
        cohort_rows.append(
            {
                "id": number,
                "guild_id": guild,
                "name": "Spring",
                "name_key": "spring",
                "roadmap_key": "python-europe",
                "channel_id": 10**18 + number,
                "start_date": date(2026, 1, 1),
                "timezone": "Europe/Berlin",
                "weekday": 0,
                "slot_time": time(18, 0),
                "created_by": 1,
                "created_at": created,
            }
        )
        for seat in range(MEMBERS_PER_COHORT):
            user = 10**17 + number * 10 + seat
            common = {"guild_id": guild, "cohort_id": number, "user_id": user, "joined_at": created}
            member_rows.append(common | {"display_name": f"member {seat}"})
            participant_rows.append(common)
    async with engine.begin() as connection:
        await connection.execute(insert(Cohort), cohort_rows)
        await connection.execute(insert(CohortMember), member_rows)
        await connection.execute(insert(ReviewParticipant), participant_rows)
    await engine.dispose()


async def seed_members(settings: Settings, cohort_id: int, users: range) -> None:
    """Members with data in the cohort's guild, so their departures are recorded."""
    engine = create_engine(settings.database_url)
    joined = datetime(2025, 12, 1, tzinfo=UTC)
    rows = [
        {
            "guild_id": guild_id_of(cohort_id),
            "cohort_id": cohort_id,
            "user_id": user,
            "display_name": f"user {user}",
            "joined_at": joined,
        }
        for user in users
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(CohortMember), rows)
    await engine.dispose()


@dataclass
class Process:
    """One bot process's job side over the shared database."""

    engine: AsyncEngine
    services: Services
    scheduling: Scheduling
    sends: collections.Counter[int] = field(default_factory=collections.Counter)

    async def fire_prompt(self, cohort_id: int) -> None:
        post = await self.services.prompts.claim_scheduled(cohort_id)
        if post is not None:
            self.sends[cohort_id] += 1  # the Discord call
            await retry_transient(lambda: self.services.prompts.mark_sent(post, message_id=cohort_id))

    async def fire_review(self, cohort_id: int) -> None:
        await self.services.review_rounds.run_scheduled_round(cohort_id, lambda _user: True)


@dataclass(frozen=True)
class SlotResult:
    """Per cohort: how many messages went out (``sends``) and whether the week is recorded 'sent'."""

    cohorts: int
    sent_rows: int
    sends: collections.Counter[int]
    rounds: int
    retries: int

    @property
    def posted(self) -> int:
        return sum(1 for count in self.sends.values() if count > 0)

    @property
    def missed(self) -> int:
        return self.cohorts - self.posted

    @property
    def duplicated(self) -> int:
        return sum(count - 1 for count in self.sends.values() if count > 1)

    @property
    def unrecorded(self) -> int:
        """Sent but not recorded as 'sent' (the row would stay 'claimed')."""
        return self.posted - self.sent_rows


async def start_process(
    settings: Settings, catalog: RoadmapCatalog, ownership: Ownership, now: datetime = SLOT_INSTANT
) -> Process:
    engine = create_engine(settings.database_url)
    services = build_services(settings, engine, catalog, lambda: now)
    scheduling = Scheduling(ownership=ownership, concurrency=settings.job_concurrency, clock=lambda: now)
    scheduling.scheduler.start(paused=True)  # jobs are fired by hand, all at once, as at the slot
    process = Process(engine, services, scheduling)
    owned = await services.prompts.job_slots(owns=scheduling.owns)
    for cohort_id, slot in owned:
        scheduling.weekly("prompt", cohort_id, slot, process.fire_prompt)
        scheduling.weekly("review", cohort_id, slot, process.fire_review)
    return process


async def fire_slot(processes: list[Process], cohorts: int) -> SlotResult:
    """Fire every job of every process at once, then any retries the running processes scheduled."""
    calls = []
    for process in processes:
        for job in process.scheduling.scheduler.get_jobs():
            calls.append(job.func(*job.args))
    await asyncio.gather(*calls)
    retries = 0
    while pending := [
        job
        for process in processes
        for job in process.scheduling.scheduler.get_jobs()
        if job.id.endswith(":retry")
    ]:
        retries += len(pending)
        for job in pending:
            job.remove()
        await asyncio.gather(*(job.func(*job.args) for job in pending))
    sessions = processes[0].services.sessions
    async with sessions() as session:
        sent_rows = await session.scalar(select(func.count()).where(PromptPost.status == "sent"))
        rounds = await session.scalar(select(func.count()).select_from(ReviewRound))
    return SlotResult(
        cohorts=cohorts,
        sent_rows=int(sent_rows or 0),
        sends=sum((process.sends for process in processes), collections.Counter()),
        rounds=int(rounds or 0),
        retries=retries,
    )


async def stop(processes: list[Process]) -> None:
    for process in processes:
        process.scheduling.shutdown()
        await process.engine.dispose()
