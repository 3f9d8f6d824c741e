"""Closing a round answers "who recorded no review" for every group in one pass, the same answers."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import RoadmapCatalog
from bot.reviews.rules import (
    member_phase_index,
    members_without_review,
    phase_index_from_counts,
    without_review_by_group,
)

USERS = st.integers(min_value=1, max_value=12)
SIDE = st.one_of(st.none(), USERS)


@st.composite
def rounds(draw: st.DrawFn) -> tuple[list[tuple[tuple[int, ...], int]], set[tuple[int | None, int | None]]]:
    users = draw(st.lists(USERS, unique=True, max_size=12))
    groups: list[tuple[tuple[int, ...], int]] = []
    place = 0
    while place < len(users):
        size = draw(st.integers(min_value=1, max_value=3))
        groups.append((tuple(users[place : place + size]), draw(st.integers(min_value=0, max_value=1))))
        place += size
    reviews = draw(st.sets(st.tuples(SIDE, SIDE), max_size=30))
    return groups, reviews


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_one_pass_matches_the_per_group_rule(
    round_: tuple[list[tuple[tuple[int, ...], int]], set[tuple[int | None, int | None]]],
) -> None:
    groups, reviews = round_
    assert without_review_by_group(groups, reviews) == [
        members_without_review(members, reviews, former) for members, former in groups
    ]


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_phase_from_counts_matches_the_phase_from_keys(
    default_catalog: RoadmapCatalog, data: st.DataObject
) -> None:
    # The shipped roadmaps, parsed once per session (conftest), not once per example.
    roadmap = default_catalog.get(
        data.draw(st.sampled_from(["junior-to-senior", "job-skills", "python-europe"]))
    )
    assert roadmap is not None
    phase_of = {
        checkpoint.key: index
        for index, phase in enumerate(roadmap.phases)
        for checkpoint in phase.checkpoints
    }
    done = data.draw(st.sets(st.sampled_from(sorted(phase_of))))
    counts = Counter(phase_of[key] for key in done)
    assert phase_index_from_counts(roadmap, counts) == member_phase_index(roadmap, done)
