"""The export formats: CSV to RFC 4180 with formula neutralising, JSON, XLSX, upload limits, names."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.exports.formats import (
    CHECKPOINT_COLUMNS,
    EXPORT_SCHEMA_VERSION,
    PROGRESS_COLUMNS,
    REVIEW_COLUMNS,
    ExportFormat,
    ExportTooLargeError,
    export_filename,
    fit_to_limit,
    iter_csv,
    iter_json,
    neutralise_cell,
    write_csv,
    write_xlsx,
    xlsx_writer,
)
from bot.privacy.document import personal_data_document

SNOWFLAKE = 412345678901234567
JOINED = datetime(2026, 9, 1, 8, 30, 15, 123456, tzinfo=UTC)
DANGEROUS_PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


def progress_row(**overrides: object) -> tuple[object, ...]:
    values: dict[str, object] = {
        "member_id": SNOWFLAKE,
        "display_name": "Ada",
        "cohort": "spring-2026",
        "roadmap": "backend",
        "joined_at_utc": JOINED,
        "current_phase": "Databases",
        "checkpoints_done": 12,
        "checkpoints_total": 60,
        "percent": 20.0,
        "last_activity_at_utc": None,
        "reviews_given": 3,
        "reviews_received": 2,
        "pace": "on track",
    }
    values.update(overrides)
    return tuple(values[name] for name in PROGRESS_COLUMNS)


def csv_bytes(columns: tuple[str, ...], rows: Sequence[tuple[object, ...]], *, bom: bool = True) -> bytes:
    return b"".join(iter_csv(columns, rows, bom=bom))


def read_csv(payload: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(payload.decode("utf-8-sig"), newline="")))


# --------------------------------------------------------------------------------------- CSV


def test_column_sets_are_snake_case_and_unique() -> None:
    for columns in (PROGRESS_COLUMNS, CHECKPOINT_COLUMNS, REVIEW_COLUMNS):
        assert len(set(columns)) == len(columns)
        assert all(name.isidentifier() and name == name.lower() for name in columns)


def test_csv_round_trips_awkward_text_through_csv_reader() -> None:
    awkward_names = ['Smith, "Ada"', "line one\nline two", "Zoë 張偉 🚀", "carriage\r\nreturn", ""]
    rows = [progress_row(display_name=name, member_id=index) for index, name in enumerate(awkward_names)]

    parsed = read_csv(csv_bytes(PROGRESS_COLUMNS, rows))

    assert parsed[0] == list(PROGRESS_COLUMNS)
    assert [line[1] for line in parsed[1:]] == awkward_names
    assert [line[0] for line in parsed[1:]] == ["0", "1", "2", "3", "4"]


def test_csv_uses_crlf_line_ends_and_doubles_quotes() -> None:
    payload = csv_bytes(("a", "b"), [('say "hi"', 1), ("plain", None)], bom=False)

    assert payload == b'a,b\r\n"say ""hi""",1\r\nplain,\r\n'


def test_csv_starts_with_a_utf8_bom_unless_asked_not_to() -> None:
    with_bom = csv_bytes(("name",), [("Zoë",)])
    without_bom = csv_bytes(("name",), [("Zoë",)], bom=False)

    assert with_bom.startswith(b"\xef\xbb\xbfname\r\n")
    assert without_bom == "name\r\nZoë\r\n".encode()


def test_csv_writes_values_by_type() -> None:
    class Pace(StrEnum):
        BEHIND = "behind"

    row = (SNOWFLAKE, -3, 41.5, None, True, date(2026, 11, 24), Pace.BEHIND)
    parsed = read_csv(csv_bytes(tuple("abcdefg"), [row]))

    assert parsed[1] == [str(SNOWFLAKE), "-3", "41.5", "", "true", "2026-11-24", "behind"]


def test_csv_timestamps_are_iso_utc_to_the_second() -> None:
    paris_summer = timezone(timedelta(hours=2))
    rows = [
        (JOINED,),
        (datetime(2026, 6, 1, 12, 0, 59, tzinfo=paris_summer),),
        (None,),
    ]

    parsed = read_csv(csv_bytes(("at",), rows))

    assert [line[0] for line in parsed[1:]] == ["2026-09-01T08:30:15Z", "2026-06-01T10:00:59Z", ""]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(9998, 12, 31),
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
            ),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_csv_timestamps_match_strftime_in_utc(moments: list[datetime]) -> None:
    parsed = read_csv(csv_bytes(("at",), [(moment,) for moment in moments]))

    assert [line[0] for line in parsed[1:]] == [
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for moment in moments
    ]


def test_csv_refuses_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        csv_bytes(("at",), [(datetime(2026, 1, 1, 12, 0),)])


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_csv_neutralises_cells_that_start_like_a_formula(prefix: str) -> None:
    payload = f'{prefix}HYPERLINK("http://evil.example","x")'
    rows = [("safe", 1), (payload, 2)]

    parsed = read_csv(csv_bytes(("name", "n"), rows))

    assert parsed[1] == ["safe", "1"]
    assert parsed[2] == ["'" + payload, "2"]


def test_csv_leaves_plain_text_and_negative_numbers_alone() -> None:
    rows = [("a=b", -5, -2.5), ("x-y+z@", 0, 0.0)]

    parsed = read_csv(csv_bytes(("text", "count", "ratio"), rows))

    assert parsed[1:] == [["a=b", "-5", "-2.5"], ["x-y+z@", "0", "0.0"]]


@pytest.mark.parametrize("prefix", DANGEROUS_PREFIXES)
def test_neutralise_cell_prefixes_a_quote(prefix: str) -> None:
    assert neutralise_cell(prefix + "1") == "'" + prefix + "1"


@pytest.mark.parametrize("text", ["", "Ada", "1-2", "'quoted", "  Ada", "a =1"])
def test_neutralise_cell_keeps_harmless_text(text: str) -> None:
    assert neutralise_cell(text) == text


def test_csv_streams_many_rows_in_several_chunks() -> None:
    rows = [(index, f"member {index}", JOINED + timedelta(minutes=index)) for index in range(12_345)]

    chunks = list(iter_csv(("id", "name", "at"), rows))
    parsed = read_csv(b"".join(chunks))

    assert len(chunks) > 2
    assert len(parsed) == 1 + len(rows)
    last_at = (JOINED + timedelta(minutes=12_344)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parsed[-1] == ["12344", "member 12344", last_at]


def test_write_csv_reports_the_bytes_it_wrote() -> None:
    out = io.BytesIO()

    written = write_csv(PROGRESS_COLUMNS, [progress_row(), progress_row(member_id=1)], out)

    assert written == len(out.getvalue())
    assert len(read_csv(out.getvalue())) == 3


def test_csv_rejects_rows_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="2 cells but there are 3 columns"):
        csv_bytes(("a", "b", "c"), [(1, 2, 3), (1, 2)])


def test_csv_rejects_values_it_cannot_represent() -> None:
    with pytest.raises(TypeError, match="cannot export a list"):
        csv_bytes(("a",), [([1, 2],)])


def reference_csv(columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> bytes:
    """What the standard library's writer makes of the same cells, converted by hand."""

    def cell(value: object) -> object:
        if isinstance(value, str):
            return neutralise_cell(value)
        return "" if value is None else value

    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


cells = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.floats(allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(cells, cells, st.one_of(st.none(), st.text(max_size=6))), max_size=25))
def test_csv_matches_the_standard_csv_writer(rows: list[tuple[object, ...]]) -> None:
    columns = ("first", "second", "third")

    assert csv_bytes(columns, rows, bom=False) == reference_csv(columns, rows)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=10), max_size=10))
def test_single_column_csv_round_trips_every_row(names: list[str]) -> None:
    parsed = read_csv(csv_bytes(("name",), [(name,) for name in names]))

    assert [line[0] for line in parsed[1:]] == [neutralise_cell(name) for name in names]


# -------------------------------------------------------------------------------------- JSON


def json_document(rows: list[tuple[object, ...]], **meta: object) -> dict[str, object]:
    payload = b"".join(iter_json("progress", meta, PROGRESS_COLUMNS, rows))
    document: dict[str, object] = json.loads(payload.decode("utf-8"))
    return document


def test_json_document_has_version_meta_columns_and_rows() -> None:
    generated_at = datetime(2026, 11, 24, 18, 5, tzinfo=UTC)

    document = json_document(
        [progress_row(display_name='Zoë, "=1"', last_activity_at_utc=JOINED)],
        generated_at=generated_at,
        guild_id=SNOWFLAKE + 1,
        cohort=None,
    )

    assert document["schema_version"] == EXPORT_SCHEMA_VERSION == 2  # 2: timestamp columns end in _utc
    assert document["kind"] == "progress"
    assert document["generated_at"] == "2026-11-24T18:05:00Z"
    assert document["guild_id"] == str(SNOWFLAKE + 1)
    assert document["cohort"] is None
    assert document["columns"] == list(PROGRESS_COLUMNS)
    assert document["rows"] == [
        {
            "member_id": str(SNOWFLAKE),
            "display_name": 'Zoë, "=1"',
            "cohort": "spring-2026",
            "roadmap": "backend",
            "joined_at_utc": "2026-09-01T08:30:15Z",
            "current_phase": "Databases",
            "checkpoints_done": 12,
            "checkpoints_total": 60,
            "percent": 20.0,
            "last_activity_at_utc": "2026-09-01T08:30:15Z",
            "reviews_given": 3,
            "reviews_received": 2,
            "pace": "on track",
        }
    ]


def test_json_with_no_rows_is_still_a_document() -> None:
    assert json_document([])["rows"] == []


def test_json_streams_many_rows_one_per_line() -> None:
    rows = [progress_row(member_id=index) for index in range(4_500)]

    chunks = list(iter_json("progress", {}, PROGRESS_COLUMNS, rows))
    text = b"".join(chunks).decode("utf-8")
    document = json.loads(text)

    assert len(chunks) > 2
    assert [row["member_id"] for row in document["rows"]] == [str(index) for index in range(4_500)]
    lines = text.splitlines()
    assert len(lines) == 1 + 4_500 + 1  # the head, one line per row, the closing brackets
    assert all(line.startswith('{"member_id":') for line in lines[1:-1])


def test_json_meta_cannot_override_the_fixed_keys() -> None:
    with pytest.raises(ValueError, match="schema_version"):
        json_document([], schema_version=2)


def test_json_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_document([progress_row(percent=float("nan"))])


def test_personal_data_document_is_readable_json_with_ids_as_text() -> None:
    sections = {
        "memberships": [{"cohort": "spring", "joined_at": JOINED, "member_id": SNOWFLAKE}],
        "reviews": [{"reviewer_id": SNOWFLAKE, "reviewee_id": 7, "note": "très bien", "scores": [1, 2]}],
        "reminders": [],
    }

    payload = personal_data_document(1, SNOWFLAKE, datetime(2026, 11, 24, tzinfo=UTC), sections)
    document = json.loads(payload)

    assert payload.endswith(b"}\n")
    assert b'\n  "schema_version": 1,' in payload
    assert "très bien".encode() in payload
    assert document["kind"] == "personal_data"
    assert (document["guild_id"], document["user_id"]) == ("1", str(SNOWFLAKE))
    assert document["generated_at"] == "2026-11-24T00:00:00Z"
    assert list(document["sections"]) == ["memberships", "reviews", "reminders"]
    assert document["sections"]["memberships"] == [
        {"cohort": "spring", "joined_at": "2026-09-01T08:30:15Z", "member_id": str(SNOWFLAKE)}
    ]
    assert document["sections"]["reviews"][0]["reviewee_id"] == "7"
    assert document["sections"]["reviews"][0]["scores"] == [1, 2]


# -------------------------------------------------------------------------------------- XLSX


def xlsx_sheet(
    rows: list[tuple[object, ...]], columns: tuple[str, ...] = PROGRESS_COLUMNS, title: str = "x"
) -> tuple[Any, bytes]:
    """The written workbook's sheet read back by openpyxl, and the raw file."""
    out = io.BytesIO()
    write_xlsx(title, columns, rows, out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue())).active, out.getvalue()


def test_xlsx_cells_keep_their_types() -> None:
    sheet, _ = xlsx_sheet([progress_row(last_activity_at_utc=None)])

    header = [cell.value for cell in sheet[1]]
    values = dict(zip(PROGRESS_COLUMNS, sheet[2], strict=True))

    assert header == list(PROGRESS_COLUMNS)
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert values["checkpoints_done"].value == 12
    assert isinstance(values["checkpoints_done"].value, int)
    assert values["percent"].value == 20.0
    assert values["joined_at_utc"].value == datetime(2026, 9, 1, 8, 30, 15)  # naive UTC, to the second
    assert values["joined_at_utc"].is_date
    assert values["joined_at_utc"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert values["last_activity_at_utc"].value is None
    # Snowflakes stay exact as text; Excel's doubles would round the last digits.
    assert values["member_id"].value == str(SNOWFLAKE)
    assert values["member_id"].data_type == "s"


def test_xlsx_converts_other_offsets_to_utc() -> None:
    new_york = timezone(timedelta(hours=-5))
    sheet, _ = xlsx_sheet([progress_row(joined_at_utc=datetime(2026, 1, 1, 22, 0, tzinfo=new_york))])

    assert sheet["E2"].value == datetime(2026, 1, 2, 3, 0)


@pytest.mark.parametrize("text", ["=SUM(A1:A9)", "+1", "-1", "@cmd", "\tx", "\r=1"])
def test_xlsx_stores_formula_looking_text_as_text(text: str) -> None:
    sheet, raw = xlsx_sheet([progress_row(display_name=text)])

    cell = sheet["B2"]
    assert cell.value == text.replace("\r", "\n")  # XML keeps no bare carriage return
    assert cell.data_type == "s"
    assert cell.quotePrefix
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml


def test_xlsx_keeps_error_code_lookalikes_and_drops_control_characters() -> None:
    sheet, _ = xlsx_sheet([progress_row(display_name="#N/A", current_phase="bell\x07 char")])

    assert (sheet["B2"].value, sheet["B2"].data_type) == ("#N/A", "s")
    assert sheet["F2"].value == "bell char"


def test_xlsx_sheet_title_is_made_acceptable_to_excel() -> None:
    sheet, _ = xlsx_sheet([], title="Progress: spring/2026 [all] and a very long tail")

    assert sheet.title == "Progress- spring-2026 -all- and"
    assert sheet.max_row == 1


def test_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "XLSX_MAX_DATA_ROWS", 2)

    with pytest.raises(ExportTooLargeError):
        xlsx_sheet([progress_row(), progress_row(), progress_row()])
    # Two rows are fine.
    sheet, _ = xlsx_sheet([progress_row(), progress_row()])
    assert sheet.max_row == 3


# ---------------------------------------------------------------------- upload limit and names


def test_fit_to_limit_returns_a_small_file_unchanged() -> None:
    assert fit_to_limit("a.csv", b"x" * 10, 10) == ("a.csv", b"x" * 10)


def test_fit_to_limit_zips_a_large_compressible_file() -> None:
    payload = b"member_id,display_name\r\n" + b"412345678901234567,Ada Lovelace\r\n" * 20_000

    fitted = fit_to_limit("progress.csv", payload, 100_000)

    assert fitted is not None
    name, compressed = fitted
    assert name == "progress.csv.zip"
    assert len(compressed) <= 100_000
    with zipfile.ZipFile(io.BytesIO(compressed)) as archive:
        (entry,) = archive.infolist()
        assert entry.filename == "progress.csv"
        assert entry.compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("progress.csv") == payload
    assert fit_to_limit("progress.csv", payload, 100_000) == fitted  # same bytes every time


def test_fit_to_limit_gives_up_when_even_the_zip_is_too_big() -> None:
    incompressible = random.Random(4180).randbytes(50_000)

    assert fit_to_limit("checkpoints.csv", incompressible, 40_000) is None


def test_fit_to_limit_dates_the_archive_entry_when_asked() -> None:
    fitted = fit_to_limit(
        "a.csv", b"a" * 5_000, 1_000, modified_at=datetime(2026, 11, 24, 18, 5, 30, tzinfo=UTC)
    )

    assert fitted is not None
    with zipfile.ZipFile(io.BytesIO(fitted[1])) as archive:
        assert archive.infolist()[0].date_time == (2026, 11, 24, 18, 5, 30)


def test_fit_to_limit_needs_a_positive_limit() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_to_limit("a.csv", b"", 0)


@pytest.mark.parametrize(
    ("guild", "cohort", "kind", "fmt", "expected"),
    [
        (
            "My Server",
            "Spring Cohort",
            "progress",
            ExportFormat.CSV,
            "waypoint-my-server-spring-cohort-progress-2026-11-24.csv",
        ),
        (
            "My Server",
            None,
            "checkpoints",
            ExportFormat.XLSX,
            "waypoint-my-server-all-cohorts-checkpoints-2026-11-24.xlsx",
        ),
        (
            "Café Crème ☕",
            "Été 2026!",
            "reviews",
            ExportFormat.JSON,
            "waypoint-cafe-creme-ete-2026-reviews-2026-11-24.json",
        ),
        ("🚀🚀", "春", "progress", ExportFormat.CSV, "waypoint-server-cohort-progress-2026-11-24.csv"),
        (
            "../../etc/passwd",
            "a/b\\c",
            "progress",
            ExportFormat.CSV,
            "waypoint-etc-passwd-a-b-c-progress-2026-11-24.csv",
        ),
    ],
)
def test_export_filename_is_a_safe_ascii_slug(
    guild: str, cohort: str | None, kind: str, fmt: ExportFormat, expected: str
) -> None:
    assert export_filename(guild, cohort, kind, date(2026, 11, 24), fmt) == expected


def test_export_filename_stays_short_for_long_names() -> None:
    name = export_filename("x" * 300, "y" * 300, "progress", date(2026, 11, 24), ExportFormat.CSV)

    assert len(name) < 120
    assert name.endswith("-progress-2026-11-24.csv")
