"""A server's roadmap versions in the database (issue 12), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.container import Services, build_services
from bot.db.models import AuditEntry, CheckpointCompletion, Cohort, ServerRoadmapVersion
from bot.momentum import tally
from bot.roadmaps.repository import RoadmapVersionRepository
from bot.roadmaps.service import RoadmapChangedError
from bot.roadmaps.views import Imported, Proposal
from tests.behaviour.test_community_roadmaps import EVENINGS, EVENINGS_V2
from tests.db.test_momentum import recounted, stored
from tests.db.test_races import read_together

GUILD, OTHER, MOD, ALICE, BOB = 10, 20, 1, 2, 3


async def imported(services: Services, text: str, guild_id: int = GUILD) -> Imported | Proposal:
    outcome = await services.roadmaps.start_import(guild_id, MOD, "evenings.yaml", text.encode())
    assert isinstance(outcome, Imported | Proposal), outcome
    return outcome


async def follow(services: Services) -> None:
    await services.cohorts.create(
        guild_id=GUILD, actor_id=MOD, name="Evenings", roadmap_key="rust-evenings", channel_id=5
    )
    for user_id in (ALICE, BOB):
        await services.cohorts.join(GUILD, "Evenings", user_id, f"user {user_id}")


async def versions(services: Services) -> list[tuple[int, int, bool]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(
                ServerRoadmapVersion.guild_id, ServerRoadmapVersion.version, ServerRoadmapVersion.current
            ).order_by(ServerRoadmapVersion.guild_id, ServerRoadmapVersion.version)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def completions(services: Services) -> list[tuple[int, str]]:
    async with services.sessions() as session:
        rows = await session.execute(
            select(CheckpointCompletion.user_id, CheckpointCompletion.checkpoint_key)
        )
        return sorted(tuple(row) for row in rows)  # type: ignore[misc]


async def test_every_version_stays_stored_and_one_is_current(services: Services) -> None:
    await imported(services, EVENINGS)
    proposal = await imported(services, EVENINGS_V2)
    assert isinstance(proposal, Proposal) and proposal.base_version == 1
    assert await versions(services) == [(GUILD, 1, True)]  # nothing stored before the confirmation
    result = await services.roadmaps.confirm(proposal)
    assert result.version == 2
    assert await versions(services) == [(GUILD, 1, False), (GUILD, 2, True)]
    async with services.sessions() as session:
        sources = (
            await session.scalars(select(ServerRoadmapVersion.source).order_by(ServerRoadmapVersion.version))
        ).all()
    assert list(sources) == [EVENINGS, EVENINGS_V2]


async def test_renamed_completions_carry_over_and_a_member_with_both_keeps_one(services: Services) -> None:
    await imported(services, EVENINGS)
    await follow(services)
    for user_id, key in ((ALICE, "error-handling"), (ALICE, "sql-queries"), (BOB, "error-handling")):
        await services.progress.complete(GUILD, user_id, key)
    # Bob also has the new key already, as if an earlier version had it (stored directly).
    async with services.sessions.begin() as session:
        done = await session.scalar(select(CheckpointCompletion).where(CheckpointCompletion.user_id == BOB))
        assert done is not None
        session.add(
            CheckpointCompletion(
                guild_id=GUILD,
                cohort_id=done.cohort_id,
                user_id=BOB,
                checkpoint_key="errors-as-values",
                completed_at=done.completed_at,
            )
        )
        await session.flush()
        cohort = await session.get(Cohort, done.cohort_id)
        assert cohort is not None
        await tally.refresh(session, cohort, BOB, [done.completed_at])  # his score counts both
    proposal = await imported(services, EVENINGS_V2)
    assert isinstance(proposal, Proposal)
    touched = {(c.change.kind.value, c.change.key): c.members for c in proposal.changes}
    assert touched[("renamed", "errors-as-values")] == 2
    assert touched[("removed", "sql-queries")] == 1
    result = await services.roadmaps.confirm(proposal)
    assert result.renamed_completions == 1
    assert await completions(services) == [
        (ALICE, "errors-as-values"),
        (ALICE, "sql-queries"),  # retired: kept as history
        (BOB, "errors-as-values"),
    ]
    report = await services.progress.report(GUILD, ALICE)
    assert (report.report.done, report.report.total) == (1, 4)
    # Bob's dropped duplicate takes its point with it: the scores equal a recount of the rows.
    assert await stored(services) == await recounted(services)


async def test_a_proposal_made_stale_by_another_version_is_refused(services: Services) -> None:
    await imported(services, EVENINGS)
    first = await imported(services, EVENINGS_V2)
    second = await imported(services, EVENINGS_V2.replace("Deploy it", "Ship it"))
    assert isinstance(first, Proposal) and isinstance(second, Proposal)
    await services.roadmaps.confirm(first)
    with pytest.raises(RoadmapChangedError, match="changed since you uploaded"):
        await services.roadmaps.confirm(second)
    assert await versions(services) == [(GUILD, 1, False), (GUILD, 2, True)]


async def test_current_versions_load_again_after_a_restart_in_their_own_server_only(
    services: Services, settings, engine, clock, catalog_loader
) -> None:
    await imported(services, EVENINGS)
    await imported(services, EVENINGS.replace("Rust in the Evenings", "Rust at Dawn"), guild_id=OTHER)
    restarted = build_services(settings, engine, catalog_loader(settings.content_dir), clock)
    assert await restarted.roadmaps.load() == 2
    assert restarted.catalog.get("rust-evenings", GUILD).title == "Rust in the Evenings"  # type: ignore[union-attr]
    assert restarted.catalog.get("rust-evenings", OTHER).title == "Rust at Dawn"  # type: ignore[union-attr]
    assert restarted.catalog.get("rust-evenings", 30) is None
    assert restarted.catalog.get("rust-evenings") is None


async def test_forget_me_anonymises_the_importer_and_keeps_the_roadmap(services: Services) -> None:
    await imported(services, EVENINGS)
    report = await services.privacy.forget_me(GUILD, MOD)
    assert report.counts["roadmap_versions_anonymised"] == 1
    async with services.sessions() as session:
        row = await session.scalar(select(ServerRoadmapVersion))
    assert row is not None and row.imported_by is None and row.source == EVENINGS


async def test_a_longer_version_reopens_a_cohort_that_had_reached_the_end(services: Services, clock) -> None:
    await imported(services, EVENINGS)
    await follow(services)
    clock.advance(days=20)  # two-week roadmap: the cohort is past its end
    async with services.sessions.begin() as session:
        cohort = await session.scalar(select(Cohort))
        assert cohort is not None
        cohort.finished_at = clock()
    longer = EVENINGS_V2.replace(
        "    start_day: 7\n    duration_days: 7", "    start_day: 7\n    duration_days: 28"
    )
    proposal = await imported(services, longer)
    assert isinstance(proposal, Proposal)
    await services.roadmaps.confirm(proposal)
    async with services.sessions() as session:
        cohort = await session.scalar(select(Cohort))
    assert cohort is not None and cohort.finished_at is None  # its calendar now runs to week 5


async def test_two_moderators_importing_one_new_key_at_once_store_one_version(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_together(monkeypatch, RoadmapVersionRepository, "current")  # both see no such roadmap yet
    outcomes = await asyncio.gather(
        services.roadmaps.start_import(GUILD, MOD, "evenings.yaml", EVENINGS.encode()),
        services.roadmaps.start_import(GUILD, ALICE, "evenings.yaml", EVENINGS.encode()),
        return_exceptions=True,
    )
    names = sorted(type(outcome).__name__ for outcome in outcomes)
    if services.settings.database_url.startswith("sqlite"):
        # SQLite writers take turns: the second import finds the first's identical version.
        assert names == ["Imported", "Unchanged"]
    else:
        assert names == ["Imported", "RoadmapChangedError"]
        refusal = next(outcome for outcome in outcomes if isinstance(outcome, RoadmapChangedError))
        assert "at the same moment" in refusal.message
    assert await versions(services) == [(GUILD, 1, True)]


async def test_two_moderators_confirming_versions_at_once_store_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(services, EVENINGS)
    first = await imported(services, EVENINGS_V2)
    second = await imported(services, EVENINGS_V2.replace("Deploy it", "Ship it"))
    assert isinstance(first, Proposal) and isinstance(second, Proposal)
    read_together(monkeypatch, RoadmapVersionRepository, "current")  # both see version 1 as current
    outcomes = await asyncio.gather(
        services.roadmaps.confirm(first), services.roadmaps.confirm(second), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Imported", "RoadmapChangedError"]
    assert await versions(services) == [(GUILD, 1, False), (GUILD, 2, True)]


async def test_a_double_click_on_remove_removes_once_and_refuses_the_second(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imported(services, EVENINGS)
    read_together(monkeypatch, RoadmapVersionRepository, "current")
    outcomes = await asyncio.gather(
        services.roadmaps.remove(GUILD, MOD, "rust-evenings"),
        services.roadmaps.remove(GUILD, MOD, "rust-evenings"),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["NotFoundError", "Removed"]
    assert await versions(services) == [(GUILD, 1, False)]
    async with services.sessions() as session:
        removals = await session.scalar(
            select(func.count()).where(AuditEntry.guild_id == GUILD, AuditEntry.action == "roadmap.remove")
        )
    assert removals == 1
