"""How long exports take on a large server: 10,000 members x 60 checkpoints.

Run: `python bench/bench_export.py [--members N] [--repeats N] [--only csv|xlsx]` (``--only``
runs just the CSV or just the XLSX part). It builds a temporary SQLite file through the real
migrations with one cohort on a generated 60-checkpoint roadmap, 10,000 active members who have
each completed every checkpoint (600,000 checkpoint rows, one in three with an evidence link; a
few hostile display names so the slow CSV paths run too), 8 review rounds of pairs (80,000
completed reviews) and a second server as noise. Then it prints:

- the median time of `ExportService.write` for the progress CSV (target < 1.5 s) and the long
  checkpoint CSV (600,000 rows, target < 5 s), written to a file;
- the sqlite3 command-line shell exporting the same SQL statements to CSV, run alternately with
  the export in the same loop (skipped with a message when /usr/bin/sqlite3 is missing), and
  the ratio of the medians (checkpoints target <= 2x); the shell prints raw stored values,
  while the export also joins the roadmap in Python, computes pace and formats timestamps;
- the checkpoint XLSX (600,000 rows) in a fresh child process: median time (target < 30 s) and
  that process's peak resident memory (target < 250 MB), against XlsxWriter's
  `constant_memory` mode writing the same rows through the same service in another child
  (the anchor; `--anchor-repeats 0` skips it), and the ratio of the medians;
- the time of the upload path (`ExportService.export_file` with Discord's 25 MiB limit),
  which zips the checkpoint CSV;
- peak memory: Python allocations during each export (tracemalloc, a separate untimed run)
  and the peak resident size of the whole process (target < 250 MB).

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.dialects import sqlite

from bot.config import Settings
from bot.container import build_services
from bot.content import load_catalog
from bot.db.engine import create_engine, upgrade_database
from bot.exports import queries
from bot.exports import service as service_module
from bot.exports.formats import Batch, ExportFormat
from bot.exports.formats.common import rows_of
from bot.exports.service import ExportKind

GUILD, OTHER_GUILD = 880_000_000_000_000_001, 880_000_000_000_000_002
PHASES, CHECKPOINTS_PER_PHASE = 6, 10
REVIEW_ROUNDS = 8
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
START = datetime(2026, 1, 5, tzinfo=UTC)
UPLOAD_LIMIT = 25 * 1024 * 1024
PROGRESS_TARGET_S, CHECKPOINTS_TARGET_S, MEMORY_TARGET_MB = 1.5, 5.0, 250
SHELL_RATIO_TARGET, XLSX_TARGET_S = 2.0, 30.0
SQLITE_SHELL = "/usr/bin/sqlite3"


def roadmap_yaml() -> str:
    """A valid roadmap with 6 phases of 10 checkpoints each."""
    lines = [
        "key: bench-sixty",
        "title: Sixty checkpoints",
        "summary: A generated roadmap for the export benchmark.",
        "phases:",
    ]
    for phase in range(PHASES):
        lines += [
            f"  - key: phase-{phase}",
            f"    title: Phase {phase + 1}",
            "    summary: A generated phase.",
            f"    start_day: {phase * 30}",
            "    duration_days: 30",
            "    topics: [benchmarks]",
            "    prompts: ['Write about what you measured this week and why.']",
            "    checkpoints:",
        ]
        for number in range(CHECKPOINTS_PER_PHASE):
            key = f"p{phase}-c{number}"
            lines += [
                f"      - key: {key}",
                f"        title: Checkpoint {phase}.{number}",
                "        description: A generated checkpoint.",
            ]
    return "\n".join(lines) + "\n"


def stored(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def display_name(index: int) -> str:
    if index % 997 == 0:
        return f'=HYPERLINK("http://evil.example/{index}")'
    if index % 1009 == 0:
        return f'Smith, "Ada" {index}'
    return f"member {index}"


def seed(database: Path, members: int, keys: list[str]) -> None:
    """Fill the file with plain sqlite3 and generators, so seeding itself stays small in memory."""
    rng = random.Random(2026)
    user_ids = [10**17 + index for index in range(members)]
    with sqlite3.connect(database) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        cohort_sql = (
            "INSERT INTO cohorts (id, guild_id, name, name_key, roadmap_key, channel_id, start_date,"
            " timezone, weekday, slot_time, created_by, created_at)"
            " VALUES (?, ?, ?, ?, 'bench-sixty', 1, ?, 'UTC', 0, '18:00:00.000000', 1, ?)"
        )
        raw.execute(cohort_sql, (1, GUILD, "Bench", "bench", START.date().isoformat(), stored(START)))
        raw.execute(cohort_sql, (2, OTHER_GUILD, "Bench", "bench", START.date().isoformat(), stored(START)))
        raw.executemany(
            "INSERT INTO cohort_members (guild_id, cohort_id, user_id, display_name, joined_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (GUILD, 1, user_id, display_name(index), stored(START))
                for index, user_id in enumerate(user_ids)
            ]
            + [
                (OTHER_GUILD, 2, 5 * 10**17 + index, f"other {index}", stored(START))
                for index in range(1_000)
            ],
        )

        def completions() -> Iterator[tuple[object, ...]]:
            for user_id in user_ids:
                for number, key in enumerate(keys):
                    at = START + timedelta(days=number * 2, minutes=rng.randrange(2_000))
                    evidence = f"https://github.com/member/{user_id}/{key}" if number % 3 == 0 else None
                    yield (GUILD, 1, user_id, key, evidence, stored(at))

        raw.executemany(
            "INSERT INTO checkpoint_completions (guild_id, cohort_id, user_id, checkpoint_key, evidence_url,"
            " completed_at) VALUES (?, ?, ?, ?, ?, ?)",
            completions(),
        )
        group_id = 0
        for week in range(1, REVIEW_ROUNDS + 1):
            created = START + timedelta(weeks=week - 1)
            raw.execute(
                "INSERT INTO review_rounds (id, guild_id, cohort_id, week, seed, created_at, due_at)"
                " VALUES (?, ?, 1, ?, ?, ?, ?)",
                (week, GUILD, week, week, stored(created), stored(created + timedelta(days=6))),
            )
            shuffled = user_ids[:]
            rng.shuffle(shuffled)
            groups, seats, reviews = [], [], []
            for first, second in zip(shuffled[0::2], shuffled[1::2], strict=False):
                group_id += 1
                groups.append((group_id, GUILD, week))
                seats += [(GUILD, group_id, first), (GUILD, group_id, second)]
                done = stored(created + timedelta(days=2))
                reviews += [(GUILD, week, first, second, done), (GUILD, week, second, first, done)]
            raw.executemany("INSERT INTO review_groups (id, guild_id, round_id) VALUES (?, ?, ?)", groups)
            raw.executemany(
                "INSERT INTO review_group_members (guild_id, group_id, user_id) VALUES (?, ?, ?)", seats
            )
            raw.executemany(
                "INSERT INTO review_completions (guild_id, round_id, reviewer_id, reviewee_id, link,"
                " completed_at) VALUES (?, ?, ?, ?, 'https://github.com/pr/1', ?)",
                reviews,
            )
        raw.commit()
        raw.execute("ANALYZE")


def shell_seconds(database: Path, sql: str, output: Path) -> float:
    """The sqlite3 shell writing the statement's rows as CSV with a header to ``output``."""
    tick = time.perf_counter()
    with output.open("wb") as out:
        subprocess.run([SQLITE_SHELL, "-csv", "-header", str(database), sql], stdout=out, check=True)
    return time.perf_counter() - tick


def literal_sql(statement: object) -> str:
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    return str(compiled)


def peak_rss_mb() -> float:
    """This process image's peak resident size.

    Linux keeps ``ru_maxrss`` across fork and exec, so a child started by a large parent would
    report the parent's peak; ``VmHWM`` belongs to the current image only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


async def seed_into(database: Path, members: int) -> None:
    """The child process: migrate a new file, then fill it."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade_database(engine)
    await engine.dispose()
    keys = [f"p{phase}-c{number}" for phase in range(PHASES) for number in range(CHECKPOINTS_PER_PHASE)]
    seed(database, members, keys)


async def timed(call: Callable[[], Awaitable[object]], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        tick = time.perf_counter()
        await call()
        times.append(time.perf_counter() - tick)
    return times


async def traced_peak_mb(call: Callable[[], Awaitable[object]]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        await call()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


@dataclass
class Measurements:
    rows: dict[ExportKind, int] = field(default_factory=dict)
    sizes_mb: dict[ExportKind, float] = field(default_factory=dict)
    medians: dict[ExportKind, float] = field(default_factory=dict)
    shell_medians: dict[ExportKind, float] = field(default_factory=dict)
    upload: str = ""
    traced_mb: dict[str, float] = field(default_factory=dict)
    baseline_rss_mb: float = 0.0
    exports_rss_mb: float = 0.0


def bench_settings(database: Path, content: Path) -> Settings:
    return Settings(
        discord_token="bench",
        database_url=f"sqlite+aiosqlite:///{database}",
        content_dir=content,
        _env_file=None,
    )


async def measure(
    settings: Settings, folder: Path, repeats: int, shell_sql: dict[ExportKind, str]
) -> Measurements:
    """Time and weigh the CSV exports through the real service, each run next to a shell run."""
    found = Measurements(baseline_rss_mb=peak_rss_mb())
    engine = create_engine(settings.database_url)
    exports = build_services(settings, engine, load_catalog(settings.content_dir), lambda: NOW).exports
    database = Path(settings.database_url.removeprefix("sqlite+aiosqlite:///"))

    async def write(kind: ExportKind) -> None:
        path = folder / f"{kind}.csv"
        with path.open("wb") as out:
            summary = await exports.write(GUILD, "Bench", kind, ExportFormat.CSV, out, actor_id=None)
        found.rows[kind] = summary.rows
        found.sizes_mb[kind] = summary.size / 1e6

    async def upload() -> object:
        built = await exports.export_file(
            GUILD, "Bench server", "Bench", ExportKind.CHECKPOINTS, ExportFormat.CSV, UPLOAD_LIMIT, actor_id=1
        )
        found.upload = f"{built.filename}, {len(built.payload) / 1e6:.1f} MB, zipped: {built.zipped}"
        return built

    for kind, runs in ((ExportKind.PROGRESS, repeats * 2), (ExportKind.CHECKPOINTS, repeats)):
        await write(kind)  # a warm-up run, which also checks the row count
        ours, shell = [], []
        for _ in range(runs):  # alternately, so a change in the machine's load hits both alike
            ours += await timed(functools.partial(write, kind), 1)
            if kind in shell_sql:
                shell.append(shell_seconds(database, shell_sql[kind], folder / f"shell-{kind}.csv"))
        found.medians[kind] = statistics.median(ours)
        if shell:
            found.shell_medians[kind] = statistics.median(shell)
    upload_seconds = (await timed(upload, 1))[0]
    upload_text = f"{found.upload}, in {upload_seconds:.2f} s"
    # Read before tracemalloc runs: its own bookkeeping is large.
    found.exports_rss_mb = peak_rss_mb()
    for kind in (ExportKind.PROGRESS, ExportKind.CHECKPOINTS):
        found.traced_mb[f"{kind} CSV"] = await traced_peak_mb(functools.partial(write, kind))
    found.traced_mb["checkpoint CSV for Discord, zipped in memory"] = await traced_peak_mb(upload)
    found.upload = upload_text
    await engine.dispose()
    return found


# ------------------------------------------------------------------------------------- XLSX


def xlsxwriter_constant_memory(
    title: str, columns: Sequence[str], batches: Iterable[Batch], out: BinaryIO
) -> None:
    """The anchor: XlsxWriter's streaming mode writing the same typed cells, one call per cell."""
    import xlsxwriter  # a dev dependency, imported only in the anchor's child process

    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False})
    sheet = workbook.add_worksheet(title[:31])
    bold, stamp = (
        workbook.add_format({"bold": True}),
        workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    )
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, columns, bold)
    identifiers = [name.endswith("_id") for name in columns]
    number = 0
    for batch in batches:
        for row in rows_of(batch):
            number += 1
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(number, index, value.astimezone(UTC).replace(tzinfo=None), stamp)
                elif isinstance(value, str) or identifiers[index]:
                    sheet.write_string(number, index, str(value))
                else:
                    sheet.write_number(number, index, value)
    workbook.close()


def xlsx_child(writer: str, database: Path, content: Path, repeats: int) -> None:
    """In a fresh process: the checkpoint XLSX ``repeats`` times; prints times and peak RSS."""
    if writer == "xlsxwriter":
        vars(service_module)["write_xlsx_batches"] = xlsxwriter_constant_memory

    rows: list[int] = []

    async def run() -> list[float]:
        settings = bench_settings(database, content)
        engine = create_engine(settings.database_url)
        exports = build_services(settings, engine, load_catalog(content), lambda: NOW).exports
        output = database.parent / f"checkpoints-{writer}.xlsx"

        async def write() -> None:
            with output.open("wb") as out:
                summary = await exports.write(
                    GUILD, "Bench", ExportKind.CHECKPOINTS, ExportFormat.XLSX, out, actor_id=None
                )
            rows.append(summary.rows)

        times = await timed(write, repeats)
        await engine.dispose()
        return times

    times = asyncio.run(run())
    print(json.dumps({"times": times, "rss_mb": peak_rss_mb(), "rows": rows}))


def run_xlsx_child(
    writer: str, database: Path, content: Path, repeats: int, rows: int
) -> tuple[float, float]:
    """The median seconds and peak resident megabytes of ``xlsx_child`` in a new process."""
    command = [sys.executable, __file__, "--xlsx-child", writer, "--seed-into", str(database)]
    command += ["--content", str(content), "--repeats", str(repeats)]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    assert result["rows"] == [rows] * repeats, result["rows"]
    return statistics.median(result["times"]), result["rss_mb"]


# ------------------------------------------------------------------------------------- main


def report_csv(found: Measurements, members: int, keys: int, failures: list[str]) -> None:
    assert found.rows[ExportKind.PROGRESS] == members
    assert found.rows[ExportKind.CHECKPOINTS] == members * keys
    for kind, target in (
        (ExportKind.PROGRESS, PROGRESS_TARGET_S),
        (ExportKind.CHECKPOINTS, CHECKPOINTS_TARGET_S),
    ):
        median = found.medians[kind]
        verdict = "ok" if median < target else "OVER TARGET"
        print(
            f"{kind} CSV ({found.rows[kind]:,} rows, {found.sizes_mb[kind]:.1f} MB) via "
            f"ExportService.write: median {median:.3f} s (target < {target} s: {verdict})"
        )
        if median >= target:
            failures.append(f"{kind} CSV took {median:.2f} s")
    if not found.shell_medians:
        print(f"skipping the comparison with the sqlite3 shell: {SQLITE_SHELL} is missing")
    for kind, shell in found.shell_medians.items():
        ratio = found.medians[kind] / shell
        goal = ""
        if kind is ExportKind.CHECKPOINTS:
            verdict = "ok" if ratio <= SHELL_RATIO_TARGET else "OVER TARGET"
            goal = f" (target <= {SHELL_RATIO_TARGET}x: {verdict})"
            if ratio > SHELL_RATIO_TARGET:
                failures.append(f"checkpoint CSV at {ratio:.2f}x the sqlite3 shell")
        print(
            f"{kind}: sqlite3 shell, same SELECT to CSV, run alternately: median {shell:.3f} s; "
            f"the export takes {ratio:.2f}x the shell's time{goal}"
        )
    print(f"checkpoint CSV for Discord (25 MiB limit): {found.upload}")
    for label, megabytes in found.traced_mb.items():
        print(f"{label}: peak Python allocations {megabytes:.1f} MB (tracemalloc, separate run)")
    verdict = "ok" if found.exports_rss_mb < MEMORY_TARGET_MB else "OVER TARGET"
    print(
        f"peak resident memory of this process through the CSV exports: {found.exports_rss_mb:.0f} MB, "
        f"{found.baseline_rss_mb:.0f} MB of it before the first export "
        f"(target < {MEMORY_TARGET_MB} MB: {verdict})"
    )
    if found.exports_rss_mb >= MEMORY_TARGET_MB:
        failures.append(f"peak memory {found.exports_rss_mb:.0f} MB")


def report_xlsx(
    database: Path, content: Path, rows: int, repeats: tuple[int, int], failures: list[str]
) -> None:
    """``repeats``: runs of our writer and of the XlsxWriter anchor (0 skips the anchor)."""
    ours_repeats, anchor_repeats = repeats
    seconds, rss = run_xlsx_child("ours", database, content, ours_repeats, rows)
    ok = seconds < XLSX_TARGET_S and rss < MEMORY_TARGET_MB
    print(
        f"checkpoints XLSX via ExportService.write, own process: median {seconds:.2f} s of {ours_repeats} "
        f"(target < {XLSX_TARGET_S:.0f} s), peak resident memory {rss:.0f} MB "
        f"(target < {MEMORY_TARGET_MB} MB): {'ok' if ok else 'OVER TARGET'}"
    )
    if not ok:
        failures.append(f"checkpoint XLSX took {seconds:.1f} s and {rss:.0f} MB")
    if anchor_repeats:
        anchor, anchor_rss = run_xlsx_child("xlsxwriter", database, content, anchor_repeats, rows)
        print(
            f"checkpoints XLSX with XlsxWriter constant_memory as the writer (anchor), own process: "
            f"median {anchor:.2f} s of {anchor_repeats}, peak resident memory {anchor_rss:.0f} MB; "
            f"ours takes {seconds / anchor:.2f}x its time"
        )


def main(members: int, repeats: int, xlsx_repeats: int, anchor_repeats: int, only: str | None) -> int:
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        content = folder / "roadmaps"
        content.mkdir()
        (content / "bench-sixty.yaml").write_text(roadmap_yaml(), encoding="utf-8")
        database = folder / "bench.sqlite3"
        settings = bench_settings(database, content)
        roadmap = load_catalog(content).get("bench-sixty")
        assert roadmap is not None
        keys = [checkpoint.key for _, checkpoint in roadmap.checkpoints()]
        assert len(keys) == PHASES * CHECKPOINTS_PER_PHASE

        # Seeding runs in a child process, so this process's peak memory is the exports' own.
        tick = time.perf_counter()
        command = [sys.executable, __file__, "--seed-into", str(database), "--members", str(members)]
        subprocess.run(command, check=True)
        print(
            f"seeded {members:,} members, {members * len(keys):,} checkpoint rows and {REVIEW_ROUNDS} "
            f"review rounds in a child process in {time.perf_counter() - tick:.1f} s"
        )
        shell_sql = {}
        if shutil.which(SQLITE_SHELL):
            shell_sql = {
                ExportKind.PROGRESS: literal_sql(queries.member_progress_statement(1, keys)),
                ExportKind.CHECKPOINTS: literal_sql(queries.checkpoint_rows_statement(1)),
            }
        if only != "xlsx":
            found = asyncio.run(measure(settings, folder, repeats, shell_sql))
            report_csv(found, members, len(keys), failures)
        if only != "csv":
            report_xlsx(database, content, members * len(keys), (xlsx_repeats, anchor_repeats), failures)
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--xlsx-repeats", type=int, default=3)
    parser.add_argument("--anchor-repeats", type=int, default=1, help="XlsxWriter runs (about 40 s each)")
    parser.add_argument(
        "--only", choices=["csv", "xlsx"], help="run only the CSV part or only the XLSX part (default: both)"
    )
    parser.add_argument("--seed-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--xlsx-child", choices=["ours", "xlsxwriter"], help=argparse.SUPPRESS)
    parser.add_argument("--content", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.xlsx_child:
        xlsx_child(arguments.xlsx_child, arguments.seed_into, arguments.content, arguments.repeats)
        sys.exit(0)
    if arguments.seed_into:
        asyncio.run(seed_into(arguments.seed_into, arguments.members))
        sys.exit(0)
    sys.exit(
        main(
            arguments.members,
            arguments.repeats,
            arguments.xlsx_repeats,
            arguments.anchor_repeats,
            arguments.only,
        )
    )
