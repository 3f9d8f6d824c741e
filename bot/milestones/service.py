"""Milestone roles: which phase earns which role, and what to give or take back after a checkpoint.

The service decides and records; it never talks to Discord. After ``/checkpoint done`` the cog
asks ``after_done`` for a ``RoleAction`` (give role R), carries it out, and reports back with
``granted`` or ``failed``; after ``/checkpoint undo`` the same with ``after_undo`` (take role R
back) and ``removed`` / ``remove_failed``. A claim on the grant row comes first, so a double click
or two processes give a role once.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.cohorts.resolve import roadmap_of
from bot.content import RoadmapCatalog
from bot.db.audit import add_audit_entry
from bot.db.models import Cohort, MilestoneGrant
from bot.kernel.errors import InvalidInputError
from bot.kernel.roadmap import Phase, Roadmap
from bot.milestones import rules
from bot.milestones.repository import GrantRepository, MilestoneRoleRepository, completed_by_cohort
from bot.milestones.rules import Decision, GrantState
from bot.milestones.views import (
    Cleared,
    CohortTrouble,
    Configured,
    MilestoneRoleView,
    PhaseRef,
    Refusal,
    RoleAction,
    Trouble,
)

log = logging.getLogger(__name__)

RETRY_LIMIT = 25  # waiting members given the role per /config milestone-role, to answer in time


def _ref(roadmap: Roadmap, number: int, phase: Phase) -> PhaseRef:
    return PhaseRef(roadmap.key, roadmap.title, number, phase.key, phase.title)


def _trouble(grants: list[MilestoneGrant]) -> tuple[int, int, Refusal] | None:
    if not grants:
        return None
    waiting = sum(1 for grant in grants if grant.state == GrantState.FAILED)
    return waiting, len(grants) - waiting, Refusal.of(grants[0].error)


class MilestoneService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], catalog: RoadmapCatalog, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._clock = clock

    # --- configuration (moderators) ------------------------------------------------------------

    def phase(self, guild_id: int, roadmap_key: str, number: int) -> PhaseRef:
        """The phase a moderator named, or a refusal saying which numbers exist."""
        roadmap = roadmap_of(self._catalog, roadmap_key.strip().lower(), guild_id)
        phase = rules.phase_numbered(roadmap, number)
        if phase is None:
            count = len(roadmap.phases)
            raise InvalidInputError(
                f"The roadmap **{roadmap.title}** has {count} phase{'s' if count != 1 else ''}:"
                f" pick a phase from 1 to {count} (see `/roadmap show`)."
            )
        return _ref(roadmap, number, phase)

    async def configure(
        self, guild_id: int, actor_id: int, roadmap_key: str, number: int, role_id: int
    ) -> Configured:
        target = self.phase(guild_id, roadmap_key, number)
        now = self._clock()
        async with self._sessions.begin() as session:
            previous = await MilestoneRoleRepository(session).put(
                guild_id, target.roadmap_key, target.key, role_id, actor_id, now
            )
            if previous != role_id:
                add_audit_entry(
                    session,
                    guild_id,
                    actor_id,
                    "config.milestone_role",
                    f"{target.roadmap_key} phase {target.number} ({target.key}): role {role_id}"
                    + (f", was {previous}" if previous is not None else ""),
                    now,
                )
        return Configured(target, role_id, previous)

    async def claim_waiting(
        self, guild_id: int, target: PhaseRef, limit: int = RETRY_LIMIT
    ) -> tuple[list[RoleAction], int]:
        """Refused grants of the phase, claimed again for its current role (at most ``limit``), and
        how many stay waiting: a moderator who fixed the cause sets the role again to give them."""
        async with self._sessions.begin() as session:
            setting = await MilestoneRoleRepository(session).get(guild_id, target.roadmap_key, target.key)
            if setting is None:
                return [], 0
            grants = GrantRepository(session)
            waiting = await grants.failed_in_phase(guild_id, target.roadmap_key, target.key)
            actions = []
            now = self._clock()
            for grant in waiting[:limit]:
                if await grants.move(
                    grant.id,
                    GrantState.FAILED,
                    state=GrantState.CLAIMED.value,
                    role_id=setting.role_id,
                    claimed_at=now,
                ):
                    actions.append(
                        RoleAction(Decision.GRANT, grant.id, guild_id, grant.user_id, setting.role_id, target)
                    )
        return actions, max(0, len(waiting) - limit)

    async def clear(self, guild_id: int, actor_id: int, roadmap_key: str, number: int) -> Cleared:
        """Stop granting the phase's role. Roles already given stay, and so do their grants."""
        target = self.phase(guild_id, roadmap_key, number)
        async with self._sessions.begin() as session:
            role_id = await MilestoneRoleRepository(session).remove(guild_id, target.roadmap_key, target.key)
            if role_id is not None:
                await GrantRepository(session).drop_failed(guild_id, target.roadmap_key, target.key)
                add_audit_entry(
                    session,
                    guild_id,
                    actor_id,
                    "config.milestone_role_clear",
                    f"{target.roadmap_key} phase {target.number} ({target.key}):"
                    f" role {role_id} no longer given",
                    self._clock(),
                )
        return Cleared(target, role_id)

    async def overview(self, guild_id: int) -> list[MilestoneRoleView]:
        """Every phase with a milestone role, and every phase whose grants need a moderator."""
        async with self._sessions() as session:
            settings = await MilestoneRoleRepository(session).in_guild(guild_id)
            grants = GrantRepository(session)
            tallies = await grants.tallies(guild_id)
            troubled = await grants.needing_attention(guild_id)
        by_phase: dict[tuple[str, str], list[MilestoneGrant]] = defaultdict(list)
        for grant in troubled:
            by_phase[(grant.roadmap_key, grant.phase_key)].append(grant)
        roles = {(setting.roadmap_key, setting.phase_key): setting.role_id for setting in settings}
        views = [
            self._view(guild_id, key, roles.get(key), tallies, _trouble(by_phase.get(key, [])))
            for key in [*roles, *(key for key in by_phase if key not in roles)]
        ]
        return sorted(views, key=lambda view: (view.roadmap_key, view.number or 10_000, view.phase_key))

    def _view(
        self,
        guild_id: int,
        key: tuple[str, str],
        role_id: int | None,
        tallies: dict[tuple[str, str, str], int],
        trouble: tuple[int, int, Refusal] | None,
    ) -> MilestoneRoleView:
        roadmap_key, phase_key = key
        roadmap = self._catalog.get(roadmap_key, guild_id)
        found = rules.phase_keyed(roadmap, phase_key) if roadmap else None
        return MilestoneRoleView(
            roadmap_key=roadmap_key,
            roadmap_title=roadmap.title if roadmap else None,
            phase_key=phase_key,
            number=found[0] if found else None,
            phase_title=found[1].title if found else None,
            role_id=role_id,
            granted=tallies.get((roadmap_key, phase_key, GrantState.GRANTED.value), 0),
            trouble=Trouble(*trouble) if trouble else None,
        )

    async def cohort_trouble(self, guild_id: int, cohort_id: int) -> CohortTrouble | None:
        async with self._sessions() as session:
            grants = list(await GrantRepository(session).needing_attention(guild_id, cohort_id=cohort_id))
        found = _trouble(grants)
        return CohortTrouble(*found) if found else None

    # --- after a checkpoint changed (members) ---------------------------------------------------

    async def _phase_of(
        self, session: AsyncSession, guild_id: int, cohort_id: int, checkpoint_key: str
    ) -> tuple[Cohort, Roadmap, int, Phase] | None:
        cohort = await session.get(Cohort, cohort_id)
        if cohort is None or cohort.guild_id != guild_id:
            return None
        roadmap = self._catalog.get(cohort.roadmap_key, guild_id)
        phase = rules.phase_of(roadmap, checkpoint_key) if roadmap else None
        if roadmap is None or phase is None:
            return None
        return cohort, roadmap, roadmap.phase_number(phase), phase

    @staticmethod
    async def _done(
        session: AsyncSession, guild_id: int, user_id: int, roadmap: Roadmap, phase: Phase
    ) -> bool:
        """Whether one of the member's cohorts on the roadmap has every checkpoint of the phase done."""
        keys = [checkpoint.key for checkpoint in phase.checkpoints]
        completed = await completed_by_cohort(session, guild_id, user_id, roadmap.key, keys)
        return bool(rules.cohorts_with_phase_done(phase, completed))

    async def after_done(
        self, guild_id: int, user_id: int, cohort_id: int, checkpoint_key: str
    ) -> RoleAction | None:
        """A role to give now that the member marked ``checkpoint_key`` done, if any (claimed)."""
        async with self._sessions.begin() as session:
            found = await self._phase_of(session, guild_id, cohort_id, checkpoint_key)
            if found is None:
                return None
            cohort, roadmap, number, phase = found
            setting = await MilestoneRoleRepository(session).get(guild_id, roadmap.key, phase.key)
            if setting is None:  # most phases have no role: no need to look at progress
                return None
            grants = GrantRepository(session)
            grant = await grants.get(guild_id, user_id, roadmap.key, phase.key)
            decision = rules.after_done(
                done=await self._done(session, guild_id, user_id, roadmap, phase),
                role_id=setting.role_id if setting else None,
                grant=GrantState(grant.state) if grant else None,
            )
            if decision is not Decision.GRANT or setting is None:
                return None
            now = self._clock()
            if grant is None:
                grant = MilestoneGrant(
                    guild_id=guild_id,
                    user_id=user_id,
                    cohort_id=cohort.id,
                    roadmap_key=roadmap.key,
                    phase_key=phase.key,
                    role_id=setting.role_id,
                    state=GrantState.CLAIMED.value,
                    claimed_at=now,
                )
                if not await grants.claim_new(grant):
                    return None  # a double click got there first
            elif not await grants.move(
                grant.id,
                GrantState(grant.state),
                state=GrantState.CLAIMED.value,
                role_id=setting.role_id,
                cohort_id=cohort.id,
                claimed_at=now,
            ):
                return None
            return RoleAction(
                Decision.GRANT, grant.id, guild_id, user_id, setting.role_id, _ref(roadmap, number, phase)
            )

    async def after_undo(
        self, guild_id: int, user_id: int, cohort_id: int, checkpoint_key: str
    ) -> RoleAction | None:
        """A role to take back now that the member unmarked ``checkpoint_key``, if any (claimed)."""
        async with self._sessions.begin() as session:
            found = await self._phase_of(session, guild_id, cohort_id, checkpoint_key)
            if found is None:
                return None
            _cohort, roadmap, number, phase = found
            grants = GrantRepository(session)
            grant = await grants.get(guild_id, user_id, roadmap.key, phase.key)
            if grant is None:  # the bot gave nothing for this phase: nothing to take back
                return None
            current = GrantState(grant.state)
            decision = rules.after_undo(
                done=await self._done(session, guild_id, user_id, roadmap, phase), grant=current
            )
            if decision is Decision.NOTHING:
                return None
            if decision is Decision.FORGET:
                await grants.drop(grant.id, current)
                return None
            if not await grants.move(grant.id, current, state=GrantState.REMOVING.value):
                return None
            return RoleAction(
                Decision.REMOVE, grant.id, guild_id, user_id, grant.role_id, _ref(roadmap, number, phase)
            )

    async def granted(self, action: RoleAction) -> bool:
        """The role was given. False when an undo took the grant meanwhile: take the role back."""
        async with self._sessions.begin() as session:
            return await GrantRepository(session).move(
                action.grant_id,
                GrantState.CLAIMED,
                state=GrantState.GRANTED.value,
                granted_at=self._clock(),
                failed_at=None,
                error=None,
            )

    async def failed(self, action: RoleAction, reason: Refusal) -> None:
        """Discord refused the grant: the progress stands, moderators see why."""
        await self._record_refusal(action, reason, GrantState.CLAIMED, GrantState.FAILED, "given")

    async def removed(self, action: RoleAction) -> None:
        async with self._sessions.begin() as session:
            await GrantRepository(session).drop(action.grant_id, GrantState.REMOVING)

    async def remove_failed(self, action: RoleAction, reason: Refusal) -> None:
        """Discord refused to take the role back: the grant stays recorded, moderators see why."""
        await self._record_refusal(
            action, reason, GrantState.REMOVING, GrantState.REMOVE_FAILED, "taken back"
        )

    async def _record_refusal(
        self, action: RoleAction, reason: Refusal, expected: GrantState, state: GrantState, verb: str
    ) -> None:
        log.warning(
            "guild=%s user=%s milestone role %s for %s phase %s not %s: %s",
            action.guild_id,
            action.user_id,
            action.role_id,
            action.phase.roadmap_key,
            action.phase.key,
            verb,
            reason.value,
        )
        async with self._sessions.begin() as session:
            await GrantRepository(session).move(
                action.grant_id,
                expected,
                state=state.value,
                failed_at=self._clock(),
                error=reason.value,
            )
