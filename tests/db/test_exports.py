"""Exports over a real SQLite file: the bytes are parsed and checked against what members did."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot.cohorts.resolve import cohort_named
from bot.container import Services
from bot.db.models import (
    AuditEntry,
    CheckpointCompletion,
    ReviewCompletion,
    ReviewGroup,
    ReviewGroupMember,
    ReviewRound,
)
from bot.exports.formats import (
    CHECKPOINT_COLUMNS,
    PROGRESS_COLUMNS,
    REVIEW_COLUMNS,
    ExportFormat,
    xlsx_writer,
)
from bot.exports.pump import pump
from bot.exports.service import ExportKind
from bot.kernel.errors import InvalidInputError, NotFoundError
from tests.db.conftest import FakeClock

GUILD, OTHER_GUILD = 1001, 2002
MOD, ALICE, BOB, CAROL, DAVE, EVE = 1, 2, 3, 4, 5, 6
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Seeded:
    """Ids of the seeded review rows, for the tests that look at them."""

    spring_id: int
    rounds: dict[int, int]
    groups: dict[str, int]


async def seed_server(services: Services, clock: FakeClock) -> Seeded:
    """Two cohorts in GUILD, one in OTHER_GUILD, progress over two months and review rounds.

    - Spring (python-europe, 13 checkpoints, from 2026-01-05): Alice done 2 (+1 retired key),
      Bob none, Dave done 1 then left.
    - Sprint (ninety-day-plan, 27 checkpoints, from 2026-01-05): Carol done 2.
    - OTHER_GUILD's Spring: Eve done 1, one review round.
    """
    clock.now = at("2026-01-04T12:00:00")
    for guild, name, roadmap in (
        (GUILD, "Spring", "python-europe"),
        (GUILD, "Sprint", "ninety-day-plan"),
        (OTHER_GUILD, "Spring", "python-europe"),
    ):
        await services.cohorts.create(
            guild_id=guild, actor_id=MOD, name=name, roadmap_key=roadmap, channel_id=555, start="2026-01-05"
        )
    clock.now = at("2026-01-05T10:00:00")
    for guild, cohort, user, display in (
        (GUILD, "Spring", ALICE, "Alice"),
        (GUILD, "Spring", BOB, "Bob"),
        (GUILD, "Sprint", CAROL, "Carol"),
        (GUILD, "Spring", DAVE, "Dave"),
        (OTHER_GUILD, "Spring", EVE, "Eve"),
    ):
        await services.cohorts.join(guild, cohort, user, display)

    async def complete(when: str, guild: int, user: int, key: str, **options: Any) -> None:
        clock.now = at(when)
        await services.progress.complete(guild, user, key, **options)

    await complete(
        "2026-02-10T08:00:00", GUILD, ALICE, "python-oop-async", evidence="https://github.com/alice/oop"
    )
    await complete("2026-02-11T08:00:00", GUILD, DAVE, "python-oop-async")
    await complete("2026-02-12T08:00:00", GUILD, CAROL, "choose-language")
    await complete("2026-02-12T09:00:00", GUILD, CAROL, "dev-environment", note="vim, obviously")
    await complete("2026-02-20T08:00:00", GUILD, ALICE, "crud-api")
    await complete("2026-02-21T08:00:00", OTHER_GUILD, EVE, "python-oop-async")
    clock.now = at("2026-02-15T08:00:00")
    await services.cohorts.leave(GUILD, "Spring", DAVE)

    async with services.sessions.begin() as session:
        spring = await cohort_named(session, GUILD, "Spring")
        elsewhere = await cohort_named(session, OTHER_GUILD, "Spring")
        # A checkpoint since removed from the roadmap: never counted.
        session.add(
            CheckpointCompletion(
                guild_id=GUILD,
                cohort_id=spring.id,
                user_id=ALICE,
                checkpoint_key="retired-checkpoint",
                completed_at=at("2026-02-25T08:00:00"),
            )
        )
        rounds: dict[int, int] = {}
        for week, created in (
            (7, "2026-02-16T17:00:00"),
            (8, "2026-02-23T17:00:00"),
            (9, "2026-03-02T08:00:00"),
        ):
            review_round = ReviewRound(
                guild_id=GUILD,
                cohort_id=spring.id,
                week=week,
                seed=week,
                created_at=at(created),
                due_at=at(created).replace(day=at(created).day + 5),
            )
            session.add(review_round)
            await session.flush()
            rounds[week] = review_round.id
        groups: dict[str, int] = {}
        for label, week, members in (("pair", 7, [ALICE, BOB]), ("trio", 8, [ALICE, BOB, DAVE])):
            group = ReviewGroup(guild_id=GUILD, round_id=rounds[week], thread_id=7000 + week)
            session.add(group)
            await session.flush()
            groups[label] = group.id
            session.add_all(
                ReviewGroupMember(guild_id=GUILD, group_id=group.id, user_id=user) for user in members
            )
        session.add_all(
            [
                ReviewCompletion(
                    guild_id=GUILD,
                    round_id=rounds[7],
                    reviewer_id=ALICE,
                    reviewee_id=BOB,
                    link="https://github.com/bob/pr/1",
                    completed_at=at("2026-02-18T10:00:00"),
                ),
                ReviewCompletion(
                    guild_id=GUILD,
                    round_id=rounds[8],
                    reviewer_id=BOB,
                    reviewee_id=ALICE,
                    link="https://github.com/alice/pr/2",
                    completed_at=at("2026-02-25T11:00:00"),
                ),
                # Its reviewer asked to be forgotten: no pair matches any more.
                ReviewCompletion(
                    guild_id=GUILD,
                    round_id=rounds[8],
                    reviewer_id=None,
                    reviewee_id=BOB,
                    link=None,
                    completed_at=at("2026-02-26T12:00:00"),
                ),
            ]
        )
        other_round = ReviewRound(
            guild_id=OTHER_GUILD,
            cohort_id=elsewhere.id,
            week=7,
            seed=1,
            created_at=at("2026-02-16T17:00:00"),
            due_at=at("2026-02-21T17:00:00"),
        )
        session.add(other_round)
        await session.flush()
        session.add(
            ReviewCompletion(
                guild_id=OTHER_GUILD,
                round_id=other_round.id,
                reviewer_id=EVE,
                reviewee_id=ALICE,
                link="https://elsewhere.example",
                completed_at=at("2026-02-18T10:00:00"),
            )
        )
    clock.now = NOW
    return Seeded(spring.id, rounds, groups)


async def export_bytes(
    services: Services,
    kind: ExportKind,
    fmt: ExportFormat = ExportFormat.CSV,
    cohort: str | None = None,
    guild: int = GUILD,
) -> bytes:
    out = io.BytesIO()
    await services.exports.write(guild, cohort, kind, fmt, out, actor_id=MOD)
    return out.getvalue()


def csv_rows(payload: bytes) -> list[dict[str, str]]:
    assert payload.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    return list(csv.DictReader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


@pytest.fixture
async def seeded(services: Services, clock: FakeClock) -> Seeded:
    return await seed_server(services, clock)


# ----------------------------------------------------------------------------------- progress


async def test_progress_csv_has_one_row_per_active_member_with_real_counts(
    services: Services, seeded: Seeded
) -> None:
    payload = await export_bytes(services, ExportKind.PROGRESS)
    header = payload.decode("utf-8-sig").split("\r\n", 1)[0]

    rows = csv_rows(payload)

    assert header == ",".join(PROGRESS_COLUMNS)
    # Dave left Spring: not exported. Cohorts by name, members by id.
    assert [(row["cohort"], row["member_id"]) for row in rows] == [
        ("Spring", str(ALICE)),
        ("Spring", str(BOB)),
        ("Sprint", str(CAROL)),
    ]
    alice, bob, carol = rows
    assert alice == {
        "member_id": str(ALICE),
        "display_name": "Alice",
        "cohort": "Spring",
        "roadmap": "python-europe",
        "joined_at_utc": "2026-01-05T10:00:00Z",
        "current_phase": "Foundations",
        "checkpoints_done": "2",  # the retired key is not counted
        "checkpoints_total": "13",
        "percent": "15.4",
        "last_activity_at_utc": "2026-02-20T08:00:00Z",
        "reviews_given": "1",
        "reviews_received": "1",
        "pace": "ahead",
    }
    # Bob did no checkpoint, but his last review counts as activity; the anonymised review of
    # him still counts as received.
    assert (bob["checkpoints_done"], bob["percent"], bob["pace"]) == ("0", "0.0", "on track")
    assert bob["last_activity_at_utc"] == "2026-02-25T11:00:00Z"
    assert (bob["reviews_given"], bob["reviews_received"]) == ("1", "2")
    # Day 56 of the 90-day plan expects 16 checkpoints; Carol has 2.
    assert carol["current_phase"] == "Days 51-60: containers and cloud"
    assert (carol["checkpoints_done"], carol["checkpoints_total"], carol["pace"]) == ("2", "27", "behind")
    assert carol["last_activity_at_utc"] == "2026-02-12T09:00:00Z"


async def test_progress_json_is_one_versioned_document(services: Services, seeded: Seeded) -> None:
    document = json.loads(
        await export_bytes(services, ExportKind.PROGRESS, ExportFormat.JSON, cohort="spring")
    )

    assert document["schema_version"] == 2  # 2: timestamp columns end in _utc
    assert document["kind"] == "progress"
    assert (document["guild_id"], document["cohort"]) == (str(GUILD), "Spring")
    assert document["generated_at"] == "2026-03-02T09:00:00Z"
    assert document["columns"] == list(PROGRESS_COLUMNS)
    assert [row["member_id"] for row in document["rows"]] == [str(ALICE), str(BOB)]
    assert document["rows"][0]["checkpoints_done"] == 2
    assert document["rows"][0]["percent"] == 15.4
    assert document["rows"][1]["last_activity_at_utc"] == "2026-02-25T11:00:00Z"


async def test_progress_xlsx_cells_are_typed(services: Services, seeded: Seeded) -> None:
    payload = await export_bytes(services, ExportKind.PROGRESS, ExportFormat.XLSX)

    sheet = openpyxl.load_workbook(io.BytesIO(payload)).active
    assert sheet is not None
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(PROGRESS_COLUMNS)
    alice = dict(zip(PROGRESS_COLUMNS, values[1], strict=True))
    assert alice["member_id"] == str(ALICE)
    assert alice["checkpoints_done"] == 2
    assert alice["percent"] == 15.4
    assert alice["joined_at_utc"] == datetime(2026, 1, 5, 10, 0)
    assert len(values) == 4


# -------------------------------------------------------------------------------- checkpoints


async def test_checkpoint_export_has_every_checkpoint_of_every_member(
    services: Services, seeded: Seeded
) -> None:
    rows = csv_rows(await export_bytes(services, ExportKind.CHECKPOINTS))

    assert list(rows[0]) == list(CHECKPOINT_COLUMNS)
    # Alice and Bob on python-europe, Carol on the 90-day plan, and Alice's retired completion.
    assert len(rows) == 13 + 13 + 27 + 1
    alice = [row for row in rows if row["member_id"] == str(ALICE)]
    assert [row["checkpoint_key"] for row in alice[:4]] == [
        "python-oop-async",
        "crud-api",
        "postgres-queries-indexing",
        "aws-free-tier-deploy",
    ]
    assert {row["phase"] for row in alice} == {"Foundations", "Intermediate", "Advanced", ""}  # "": retired
    done = {row["checkpoint_key"]: row for row in alice if row["status"] == "done"}
    assert set(done) == {"python-oop-async", "crud-api"}
    assert done["python-oop-async"]["completed_at_utc"] == "2026-02-10T08:00:00Z"
    assert done["python-oop-async"]["evidence_url"] == "https://github.com/alice/oop"
    assert done["python-oop-async"]["checkpoint_title"] == "Python OOP and async"
    assert done["crud-api"]["evidence_url"] == ""
    opened = [row for row in alice if row["status"] == "open"]
    assert len(opened) == 11
    assert all(row["completed_at_utc"] == "" and row["evidence_url"] == "" for row in opened)
    assert all(row["status"] == "open" for row in rows if row["member_id"] == str(BOB))
    carol_done = [
        row["checkpoint_key"] for row in rows if row["member_id"] == str(CAROL) and row["status"] == "done"
    ]
    assert carol_done == ["choose-language", "dev-environment"]
    # Kept as history after the roadmap's own checkpoints, never counted as done.
    retired = [row for row in rows if row["checkpoint_key"] == "retired-checkpoint"]
    assert [(row["member_id"], row["status"], row["phase"]) for row in retired] == [
        (str(ALICE), "retired", "")
    ]
    assert alice[-1] == retired[0]


async def test_checkpoint_export_in_json_and_for_one_cohort(services: Services, seeded: Seeded) -> None:
    document = json.loads(
        await export_bytes(services, ExportKind.CHECKPOINTS, ExportFormat.JSON, cohort="Sprint")
    )

    assert document["kind"] == "checkpoints"
    assert document["cohort"] == "Sprint"
    assert len(document["rows"]) == 27
    first = document["rows"][0]
    assert first["member_id"] == str(CAROL)
    assert (first["checkpoint_key"], first["status"], first["completed_at_utc"]) == (
        "choose-language",
        "done",
        "2026-02-12T08:00:00Z",
    )


# ------------------------------------------------------------------------------------ reviews


async def test_review_export_lists_every_round_pair_and_completed_review(
    services: Services, seeded: Seeded
) -> None:
    rows = csv_rows(await export_bytes(services, ExportKind.REVIEWS))

    assert list(rows[0]) == list(REVIEW_COLUMNS)
    summary = [
        (row["round_week"], row["group_id"], row["reviewer_id"], row["reviewee_id"], row["completed_at_utc"])
        for row in rows
    ]
    pair, trio = str(seeded.groups["pair"]), str(seeded.groups["trio"])
    a, b, d = str(ALICE), str(BOB), str(DAVE)
    assert summary == [
        ("7", pair, a, b, "2026-02-18T10:00:00Z"),
        ("7", pair, b, a, ""),
        ("8", trio, a, b, ""),
        ("8", trio, a, d, ""),
        ("8", trio, b, a, "2026-02-25T11:00:00Z"),
        ("8", trio, b, d, ""),
        ("8", trio, d, a, ""),
        ("8", trio, d, b, ""),
        ("8", "", "", b, "2026-02-26T12:00:00Z"),  # an anonymised reviewer: no pair matches
        ("9", "", "", "", ""),  # a round without groups is still listed
    ]
    assert {row["cohort"] for row in rows} == {"Spring"}
    assert rows[0]["link"] == "https://github.com/bob/pr/1"
    assert (rows[0]["round_started_at_utc"], rows[0]["due_at_utc"]) == (
        "2026-02-16T17:00:00Z",
        "2026-02-21T17:00:00Z",
    )


async def test_review_export_of_a_cohort_without_rounds_is_just_a_header(
    services: Services, seeded: Seeded
) -> None:
    payload = await export_bytes(services, ExportKind.REVIEWS, cohort="Sprint")

    assert csv_rows(payload) == []
    assert payload.decode("utf-8-sig") == ",".join(REVIEW_COLUMNS) + "\r\n"


# --------------------------------------------------------------------- scope and isolation


async def test_unknown_cohort_is_explained(services: Services, seeded: Seeded) -> None:
    with pytest.raises(NotFoundError, match="Did you mean `Spring`"):
        await export_bytes(services, ExportKind.PROGRESS, cohort="Sprong")


async def test_exports_never_include_another_servers_rows(services: Services, seeded: Seeded) -> None:
    for kind, id_columns in (
        (ExportKind.PROGRESS, ("member_id",)),
        (ExportKind.CHECKPOINTS, ("member_id",)),
        (ExportKind.REVIEWS, ("reviewer_id", "reviewee_id")),
    ):
        ours = csv_rows(await export_bytes(services, kind))
        theirs = csv_rows(await export_bytes(services, kind, guild=OTHER_GUILD))
        our_ids = {row[column] for row in ours for column in id_columns}
        their_ids = {row[column] for row in theirs for column in id_columns}
        assert str(EVE) not in our_ids, kind
        # The other server's review round has Eve reviewing Alice, who is in both servers.
        expected = {str(EVE), str(ALICE)} if kind is ExportKind.REVIEWS else {str(EVE)}
        assert their_ids == expected, kind
        assert ours, kind
    # The other server's review of Alice is theirs alone.
    their_reviews = csv_rows(await export_bytes(services, ExportKind.REVIEWS, guild=OTHER_GUILD))
    assert [row["link"] for row in their_reviews] == ["https://elsewhere.example"]
    alice = csv_rows(await export_bytes(services, ExportKind.PROGRESS))[0]
    assert alice["reviews_received"] == "1"


async def test_server_without_cohorts_exports_headers_only(services: Services) -> None:
    for kind in ExportKind:
        payload = await export_bytes(services, kind, guild=9999)
        assert csv_rows(payload) == []


# --------------------------------------------------------------------------- hostile content


async def test_formula_injection_is_neutralised_in_csv_and_xlsx(services: Services, seeded: Seeded) -> None:
    hostile = '=HYPERLINK("http://evil.example","click")'
    await services.cohorts.join(GUILD, "Spring", 77, hostile)
    await services.cohorts.join(GUILD, "Spring", 78, "@SUM(1+1)*cmd|' /C calc'!A0")

    rows = csv_rows(await export_bytes(services, ExportKind.PROGRESS, cohort="Spring"))
    names = {row["member_id"]: row["display_name"] for row in rows}
    assert names["77"] == "'" + hostile
    assert names["78"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert names[str(ALICE)] == "Alice"

    sheet = openpyxl.load_workbook(
        io.BytesIO(await export_bytes(services, ExportKind.CHECKPOINTS, ExportFormat.XLSX, cohort="Spring"))
    ).active
    assert sheet is not None
    cells = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == "77"]
    assert cells
    assert all(cell.value == hostile and cell.data_type == "s" and cell.quotePrefix for cell in cells)


# ------------------------------------------------------------------------------ audit, limits


async def test_every_export_is_audited_with_its_actor(services: Services, seeded: Seeded) -> None:
    await export_bytes(services, ExportKind.CHECKPOINTS, ExportFormat.JSON, cohort="Sprint")
    out = io.BytesIO()
    await services.exports.write(
        GUILD, None, ExportKind.REVIEWS, ExportFormat.CSV, out, actor_id=None, origin="command line"
    )

    entries = await services.exports.recent_audit(GUILD)

    assert [(entry.actor_id, entry.action) for entry in entries] == [
        (None, "export.reviews"),
        (MOD, "export.checkpoints"),
    ]
    assert entries[1].detail.startswith("checkpoints export of Sprint as json: 27 rows")
    assert entries[0].detail.endswith("via command line")
    assert await services.exports.recent_audit(OTHER_GUILD) == []


async def test_export_file_is_named_and_fits_the_limit(services: Services, seeded: Seeded) -> None:
    roomy = await services.exports.export_file(
        GUILD, "Study Hall", "spring", ExportKind.PROGRESS, ExportFormat.CSV, 25 * 1024 * 1024, actor_id=MOD
    )
    assert roomy.filename == "waypoint-study-hall-spring-progress-2026-03-02.csv"
    assert not roomy.zipped
    assert len(csv_rows(roomy.payload)) == 2

    everything = await services.exports.export_file(
        GUILD, "Study Hall", None, ExportKind.CHECKPOINTS, ExportFormat.CSV, 25 * 1024 * 1024, actor_id=MOD
    )
    limit = len(everything.payload) - 1
    tight = await services.exports.export_file(
        GUILD, "Study Hall", None, ExportKind.CHECKPOINTS, ExportFormat.CSV, limit, actor_id=MOD
    )
    assert tight.zipped
    assert tight.filename == "waypoint-study-hall-all-cohorts-checkpoints-2026-03-02.csv.zip"
    assert len(tight.payload) <= limit
    with zipfile.ZipFile(io.BytesIO(tight.payload)) as archive:
        assert archive.namelist() == ["waypoint-study-hall-all-cohorts-checkpoints-2026-03-02.csv"]
        assert len(csv_rows(archive.read(archive.namelist()[0]))) == 54


async def test_export_that_cannot_fit_says_what_to_narrow(services: Services, seeded: Seeded) -> None:
    with pytest.raises(InvalidInputError, match="narrow it with the `cohort` option"):
        await services.exports.export_file(
            GUILD, "Study Hall", None, ExportKind.CHECKPOINTS, ExportFormat.XLSX, 1_000, actor_id=MOD
        )
    with pytest.raises(InvalidInputError, match="waypoint export"):
        await services.exports.export_file(
            GUILD, "Study Hall", "Spring", ExportKind.CHECKPOINTS, ExportFormat.CSV, 100, actor_id=MOD
        )
    # Refused exports are not logged as done.
    assert await services.exports.recent_audit(GUILD) == []


async def test_too_many_rows_for_excel_is_a_friendly_error(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_writer, "XLSX_MAX_DATA_ROWS", 10)

    with pytest.raises(
        InvalidInputError,
        match=r"^An Excel sheet holds at most 10 rows, and this export has more\. Use `format:csv`",
    ):
        await export_bytes(services, ExportKind.CHECKPOINTS, ExportFormat.XLSX)
    # Other formats are not limited.
    assert len(csv_rows(await export_bytes(services, ExportKind.CHECKPOINTS))) == 54


async def test_large_export_streams_in_batches(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches smaller than a member's rows still give every row once, in order."""
    monkeypatch.setattr("bot.db.rows.BATCH_ROWS", 3)
    for user in range(100, 160):
        await services.cohorts.join(GUILD, "Sprint", user, f"member {user}")
        if user % 2:
            await services.progress.complete(GUILD, user, "dev-environment")

    rows = csv_rows(await export_bytes(services, ExportKind.CHECKPOINTS, cohort="Sprint"))

    assert len(rows) == 61 * 27
    assert [row["member_id"] for row in rows[::27]] == [str(CAROL)] + [str(user) for user in range(100, 160)]
    done = [
        row["member_id"]
        for row in rows
        if row["checkpoint_key"] == "dev-environment" and row["status"] == "done"
    ]
    assert done == [str(CAROL)] + [str(user) for user in range(101, 160, 2)]


async def test_review_rows_are_the_same_whatever_the_batch_size(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = await export_bytes(services, ExportKind.REVIEWS)
    monkeypatch.setattr("bot.db.rows.BATCH_ROWS", 2)

    assert await export_bytes(services, ExportKind.REVIEWS) == whole
    assert len(csv_rows(whole)) == 10


# ------------------------------------------------------------------------ the row handover


async def _batches(count: int, fail_after: int | None = None) -> AsyncIterator[list[tuple[object, ...]]]:
    for number in range(count):
        if fail_after is not None and number == fail_after:
            raise RuntimeError("database went away")
        yield [(number,)]


async def test_pump_delivers_every_row_to_the_formatter() -> None:
    seen: list[object] = []

    count = await pump(_batches(50), lambda rows: seen.extend(rows))

    assert count == 50
    assert seen == [(number,) for number in range(50)]


async def test_pump_raises_the_formatters_error_and_stops_reading() -> None:
    produced: list[int] = []

    async def batches() -> AsyncIterator[list[tuple[object, ...]]]:
        for number in range(1_000):
            produced.append(number)
            yield [(number,)]

    def failing_sink(rows: Iterable[tuple[object, ...]]) -> None:
        for row in rows:
            if row == (3,):
                raise ValueError("bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        await pump(batches(), failing_sink)
    assert len(produced) < 1_000


async def test_pump_raises_the_readers_error_and_the_formatter_stops() -> None:
    finished: list[bool] = []

    def sink(rows: Iterable[tuple[object, ...]]) -> None:
        list(rows)
        finished.append(True)

    with pytest.raises(RuntimeError, match="database went away"):
        await pump(_batches(10, fail_after=4), sink)
    assert finished == []


async def test_audit_rows_are_scoped_to_their_server(services: Services, seeded: Seeded) -> None:
    await export_bytes(services, ExportKind.PROGRESS, guild=OTHER_GUILD)
    async with services.sessions() as session:
        guilds = set(await session.scalars(select(AuditEntry.guild_id)))
    assert guilds == {OTHER_GUILD}
    assert [entry.action for entry in await services.exports.recent_audit(OTHER_GUILD)] == ["export.progress"]


async def test_checkpoint_rows_are_the_same_in_any_column_batch_size(
    services: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column batch may end between two members whatever the database's batch size."""
    for user in range(100, 120):
        await services.cohorts.join(GUILD, "Sprint", user, f"member {user}")
        if user % 3:
            await services.progress.complete(GUILD, user, "dev-environment")
    whole = {fmt: await export_bytes(services, ExportKind.CHECKPOINTS, fmt) for fmt in ExportFormat}

    monkeypatch.setattr("bot.db.rows.BATCH_ROWS", 2)
    monkeypatch.setattr("bot.exports.queries.CHECKPOINT_BATCH_ROWS", 1)

    for fmt in (ExportFormat.CSV, ExportFormat.JSON):
        assert await export_bytes(services, ExportKind.CHECKPOINTS, fmt) == whole[fmt]
    batched_sheet = openpyxl.load_workbook(
        io.BytesIO(await export_bytes(services, ExportKind.CHECKPOINTS, ExportFormat.XLSX))
    )
    whole_sheet = openpyxl.load_workbook(io.BytesIO(whole[ExportFormat.XLSX]))
    assert batched_sheet.active is not None and whole_sheet.active is not None
    assert list(batched_sheet.active.values) == list(whole_sheet.active.values)
