"""Builds (once) the database of a large cohort for the scale benchmarks, and copies it per run.

One cohort following ``junior-to-senior`` with ``members`` members, every one opted in to review
pairing, 60 checkpoint rows each (30 of the roadmap's 38 checkpoints and 30 retired keys, as after
content edits), and 26 past weekly review rounds (random pairs; each direction reviewed with
probability 0.85). Weeks 1-25 are closed; week 26 is still open and past due, so the next round
closes it first, as the weekly job does. The file is built at migration ``0002`` (the schema
before the scale indexes) and cached under ``bench/out/``; the bot's own start-up
(``upgrade_database``) migrates each working copy to head, so before/after runs share one input.

Rows go in through SQLAlchemy Core ``executemany``, so the same builder fills a throwaway
PostgreSQL database (``throwaway_postgres``, dropped after the run); only the caching of the file
is SQLite-specific.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bot.content import default_content_dir, load_catalog
from bot.db.engine import alembic_config
from bot.db.models import (
    CheckpointCompletion,
    Cohort,
    CohortMember,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewParticipant,
    ReviewRound,
)

OUT = Path(__file__).resolve().parent / "out"
BUILD_VERSION = 1
GUILD_ID = 910_000_000_000_000_001
COHORT_ID = 1
COHORT_NAME = "Scale"
ROADMAP = "junior-to-senior"
FIRST_USER = 10_000_000
PAST_ROUNDS = 26
REAL_KEYS_DONE = 30
RETIRED_KEYS = 30
REVIEWED = 0.85
CHUNK = 20_000
EPOCH = datetime(2025, 1, 6, 12, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Tokyo", None)
LANGUAGES = ("python", "go", "java", "javascript", "rust")


def user_ids(members: int) -> list[int]:
    return [FIRST_USER + n for n in range(members)]


@cache
def roadmap_keys() -> tuple[str, ...]:
    roadmap = load_catalog(default_content_dir()).get(ROADMAP)
    assert roadmap is not None
    return tuple(checkpoint.key for _, checkpoint in roadmap.checkpoints())


@cache
def done_keys(user_id: int) -> frozenset[str]:
    """The real checkpoints a member has done (the same every build: seeded by the user id)."""
    return frozenset(random.Random(user_id).sample(roadmap_keys(), REAL_KEYS_DONE))


def open_keys(user_id: int) -> list[str]:
    done = done_keys(user_id)
    return [key for key in roadmap_keys() if key not in done]


def base_path(members: int) -> Path:
    return OUT / f"scale-v{BUILD_VERSION}-{members}.sqlite3"


async def working_copy(members: int, name: str) -> Path:
    """A fresh copy of the cached base database (built first if missing)."""
    base = base_path(members)
    if not base.exists():
        await build(base, members)
    target = OUT / f"{name}.sqlite3"
    _replace(base, target)
    return target


def _replace(base: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base, target)


async def build(path: Path, members: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = create_async_engine(f"sqlite+aiosqlite:///{partial}")
    async with engine.begin() as connection:
        await connection.run_sync(_migrate_to_0002)
    async with AsyncSession(engine) as session, session.begin():
        await _fill(session, members)
    await engine.dispose()
    partial.rename(path)


@asynccontextmanager
async def throwaway_postgres(admin_url: str, members: int) -> AsyncIterator[str]:
    """A fresh PostgreSQL database filled like the SQLite base (built at ``0002``, the bot's start
    migrates it), dropped on exit; yields its SQLAlchemy URL. ``admin_url`` names a database to
    connect to for ``CREATE DATABASE`` (``postgresql://postgres@127.0.0.1:5432/postgres``)."""
    admin = make_url(admin_url).set(drivername="postgresql+asyncpg")
    name = f"waypoint_bench_{members}_{os.getpid()}"
    target = admin.set(database=name)
    server = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with server.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_async_engine(target)
        async with engine.begin() as connection:
            await connection.run_sync(_migrate_to_0002)
        async with AsyncSession(engine) as session, session.begin():
            await _fill(session, members)
            await _catch_up_sequences(session)
        await engine.dispose()
        yield target.render_as_string(hide_password=False)
    finally:
        async with server.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await server.dispose()


async def _catch_up_sequences(session: AsyncSession) -> None:
    """Rows were inserted with explicit ids: move each id sequence past them (PostgreSQL)."""
    for table in ("cohorts", "review_rounds", "review_groups"):
        await session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


def _migrate_to_0002(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "0002")


async def _fill(session: AsyncSession, members: int) -> None:
    rng = random.Random(11)
    users = user_ids(members)
    await session.execute(insert(Cohort), [_cohort()])
    await _insert(session, CohortMember, (_member(user) for user in users))
    await _insert(session, ReviewParticipant, (_participant(user, rng) for user in users))
    await _insert(session, CheckpointCompletion, _checkpoints(users))
    await _rounds(session, users, rng)


async def _insert(session: AsyncSession, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            await session.execute(insert(model), batch)
            batch = []
    if batch:
        await session.execute(insert(model), batch)


def _cohort() -> dict[str, Any]:
    return {
        "id": COHORT_ID,
        "guild_id": GUILD_ID,
        "name": COHORT_NAME,
        "name_key": COHORT_NAME.casefold(),
        "roadmap_key": ROADMAP,
        "channel_id": 1,
        "start_date": EPOCH.date(),
        "timezone": "UTC",
        "weekday": 0,
        "slot_time": time(18, 0),
        "created_by": FIRST_USER,
        "created_at": EPOCH,
        "prompts_paused": True,  # no weekly post to a channel the benchmark does not have
        "review_enabled": False,  # no scheduled round: the benchmark runs the round itself
    }


def _member(user: int) -> dict[str, Any]:
    return {
        "guild_id": GUILD_ID,
        "cohort_id": COHORT_ID,
        "user_id": user,
        "display_name": f"m{user}",
        "joined_at": EPOCH,
    }


def _participant(user: int, rng: random.Random) -> dict[str, Any]:
    return {
        "guild_id": GUILD_ID,
        "cohort_id": COHORT_ID,
        "user_id": user,
        "active": True,
        "languages": ",".join(rng.sample(LANGUAGES, rng.choice((1, 1, 2)))),
        "timezone": rng.choice(ZONES),
        "missed_streak": 0,
        "auto_snooze_notice": False,
        "joined_at": EPOCH,
    }


def _checkpoints(users: list[int]) -> Iterator[dict[str, Any]]:
    for user in users:
        keys = sorted(done_keys(user)) + [f"retired-{n}" for n in range(RETIRED_KEYS)]
        for place, key in enumerate(keys):
            yield {
                "guild_id": GUILD_ID,
                "cohort_id": COHORT_ID,
                "user_id": user,
                "checkpoint_key": key,
                "completed_at": EPOCH + timedelta(hours=place * 30, minutes=user % 60),
            }


async def _rounds(session: AsyncSession, users: list[int], rng: random.Random) -> None:
    group_id = 0
    seats: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    for week in range(1, PAST_ROUNDS + 1):
        created = EPOCH + timedelta(weeks=week - 1)
        closed = created + timedelta(days=6) if week < PAST_ROUNDS else None
        await session.execute(insert(ReviewRound), [_round(week, created, closed)])
        order = list(users)
        rng.shuffle(order)
        for place in range(0, len(order) - 1, 2):
            group_id += 1
            pair = order[place : place + 2]
            groups.append({"id": group_id, "guild_id": GUILD_ID, "round_id": week, "thread_id": None})
            seats.extend({"guild_id": GUILD_ID, "group_id": group_id, "user_id": user} for user in pair)
            for reviewer, reviewee in (pair, pair[::-1]):
                if rng.random() < REVIEWED:
                    reviews.append(_review(week, reviewer, reviewee, created))
    await _insert(session, ReviewGroup, iter(groups))
    await _insert(session, ReviewGroupMember, iter(seats))
    await _insert(session, ReviewCompletion, iter(reviews))


def _round(week: int, created: datetime, closed: datetime | None) -> dict[str, Any]:
    return {
        "id": week,
        "guild_id": GUILD_ID,
        "cohort_id": COHORT_ID,
        "week": week,
        "seed": week,
        "created_at": created,
        "due_at": created + timedelta(days=6),
        "closed_at": closed,
    }


def _review(week: int, reviewer: int, reviewee: int, created: datetime) -> dict[str, Any]:
    return {
        "guild_id": GUILD_ID,
        "round_id": week,
        "reviewer_id": reviewer,
        "reviewee_id": reviewee,
        "completed_at": created + timedelta(days=2),
    }


async def align(session: AsyncSession, now: datetime) -> None:
    """Move the calendar so that ``now`` falls in week 27 and week 26's round is open, past due."""
    start: date = now.date() - timedelta(weeks=PAST_ROUNDS)
    await session.execute(update(Cohort).where(Cohort.id == COHORT_ID).values(start_date=start))
    await session.execute(
        update(ReviewRound)
        .where(ReviewRound.week == PAST_ROUNDS)
        .values(created_at=now - timedelta(days=7), due_at=now - timedelta(hours=1))
    )
