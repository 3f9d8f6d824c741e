"""Cohorts: open one, join and leave it, and find where it stands on its roadmap."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.repository import CohortRepository, MemberRepository
from bot.cohorts.resolve import cohort_named, prompt_slot, roadmap_of
from bot.content import RoadmapCatalog
from bot.db.models import Cohort, CohortMember
from bot.kernel import calendar, slots
from bot.kernel.errors import ConflictError, InvalidInputError
from bot.kernel.roadmap import Phase, Roadmap
from bot.kernel.text import clean_name, echo, lookalike_key

log = logging.getLogger(__name__)

MAX_COHORT_NAME = 50
START_YEARS_BACK = 3
START_YEARS_AHEAD = 2


@dataclass(frozen=True, slots=True)
class CohortSummary:
    id: int
    guild_id: int
    name: str
    roadmap: Roadmap
    channel_id: int
    start_date: date
    slot: slots.WeeklySlot
    member_count: int
    position: calendar.CalendarPosition
    phase: Phase | None
    next_slot: datetime
    prompts_paused: bool
    mention_role_id: int | None
    attention_reason: str | None


@dataclass(frozen=True, slots=True)
class MembershipChange:
    cohort_name: str
    changed: bool


def normalise_cohort_name(raw: str) -> str:
    """A name shown in replies and public posts: visible characters, no markup, no links."""
    if not raw.strip():
        raise InvalidInputError("A cohort needs a name.")
    name = clean_name(raw, field="A cohort name", max_length=MAX_COHORT_NAME)
    if any(ch in name for ch in "@#`*_~|<>[]\\") or "://" in name:
        raise InvalidInputError("Cohort names can't contain links or any of @ # ` * _ ~ | < > [ ] \\.")
    return name


def check_start_window(start: date, today: date) -> date:
    """Refuse start dates no real cohort has, before they break calendar maths much later."""
    earliest = today - timedelta(days=START_YEARS_BACK * 365)
    latest = today + timedelta(days=START_YEARS_AHEAD * 365)
    if not earliest <= start <= latest:
        raise InvalidInputError(
            f"A cohort's start date must be between {earliest.isoformat()} and {latest.isoformat()}."
        )
    return start


class CohortService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        catalog: RoadmapCatalog,
        clock: Clock,
        default_timezone: str,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock
        self._default_timezone = default_timezone

    async def create(
        self,
        *,
        guild_id: int,
        actor_id: int,
        name: str,
        roadmap_key: str,
        channel_id: int,
        start: str | None = None,
        timezone: str | None = None,
        weekday: str | None = None,
        at: str | None = None,
    ) -> CohortSummary:
        clean_name = normalise_cohort_name(name)
        roadmap = roadmap_of(self._catalog, roadmap_key, guild_id)
        zone = slots.parse_timezone(timezone) if timezone else self._default_timezone
        now = self._clock()
        today = slots.local_date(now, zone)
        start_date = check_start_window(slots.parse_date(start), today) if start else today
        slot = slots.WeeklySlot(
            weekday=slots.parse_weekday(weekday) if weekday else 0,
            at=slots.parse_time(at) if at else time(18, 0),
            timezone=zone,
        )
        taken = ConflictError(f"This server already has a cohort called **{echo(clean_name)}**.")
        async with self._sessions.begin() as session:
            cohorts = CohortRepository(session)
            if await cohorts.by_name(guild_id, clean_name) is not None:
                raise taken
            cohort = Cohort(
                guild_id=guild_id,
                name=clean_name,
                name_key=lookalike_key(clean_name),
                roadmap_key=roadmap.key,
                channel_id=channel_id,
                start_date=start_date,
                timezone=slot.timezone,
                weekday=slot.weekday,
                slot_time=slot.at,
                created_by=actor_id,
                created_at=now,
            )
            cohorts.add(cohort)
            try:
                await session.flush()
            except IntegrityError as error:  # a concurrent create won the race
                raise taken from error
        log.info("guild=%s user=%s created cohort %r on %s", guild_id, actor_id, clean_name, roadmap.key)
        return self._summarise(cohort, member_count=0)

    async def join(self, guild_id: int, name: str, user_id: int, display_name: str) -> MembershipChange:
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, name)
            members = MemberRepository(session)
            member = await members.get(cohort.id, user_id)
            if member is not None and member.left_at is None:
                member.display_name = display_name[:100]
                return MembershipChange(cohort.name, changed=False)
            if member is None:
                joined = CohortMember(
                    guild_id=guild_id,
                    cohort_id=cohort.id,
                    user_id=user_id,
                    display_name=display_name[:100],
                    joined_at=self._clock(),
                )
                try:
                    async with session.begin_nested():  # a double click races us: the other one joined
                        members.add(joined)
                except IntegrityError:
                    return MembershipChange(cohort.name, changed=False)
            else:  # coming back: progress was kept
                member.left_at = None
                member.display_name = display_name[:100]
            return MembershipChange(cohort.name, changed=True)

    async def leave(self, guild_id: int, name: str, user_id: int) -> MembershipChange:
        async with self._sessions.begin() as session:
            cohort = await cohort_named(session, guild_id, name)
            member = await MemberRepository(session).get(cohort.id, user_id)
            if member is None or member.left_at is not None:
                return MembershipChange(cohort.name, changed=False)
            member.left_at = self._clock()
            return MembershipChange(cohort.name, changed=True)

    async def all_in_guild(self, guild_id: int) -> list[CohortSummary]:
        async with self._sessions() as session:
            repository = CohortRepository(session)
            cohorts = await repository.in_guild(guild_id)
            counts = await repository.member_counts(guild_id)
        return [self._summarise(cohort, counts.get(cohort.id, 0)) for cohort in cohorts]

    async def info(self, guild_id: int, name: str) -> CohortSummary:
        async with self._sessions() as session:
            cohort = await cohort_named(session, guild_id, name)
            count = (await CohortRepository(session).member_counts(guild_id)).get(cohort.id, 0)
        return self._summarise(cohort, count)

    async def search(self, guild_id: int, text: str, limit: int = 25) -> list[str]:
        """Cohort names for autocomplete: prefix matches first, then substring matches."""
        needle = text.casefold().strip()
        async with self._sessions() as session:
            names = [cohort.name for cohort in await CohortRepository(session).in_guild(guild_id)]
        prefix = [name for name in names if name.casefold().startswith(needle)]
        inner = [name for name in names if needle in name.casefold() and name not in prefix]
        return (prefix + inner)[:limit]

    def _summarise(self, cohort: Cohort, member_count: int) -> CohortSummary:
        roadmap = roadmap_of(self._catalog, cohort.roadmap_key, cohort.guild_id)
        now = self._clock()
        slot = prompt_slot(cohort)
        where = calendar.position(cohort.start_date, slots.local_date(now, cohort.timezone), roadmap)
        return CohortSummary(
            id=cohort.id,
            guild_id=cohort.guild_id,
            name=cohort.name,
            roadmap=roadmap,
            channel_id=cohort.channel_id,
            start_date=cohort.start_date,
            slot=slot,
            member_count=member_count,
            position=where,
            phase=calendar.phase_for_day(roadmap, where.day) if where.started else None,
            next_slot=slots.next_slot(slot, now),
            prompts_paused=cohort.prompts_paused,
            mention_role_id=cohort.mention_role_id,
            attention_reason=cohort.attention_reason,
        )
