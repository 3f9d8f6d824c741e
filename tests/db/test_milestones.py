"""Milestone roles on a real database (SQLite and PostgreSQL): settings stored by phase key,
grants claimed once under concurrency, states moved only from the state expected, several cohorts
on one roadmap, erasure, and server isolation."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from bot.container import Services
from bot.content import RoadmapCatalog
from bot.db.models import AuditEntry, MilestoneGrant, MilestoneRole
from bot.kernel.errors import InvalidInputError, NotFoundError
from bot.milestones.rules import Decision
from bot.milestones.service import MilestoneService
from bot.milestones.views import Refusal, RoleAction
from tests.db.conftest import FakeClock

GUILD, OTHER_GUILD = 1001, 2002
MOD, ALICE, BOB = 1, 2, 3
ROLE, OTHER_ROLE = 900_000_000_000_000_001, 900_000_000_000_000_002
PHASE_ONE = ("python-oop-async", "crud-api", "postgres-queries-indexing", "aws-free-tier-deploy")


async def cohort(services: Services, name: str = "Spring", guild: int = GUILD) -> int:
    summary = await services.cohorts.create(
        guild_id=guild,
        actor_id=MOD,
        name=name,
        roadmap_key="python-europe",
        channel_id=555,
        start="2026-03-02",
        timezone="Europe/Berlin",
    )
    return summary.id


async def finish(services: Services, user: int, keys: tuple[str, ...] = PHASE_ONE, **kw: str) -> int:
    change = None
    for key in keys:
        change = await services.progress.complete(GUILD, user, key, cohort_name=kw.get("cohort"))
    assert change is not None
    return change.cohort_id


async def states(services: Services) -> list[tuple[int, str]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(MilestoneGrant.user_id, MilestoneGrant.state).order_by(MilestoneGrant.id)
        )
        return [(row[0], row[1]) for row in rows]


async def test_a_setting_is_stored_by_phase_key_and_set_again_in_place(services: Services) -> None:
    first = await services.milestones.configure(GUILD, MOD, " Python-Europe ", 2, ROLE)
    again = await services.milestones.configure(GUILD, MOD, "python-europe", 2, ROLE)
    replaced = await services.milestones.configure(GUILD, MOD, "python-europe", 2, OTHER_ROLE)

    assert (first.phase.key, first.phase.number, first.previous_role_id) == ("intermediate", 2, None)
    assert not again.changed
    assert replaced.previous_role_id == ROLE
    async with services.sessions() as session:
        rows = (await session.execute(select(MilestoneRole.phase_key, MilestoneRole.role_id))).all()
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert [tuple(row) for row in rows] == [("intermediate", OTHER_ROLE)]
    assert actions == ["config.milestone_role", "config.milestone_role"]


async def test_two_moderators_setting_the_same_phase_at_once_leave_one_setting(services: Services) -> None:
    results = await asyncio.gather(
        *(services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE) for _ in range(4)),
        return_exceptions=True,
    )

    assert not [result for result in results if isinstance(result, BaseException)]
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MilestoneRole)) == 1


@pytest.mark.parametrize(("roadmap", "phase"), [("nope", 1), ("python-europe", 4), ("python-europe", 0)])
async def test_an_unknown_roadmap_or_phase_is_refused_and_stores_nothing(
    services: Services, roadmap: str, phase: int
) -> None:
    with pytest.raises((NotFoundError, InvalidInputError)):
        await services.milestones.configure(GUILD, MOD, roadmap, phase, ROLE)
    assert await services.milestones.overview(GUILD) == []


async def test_the_phase_keeps_its_role_when_the_roadmap_is_reordered(
    services: Services, default_catalog: RoadmapCatalog, clock: FakeClock
) -> None:
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    roadmap = default_catalog.get("python-europe")
    assert roadmap is not None
    reordered = roadmap.model_copy(update={"phases": tuple(reversed(roadmap.phases))})
    edited = MilestoneService(
        services.sessions,
        RoadmapCatalog([reordered if found.key == roadmap.key else found for found in default_catalog]),
        clock,
    )

    [view] = await edited.overview(GUILD)

    assert (view.phase_key, view.number, view.role_id) == ("foundations", 3, ROLE)


async def test_the_last_checkpoint_claims_one_grant_even_when_clicked_at_once(services: Services) -> None:
    await cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    cohort_id = await finish(services, ALICE)

    actions = await asyncio.gather(
        *(services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[-1]) for _ in range(5)),
        return_exceptions=True,
    )

    claimed = [action for action in actions if isinstance(action, RoleAction)]
    assert not [action for action in actions if isinstance(action, BaseException)]
    assert len(claimed) == 1 and claimed[0].decision is Decision.GRANT and claimed[0].role_id == ROLE
    assert await services.milestones.granted(claimed[0])
    assert not await services.milestones.granted(claimed[0])  # moved from "claimed" once only
    assert await states(services) == [(ALICE, "granted")]
    assert await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[0]) is None


async def test_an_unfinished_phase_or_one_without_a_role_gives_nothing(services: Services) -> None:
    await cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    cohort_id = await finish(services, ALICE, PHASE_ONE[:3])
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    assert await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[2]) is None
    await finish(services, ALICE, ("api-authentication",))
    assert await services.milestones.after_done(GUILD, ALICE, cohort_id, "api-authentication") is None
    assert await states(services) == []


async def test_a_failed_grant_is_recorded_shown_and_tried_again(services: Services) -> None:
    cohort_id = await cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    await finish(services, ALICE)
    action = await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[-1])
    assert action is not None

    await services.milestones.failed(action, Refusal.ROLE_TOO_HIGH)

    [view] = await services.milestones.overview(GUILD)
    assert view.trouble is not None and (view.trouble.waiting, view.trouble.latest) == (
        1,
        Refusal.ROLE_TOO_HIGH,
    )
    trouble = await services.milestones.cohort_trouble(GUILD, cohort_id)
    assert trouble is not None and trouble.waiting == 1
    assert await services.milestones.cohort_trouble(OTHER_GUILD, cohort_id) is None
    retry = await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[0])
    assert retry is not None and retry.grant_id == action.grant_id
    assert await services.milestones.granted(retry)
    assert await services.milestones.cohort_trouble(GUILD, cohort_id) is None


async def test_undo_takes_back_only_when_no_cohort_has_the_phase_done(services: Services) -> None:
    await cohort(services, "Spring")
    await cohort(services, "Autumn")
    for name in ("Spring", "Autumn"):
        await services.cohorts.join(GUILD, name, ALICE, "alice")
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    spring = await finish(services, ALICE, cohort="Spring")
    autumn = await finish(services, ALICE, cohort="Autumn")
    action = await services.milestones.after_done(GUILD, ALICE, autumn, PHASE_ONE[-1])
    assert action is not None and await services.milestones.granted(action)

    await services.progress.undo(GUILD, ALICE, PHASE_ONE[0], cohort_name="Spring")
    assert await services.milestones.after_undo(GUILD, ALICE, spring, PHASE_ONE[0]) is None  # Autumn has it

    await services.progress.undo(GUILD, ALICE, PHASE_ONE[0], cohort_name="Autumn")
    take_back = await services.milestones.after_undo(GUILD, ALICE, autumn, PHASE_ONE[0])
    assert take_back is not None and take_back.decision is Decision.REMOVE and take_back.role_id == ROLE
    await services.milestones.remove_failed(take_back, Refusal.NO_MANAGE_ROLES)
    assert await states(services) == [(ALICE, "remove_failed")]
    again = await services.milestones.after_undo(GUILD, ALICE, autumn, PHASE_ONE[1])
    assert again is not None
    await services.milestones.removed(again)
    assert await states(services) == []


async def test_clear_keeps_given_grants_and_forgets_refused_ones(services: Services) -> None:
    cohort_id = await cohort(services)
    for user in (ALICE, BOB):
        await services.cohorts.join(GUILD, "Spring", user, str(user))
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    for user, ok in ((ALICE, True), (BOB, False)):
        await finish(services, user)
        action = await services.milestones.after_done(GUILD, user, cohort_id, PHASE_ONE[-1])
        assert action is not None
        if ok:
            await services.milestones.granted(action)
        else:
            await services.milestones.failed(action, Refusal.FORBIDDEN)

    cleared = await services.milestones.clear(GUILD, MOD, "python-europe", 1)

    assert cleared.role_id == ROLE
    assert await states(services) == [(ALICE, "granted")]
    assert await services.milestones.overview(GUILD) == []
    assert (await services.milestones.clear(GUILD, MOD, "python-europe", 1)).role_id is None


async def test_forget_me_deletes_grants_and_anonymises_settings(services: Services) -> None:
    cohort_id = await cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    await services.milestones.configure(GUILD, ALICE, "python-europe", 1, ROLE)  # Alice moderates too
    await finish(services, ALICE)
    action = await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[-1])
    assert action is not None and await services.milestones.granted(action)
    document = json.loads((await services.privacy.my_data(GUILD, ALICE)).payload)["sections"]
    assert [row["state"] for row in document["milestone_roles_received"]] == ["granted"]
    assert [row["phase_key"] for row in document["milestone_roles_configured"]] == ["foundations"]

    report = await services.privacy.forget_me(GUILD, ALICE)

    assert report.counts["milestone_roles_received"] == 1
    assert report.counts["milestone_roles_anonymised"] == 1
    assert await states(services) == []
    async with services.sessions() as session:
        assert (await session.scalars(select(MilestoneRole.configured_by))).all() == [None]


async def test_servers_are_kept_apart(services: Services) -> None:
    await services.milestones.configure(GUILD, MOD, "python-europe", 1, ROLE)
    cohort_id = await cohort(services, guild=OTHER_GUILD)
    await services.cohorts.join(OTHER_GUILD, "Spring", ALICE, "alice")
    for key in PHASE_ONE:
        await services.progress.complete(OTHER_GUILD, ALICE, key)

    assert await services.milestones.after_done(OTHER_GUILD, ALICE, cohort_id, PHASE_ONE[-1]) is None
    assert await services.milestones.after_done(GUILD, ALICE, cohort_id, PHASE_ONE[-1]) is None
    assert await services.milestones.overview(OTHER_GUILD) == []
