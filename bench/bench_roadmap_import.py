"""How long the largest allowed roadmap file takes to validate and to import (issue 12).

Run: `python bench/bench_roadmap_import.py [--runs N]` (default 5). Builds a file at the limits,
24 phases of 80 checkpoints just under 256 KiB, and prints the median of N runs of:
- `parse_roadmap` (THE validator, as `/roadmap import` and `waypoint content check` run it);
- `RoadmapService.start_import` into a fresh SQLite database (validate, store, audit, catalog);
- beside them, as an anchor measured in the same run, validating the shipped python-europe.yaml.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import system_clock
from bot.config import Settings
from bot.container import build_services
from bot.content import MAX_FILE_BYTES, default_content_dir, load_catalog, parse_roadmap
from bot.db.engine import create_engine, upgrade_database
from bot.kernel.roadmap import MAX_CHECKPOINTS_PER_PHASE, MAX_PHASES


def largest_file() -> bytes:
    """24 phases x 80 checkpoints, descriptions padded so the file ends just under the size limit."""

    def build(pad: int) -> str:
        lines = [
            "key: largest-path",
            "title: The largest path",
            "summary: Every limit reached at once.",
            "phases:",
        ]
        for phase in range(MAX_PHASES):
            lines += [
                f"  - key: phase-{phase:02d}",
                f"    title: Phase {phase + 1}",
                "    summary: One of twenty-four phases.",
                f"    start_day: {phase * 7}",
                "    duration_days: 7",
                "    topics: [reading, practice]",
                "    checkpoints:",
            ]
            for number in range(MAX_CHECKPOINTS_PER_PHASE):
                lines += [
                    f"      - key: p{phase:02d}-c{number:02d}",
                    f"        title: Step {number + 1} of phase {phase + 1}",
                    "        description: Work through this step " + "x" * pad,
                ]
            lines += ["    prompts:", "      - Tell the cohort what this phase taught you so far."]
        return "\n".join(lines) + "\n"

    pad = 0
    while len(build(pad + 1).encode()) <= MAX_FILE_BYTES:
        pad += 1
    return build(pad).encode()


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


async def import_times(data: bytes, runs: int) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            discord_token="bench",
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}",
            _env_file=None,  # type: ignore[call-arg]
        )
        engine = create_engine(settings.database_url)
        await upgrade_database(engine)
        services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
        for run in range(runs):
            started = time.perf_counter()
            outcome = await services.roadmaps.start_import(1000 + run, 1, "largest.yaml", data)
            times.append(time.perf_counter() - started)
            assert type(outcome).__name__ == "Imported", outcome
        await engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    data = largest_file()
    anchor = (default_content_dir() / "python-europe.yaml").read_bytes()
    validate, shipped = [], []
    for _ in range(runs):
        started = time.perf_counter()
        roadmap, problems = parse_roadmap(data, "largest.yaml")
        validate.append(time.perf_counter() - started)
        assert roadmap is not None, problems
        assert roadmap.checkpoint_count == MAX_PHASES * MAX_CHECKPOINTS_PER_PHASE
        started = time.perf_counter()
        parse_roadmap(anchor, "python-europe.yaml", expected_key="python-europe")
        shipped.append(time.perf_counter() - started)
    imports = asyncio.run(import_times(data, runs))
    print(
        f"largest allowed file: {len(data) / 1024:.1f} KiB,"
        f" {MAX_PHASES} phases x {MAX_CHECKPOINTS_PER_PHASE} checkpoints"
    )
    print(f"median of {runs} runs:")
    print(f"  validate the largest file            {median_ms(validate)}")
    print(f"  import it (validate, store, audit)   {median_ms(imports)}")
    print(f"  anchor: validate python-europe.yaml  {median_ms(shipped)} ({len(anchor) / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
