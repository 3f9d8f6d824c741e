"""How long `/progress` takes on a busy server: 1,000 members and 50,000 checkpoint rows.

Run: `python bench/bench_progress.py`. Prints medians of repeated runs:
- the service call alone (query + maths), for a member picked at random each time;
- the whole slash command through SimCord (discord.py's real parsing, our rendering), next to a
  no-op anchor command measured in the same run (`/roadmap list`, which reads no database), so the
  ratio holds on a noisy machine.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import simcord
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_bot
from bot.config import Settings
from bot.db.models import CheckpointCompletion, CohortMember

MEMBERS = 1_000
ROWS_PER_MEMBER_PER_COHORT = 25  # x 2 cohorts x 1,000 members = 50,000 rows
REPEATS = 60


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            discord_token="bench",
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}",
            _env_file=None,  # type: ignore[call-arg]
        )
        bot = create_bot(settings)
        async with simcord.run(bot) as env:
            guild = env.create_guild("Bench")
            channel = guild.create_text_channel("study")
            import discord

            mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
            mod = guild.add_member(env.create_user("mod"), roles=[mods])
            actor = guild.add_member(env.create_user("reader"))
            cohorts = {"Seniors": "junior-to-senior", "Skills": "job-skills"}
            for name, roadmap in cohorts.items():
                await mod.slash(
                    channel, "cohort create", name=name, roadmap=roadmap, channel=channel, start="2025-06-01"
                )
            services = bot.services
            rng = random.Random(7)
            started = time.perf_counter()
            member_ids = [actor.id] + [10_000_000 + n for n in range(MEMBERS - 1)]
            async with services.sessions.begin() as session:
                members, completions = [], []
                for cohort_id, roadmap_key in ((1, "junior-to-senior"), (2, "job-skills")):
                    keys = [c.key for _, c in services.catalog.get(roadmap_key).checkpoints()]  # type: ignore[union-attr]
                    for user_id in member_ids:
                        members.append(
                            {
                                "guild_id": guild.id,
                                "cohort_id": cohort_id,
                                "user_id": user_id,
                                "display_name": f"m{user_id}",
                                "joined_at": datetime(2025, 6, 1, tzinfo=UTC),
                            }
                        )
                        for key in rng.sample(keys, ROWS_PER_MEMBER_PER_COHORT):
                            completions.append(
                                {
                                    "guild_id": guild.id,
                                    "cohort_id": cohort_id,
                                    "user_id": user_id,
                                    "checkpoint_key": key,
                                    "completed_at": datetime(2025, 6, 1, tzinfo=UTC)
                                    + timedelta(minutes=rng.randrange(300_000)),
                                }
                            )
                await session.execute(insert(CohortMember), members)
                await session.execute(insert(CheckpointCompletion), completions)
            print(
                f"seeded {len(members)} memberships and {len(completions)} checkpoint rows "
                f"in {time.perf_counter() - started:.2f} s"
            )

            service_times = []
            for _ in range(REPEATS):
                user = rng.choice(member_ids)
                tick = time.perf_counter()
                await services.progress.report(guild.id, user, "Seniors")
                service_times.append(time.perf_counter() - tick)

            command_times, anchor_times = [], []
            for _ in range(REPEATS // 2):
                tick = time.perf_counter()
                result = await actor.slash(channel, "progress", cohort="Seniors")
                command_times.append(time.perf_counter() - tick)
                assert result.response is not None
                assert result.response.embeds
                tick = time.perf_counter()
                await actor.slash(channel, "roadmap list")
                anchor_times.append(time.perf_counter() - tick)
        await bot.close()

    service_ms = statistics.median(service_times) * 1000
    command_ms = statistics.median(command_times) * 1000
    anchor_ms = statistics.median(anchor_times) * 1000
    print(f"ProgressService.report median: {service_ms:.2f} ms ({REPEATS} runs)")
    print(
        f"/progress via SimCord median: {command_ms:.2f} ms; "
        f"anchor /roadmap list median: {anchor_ms:.2f} ms; ratio {command_ms / anchor_ms:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
