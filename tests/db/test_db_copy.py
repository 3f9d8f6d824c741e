"""``waypoint db copy``: a community's history moves from SQLite to PostgreSQL (and back) intact."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.__main__ import main
from bot.config import Settings
from bot.container import Services, build_services
from bot.content import RoadmapCatalog
from bot.db.copy import CopyError, copy_database, tables_in_order
from bot.db.engine import create_engine
from bot.db.models import AuditEntry, Cohort, CustomPrompt, PromptPost
from bot.exports.formats import ExportFormat
from bot.exports.service import ExportKind
from tests.db.conftest import FakeClock
from tests.db.test_exports import ALICE, BOB, CAROL, GUILD, MOD, seed_server

pytestmark = pytest.mark.postgres


class Community:
    """Services over one database URL, with the test's clock and the session's roadmaps."""

    def __init__(self, url: str, clock: FakeClock, catalog: RoadmapCatalog) -> None:
        self.url = url
        self.engine = create_engine(url)
        settings = Settings(discord_token="x", database_url=url, _env_file=None)  # type: ignore[call-arg]
        self.services = build_services(settings, self.engine, catalog, clock)


@pytest.fixture
async def communities(
    clock: FakeClock, catalog_loader: Callable[[Path], RoadmapCatalog]
) -> AsyncIterator[Callable[[str], Community]]:
    built: list[Community] = []

    def over(url: str) -> Community:
        built.append(Community(url, clock, catalog_loader(Settings(_env_file=None).content_dir)))  # type: ignore[call-arg]
        return built[-1]

    yield over
    for community in built:
        await community.engine.dispose()


async def seed(services: Services, clock: FakeClock) -> None:
    """Cohorts, members, completions, review rounds (seed_server), plus prompts and audit entries."""
    await seed_server(services, clock)
    await services.prompts.add_custom(GUILD, "Spring", 2, "Show us your\nindented code", MOD)
    await services.reviews.join(GUILD, ALICE, "Spring", languages="python, sql")
    async with services.sessions() as session:
        spring = await session.scalar(select(Cohort).where(Cohort.guild_id == GUILD, Cohort.name == "Spring"))
    assert spring is not None
    assert await services.prompts.claim_week(spring.id, 8) is not None  # a claimed weekly post
    await services.exports.write(
        GUILD, None, ExportKind.PROGRESS, ExportFormat.CSV, io.BytesIO(), actor_id=MOD
    )


async def answers(services: Services) -> list[Any]:
    """What the members and moderators would be told: every read the services offer for GUILD."""
    told: list[Any] = [
        await services.progress.report(GUILD, ALICE, "Spring"),
        await services.progress.report(GUILD, CAROL),
        await services.stats.report(GUILD, "Spring"),
        await services.reviews.status(GUILD, ALICE, "Spring"),
        await services.reviews.history(GUILD, BOB, "Spring"),
        await services.prompts.preview(GUILD, "Spring", 2),
        await services.privacy.my_data(GUILD, ALICE),
    ]
    for kind in ExportKind:
        out = io.BytesIO()
        await services.exports.write(GUILD, None, kind, ExportFormat.CSV, out, actor_id=None)
        told.append(out.getvalue())
    return told


async def row_counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in tables_in_order()
        }


@pytest.mark.slow
async def test_a_community_moves_to_postgresql_and_back_with_the_same_answers(
    sqlite_source: str,
    fresh_postgres_url: str,
    tmp_path: Path,
    clock: FakeClock,
    communities: Callable[[str], Community],
) -> None:
    source = communities(sqlite_source)
    await seed(source.services, clock)
    counts = await row_counts(source.services)
    assert all(counts[name] > 0 for name in ("cohorts", "cohort_members", "review_completions", "audit_log"))
    assert counts["custom_prompts"] == counts["prompt_posts"] == 1

    copied = await copy_database(sqlite_source, fresh_postgres_url)

    assert {table.name: table.rows for table in copied} == counts
    target = communities(fresh_postgres_url)
    assert await row_counts(target.services) == counts
    assert await answers(target.services) == await answers(source.services)
    async with target.services.sessions() as session:  # text and claims arrive untouched
        assert await session.scalar(select(CustomPrompt.text)) == "Show us your\nindented code"
        assert await session.scalar(select(PromptPost.status)) is not None

    # New rows after explicit ids: the sequences were moved past the copied ones.
    await target.services.cohorts.create(
        guild_id=GUILD,
        actor_id=MOD,
        name="Autumn",
        roadmap_key="python-europe",
        channel_id=1,
        start="2026-09-07",
    )
    async with target.services.sessions() as session:
        assert await session.scalar(select(func.max(Cohort.id))) == counts["cohorts"] + 1
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) > counts["audit_log"]

    back = f"sqlite+aiosqlite:///{tmp_path / 'back' / 'waypoint.sqlite3'}"  # a fresh file: migrated first
    await copy_database(fresh_postgres_url, back)
    assert await answers(communities(back).services) == await answers(target.services)


@pytest.fixture
def sqlite_source(tmp_path: Path, migrated_database_template: Path) -> str:
    path = tmp_path / "source.sqlite3"
    path.write_bytes(migrated_database_template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


async def test_a_non_empty_target_is_refused_and_left_alone(
    sqlite_source: str, postgres_url: str, clock: FakeClock, communities: Callable[[str], Community]
) -> None:
    await seed(communities(sqlite_source).services, clock)
    target = communities(postgres_url)
    await target.services.cohorts.create(
        guild_id=GUILD,
        actor_id=MOD,
        name="Already",
        roadmap_key="python-europe",
        channel_id=1,
        start="2026-09-07",
    )
    before = await row_counts(target.services)

    with pytest.raises(CopyError, match=r"^the target .* is not empty \(cohorts has rows\)"):
        await copy_database(sqlite_source, postgres_url)

    assert await row_counts(target.services) == before


def test_the_command_prints_verified_counts_or_one_line_on_failure(
    sqlite_source: str, fresh_postgres_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["db", "copy", "--from", sqlite_source, "--to", fresh_postgres_url]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "cohorts: 0 rows" in printed and "audit_log: 0 rows" in printed
    assert printed[-1].startswith("copied 0 rows in ") and printed[-1].endswith("row counts verified")

    assert main(["db", "copy", "--from", sqlite_source, "--to", sqlite_source]) == 1
    missing = f"sqlite+aiosqlite:///{tmp_path / 'nowhere.sqlite3'}"
    assert main(["db", "copy", "--from", missing, "--to", fresh_postgres_url]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        "waypoint: db copy failed: the source and the target are the same database",
        f"waypoint: db copy failed: there is no database file at {tmp_path / 'nowhere.sqlite3'}",
    ]
    assert not (tmp_path / "nowhere.sqlite3").exists()
