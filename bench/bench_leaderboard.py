"""`/leaderboard` at 10,000 members, 600,000 checkpoint rows and 26 review rounds, on SQLite.

Run: `python bench/bench_leaderboard.py [--members N] [--samples N]`. Starts from the cached scale
database (bench/scale_db.py, at migration 0002), migrates it to just before ``0006``, moves the
calendar to today (``scale_db.align``) and gives every member 0-6 checkpoints in the current week,
so the week, month and all-time boards are all full (heavy ties: ranks are decided by who got
there first). 2% of members hide from leaderboards and 1% have left the cohort. Then:

1. the upgrade to head, which backfills the counters from the raw rows (timed once);
2. ``MomentumService.leaderboard`` for callers spread over the whole board (top, middle, last:
   the caller's rank is a count over the index range above them), per period, beside a trivial
   service call in the same run (``checkpoint_choices`` for a named cohort), and the streak read
   ``/progress`` adds (``MomentumService.streak``);
3. the real `/leaderboard` command through SimCord (parsing, rendering, the reply) beside
   `/roadmap list` (no database), for a member near the bottom of the board.
Prints p50/p99 in ms and each p50 as a multiple of the anchor's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import simcord
from alembic import command
from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_scale  # beside this file
import scale_db

from bot.app import create_bot
from bot.clock import system_clock
from bot.container import build_services
from bot.content import load_catalog
from bot.db.engine import alembic_config, create_engine, upgrade_database
from bot.db.models import CheckpointCompletion, Cohort, CohortMember, LeaderboardChoice, MemberTally
from bot.kernel import slots
from bot.kernel.errors import DomainError
from bot.momentum import rules
from bot.momentum.rules import PeriodKind

GUILD = scale_db.GUILD_ID
COHORT = scale_db.COHORT_NAME
HIDDEN_SHARE = 0.02
LEFT_SHARE = 0.01
MAX_THIS_WEEK = 6


async def prepare(path: Path, members: int, now: datetime) -> float:
    """Calendar moved to today, this week's activity added; returns the upgrade's seconds."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0006-1"))
    rng = random.Random(13)
    users = scale_db.user_ids(members)
    async with engine.begin() as connection:
        session_like: Any = connection
        await scale_db.align(session_like, now)
        start = now.date() - timedelta(weeks=scale_db.PAST_ROUNDS)
        week = slots.cohort_week(start, now, "UTC")
        since = rules.bounds(rules.PeriodKey(PeriodKind.WEEK, week), start, "UTC")[0]
        assert since is not None
        span = max(1.0, (now - since).total_seconds())
        rows = [
            {
                "guild_id": GUILD,
                "cohort_id": scale_db.COHORT_ID,
                "user_id": user,
                "checkpoint_key": f"this-week-{n}",
                "completed_at": since + timedelta(seconds=rng.uniform(0, span)),
            }
            for user in users
            for n in range(rng.randrange(MAX_THIS_WEEK + 1))
        ]
        for first in range(0, len(rows), scale_db.CHUNK):
            await connection.execute(insert(CheckpointCompletion), rows[first : first + scale_db.CHUNK])
        left = rng.sample(users, int(len(users) * LEFT_SHARE))
        await connection.execute(
            update(CohortMember).where(CohortMember.user_id.in_(left)).values(left_at=now - timedelta(days=1))
        )
    tick = time.perf_counter()
    await upgrade_database(engine)
    upgrade = time.perf_counter() - tick
    async with engine.begin() as connection:
        hidden = rng.sample(users, int(len(users) * HIDDEN_SHARE))
        await connection.execute(
            insert(LeaderboardChoice),
            [{"guild_id": GUILD, "user_id": user, "hidden": True, "updated_at": now} for user in hidden],
        )
    await engine.dispose()
    return upgrade


def callers(members: int, samples: int) -> list[int]:
    """Members spread over the whole board, so ranks from the top to the last are counted."""
    users = scale_db.user_ids(members)
    return [users[place * 7919 % len(users)] for place in range(samples)]


async def service_run(path: Path, members: int, samples: int) -> None:
    settings = bench_scale.bench_settings(path)
    engine = create_engine(settings.database_url)
    services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
    times: dict[str, list[float]] = {"anchor": [], "streak": []}
    times.update({kind.value: [] for kind in PeriodKind})
    ranks: dict[str, list[int]] = {kind.value: [] for kind in PeriodKind}
    listed: dict[str, int] = {}
    for user in callers(members, samples):
        times["anchor"].append(
            await bench_scale.timed(services.progress.checkpoint_choices(GUILD, user, COHORT, "zz"))
        )
        for kind in PeriodKind:
            tick = time.perf_counter()
            board = await services.momentum.leaderboard(GUILD, user, COHORT, kind)
            times[kind.value].append(time.perf_counter() - tick)
            listed[kind.value] = board.listed
            if board.me.rank is not None:
                ranks[kind.value].append(board.me.rank)
        with contextlib.suppress(DomainError):  # one of the members who left: /progress refuses them too
            times["streak"].append(await bench_scale.timed(services.momentum.streak(GUILD, user, COHORT)))
    async with services.sessions() as session:
        counters = await session.scalar(bench_scale_count())
    await engine.dispose()
    anchor = bench_scale.pct(times["anchor"], 0.5)
    print(f"services ({members} members, {counters:,} counter rows, callers all over the board):")
    bench_scale.line("anchor: checkpoint_choices (named cohort)", times["anchor"])
    for kind in PeriodKind:
        spread = ranks[kind.value]
        where = f"ranks {min(spread)}..{max(spread)} of {listed[kind.value]}" if spread else "no ranks"
        bench_scale.line(f"leaderboard period={kind.value} ({where})", times[kind.value], anchor)
    bench_scale.line("streak (what /progress adds)", times["streak"], anchor)


def bench_scale_count() -> Any:
    from sqlalchemy import func, select

    return select(func.count()).select_from(MemberTally)


async def near_the_bottom(bot: Any, members: int) -> int:
    """A listed member among the last of this week's board: their rank counts nearly everyone."""
    best = (0, scale_db.user_ids(members)[0])
    for user in callers(members, 60):
        board = await bot.services.momentum.leaderboard(GUILD, user, COHORT)
        if board.me.rank is not None and board.me.rank > best[0]:
            best = (board.me.rank, user)
    return best[1]


async def simcord_run(path: Path, members: int, samples: int) -> None:
    bot = create_bot(bench_scale.bench_settings(path))
    async with simcord.run(bot) as env:
        guild = env.create_guild("Scale", id=GUILD)
        channel = guild.create_text_channel("study")
        actor = guild.add_member(env.create_user("reader"))
        async with bot.services.sessions.begin() as session:
            # SimCord's clock is not the system's: move the start so "this week" is the same week.
            cohort = await session.get(Cohort, scale_db.COHORT_ID)
            assert cohort is not None
            cohort.start_date += bot.clock().date() - system_clock().date()
        seeded = await near_the_bottom(bot, members)
        async with bot.services.sessions.begin() as session:
            await bench_scale.adopt(session, seeded, actor.id)
            for column in (MemberTally.user_id, LeaderboardChoice.user_id):
                await session.execute(
                    update(column.class_).where(column == seeded).values({column.key: actor.id})
                )
        times: dict[str, list[float]] = {"anchor": [], "week": [], "all": []}
        for _ in range(samples):
            times["anchor"].append(await bench_scale.timed(actor.slash(channel, "roadmap list")))
            times["week"].append(await bench_scale.timed(actor.slash(channel, "leaderboard", cohort=COHORT)))
            every = actor.slash(channel, "leaderboard", cohort=COHORT, period="all")
            times["all"].append(await bench_scale.timed(every))
        last = await actor.slash(channel, "leaderboard", cohort=COHORT)
        place = [field.value for field in last.response.embeds[0].fields]
        anchor = bench_scale.pct(times["anchor"], 0.5)
        print("end to end through SimCord (the real command tree, rendering and reply):")
        bench_scale.line("anchor: /roadmap list (no database)", times["anchor"])
        bench_scale.line("/leaderboard", times["week"], anchor)
        bench_scale.line("/leaderboard period:all", times["all"], anchor)
        print(f"  the caller's line: {place[0] if place else '(none)'}")
    await bot.close()


async def main(members: int, samples: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    path = await scale_db.working_copy(members, "leaderboard-run")
    upgrade = await prepare(path, members, system_clock())
    print(f"upgrade to head with the counters' backfill: {upgrade:.1f} s")
    await service_run(path, members, samples)
    await simcord_run(path, members, max(20, samples // 5))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.samples))
