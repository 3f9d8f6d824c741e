"""Weekly review pairing: placement rules, determinism, and the repeat count against oracles.

The oracles are written independently of the production search: networkx's maximum matching on
the "never met" graph for even weeks (a week can have no fewer than n/2 - matching-size repeats),
a memoised exhaustive search for odd weeks (which hold one trio), and a brute force over every
grouping of the full lexicographic objective for small weeks.
"""

from __future__ import annotations

import functools
import pickle
import random
from array import array
from collections.abc import Iterator, Sequence
from functools import cache
from itertools import combinations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reviews.pairing import (
    EXHAUSTIVE_LIMIT,
    PHASE_GAP_CAP,
    SHARED_LANGUAGES_CAP,
    UNKNOWN_OVERLAP_MINUTES,
    UNKNOWN_PHASE_GAP,
    Candidate,
    PackedWeek,
    PairingHistory,
    PairingResult,
    daytime_overlap_minutes,
    make_groups,
    meeting_triples,
    pair_packed_week,
    pair_week,
)

ZONES = (-480, -300, 0, 60, 330, 540, 600, 780)
LANGUAGES = ("python", "go", "java", "rust")
ROUND = 20


# ---------------------------------------------------------------- strategies and oracles


# Strategies built once: building them inside ``weeks`` for every candidate cost more than pairing.
ZONE_OR_NONE = st.none() | st.sampled_from(ZONES)
LANGUAGE_SETS = st.frozensets(st.sampled_from(LANGUAGES), max_size=3)
PHASE_OR_NONE = st.none() | st.integers(0, 8)
DENSITY = st.sampled_from((0.0, 0.2, 0.5, 0.7, 0.8, 0.88, 0.94, 0.97, 1.0))
SHUFFLER = st.randoms(use_true_random=False)


@st.composite
def weeks(draw: st.DrawFn, min_size: int = 0, max_size: int = 14) -> tuple[list[Candidate], PairingHistory]:
    """Candidates with varied zones, languages and phases, and a history of any density.

    The history is random pairs and trios over the candidates plus a few outsiders (members who
    left), spread over rounds 0..ROUND-1, so repeats are sometimes unavoidable.
    """
    size = draw(st.integers(min_size, max_size))
    user_ids = draw(st.lists(st.integers(1, 10**9), min_size=size, max_size=size, unique=True))
    candidates = [
        Candidate(
            user_id=user_id,
            utc_offset_minutes=draw(ZONE_OR_NONE),
            languages=draw(LANGUAGE_SETS),
            phase_index=draw(PHASE_OR_NONE),
        )
        for user_id in user_ids
    ]
    shuffler = draw(SHUFFLER)
    density = draw(DENSITY)
    people = [*user_ids, -1, -2]
    rounds: list[tuple[int, list[tuple[int, ...]]]] = []
    for first, second in combinations(people, 2):
        if shuffler.random() < density:
            rounds.append((shuffler.randrange(ROUND), [(first, second)]))
    for _ in range(shuffler.randrange(3)):
        if len(people) >= 3:
            rounds.append((shuffler.randrange(ROUND), [tuple(shuffler.sample(people, 3))]))
    return candidates, PairingHistory.from_rounds(rounds)


def met(history: PairingHistory, first: int, second: int) -> bool:
    return history.last_met(first, second) is not None


def repeats_in(groups: Sequence[Sequence[int]], history: PairingHistory) -> int:
    return sum(
        1 for group in groups for first, second in combinations(group, 2) if met(history, first, second)
    )


def fewest_repeats_even(user_ids: Sequence[int], history: PairingHistory) -> int:
    """An even week has at least n/2 - (largest matching of never-met pairs) repeats, and can reach it."""
    graph = nx.Graph()
    graph.add_nodes_from(user_ids)
    graph.add_edges_from(pair for pair in combinations(user_ids, 2) if not met(history, *pair))
    return len(user_ids) // 2 - len(nx.max_weight_matching(graph, maxcardinality=True))


def fewest_repeats_any(user_ids: Sequence[int], history: PairingHistory) -> int:
    """Exhaustive minimum over pairs plus (for an odd count) one trio, memoised on who is left."""
    repeat = [[met(history, first, second) for second in user_ids] for first in user_ids]

    @cache
    def best(left: frozenset[int]) -> int:
        if not left:
            return 0
        head, *rest = sorted(left)
        options = []
        if len(left) % 2 == 1:
            for second, third in combinations(rest, 2):
                cost = repeat[head][second] + repeat[head][third] + repeat[second][third]
                options.append(cost + best(left - {head, second, third}))
        if len(left) % 2 == 0 or len(left) > 3:
            options.extend(repeat[head][other] + best(left - {head, other}) for other in rest)
        return min(options)

    return best(frozenset(range(len(user_ids))))


def all_groupings(members: list[int]) -> Iterator[list[tuple[int, ...]]]:
    """Every split into pairs and, for an odd count, exactly one trio (not necessarily unique order)."""
    if not members:
        yield []
        return
    head, rest = members[0], members[1:]
    for other in rest:
        remaining = [member for member in rest if member != other]
        if len(remaining) % 2 == 0 or len(remaining) >= 3:
            for tail in all_groupings(remaining):
                yield [(head, other), *tail]
    if len(members) % 2 == 1:
        for second, third in combinations(rest, 2):
            remaining = [member for member in rest if member not in (second, third)]
            for tail in all_groupings(remaining):
                yield [(head, second, third), *tail]


@functools.cache
def overlap_by_counting(offset_a: int | None, offset_b: int | None) -> int:
    """Count the UTC minutes of a day when both members are between 08:00 and 22:00 local time."""
    if offset_a is None or offset_b is None:
        return UNKNOWN_OVERLAP_MINUTES

    def awake(minute: int, offset: int) -> bool:
        return 8 * 60 <= (minute + offset) % 1440 < 22 * 60

    return sum(1 for minute in range(1440) if awake(minute, offset_a) and awake(minute, offset_b))


def objective(
    groups: Sequence[Sequence[int]], by_id: dict[int, Candidate], history: PairingHistory, round_index: int
) -> tuple[int, int, int, int, int]:
    """The documented lexicographic objective, smaller is better, written from the docstring."""
    repeats = weeks_since = overlap = shared = gap = 0
    for group in groups:
        for first, second in combinations(group, 2):
            last = history.last_met(first, second)
            if last is not None:
                repeats += 1
                weeks_since += max(round_index - last, 1)
            a, b = by_id[first], by_id[second]
            overlap += overlap_by_counting(a.utc_offset_minutes, b.utc_offset_minutes)
            shared += min(len(a.languages & b.languages), SHARED_LANGUAGES_CAP)
            if a.phase_index is None or b.phase_index is None:
                gap += UNKNOWN_PHASE_GAP
            else:
                gap += min(abs(a.phase_index - b.phase_index), PHASE_GAP_CAP)
    return (repeats, -weeks_since, -overlap, -shared, gap)


def user_ids_of(candidates: Sequence[Candidate]) -> list[int]:
    return [candidate.user_id for candidate in candidates]


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None)
@given(week=weeks(max_size=16), seed=st.integers(0, 2**32))
def test_everyone_is_placed_exactly_once_in_pairs_and_at_most_one_trio(
    week: tuple[list[Candidate], PairingHistory], seed: int
) -> None:
    candidates, history = week
    result = make_groups(candidates, history, ROUND, seed)

    placed = [member for group in result.groups for member in group] + list(result.unpaired)
    assert sorted(placed) == sorted(user_ids_of(candidates))
    assert all(len(group) in (2, 3) for group in result.groups)
    trios = [group for group in result.groups if len(group) == 3]
    assert len(trios) == (1 if len(candidates) % 2 == 1 and len(candidates) >= 3 else 0)
    assert result.unpaired == (tuple(user_ids_of(candidates)) if len(candidates) == 1 else ())
    assert result.repeat_pairs == repeats_in(result.groups, history)
    assert list(result.groups) == sorted(result.groups)
    assert all(list(group) == sorted(group) for group in result.groups)


@settings(max_examples=100, deadline=None)
@given(week=weeks(max_size=16), seed=st.integers(0, 2**32), order_seed=st.integers(0, 1000))
def test_same_input_and_seed_give_the_same_groups_whatever_the_input_order(
    week: tuple[list[Candidate], PairingHistory], seed: int, order_seed: int
) -> None:
    candidates, history = week
    reordered = list(candidates)
    random.Random(order_seed).shuffle(reordered)

    first = make_groups(candidates, history, ROUND, seed)

    assert make_groups(candidates, history, ROUND, seed) == first
    assert make_groups(reordered, history, ROUND, seed) == first


@settings(max_examples=250, deadline=None)
@given(week=weeks(min_size=2, max_size=16), seed=st.integers(0, 2**32))
def test_even_weeks_have_no_more_repeats_than_a_maximum_matching_allows(
    week: tuple[list[Candidate], PairingHistory], seed: int
) -> None:
    candidates, history = week
    if len(candidates) % 2 == 1:
        candidates = candidates[1:]

    result = make_groups(candidates, history, ROUND, seed)

    assert result.repeat_pairs == fewest_repeats_even(user_ids_of(candidates), history)


@settings(max_examples=250, deadline=None)
@given(week=weeks(min_size=9, max_size=13), seed=st.integers(0, 2**32))
def test_odd_weeks_have_the_fewest_repeats_an_exhaustive_search_finds(
    week: tuple[list[Candidate], PairingHistory], seed: int
) -> None:
    candidates, history = week
    if len(candidates) % 2 == 0:
        candidates = candidates[1:]

    result = make_groups(candidates, history, ROUND, seed)

    assert result.repeat_pairs == fewest_repeats_any(user_ids_of(candidates), history)


@settings(max_examples=150, deadline=None)
@given(week=weeks(min_size=2, max_size=8), seed=st.integers(0, 2**32))
def test_small_weeks_are_optimal_on_every_tier_of_the_objective(
    week: tuple[list[Candidate], PairingHistory], seed: int
) -> None:
    candidates, history = week
    by_id = {candidate.user_id: candidate for candidate in candidates}
    best = min(objective(groups, by_id, history, ROUND) for groups in all_groupings(user_ids_of(candidates)))

    result = make_groups(candidates, history, ROUND, seed)

    assert objective(result.groups, by_id, history, ROUND) == best


@given(
    offset_a=st.none() | st.integers(-12 * 60, 14 * 60),
    offset_b=st.none() | st.integers(-12 * 60, 14 * 60),
)
def test_daytime_overlap_matches_counting_minutes(offset_a: int | None, offset_b: int | None) -> None:
    assert daytime_overlap_minutes(offset_a, offset_b) == overlap_by_counting(offset_a, offset_b)
    assert daytime_overlap_minutes(offset_a, offset_b) == daytime_overlap_minutes(offset_b, offset_a)


# ---------------------------------------------------------------- explicit cases


def test_no_candidates_give_no_groups() -> None:
    assert make_groups([], PairingHistory(), 0, seed=1) == PairingResult(
        groups=(), unpaired=(), repeat_pairs=0
    )


def test_a_single_candidate_is_reported_unpaired_instead_of_given_a_partner() -> None:
    result = make_groups([Candidate(7)], PairingHistory(), 0, seed=1)

    assert result == PairingResult(groups=(), unpaired=(7,), repeat_pairs=0)
    assert result.group_of(7) is None


def test_two_candidates_form_one_pair_even_if_they_met_before() -> None:
    history = PairingHistory.from_rounds([(3, [(1, 2)])])

    result = make_groups([Candidate(2), Candidate(1)], history, 4, seed=1)

    assert result == PairingResult(groups=((1, 2),), unpaired=(), repeat_pairs=1)
    assert result.group_of(1) == (1, 2)


def test_three_candidates_form_one_trio() -> None:
    result = make_groups([Candidate(3), Candidate(1), Candidate(2)], PairingHistory(), 0, seed=1)

    assert result.groups == ((1, 2, 3),)
    assert result.unpaired == ()


def test_duplicate_candidates_are_rejected() -> None:
    with pytest.raises(ValueError, match="only once"):
        make_groups([Candidate(1), Candidate(1)], PairingHistory(), 0, seed=1)


@pytest.mark.parametrize(("size", "expected_repeats"), [(4, 2), (5, 4), (6, 3), (11, 7), (12, 6), (13, 8)])
def test_when_everyone_met_everyone_each_pair_is_a_repeat(size: int, expected_repeats: int) -> None:
    members = list(range(1, size + 1))
    history = PairingHistory.from_rounds([(0, [pair]) for pair in combinations(members, 2)])

    result = make_groups([Candidate(member) for member in members], history, 1, seed=3)

    assert result.repeat_pairs == expected_repeats
    assert sorted(member for group in result.groups for member in group) == members


def test_the_trio_is_the_one_that_adds_no_repeat() -> None:
    # Only 1-2-3 (all three pairs) and 4-5 never met; every other pair did.
    members = [1, 2, 3, 4, 5]
    fresh = {(1, 2), (1, 3), (2, 3), (4, 5)}
    history = PairingHistory.from_rounds(
        [(0, [pair]) for pair in combinations(members, 2) if pair not in fresh]
    )

    result = make_groups([Candidate(member) for member in members], history, 1, seed=9)

    assert result.groups == ((1, 2, 3), (4, 5))
    assert result.repeat_pairs == 0


def test_a_member_who_met_everyone_costs_one_repeat_not_two() -> None:
    # Member 0 met all twelve others, who never met each other: the trio must be three newcomers
    # (three fresh pairs) and member 0 takes one repeat in a pair, not two inside the trio.
    others = list(range(1, 13))
    history = PairingHistory.from_rounds([(5, [(0, other) for other in others])])

    result = make_groups([Candidate(member) for member in [0, *others]], history, 6, seed=2)

    assert result.repeat_pairs == 1
    group_of_veteran = result.group_of(0)
    assert group_of_veteran is not None
    assert len(group_of_veteran) == 2


def test_an_unavoidable_repeat_goes_to_the_pairs_who_met_longest_ago() -> None:
    # Everyone met; 1-3 and 2-4 longest ago. 1 and 2 share a zone (so do 3 and 4), which must
    # not outweigh the age of the repeat.
    history = PairingHistory.from_rounds(
        [(1, [(1, 3), (2, 4)]), (5, [(1, 4), (2, 3)]), (9, [(1, 2), (3, 4)])]
    )
    candidates = [Candidate(1, 0), Candidate(2, 0), Candidate(3, 540), Candidate(4, 540)]

    result = make_groups(candidates, history, 10, seed=4)

    assert result.groups == ((1, 3), (2, 4))
    assert result.repeat_pairs == 2


def test_large_weeks_avoid_recent_partners_when_everyone_met() -> None:
    # 14 members all met in round 0; last week's partners (1-2, 3-4, ...) share a zone and are
    # the only recent repeats. With every pair a repeat, the recent ones must all be avoided.
    members = list(range(1, 15))
    last_week = [(member, member + 1) for member in range(1, 15, 2)]
    history = PairingHistory.from_rounds([(0, list(combinations(members, 2))), (9, last_week)])
    candidates = [Candidate(member, utc_offset_minutes=60 * ((member + 1) // 2)) for member in members]
    assert len(candidates) > EXHAUSTIVE_LIMIT

    result = make_groups(candidates, history, 10, seed=5)

    assert result.repeat_pairs == 7
    assert not set(result.groups) & set(last_week)


def test_timezone_decides_when_repeats_are_equal() -> None:
    # All four met in the same round, so only the zones tell the groupings apart.
    history = PairingHistory.from_rounds([(2, list(combinations([1, 2, 3, 4], 2)))])
    candidates = [Candidate(1, -300), Candidate(2, 540), Candidate(3, 540), Candidate(4, -300)]

    result = make_groups(candidates, history, 3, seed=8)

    assert result.groups == ((1, 4), (2, 3))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_members_are_paired_within_their_zone_when_they_can_be(seed: int) -> None:
    # 40 members, ten in each of four zones, no history: every pair can be (so must be) same-zone.
    four_zones = (-480, -60, 330, 600)
    candidates = [Candidate(member, four_zones[member % 4]) for member in range(40)]
    zone_of = {candidate.user_id: candidate.utc_offset_minutes for candidate in candidates}

    result = make_groups(candidates, PairingHistory(), 0, seed=seed)

    assert all(len({zone_of[member] for member in group}) == 1 for group in result.groups)


def test_shared_languages_decide_within_a_zone() -> None:
    candidates = [
        Candidate(1, 0, frozenset({"go"})),
        Candidate(2, 0, frozenset({"rust"})),
        Candidate(3, 0, frozenset({"go", "java"})),
        Candidate(4, 0, frozenset({"rust"})),
    ]

    result = make_groups(candidates, PairingHistory(), 0, seed=6)

    assert result.groups == ((1, 3), (2, 4))


def test_different_seeds_choose_differently_among_equal_groupings() -> None:
    candidates = [Candidate(member) for member in range(12)]

    groupings = {make_groups(candidates, PairingHistory(), 0, seed=seed).groups for seed in range(8)}

    assert len(groupings) > 1


def test_a_large_week_with_history_has_no_repeats() -> None:
    rng = random.Random(11)
    members = list(range(301))
    rounds = []
    for round_index in range(30):
        rng.shuffle(members)
        rounds.append((round_index, [members[place : place + 2] for place in range(0, 300, 2)]))
    history = PairingHistory.from_rounds(rounds)
    candidates = [Candidate(member, rng.choice(ZONES), frozenset(), rng.randrange(6)) for member in members]

    result = make_groups(candidates, history, 30, seed=12)

    assert result.repeat_pairs == 0
    assert sorted(member for group in result.groups for member in group) == sorted(members)
    assert sum(1 for group in result.groups if len(group) == 3) == 1


# ---------------------------------------------------------------- history


def test_history_remembers_the_latest_round_and_how_often_a_pair_met() -> None:
    history = PairingHistory.from_rounds([(4, [(1, 2)]), (1, [(2, 1), (3, 4)]), (2, [(5,)])])

    assert history.last_met(1, 2) == 4
    assert history.last_met(2, 1) == 4
    assert history.times_met(1, 2) == 2
    assert history.last_met(1, 3) is None
    assert history.times_met(1, 3) == 0
    assert history.first_round == 1
    assert dict(history.partners_of(2)) == {1: 4}
    assert dict(history.partners_of(5)) == {}


def test_a_trio_counts_as_three_pairs_who_met() -> None:
    history = PairingHistory.from_rounds([(3, [(1, 2, 3)])])

    assert {pair: history.last_met(*pair) for pair in combinations([1, 2, 3], 2)} == {
        (1, 2): 3,
        (1, 3): 3,
        (2, 3): 3,
    }


def test_with_round_returns_a_new_history_and_leaves_the_old_one_alone() -> None:
    before = PairingHistory.from_rounds([(0, [(1, 2)])])

    after = before.with_round(1, [(1, 3), (1, 2)])

    assert after.last_met(1, 3) == 1
    assert after.times_met(1, 2) == 2
    assert before.last_met(1, 3) is None
    assert before.times_met(1, 2) == 1


@settings(max_examples=100, deadline=None)
@given(
    rounds=st.lists(
        st.tuples(
            st.integers(1, 30),
            st.lists(st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True), max_size=5),
        ),
        max_size=6,
    )
)
def test_a_history_from_the_databases_meetings_equals_one_from_whole_rounds(
    rounds: list[tuple[int, list[list[int]]]],
) -> None:
    """The round path loads (member, partner, week) rows; the history must be the same."""
    meetings = [
        (first, second, week)
        for week, groups in rounds
        for group in groups
        for first, second in combinations(sorted(group), 2)
    ]
    grouped = PairingHistory.from_rounds(rounds)
    paired = PairingHistory.from_meetings(reversed(meetings))
    assert paired.first_round == grouped.first_round
    for first, second in combinations(range(1, 13), 2):
        assert paired.last_met(first, second) == grouped.last_met(first, second)
        assert paired.times_met(second, first) == grouped.times_met(second, first)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            Candidate,
            user_id=st.integers(min_value=1, max_value=10**18),
            utc_offset_minutes=st.none() | st.integers(min_value=-720, max_value=840),
            languages=st.frozensets(st.sampled_from(["python", "go", "sql", "rust"]), max_size=3),
            phase_index=st.none() | st.integers(min_value=0, max_value=30),
        ),
        max_size=12,
        unique_by=lambda candidate: candidate.user_id,
    ),
    st.lists(st.tuples(st.integers(1, 10**18), st.integers(1, 10**18), st.integers(1, 52)), max_size=20),
)
def test_a_packed_week_pairs_exactly_as_the_candidates_and_meetings_it_came_from(
    candidates: list[Candidate], meetings: list[tuple[int, int, int]]
) -> None:
    """What the worker process receives unpacks to the same candidates, history and groups."""
    flat = array("q", [value for meeting in meetings for value in meeting])
    packed = pickle.loads(pickle.dumps(PackedWeek.of(candidates, flat)))
    assert packed.candidates() == candidates
    assert meeting_triples(packed.meetings) == meetings
    assert pair_packed_week(packed, 9, 4) == pair_week(candidates, meetings, 9, 4)
