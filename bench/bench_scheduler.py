"""Weekly prompt scheduling at scale: 10,000 cohorts across 1,000 guilds on a real SQLite file.

Run from the repository root: ``python bench/bench_scheduler.py``. It measures:

- start-up as the bot does it: ``create_bot`` and the real ``setup_hook`` (migrations checked,
  services built, every extension loaded: a prompt job and a review job per cohort, the upkeep
  jobs), command sync off. Each run is a fresh process, as a real start is; the figures are the
  median time and the largest peak RSS (``resource.getrusage``) over the runs. Targets: under 3 s
  and under 200 MB. Beside it, the anchor: prompt jobs only, outside ``setup_hook``.
- the start-up catch-up over the same 10,000 cohorts (informational);
- the scheduled job's database work for a crowded slot: 1,000 cohorts each claim their week
  (``PromptService.claim_scheduled``) and record it as sent (``mark_sent``), as the weekly job does
  around the Discord call; total and median per post.
- a crowded slot: 1,000 posts due in the same minute through the bot's ``PostPacer`` on a virtual
  clock: how long until the last one goes out, and the most posts in any one-second window.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GUILDS = 1_000
COHORTS_PER_GUILD = 10
STARTUP_RUNS = 5
ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Kyiv",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Australia/Sydney",
    "Pacific/Auckland",
)
ROADMAPS = ("python-europe", "nodejs-path", "ninety-day-plan", "junior-to-senior", "job-skills")
# The moment the bench pretends it is: a Monday evening in Europe, in the week clocks change.
NOW = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)


def database_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def seed(path: Path) -> None:
    """10 cohorts in each of 1,000 guilds, slots clustered in the evening like real study groups."""
    from sqlalchemy import insert

    from bot.db.engine import create_engine, create_sessionmaker, upgrade_database
    from bot.db.models import Cohort

    engine = create_engine(database_url(path))
    await upgrade_database(engine)
    rng = random.Random(7)
    rows = []
    for guild in range(GUILDS):
        for number in range(COHORTS_PER_GUILD):
            hour = rng.choice([rng.randrange(24), rng.randrange(17, 22)])
            name = f"cohort {number}"
            rows.append(
                {
                    "guild_id": 10**17 + guild,
                    "name": name,
                    "name_key": name,
                    "roadmap_key": rng.choice(ROADMAPS),
                    "channel_id": 10**18 + guild * 100 + number,
                    "start_date": date(2026, 1, 5) + timedelta(days=rng.randrange(-60, 60)),
                    "timezone": rng.choice(ZONES),
                    "weekday": rng.randrange(7),
                    "slot_time": clock_time(hour, rng.choice([0, 0, 15, 30, 45])),
                    "created_by": 1,
                    "created_at": datetime(2025, 12, 1, tzinfo=UTC),
                }
            )
    async with create_sessionmaker(engine).begin() as session:
        await session.execute(insert(Cohort), rows)
    await engine.dispose()


async def startup(path: Path, with_catch_up: bool) -> dict[str, float]:
    """One process's start, as the bot does it: ``create_bot`` then the real ``setup_hook``.

    ``setup_hook`` migrates (nothing to do), builds the services, loads every extension (the prompt
    cog schedules a job per cohort, the review jobs one per cohort at its review slot, the hourly
    upkeep and purge jobs) and starts the scheduler; only the command sync (network) is off.
    Returns timings, job counts and the peak RSS.
    """
    began = time.perf_counter()
    from bot.app import create_bot
    from bot.config import Settings
    from bot.scheduling import PROMPT_JOB_PREFIX

    imported = time.perf_counter()
    settings = Settings(database_url=database_url(path), sync_commands=False, _env_file=None)  # type: ignore[call-arg]
    bot = create_bot(settings, clock=lambda: NOW)
    started = time.perf_counter()
    await bot.setup_hook()
    done = time.perf_counter()
    jobs = bot.scheduling.scheduler.get_jobs()
    prompt_jobs = sum(1 for job in jobs if job.id.startswith(f"{PROMPT_JOB_PREFIX}:"))
    review_jobs = sum(1 for job in jobs if job.id.startswith("review:"))
    assert prompt_jobs == review_jobs == GUILDS * COHORTS_PER_GUILD, (prompt_jobs, review_jobs)
    result = {
        "import_s": imported - began,
        "startup_s": done - started,
        "jobs": float(len(jobs)),
        "prompt_jobs": float(prompt_jobs),
        "review_jobs": float(review_jobs),
    }
    if with_catch_up:
        tick = time.perf_counter()
        plans = await bot.services.prompts.catch_up()
        result["catch_up_s"] = time.perf_counter() - tick
        result["catch_up_posts"] = float(sum(1 for plan in plans if plan.week is not None))
        result["catch_up_skipped_cohorts"] = float(sum(1 for plan in plans if plan.skipped_weeks))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    await bot.close()
    return result


async def prompt_jobs_only(path: Path) -> dict[str, float]:
    """The anchor: what the previous benchmark timed (prompt jobs only, outside ``setup_hook``)."""
    from bot.config import Settings
    from bot.container import build_services
    from bot.content import load_catalog
    from bot.db.engine import create_engine
    from bot.scheduling import PROMPT_JOB_PREFIX, Scheduling

    settings = Settings(database_url=database_url(path), _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings.database_url)
    services = build_services(settings, engine, load_catalog(settings.content_dir), lambda: NOW)
    scheduling = Scheduling()
    scheduling.scheduler.start(paused=True)

    async def fire(cohort_id: int) -> None:
        return None

    started = time.perf_counter()
    for cohort_id, slot in await services.prompts.job_slots():
        scheduling.weekly(PROMPT_JOB_PREFIX, cohort_id, slot, fire)
    elapsed = time.perf_counter() - started
    scheduling.shutdown()
    await engine.dispose()
    return {"startup_s": elapsed}


async def claim_and_record(path: Path, posts: int = 1_000) -> str:
    """The weekly job's database work for ``posts`` cohorts firing at once: claim, then mark sent."""
    from bot.config import Settings
    from bot.container import build_services
    from bot.content import load_catalog
    from bot.db.engine import create_engine

    settings = Settings(database_url=database_url(path), _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings.database_url)
    services = build_services(settings, engine, load_catalog(settings.content_dir), lambda: NOW)
    cohort_ids = [cohort_id for cohort_id, _ in await services.prompts.job_slots()][:posts]
    durations, claimed = [], 0
    began = time.perf_counter()
    for cohort_id in cohort_ids:
        tick = time.perf_counter()
        post = await services.prompts.claim_scheduled(cohort_id)
        if post is not None:
            await services.prompts.mark_sent(post, message_id=cohort_id)
            claimed += 1
        durations.append((time.perf_counter() - tick) * 1000)
    total = time.perf_counter() - began
    await engine.dispose()
    return (
        f"scheduled claim + mark sent: {len(cohort_ids)} cohorts in {total:.2f} s "
        f"({claimed} posts claimed), median {statistics.median(durations):.2f} ms, "
        f"max {max(durations):.2f} ms per cohort"
    )


async def crowded_slot(posts: int = 1_000) -> str:
    """Everyone fires at once; the pacer hands out turns. A virtual clock: nothing really waits."""
    from bot.pacing import PostPacer

    send_times: list[float] = []

    async def record(seconds: float) -> None:
        send_times.append(seconds)

    pacer = PostPacer(monotonic=lambda: 0.0, sleep=record)
    for _ in range(posts):
        before = len(send_times)
        await pacer.wait()
        if len(send_times) == before:
            send_times.append(0.0)
    busiest = max(sum(1 for moment in send_times if first <= moment < first + 1) for first in send_times)
    return (
        f"crowded slot: {posts} posts due in one minute -> {len(send_times)} sent (none dropped), "
        f"the last after {max(send_times):.1f} s, at most {busiest} in any one-second window"
    )


def child(argv: list[str]) -> None:
    mode, path = argv[0], Path(argv[1])
    if mode == "--seed":
        asyncio.run(seed(path))
    elif mode == "--startup":
        print(json.dumps(asyncio.run(startup(path, with_catch_up=len(argv) > 2))))
    elif mode == "--prompt-jobs-only":
        print(json.dumps(asyncio.run(prompt_jobs_only(path))))


def run_child(*args: str) -> str:
    completed = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        tick = time.perf_counter()
        run_child("--seed", str(path))
        seeded = time.perf_counter() - tick
        print(f"seeded {GUILDS * COHORTS_PER_GUILD} cohorts in {GUILDS} guilds in {seeded:.1f} s")

        runs = [json.loads(run_child("--startup", str(path))) for _ in range(STARTUP_RUNS)]
        anchors = [json.loads(run_child("--prompt-jobs-only", str(path))) for _ in range(STARTUP_RUNS)]
        startup_median = statistics.median(run["startup_s"] for run in runs)
        anchor_median = statistics.median(run["startup_s"] for run in anchors)
        print(
            f"start-up through the real setup_hook ({int(runs[0]['prompt_jobs'])} prompt + "
            f"{int(runs[0]['review_jobs'])} review jobs, {int(runs[0]['jobs'])} in all): "
            f"median {startup_median:.2f} s (target < 3 s; imports "
            f"{statistics.median(run['import_s'] for run in runs):.2f} s before that), "
            f"peak RSS {max(run['peak_rss_mb'] for run in runs):.0f} MB (target < 200 MB) "
            f"over {STARTUP_RUNS} fresh processes"
        )
        print(
            f"anchor, prompt jobs only outside setup_hook: median {anchor_median:.2f} s; "
            f"ratio real / anchor {startup_median / anchor_median:.2f}"
        )

        copy = Path(folder) / "catch-up.sqlite3"
        shutil.copy(path, copy)
        first_start = json.loads(run_child("--startup", str(copy), "--catch-up"))
        print(
            f"first start-up catch-up: {first_start['catch_up_s']:.2f} s for 10,000 cohorts "
            f"({int(first_start['catch_up_posts'])} late posts to send, "
            f"{int(first_start['catch_up_skipped_cohorts'])} cohorts with old weeks recorded as skipped), "
            f"peak RSS {first_start['peak_rss_mb']:.0f} MB"
        )

        claims = Path(folder) / "claims.sqlite3"
        shutil.copy(path, claims)
        print(asyncio.run(claim_and_record(claims)))
    print(asyncio.run(crowded_slot()))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(sys.argv[1:])
    else:
        main()
