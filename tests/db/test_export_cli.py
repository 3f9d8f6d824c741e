"""`waypoint export` through ``bot.__main__.run_export``: files, summary line, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest

from bot.__main__ import run_export
from bot.config import Settings
from bot.container import Services
from bot.exports.cli import EXIT_FAILED, EXIT_OK, EXIT_UNKNOWN_COHORT, EXIT_UNKNOWN_GUILD
from bot.exports.formats import CHECKPOINT_COLUMNS, PROGRESS_COLUMNS
from tests.db.conftest import FakeClock
from tests.db.test_exports import ALICE, BOB, CAROL, GUILD, OTHER_GUILD, seed_server


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
async def seeded(services: Services, clock: FakeClock) -> None:
    await seed_server(services, clock)


async def test_progress_csv_is_written_and_summarised(
    settings: Settings, services: Services, seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "progress.csv"

    status = await run_export(settings, GUILD, None, "progress", "csv", output)

    assert status == EXIT_OK
    rows = list(csv.reader(io.StringIO(output.read_text(encoding="utf-8-sig"), newline="")))
    assert rows[0] == list(PROGRESS_COLUMNS)
    assert [row[0] for row in rows[1:]] == [str(ALICE), str(BOB), str(CAROL)]
    printed = capsys.readouterr().out.strip()
    assert printed.startswith(f"wrote 3 progress rows of every cohort in server {GUILD} as csv to {output}")
    assert len(printed.splitlines()) == 1
    entries = await services.exports.recent_audit(GUILD)
    assert (entries[0].actor_id, entries[0].action) == (None, "export.progress")
    assert entries[0].detail.endswith("via command line")
    assert names(output.parent) == ["progress.csv"]  # no partial file left


async def test_checkpoints_in_json_and_xlsx_for_one_cohort(
    settings: Settings, seeded: None, tmp_path: Path
) -> None:
    as_json, as_xlsx = tmp_path / "sprint.json", tmp_path / "sprint.xlsx"

    assert await run_export(settings, GUILD, "sprint", "checkpoints", "json", as_json) == EXIT_OK
    assert await run_export(settings, GUILD, "Sprint", "checkpoints", "xlsx", as_xlsx) == EXIT_OK

    document = json.loads(as_json.read_bytes())
    assert (document["kind"], document["cohort"], len(document["rows"])) == ("checkpoints", "Sprint", 27)
    sheet = openpyxl.load_workbook(as_xlsx).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(CHECKPOINT_COLUMNS)
    assert len(rows) == 1 + 27
    assert rows[1][0] == str(CAROL)


async def test_unknown_server_and_cohort_have_their_own_exit_codes(
    settings: Settings, seeded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    output = folder / "x.csv"

    assert await run_export(settings, 777, None, "progress", "csv", output) == EXIT_UNKNOWN_GUILD
    assert "no Waypoint data for server 777" in capsys.readouterr().err
    assert await run_export(settings, GUILD, "Sprung", "progress", "csv", output) == EXIT_UNKNOWN_COHORT
    error = capsys.readouterr().err
    assert "There is no cohort called Sprung in this server. Did you mean 'Spring'?" in error
    assert names(folder) == []
    # The other server's data is there, and separate.
    assert await run_export(settings, OTHER_GUILD, None, "progress", "csv", output) == EXIT_OK
    assert output.read_bytes().count(b"\r\n") == 2  # the header and Eve


async def test_an_existing_file_is_only_replaced_by_a_complete_export(
    settings: Settings, seeded: None, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    output = folder / "keep.csv"
    output.write_text("previous export\n", encoding="utf-8")

    assert await run_export(settings, GUILD, "Nope", "reviews", "csv", output) == EXIT_UNKNOWN_COHORT

    assert output.read_text(encoding="utf-8") == "previous export\n"
    assert names(folder) == ["keep.csv"]


async def test_an_unmigrated_database_is_refused(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"})

    assert await run_export(empty, GUILD, None, "progress", "csv", tmp_path / "out.csv") == EXIT_FAILED
    assert "waypoint db upgrade" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("kind", "cohort", "expected"),
    [
        ("checkpoints", "Sprint", "wrote 27 checkpoint rows of Sprint"),
        ("progress", "Sprint", "wrote 1 progress row of Sprint"),
        ("reviews", None, "wrote 10 review rows of every cohort"),
        ("reviews", "Sprint", "wrote 0 review rows of Sprint"),
    ],
)
async def test_the_summary_line_reads_as_english(
    settings: Settings,
    seeded: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    cohort: str | None,
    expected: str,
) -> None:
    """Issue: "wrote 208 checkpoints rows"; the kind is an adjective and one row is one row."""
    assert await run_export(settings, GUILD, cohort, kind, "csv", tmp_path / "out.csv") == EXIT_OK

    assert capsys.readouterr().out.startswith(expected + " in server")
