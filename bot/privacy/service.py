"""Members' rights over their data in one server: see all of it, have it erased, and the
``/config on-leave`` policy for members who leave the server.

- ``my_data``: every row about the caller in this server, as one JSON document (GDPR access).
- ``forget_me``: deletes the caller's own rows and anonymises their place in shared history
  (GDPR erasure); the ``member_id`` declarations in
  ``bot.db.models`` say which (``bot.privacy.queries.erase_member``). The audit log
  records that an erasure happened and how many rows it touched, never who asked.
- Leaving the server: a departure is recorded for members who have data here, and dropped if
  they come back. In servers whose policy is ``purge``, the hourly job erases members who left
  more than ``PURGE_GRACE`` ago. Seven days is long enough to survive an accidental leave or a
  kick-and-reinvite, and short enough that a member who left for good is forgotten within a
  week. A server that switches from ``keep`` to ``purge`` also purges members who left earlier
  (their departures were recorded) once their grace period is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content import RoadmapCatalog
from bot.db.audit import add_audit_entry
from bot.db.models import MemberDeparture
from bot.kernel.roadmap import Roadmap
from bot.privacy import queries
from bot.privacy.document import personal_data_document
from bot.privacy.rules import data_request_detail, erasure_detail, mark_retired, purge_detail

log = logging.getLogger(__name__)

PURGE_GRACE: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PersonalData:
    """The caller's data as a JSON document, and how many records each section holds."""

    payload: bytes
    section_sizes: dict[str, int]

    @property
    def records(self) -> int:
        return sum(self.section_sizes.values())


@dataclass(frozen=True, slots=True)
class ErasureReport:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class PurgeReport:
    members_purged: int
    rows: int
    departures_cancelled: int


MemberCheck = Callable[[int, int], bool]


class PrivacyService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, catalog: RoadmapCatalog | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._catalog = catalog

    async def my_data(self, guild_id: int, user_id: int) -> PersonalData:
        """Everything stored about the member in this server; the request itself is audited."""
        now = self._clock()
        async with self._sessions.begin() as session:
            sections = await queries.personal_records(session, guild_id, user_id)
            if self._catalog is not None:
                roadmaps = await queries.cohort_roadmaps(session, guild_id)
                mark_retired(sections, roadmaps, lambda key: self._catalog_get(key, guild_id))
            sizes = {name: len(records) for name, records in sections.items()}
            detail = data_request_detail(sum(sizes.values()))
            add_audit_entry(session, guild_id, user_id, "privacy.my_data", detail, now)
        log.info("guild=%s user=%s downloaded their data", guild_id, user_id)
        return PersonalData(personal_data_document(guild_id, user_id, now, sections), sizes)

    def _catalog_get(self, key: str, guild_id: int) -> Roadmap | None:
        return self._catalog.get(key, guild_id) if self._catalog is not None else None

    async def forget_me(self, guild_id: int, user_id: int) -> ErasureReport:
        """Erase the member's data in this server at their request; returns counts per kind."""
        async with self._sessions.begin() as session:
            counts = await queries.erase_member(session, guild_id, user_id)
            add_audit_entry(
                session, guild_id, None, "privacy.forget_me", erasure_detail(counts), self._clock()
            )
        log.info("guild=%s a member erased their data (%d rows)", guild_id, sum(counts.values()))
        return ErasureReport(counts)

    async def record_departure(self, guild_id: int, user_id: int, now: datetime) -> bool:
        """Note that a member left the server; only members with data here are recorded."""
        async with self._sessions.begin() as session:
            if not await queries.has_member_data(session, guild_id, user_id):
                return False
            departure = await _departure(session, guild_id, user_id)
            if departure is not None:
                departure.left_at = now
                return True
            try:
                async with session.begin_nested():  # a second process recorded it first
                    session.add(MemberDeparture(guild_id=guild_id, user_id=user_id, left_at=now))
            except IntegrityError:
                log.info("guild=%s departure already recorded by another process", guild_id)
        return True

    async def cancel_departure(self, guild_id: int, user_id: int) -> bool:
        """The member came back: keep their data. Returns whether a departure was pending."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(MemberDeparture).where(
                    MemberDeparture.guild_id == guild_id, MemberDeparture.user_id == user_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def purge_due(
        self,
        now: datetime,
        grace: timedelta = PURGE_GRACE,
        *,
        still_member: MemberCheck | None = None,
        owns: Callable[[int], bool] | None = None,
    ) -> PurgeReport:
        """Erase members who left a ``purge`` server more than ``grace`` ago.

        ``still_member(guild_id, user_id)`` lets the caller veto a purge for someone who is
        back in the server (a rejoin missed while the bot was offline): their departure is
        dropped instead. Each member is erased in their own transaction, so one failure is
        logged and the others still go through. ``owns(guild_id)`` keeps the purge to the guilds
        this process looks after: another shard's process is the one that can see who is back.
        """
        async with self._sessions() as session:
            due = await queries.departures_due(session, now - grace)
        if owns is not None:
            due = [row for row in due if owns(row[0])]
        purged = rows = cancelled = 0
        for guild_id, user_id, left_at in due:
            try:
                if still_member is not None and still_member(guild_id, user_id):
                    cancelled += await self.cancel_departure(guild_id, user_id)
                    continue
                rows += await self._purge(guild_id, user_id, left_at, now, grace)
                purged += 1
            except Exception:
                log.exception("guild=%s could not purge a departed member", guild_id)
        if purged or cancelled:
            log.info("purged %d departed members (%d rows); %d came back", purged, rows, cancelled)
        return PurgeReport(purged, rows, cancelled)

    async def _purge(
        self, guild_id: int, user_id: int, left_at: datetime, now: datetime, grace: timedelta
    ) -> int:
        async with self._sessions.begin() as session:
            counts = await queries.erase_member(session, guild_id, user_id)
            detail = purge_detail(counts, left_at, grace)
            add_audit_entry(session, guild_id, None, "privacy.purge", detail, now)
        return sum(counts.values())


async def _departure(session: AsyncSession, guild_id: int, user_id: int) -> MemberDeparture | None:
    statement = select(MemberDeparture).where(
        MemberDeparture.guild_id == guild_id, MemberDeparture.user_id == user_id
    )
    return await session.scalar(statement)
