"""The long checkpoint export read two ways give the same files.

From a SQLite file the formatting thread reads the rows with its own connection
(``queries.read_checkpoint_rows``); otherwise (PostgreSQL, SQLite in memory) the session streams
them. Members whose completions span several fetched partitions, retired keys, members without
completions and hostile text must come out the same either way, in every format.
"""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.container import Services
from bot.db.engine import create_engine
from bot.db.models import CheckpointCompletion
from bot.exports import queries
from bot.exports.formats import ExportFormat
from bot.exports.service import ExportKind
from tests.db.conftest import FakeClock
from tests.db.test_exports import GUILD, MOD, Seeded, export_bytes, seed_server

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def seeded(services: Services, clock: FakeClock) -> Seeded:
    seeded = await seed_server(services, clock)
    for user in range(100, 112):
        name = ["=cmd", "Smith, Ada", " @x", "50%s done"][user % 4] + str(user)
        await services.cohorts.join(GUILD, "Sprint", user, name)
    async with services.sessions.begin() as session:
        sprint = (await services.exports._scope(session, GUILD, "Sprint")).cohorts[0].id
        for user in range(100, 112):
            keys = ["dev-environment", "choose-language", "git-basics", "a-retired-key"][: user % 5]
            for number, key in enumerate(keys):
                clock.advance(minutes=7, microseconds=user)
                session.add(
                    CheckpointCompletion(
                        guild_id=GUILD,
                        cohort_id=sprint,
                        user_id=user,
                        checkpoint_key=key,
                        evidence_url=[None, "https://example.org/a,b", "=HYPERLINK()", "x"][number],
                        completed_at=clock.now,
                    )
                )
    return seeded


def sheet(payload: bytes) -> list[tuple[object, ...]]:
    workbook = openpyxl.load_workbook(io.BytesIO(payload))
    assert workbook.active is not None
    return list(workbook.active.values)


async def test_the_file_reader_and_the_session_give_the_same_files(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.db.rows.BATCH_ROWS", 1)  # partitions of 4 rows: members span them
    monkeypatch.setattr("bot.exports.queries.CHECKPOINT_BATCH_ROWS", 30)
    read_in: set[str] = set()
    reader = queries.read_checkpoint_rows

    def recorded(*args: object, **kwargs: object) -> object:
        read_in.add(threading.current_thread().name)
        return reader(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(queries, "read_checkpoint_rows", recorded)
    from_file = {fmt: await export_bytes(services, ExportKind.CHECKPOINTS, fmt) for fmt in ExportFormat}
    assert read_in and threading.current_thread().name not in read_in

    async def no_file(_session: object) -> None:
        return None

    monkeypatch.setattr(queries, "sqlite_file", no_file)
    from_session = {fmt: await export_bytes(services, ExportKind.CHECKPOINTS, fmt) for fmt in ExportFormat}

    assert from_file[ExportFormat.CSV] == from_session[ExportFormat.CSV]
    assert from_file[ExportFormat.JSON] == from_session[ExportFormat.JSON]
    assert sheet(from_file[ExportFormat.XLSX]) == sheet(from_session[ExportFormat.XLSX])
    text = from_file[ExportFormat.CSV].decode("utf-8-sig")
    assert "'=cmd100" in text and '"Smith, Ada101"' in text and "50%s done103" in text
    assert (
        ",a-retired-key,,retired," in text
        and ",'=HYPERLINK()" in text
        and '"https://example.org/a,b"' in text
    )


async def test_an_export_of_a_file_the_bot_cannot_read_fails_plainly(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def missing(_session: object) -> str:
        return "/nonexistent/folder/waypoint.sqlite3"

    monkeypatch.setattr(queries, "sqlite_file", missing)

    with pytest.raises(Exception, match="unable to open database file"):
        await services.exports.write(
            GUILD, None, ExportKind.CHECKPOINTS, ExportFormat.CSV, io.BytesIO(), actor_id=MOD
        )


async def test_only_a_sqlite_file_is_read_by_the_formatting_thread(services: Services) -> None:
    memory = create_engine("sqlite+aiosqlite://")
    try:
        async with AsyncSession(memory) as session:
            assert await queries.sqlite_file(session) is None
    finally:
        await memory.dispose()
    async with services.sessions() as session:
        database = await queries.sqlite_file(session)
    assert database is not None and database.endswith(".sqlite3")
