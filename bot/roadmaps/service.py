"""A server's own roadmaps: import, new versions (on confirmation), export and removal.

The database is the source of truth: every version ever imported is a row of
``server_roadmap_versions``. The catalog holds each server's current versions in memory, loaded
by ``load`` at start-up and changed here only after the transaction that changed the database
has committed. Every import, replacement and removal is written to the audit log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.resolve import cohort_week, roadmap_of
from bot.content import RoadmapCatalog, ServerRoadmap, parse_roadmap
from bot.db.audit import add_audit_entry
from bot.db.models import Cohort, ServerRoadmapVersion
from bot.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from bot.kernel.roadmap import Roadmap
from bot.kernel.text import echo_code
from bot.momentum import tally
from bot.roadmaps.diff import Level, RoadmapDiff, carry_over, diff_roadmaps
from bot.roadmaps.repository import FollowerRepository, RoadmapVersionRepository
from bot.roadmaps.rules import check_upload, roadmap_yaml, shown_copy, source_name
from bot.roadmaps.views import (
    CountedChange,
    Imported,
    ImportOutcome,
    Proposal,
    Refused,
    Removed,
    RoadmapFile,
    Unchanged,
)

log = logging.getLogger(__name__)

# A server's own roadmaps at once: with the five shipped ones, /roadmap list stays one embed.
MAX_SERVER_ROADMAPS = 20


class RoadmapInUseError(ConflictError):
    """A followed roadmap cannot be removed; carries the cohorts that follow it."""

    def __init__(self, key: str, cohort_names: Sequence[str]) -> None:
        self.cohort_names = tuple(cohort_names)
        names = ", ".join(f"**{name}**" for name in self.cohort_names[:20])
        more = f" and {len(self.cohort_names) - 20} more" if len(self.cohort_names) > 20 else ""
        super().__init__(
            f"`{key}` can't be removed while cohorts follow it: {names}{more}."
            " Cohorts keep their roadmap for good, so remove it only once none follows it."
        )


class RoadmapChangedError(ConflictError):
    pass


def _stored(source: str, key: str) -> Roadmap:
    """A stored version, parsed again (it passed the validator when it was imported)."""
    roadmap, problems = parse_roadmap(source.encode("utf-8"), f"{key}.yaml")
    if roadmap is None:  # pragma: no cover - only if the stored text was edited by hand
        raise ValueError(f"stored roadmap {key!r} no longer validates: {problems[:1]}")
    return roadmap


class RoadmapService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    async def load(self) -> int:
        """Put every server's current versions into the catalog; how many there are."""
        async with self._sessions() as session:
            rows = await RoadmapVersionRepository(session).all_current()
        for row in rows:
            self._remember(row.guild_id, _stored(row.source, row.key), row.version)
        return len(rows)

    def _remember(self, guild_id: int, roadmap: Roadmap, version: int) -> None:
        self._catalog.put_server_roadmap(ServerRoadmap(guild_id, shown_copy(roadmap), version))

    # --- import -------------------------------------------------------------------------------

    async def start_import(self, guild_id: int, actor_id: int, filename: str, data: bytes) -> ImportOutcome:
        """Validate a file; a new key is stored at once, a known key becomes a ``Proposal``."""
        # Up to half a second for the largest file: off the event loop, so the bot keeps answering.
        checked = await asyncio.to_thread(check_upload, data, filename, frozenset(self._catalog.keys()))
        if checked.roadmap is None:
            return Refused(checked.problems)
        roadmap, source = checked.roadmap, data.decode("utf-8")
        async with self._sessions.begin() as session:
            versions = RoadmapVersionRepository(session)
            current = await versions.current(guild_id, roadmap.key)
            if current is None:
                if len(self._catalog.server_roadmaps(guild_id)) >= MAX_SERVER_ROADMAPS:
                    return Refused(
                        (
                            f"{source_name(filename)}: this server has {MAX_SERVER_ROADMAPS} roadmaps"
                            " of its own already; remove one with `/roadmap remove` first",
                        )
                    )
                version = await versions.last_version(guild_id, roadmap.key) + 1
                await self._store(session, guild_id, actor_id, roadmap, source, version)
                add_audit_entry(
                    session,
                    guild_id,
                    actor_id,
                    "roadmap.import",
                    f"imported roadmap {roadmap.key} as version {version}: {len(roadmap.phases)} phases,"
                    f" {roadmap.checkpoint_count} checkpoints",
                    self._clock(),
                )
                imported = Imported(roadmap, version)
            else:
                before = await asyncio.to_thread(_stored, current.source, current.key)
                if before == roadmap:
                    return Unchanged(roadmap, current.version)
                diff = diff_roadmaps(before, roadmap)
                followers = FollowerRepository(session)
                cohorts = await followers.cohorts(guild_id, roadmap.key)
                counted = await self._counted(followers, cohorts, diff)
                return Proposal(
                    guild_id,
                    actor_id,
                    roadmap,
                    source,
                    current.version,
                    diff,
                    counted,
                    tuple(cohort.name for cohort in cohorts),
                )
        self._remember(guild_id, roadmap, imported.version)
        log.info(
            "guild=%s user=%s imported roadmap %s v%d", guild_id, actor_id, roadmap.key, imported.version
        )
        return imported

    async def _counted(
        self, followers: FollowerRepository, cohorts: Sequence[Cohort], diff: RoadmapDiff
    ) -> tuple[CountedChange, ...]:
        keys = {key for change in diff.changes for key in change.touches}
        members = await followers.members_per_key([cohort.id for cohort in cohorts], keys)
        return tuple(
            CountedChange(change, len(set().union(*(members.get(key, set()) for key in change.touches))))
            for change in diff.changes
        )

    async def _store(
        self, session: AsyncSession, guild_id: int, actor_id: int, roadmap: Roadmap, source: str, version: int
    ) -> None:
        try:
            async with session.begin_nested():
                RoadmapVersionRepository(session).add(
                    ServerRoadmapVersion(
                        guild_id=guild_id,
                        key=roadmap.key,
                        version=version,
                        source=source,
                        current=True,
                        imported_by=actor_id,
                        imported_at=self._clock(),
                    )
                )
        except IntegrityError:
            raise RoadmapChangedError(
                f"Someone imported `{roadmap.key}` at the same moment; see `/roadmap show` and try again."
            ) from None

    async def confirm(self, proposal: Proposal) -> Imported:
        """Store the proposed version: cohorts follow it, renamed completions carry over."""
        guild_id, roadmap = proposal.guild_id, proposal.roadmap
        now = self._clock()
        async with self._sessions.begin() as session:
            versions = RoadmapVersionRepository(session)
            current = await versions.current(guild_id, roadmap.key)
            if current is None or current.version != proposal.base_version:
                raise RoadmapChangedError(
                    f"`{roadmap.key}` changed since you uploaded this file (it is now "
                    f"{'removed' if current is None else f'version {current.version}'}); import it again."
                )
            if not await versions.retire(current.id):  # another confirmation won in between
                raise RoadmapChangedError(
                    f"`{roadmap.key}` changed since you uploaded this file; import it again."
                )
            version = await versions.last_version(guild_id, roadmap.key) + 1
            await self._store(session, guild_id, proposal.actor_id, roadmap, proposal.source, version)
            followers = FollowerRepository(session)
            cohorts = await followers.cohorts(guild_id, roadmap.key)
            renamed = 0
            if proposal.diff.renames:
                rows = await followers.completion_rows(
                    [cohort.id for cohort in cohorts],
                    set(proposal.diff.renames) | set(proposal.diff.renames.values()),
                )
                plan = carry_over(rows, proposal.diff.renames)
                dropped = await followers.rename(dict(plan.updates), plan.duplicates)
                by_id = {cohort.id: cohort for cohort in cohorts}
                for cohort_id, user_id, completed_at in dropped:  # a member who had both keys
                    await tally.refresh(session, by_id[cohort_id], user_id, [completed_at])
                renamed = len(plan.updates)
            for cohort in cohorts:  # the calendar follows the new length
                if cohort.finished_at is not None and cohort_week(cohort, now) <= roadmap.duration_weeks:
                    cohort.finished_at = None
            add_audit_entry(
                session,
                guild_id,
                proposal.actor_id,
                "roadmap.version",
                f"replaced roadmap {roadmap.key} version {proposal.base_version} with version {version}: "
                + _diff_detail(proposal.diff, renamed, len(cohorts)),
                now,
            )
        self._remember(guild_id, roadmap, version)
        log.info("guild=%s roadmap %s is now version %d", guild_id, roadmap.key, version)
        return Imported(roadmap, version, tuple(cohort.name for cohort in cohorts), renamed, proposal.diff)

    async def follower_ids(self, guild_id: int, key: str) -> list[int]:
        async with self._sessions() as session:
            return [cohort.id for cohort in await FollowerRepository(session).cohorts(guild_id, key)]

    # --- export and removal -------------------------------------------------------------------

    async def export(self, guild_id: int, key: str) -> RoadmapFile:
        """A shipped roadmap or this server's current version, as a YAML file to edit and import."""
        wanted = key.strip().lower()
        roadmap = roadmap_of(self._catalog, wanted, guild_id)  # refuses with a hint when unknown
        if self._catalog.is_shipped(roadmap.key):
            return RoadmapFile(f"{roadmap.key}.yaml", roadmap_yaml(roadmap).encode("utf-8"))
        async with self._sessions() as session:
            current = await RoadmapVersionRepository(session).current(guild_id, roadmap.key)
        if current is None:
            raise NotFoundError(f"There is no roadmap `{echo_code(key)}`. See `/roadmap list`.")
        return RoadmapFile(f"{roadmap.key}.yaml", current.source.encode("utf-8"))

    async def remove(self, guild_id: int, actor_id: int, key: str) -> Removed:
        wanted = key.strip().lower()
        if self._catalog.is_shipped(wanted):
            raise InvalidInputError(
                f"`{wanted}` ships with Waypoint, so it can't be removed;"
                " only this server's own roadmaps can."
            )
        roadmap_of(self._catalog, wanted, guild_id)  # unknown here: refused with a hint
        async with self._sessions.begin() as session:
            versions = RoadmapVersionRepository(session)
            current = await versions.current(guild_id, wanted)
            cohorts = await FollowerRepository(session).cohorts(guild_id, wanted)
            if cohorts:
                raise RoadmapInUseError(wanted, [cohort.name for cohort in cohorts])
            # Gone, or retired by a second click or a new version in between: nothing to remove.
            if current is None or not await versions.retire(current.id):
                raise NotFoundError(f"There is no roadmap `{echo_code(key)}`. See `/roadmap list`.")
            current.removed_at = self._clock()
            roadmap = _stored(current.source, current.key)
            add_audit_entry(
                session,
                guild_id,
                actor_id,
                "roadmap.remove",
                f"removed roadmap {wanted} (version {current.version}; every version stays stored)",
                self._clock(),
            )
        self._catalog.drop_server_roadmap(guild_id, wanted)
        log.info("guild=%s user=%s removed roadmap %s", guild_id, actor_id, wanted)
        return Removed(wanted, roadmap.title, current.version)


def _diff_detail(diff: RoadmapDiff, renamed: int, cohorts: int) -> str:
    parts = []
    for level in (Level.PHASE, Level.CHECKPOINT):
        counts: dict[str, int] = {}
        for change in diff.changes:
            if change.level is level:
                counts[change.kind.value] = counts.get(change.kind.value, 0) + 1
        if counts:
            parts.append(f"{level.value}s " + ", ".join(f"{count} {kind}" for kind, count in counts.items()))
    parts.append(f"{renamed} completions carried over; {cohorts} cohorts follow it")
    return "; ".join(parts)
