"""A popular slot: 1,000 cohorts whose weekly prompt and review round fire at the same moment.

Run from the repository root: ``python bench/bench_popular_slot.py``. On a real SQLite file, two
processes (one runs every shard, a rolling restart's newcomer runs shard 1 of 2) each build their
jobs as ``setup_hook`` does and fire all of them at once through the scheduling facility (the gate
below the pool, the retry hook). Printed: prompts posted / missed / duplicated, rounds run, retries
and the wall time; then the same slot with the gate opened wide (the anchor: today's unbounded
behaviour), where the retry hook has to recover what the pool refused. Medians over the runs.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COHORTS = 1_000
RUNS = 3


async def one_slot(folder: Path, concurrency: int, index: int) -> tuple[float, object]:
    from bot.config import Settings
    from bot.content import load_catalog
    from bot.db.engine import create_engine, upgrade_database
    from bot.scheduling import Ownership
    from tests.db.popular_slot import fire_slot, seed, start_process, stop

    url = f"sqlite+aiosqlite:///{folder / f'slot-{concurrency}-{index}.sqlite3'}"
    engine = create_engine(url)
    await upgrade_database(engine)
    await engine.dispose()
    settings = Settings(database_url=url, job_concurrency=concurrency, _env_file=None)  # type: ignore[call-arg]
    await seed(settings, COHORTS)
    catalog = load_catalog(settings.content_dir)
    processes = [
        await start_process(settings, catalog, Ownership()),
        await start_process(settings, catalog, Ownership(2, (1,))),
    ]
    began = time.perf_counter()
    result = await fire_slot(processes, COHORTS)
    elapsed = time.perf_counter() - began
    await stop(processes)
    return elapsed, result


def report(label: str, runs: list[tuple[float, object]]) -> float:
    median = statistics.median(elapsed for elapsed, _ in runs)
    for elapsed, result in runs:
        print(
            f"  {label}: posted {result.posted}/{result.cohorts}, missed {result.missed}, "  # type: ignore[attr-defined]
            f"duplicated {result.duplicated}, recorded sent {result.sent_rows}, "  # type: ignore[attr-defined]
            f"rounds {result.rounds}, "  # type: ignore[attr-defined]
            f"retries {result.retries}, {elapsed:.1f} s"  # type: ignore[attr-defined]
        )
    print(f"{label}: median {median:.1f} s over {len(runs)} runs")
    return median


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    print(f"popular slot: {COHORTS} cohorts, {2 * COHORTS} jobs per process, two processes, one SQLite file")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        gated = [asyncio.run(one_slot(folder, 8, run)) for run in range(RUNS)]
        wide = [asyncio.run(one_slot(folder, 100_000, run)) for run in range(RUNS)]
    gated_median = report("gate 8 (default)", gated)
    wide_median = report("gate wide open (anchor)", wide)
    print(f"ratio gated / wide open: {gated_median / wide_median:.2f}")


if __name__ == "__main__":
    main()
