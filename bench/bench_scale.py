"""Members' commands at 10,000 members, 600,000 checkpoint rows and 26 past review rounds.

Run: `python bench/bench_scale.py [--members N] [--samples N] [--only SECTION ...] [--postgres URL]`.
The SQLite database is built once and cached under bench/out/ (see bench/scale_db.py); each run
works on a fresh copy, migrated to head by the same `upgrade_database` the bot runs at start-up.
With `--postgres` (or $WAYPOINT_BENCH_POSTGRES_URL) the same measurements follow on a throwaway
PostgreSQL database filled the same way and dropped after. Prints p50/p99 (ms) and the ratio of each
p50 to the anchor measured in the same run:

1. through the services the cogs call (what `/review status`, `/progress` - report then review
   counts, as `cogs/progress.py` does - and `/checkpoint done` run), a different member each
   time, beside a trivial service call (`checkpoint_choices` for a cohort named explicitly);
2. `/checkpoint done` while this week's 10,000-member round is created (`ReviewRounds.run_round`,
   which first closes last week's round), with the round's time, the errors, and the longest
   writing transaction meanwhile (an upper bound on how long SQLite's writer was held);
3. 1,000 simultaneous `/checkpoint done` (asyncio.gather, distinct members): errors, p50/p99/max;
4. end to end through SimCord (discord.py's real parsing, our rendering) beside `/roadmap list`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import simcord
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scale_db  # beside this file

from bot.app import create_bot, freeze_startup_objects
from bot.clock import system_clock
from bot.config import Settings
from bot.container import Services, build_services
from bot.content import load_catalog
from bot.db.engine import create_engine, upgrade_database
from bot.db.models import (
    CheckpointCompletion,
    CohortMember,
    ReviewCompletion,
    ReviewGroupMember,
    ReviewParticipant,
)

GUILD = scale_db.GUILD_ID
COHORT = scale_db.COHORT_NAME
SIMULTANEOUS = 1_000


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def line(label: str, values: list[float], anchor: float | None = None) -> None:
    p50, p99 = pct(values, 0.5), pct(values, 0.99)
    ratio = f"  {p50 / anchor:7.1f}x anchor" if anchor else ""
    print(f"  {label:<44} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  (n={len(values)}){ratio}")


async def timed(call: Awaitable[Any]) -> float:
    tick = time.perf_counter()
    await call
    return time.perf_counter() - tick


class Members:
    """Hands out distinct members, each with a checkpoint still open."""

    def __init__(self, count: int) -> None:
        self._users = scale_db.user_ids(count)[:-1]  # the last one becomes the SimCord actor
        self._next = 0

    def take(self) -> tuple[int, str]:
        user = self._users[self._next % len(self._users)]
        self._next += 1
        return user, scale_db.open_keys(user)[0]


async def commands_section(services: Services, members: Members, samples: int) -> None:
    progress, reviews = services.progress, services.reviews

    async def slash_progress(user: int) -> None:
        view = await progress.report(GUILD, user, COHORT)
        await reviews.counts(GUILD, user, view.cohort_name)

    times: dict[str, list[float]] = {name: [] for name in ("anchor", "status", "progress", "done")}
    for _ in range(samples):
        user, key = members.take()
        times["anchor"].append(await timed(progress.checkpoint_choices(GUILD, user, COHORT, "zz")))
        times["status"].append(await timed(reviews.status(GUILD, user, COHORT)))
        times["progress"].append(await timed(slash_progress(user)))
        times["done"].append(await timed(progress.complete(GUILD, user, key, cohort_name=COHORT)))
    anchor = pct(times["anchor"], 0.5)
    print("services the cogs call (a different member each time):")
    line("anchor: checkpoint_choices (one cohort lookup)", times["anchor"])
    line("/review status", times["status"], anchor)
    line("/progress (report + review counts)", times["progress"], anchor)
    line("/checkpoint done", times["done"], anchor)


class TransactionWatch:
    """The longest transaction that wrote (SQLAlchemy begin -> commit/rollback): on SQLite, an
    upper bound on how long one transaction held the writer lock."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.longest = 0.0
        self._open: dict[int, float] = {}
        self._wrote: set[int] = set()
        target = engine.sync_engine
        event.listen(target, "begin", lambda conn: self._open.__setitem__(id(conn), time.perf_counter()))
        event.listen(target, "before_cursor_execute", self._statement)
        event.listen(target, "commit", self._end)
        event.listen(target, "rollback", self._end)

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            self._wrote.add(id(conn))

    def _end(self, conn: Any) -> None:
        started = self._open.pop(id(conn), None)
        if started is not None and id(conn) in self._wrote:
            self.longest = max(self.longest, time.perf_counter() - started)
        self._wrote.discard(id(conn))


async def guarded(call: Awaitable[Any], errors: list[str]) -> None:
    try:
        await call
    except Exception as error:
        errors.append(f"{type(error).__name__}: {str(error)[:80]}")


async def round_section(services: Services, members: Members, engine: AsyncEngine) -> None:
    watch = TransactionWatch(engine)
    errors: list[str] = []
    run = services.review_rounds.run_round(GUILD, COHORT, lambda _user: True)
    started = time.perf_counter()
    task = asyncio.ensure_future(run)
    times: list[float] = []
    while not task.done():
        user, key = members.take()
        times.append(
            await timed(guarded(services.progress.complete(GUILD, user, key, cohort_name=COHORT), errors))
        )
    outcome = task.result()
    took = time.perf_counter() - started
    print(
        f"weekly round for {len(outcome.round.groups)} groups: {took:.2f} s (created={outcome.created}); "
        f"longest writing transaction meanwhile {watch.longest * 1000:.0f} ms"
    )
    line("/checkpoint done during the round", times)
    print(f"  errors during the round: {len(errors)} {sorted(set(errors))[:3]}")


async def simultaneous_section(services: Services, members: Members) -> None:
    errors: list[str] = []
    picks = [members.take() for _ in range(SIMULTANEOUS)]
    calls = [
        timed(guarded(services.progress.complete(GUILD, user, key, cohort_name=COHORT), errors))
        for user, key in picks
    ]
    started = time.perf_counter()
    times = list(await asyncio.gather(*calls))
    print(
        f"{SIMULTANEOUS} simultaneous /checkpoint done: all answered in {time.perf_counter() - started:.2f} s"
    )
    line("each call (from the common start)", times)
    print(f"  max {max(times) * 1000:.0f} ms; errors: {len(errors)} {sorted(set(errors))[:3]}")


SECTIONS = ("commands", "round", "simultaneous", "simcord")


async def service_run(url: str, members: int, samples: int, only: set[str]) -> None:
    settings = bench_settings(url)
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
    async with services.sessions.begin() as session:
        await scale_db.align(session, system_clock())
    freeze_startup_objects()  # as the bot's setup_hook does once it has started
    handout = Members(members)
    if "commands" in only:
        await commands_section(services, handout, samples)
    if "round" in only:
        await round_section(services, handout, engine)
    if "simultaneous" in only:
        await simultaneous_section(services, handout)
    services.review_rounds.shutdown()
    await engine.dispose()


async def simcord_run(url: str, members: int, samples: int) -> None:
    bot = create_bot(bench_settings(url))
    async with simcord.run(bot) as env:
        guild = env.create_guild("Scale", id=GUILD)
        channel = guild.create_text_channel("study")
        actor = guild.add_member(env.create_user("reader"))
        seeded = scale_db.user_ids(members)[-1]
        async with bot.services.sessions.begin() as session:
            await adopt(session, seeded, actor.id)
            await scale_db.align(session, bot.clock())
        key = scale_db.open_keys(seeded)[0]
        times: dict[str, list[float]] = {name: [] for name in ("anchor", "status", "progress", "done")}
        for _ in range(samples):
            times["anchor"].append(await timed(actor.slash(channel, "roadmap list")))
            times["status"].append(await timed(actor.slash(channel, "review status", cohort=COHORT)))
            times["progress"].append(await timed(actor.slash(channel, "progress", cohort=COHORT)))
            done = actor.slash(channel, "checkpoint done", checkpoint=key, cohort=COHORT)
            times["done"].append(await timed(done))
            await bot.services.progress.undo(GUILD, actor.id, key, cohort_name=COHORT)
        anchor = pct(times["anchor"], 0.5)
        print("end to end through SimCord (one member, the real command tree and rendering):")
        line("anchor: /roadmap list (no database)", times["anchor"])
        line("/review status", times["status"], anchor)
        line("/progress", times["progress"], anchor)
        line("/checkpoint done", times["done"], anchor)
    await bot.close()


async def adopt(session: Any, seeded: int, actor: int) -> None:
    """Give a seeded member's rows to the SimCord member (Discord ids cannot be chosen)."""
    for column in (
        CohortMember.user_id,
        ReviewParticipant.user_id,
        CheckpointCompletion.user_id,
        ReviewGroupMember.user_id,
        ReviewCompletion.reviewer_id,
        ReviewCompletion.reviewee_id,
    ):
        await session.execute(update(column.class_).where(column == seeded).values({column.key: actor}))


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def bench_settings(url: str | Path) -> Settings:
    return Settings(
        discord_token="bench",
        database_url=sqlite_url(url) if isinstance(url, Path) else url,
        _env_file=None,  # type: ignore[call-arg]
    )


async def run_on(url: str, members: int, samples: int, only: set[str]) -> None:
    await service_run(url, members, samples, only)
    if "simcord" in only:
        await simcord_run(url, members, max(10, samples // 5))


async def main(members: int, samples: int, only: set[str], postgres: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    path = await scale_db.working_copy(members, "scale-run")
    print(f"== SQLite: database ready ({members} members) in {time.perf_counter() - started:.1f} s: {path}")
    await run_on(sqlite_url(path), members, samples, only)
    if postgres is None:
        return
    started = time.perf_counter()
    async with scale_db.throwaway_postgres(postgres, members) as url:
        print(f"== PostgreSQL: database ready ({members} members) in {time.perf_counter() - started:.1f} s")
        await run_on(url, members, samples, only)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("WAYPOINT_BENCH_POSTGRES_URL"),
        metavar="URL",
        help="also run on PostgreSQL: a throwaway database is created through this server URL"
        " (e.g. postgresql://postgres@127.0.0.1:5432/postgres) and dropped after; default"
        " $WAYPOINT_BENCH_POSTGRES_URL",
    )
    arguments = parser.parse_args()
    sections = set(arguments.only or SECTIONS)
    asyncio.run(main(arguments.members, arguments.samples, sections, arguments.postgres))
