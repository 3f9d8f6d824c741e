"""How long `/progress` takes with review history: the report and the review counts, separately.

Run: `python bench/bench_progress.py [--members N]` (default 10,000: 600,000 checkpoint rows and
26 past review rounds, the database bench/scale_db.py builds once and caches under bench/out/).
The earlier version seeded no review rounds, so it never timed the review counts, which were 87%
of `/progress` at 10,000 members. Prints p50/p99 of, per member picked in turn:
- `ProgressService.report` (checkpoints and pace) and `ReviewService.counts` (what the cog calls
  next), and the two together as `cogs/progress.py` runs them;
- the whole slash command through SimCord next to `/roadmap list` (no database) in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_scale
import scale_db  # beside this file

from bot.clock import system_clock
from bot.container import build_services
from bot.content import load_catalog
from bot.db.engine import create_engine, upgrade_database

SAMPLES = 200


async def services_part(path: Path, members: int) -> None:
    settings = bench_scale.bench_settings(path)
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
    async with services.sessions.begin() as session:
        await scale_db.align(session, system_clock())
    times: dict[str, list[float]] = {"report": [], "counts": [], "both": []}
    users = scale_db.user_ids(members)
    for place in range(SAMPLES):
        user = users[place * 37 % len(users)]
        tick = time.perf_counter()
        view = await services.progress.report(scale_db.GUILD_ID, user, scale_db.COHORT_NAME)
        middle = time.perf_counter()
        await services.reviews.counts(scale_db.GUILD_ID, user, view.cohort_name)
        end = time.perf_counter()
        times["report"].append(middle - tick)
        times["counts"].append(end - middle)
        times["both"].append(end - tick)
    await engine.dispose()
    share = sum(times["counts"]) / sum(times["both"]) * 100
    print(f"/progress through its services ({members} members, 26 review rounds):")
    bench_scale.line("ProgressService.report", times["report"])
    bench_scale.line("ReviewService.counts", times["counts"])
    bench_scale.line("both, as the cog calls them", times["both"])
    print(f"  review counts are {share:.0f}% of the time")


async def main(members: int) -> None:
    path = await scale_db.working_copy(members, "progress-run")
    await services_part(path, members)
    await bench_scale.simcord_run(path, members, 40)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().members))
