"""The one roadmap validator on uploads, a version's diff, and completion carry-over (issue 12)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content import MAX_FILE_BYTES, RoadmapCatalog, parse_roadmap
from bot.kernel.roadmap import Checkpoint, Phase, Roadmap
from bot.roadmaps.diff import Kind, Level, carry_over, diff_roadmaps
from bot.roadmaps.rules import check_upload, roadmap_yaml, shown_copy
from tests.behaviour.test_community_roadmaps import EVENINGS, EVENINGS_V2

SHIPPED = frozenset({"python-europe", "nodejs-path"})


def parsed(text: str) -> Roadmap:
    roadmap, problems = parse_roadmap(text.encode(), "test.yaml")
    assert roadmap is not None, problems
    return roadmap


def problems_of(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return list(check_upload(data, "up.yaml", SHIPPED).problems)


def test_a_valid_upload_passes() -> None:
    check = check_upload(EVENINGS.encode(), "evenings.yaml", SHIPPED)
    assert check.problems == () and check.roadmap is not None and check.roadmap.checkpoint_count == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key: [unclosed", "up.yaml: YAML syntax error at line 2, column 1"),
        ("- a\n- b\n", "the top level must be a mapping of roadmap fields, not a list"),
        ("", "up.yaml: file is empty"),
        (EVENINGS.replace("key: rust-evenings", "key: r"), "key: String should have at least 2 characters"),
        (EVENINGS.replace("key: rust-evenings", "key: Rust_Evenings"), "key: String should match pattern"),
        (
            EVENINGS.replace("key: rust-evenings", "key: python-europe"),
            "is one of the roadmaps Waypoint ships",
        ),
        (
            EVENINGS.replace(
                "title: Errors as values", "title: Errors as values\n        renamed_from: [sql-queries]"
            ),
            "renamed from 'sql-queries', which is still a key here",
        ),
        (
            EVENINGS.replace("topics: [http, sql]", "topics: [http, '" + "t" * 101 + "']"),
            "each topic must be",
        ),
        (
            EVENINGS.replace("start_day: 7", "start_day: 99999"),
            "start_day: Input should be less than or equal",
        ),
        (EVENINGS.replace("title: Hello endpoint", 'title: "Hello\\x07"'), "contains invisible or control"),
    ],
)
def test_each_problem_names_its_place(text: str, expected: str) -> None:
    assert any(expected in problem for problem in problems_of(text)), problems_of(text)


def test_line_phase_checkpoint_and_field_are_named() -> None:
    broken = EVENINGS.replace("        title: Typed queries\n", "")
    assert problems_of(broken) == [
        "up.yaml: line 32, roadmap 'rust-evenings', phase 2 'services', checkpoint 2 'sql-queries':"
        " title is missing"
    ]


def test_not_utf8_is_one_sentence() -> None:
    assert problems_of(b"\xff\xfe\x00k\x00e\x00y") == [
        "up.yaml: this is not a text file in UTF-8; save the roadmap as UTF-8 YAML"
    ]


def test_over_the_size_limit_is_refused_before_parsing() -> None:
    assert problems_of(b"#" * (MAX_FILE_BYTES + 1)) == [
        "up.yaml: the file is 256 KiB; a roadmap file can be at most 256 KiB"
    ]


def test_an_alias_bomb_fails_fast_at_its_first_anchor() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]" for n in range(20)]
    started = time.perf_counter()
    problems = problems_of("\n".join(levels))
    assert time.perf_counter() - started < 0.5
    assert problems == [
        "up.yaml: YAML syntax error at line 1, column 4: anchors and aliases (&name, *name) are not allowed"
    ]


def test_a_lone_alias_is_refused_too() -> None:
    assert "anchors and aliases" in problems_of("key: *missing\n")[0]


def test_the_checkpoint_limit_per_phase() -> None:
    checkpoint = "      - key: c{n}\n        title: Step {n}\n        description: Do step {n}.\n"
    many = "".join(checkpoint.format(n=n) for n in range(81))
    text = EVENINGS.split("    checkpoints:\n", 1)[0] + "    checkpoints:\n" + many + "    prompts:\n"
    text += '      - "A long enough prompt to pass the length rule."\n'
    assert any("checkpoints: Tuple should have at most 80 items" in p for p in problems_of(text))


@pytest.mark.parametrize(
    "key", ["job-skills", "junior-to-senior", "ninety-day-plan", "nodejs-path", "python-europe"]
)
def test_every_shipped_roadmap_exports_to_a_file_that_imports_equal(
    default_catalog: RoadmapCatalog, key: str
) -> None:
    shipped = default_catalog.get(key)
    assert shipped is not None
    assert parsed(roadmap_yaml(shipped)) == shipped


def test_shown_copy_makes_links_and_mentions_inert_and_keeps_keys() -> None:
    hostile = parsed(
        EVENINGS.replace(
            "title: Hello endpoint", 'title: "[Nitro](https://evil.example) <@1234567890> <@&5> <#7> @here"'
        )
    )
    shown = shown_copy(hostile)
    phase, checkpoint = shown.find_checkpoint("hello-endpoint")
    assert checkpoint.title == "[Nitro]\\(https://evil.example) <\\@1234567890> <\\@&5> <\\#7> @\u200bhere"
    assert [c.key for _, c in shown.checkpoints()] == [c.key for _, c in hostile.checkpoints()]
    assert phase.key == "services"


# --- diff -------------------------------------------------------------------------------------


def test_the_v2_diff_lists_each_kind_of_change() -> None:
    diff = diff_roadmaps(parsed(EVENINGS), parsed(EVENINGS_V2))
    kinds = {(change.level, change.kind, change.key) for change in diff.changes}
    assert kinds == {
        (Level.CHECKPOINT, Kind.CHANGED, "borrow-checker"),
        (Level.CHECKPOINT, Kind.RENAMED, "errors-as-values"),
        (Level.CHECKPOINT, Kind.ADDED, "deploy-it"),
        (Level.CHECKPOINT, Kind.REMOVED, "sql-queries"),
        (Level.PHASE, Kind.CHANGED, "ownership"),
        (Level.PHASE, Kind.CHANGED, "services"),
    }
    assert diff.renames == {"error-handling": "errors-as-values"}
    assert diff.retired == ("sql-queries",)


KEYS = st.lists(st.sampled_from([f"k{n}" for n in range(12)]), min_size=1, max_size=8, unique=True)


def roadmap_with(keys: list[str], renamed: dict[str, tuple[str, ...]] | None = None) -> Roadmap:
    renamed = renamed or {}
    checkpoints = tuple(
        Checkpoint(key=key, title=key, description="d", renamed_from=renamed.get(key, ())) for key in keys
    )
    phase = Phase(
        key="only",
        title="Only",
        summary="s",
        start_day=0,
        duration_days=7,
        topics=("t",),
        checkpoints=checkpoints,
        prompts=("a prompt long enough to pass",),
    )
    return Roadmap(key="test-path", title="T", summary="s", phases=(phase,))


@given(KEYS)
def test_a_roadmap_against_itself_changes_nothing(keys: list[str]) -> None:
    roadmap = roadmap_with(keys)
    diff = diff_roadmaps(roadmap, roadmap)
    assert diff.empty and diff.retired == () and not diff.renames


@given(KEYS, KEYS)
def test_added_and_removed_are_the_key_set_differences(old: list[str], new: list[str]) -> None:
    diff = diff_roadmaps(roadmap_with(old), roadmap_with(new))
    assert {c.key for c in diff.of(Level.CHECKPOINT, Kind.ADDED)} == set(new) - set(old)
    assert {c.key for c in diff.of(Level.CHECKPOINT, Kind.REMOVED)} == set(old) - set(new)
    assert set(diff.retired) == set(old) - set(new)


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(["old-a", "old-b", "new", "other"])),
        max_size=30,
        unique=True,
    )
)
def test_carry_over_leaves_each_member_one_row_per_key_and_touches_nothing_else(
    held: list[tuple[int, str]],
) -> None:
    renames = {"old-a": "new", "old-b": "new"}
    rows = [(row_id, member, key) for row_id, (member, key) in enumerate(held, start=1)]
    plan = carry_over(rows, renames)
    updated = dict(plan.updates)
    after = [
        (member, updated.get(row_id, key)) for row_id, member, key in rows if row_id not in plan.duplicates
    ]
    assert len(after) == len(set(after))  # at most one row per (member, key)
    for member in {member for member, _ in held}:
        had = {key for m, key in held if m == member}
        now = {key for m, key in after if m == member}
        assert now == {renames.get(key, key) for key in had}
    untouched = {row_id for row_id, _, key in rows if key == "other"}
    assert not untouched & (set(updated) | set(plan.duplicates))
