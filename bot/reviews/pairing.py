"""Weekly peer-review pairing: who reviews whose code this week.

The service filters the candidates (active, opted in, not snoozed), turns each member's IANA zone
into a UTC offset at the round's date and loads the past rounds; this module only decides the
groups. It never reads the clock, and a seed drives every random choice, so the same candidates,
history, round and seed always give the same groups (the order the candidates arrive in does not
matter either).

What a good week looks like, most important first (a lexicographic objective over the whole week):

1. the fewest pairs who met before (a trio holds three pairs) - this tier is always exact;
2. among unavoidable repeats, the largest total number of weeks since those pairs last met;
3. the largest total overlap of daytime hours (08:00-22:00 local) between partners;
4. the most shared languages (up to three per pair), then the smallest gap in roadmap phase.

An odd count gives exactly one trio, a single candidate is returned as ``unpaired`` (the caller
tells them there is nobody to pair with this week), and nobody is ever in two groups.

How: each pair gets one integer cost whose tiers are scaled so a lower tier can never outweigh a
higher one summed over the whole week, so "lexicographic" and "smallest total cost" agree.

* Up to ``EXHAUSTIVE_LIMIT`` candidates every grouping is scored: exact on every tier, and the
  seeded order in which groupings are tried decides among equally good ones.
* Above it, the fewest repeats come from a maximum matching of the "never met" graph (Edmonds'
  blossom algorithm on the implicit graph, written here: networkx's weighted matching takes
  seconds at 150 members in pure Python and is only a dev dependency, so it serves as a test
  oracle only). A maximum matching of k pairs means no even week can have fewer than n/2 - k
  repeats, and this one has exactly that many; for an odd count the trio is searched exactly as
  well (see ``_TrioSearch``). Local search then improves the lower tiers, accepting only
  strictly cheaper weeks, so it can never add a repeat. Tiers 2-4 are therefore very good but
  not guaranteed optimal (on random small weeks they usually match the exact optimum).

The members are first sorted by (UTC offset, languages, phase), with seeded random tie-breaks, so
neighbours in that order are natural partners: the first matching pairs neighbours, the blossom
search looks at near members first, and in large weeks local search only tries near members.

Cost: 2,000 members with a year of history take about a second (see bench/bench_pairing.py).
The exact trio search can get slow only for histories that take years to build (hundreds of
members who have nearly all met each other in two or more closed circles).
"""

from __future__ import annotations

import random
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

DAYTIME_START_MINUTE = 8 * 60
DAYTIME_END_MINUTE = 22 * 60
DAYTIME_MINUTES = DAYTIME_END_MINUTE - DAYTIME_START_MINUTE
MINUTES_PER_DAY = 24 * 60
# With an unknown zone we know nothing, so the pair scores as half a shared day: better than a
# partner twelve hours away, worse than a known neighbour.
UNKNOWN_OVERLAP_MINUTES = DAYTIME_MINUTES // 2
SHARED_LANGUAGES_CAP = 3
PHASE_GAP_CAP = 4
UNKNOWN_PHASE_GAP = PHASE_GAP_CAP // 2
# Up to this many candidates every grouping is scored (10 -> 945 groupings, 9 -> 5,796).
EXHAUSTIVE_LIMIT = 10
# Up to this many candidates local search ranks every possible partner of every member.
_FULL_NEIGHBOURHOOD_LIMIT = 200
# Above it, only the members this many places either side in the similarity order.
_NEAR_PLACES = 10
# How many of the cheapest partners local search tries for each member.
_PARTNER_LIST = 10
# The longest chain of pairs rotated in one local search move.
_CHAIN_PAIRS = 3
# How far ahead the first matching looks for a partner who is fresh to the member.
_GREEDY_WINDOW = 24
# Safety stop for the local search on large weeks; each sweep is deterministic.
_MAX_SWEEPS = 40
# Above this many leftover members (all repeats), they are paired by sorted order, not by cost.
_LEFTOVER_SORT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Candidate:
    """One member who can be paired this week.

    ``utc_offset_minutes`` is the member's offset at the round's date (the service resolves the
    zone); ``phase_index`` is where they are on the roadmap. ``None`` means unknown.
    """

    user_id: int
    utc_offset_minutes: int | None = None
    languages: frozenset[str] = frozenset()
    phase_index: int | None = None


class PairingHistory:
    """Who has been grouped with whom, and in which round.

    A trio counts as three pairs who met. Immutable once built: ``with_round`` returns a new one.
    """

    __slots__ = ("_first_round", "_last_met", "_times_met")

    def __init__(self) -> None:
        self._last_met: dict[int, dict[int, int]] = {}
        self._times_met: dict[int, dict[int, int]] = {}
        self._first_round: int | None = None

    @classmethod
    def from_rounds(cls, rounds: Iterable[tuple[int, Iterable[Sequence[int]]]]) -> PairingHistory:
        """Build from ``(round_index, groups)`` items, in any order."""
        history = cls()
        for round_index, groups in rounds:
            history._record(round_index, groups)
        return history

    @classmethod
    def from_meetings(cls, meetings: Iterable[tuple[int, int, int]]) -> PairingHistory:
        """Build from ``(member, partner, round_index)`` items, one per pair per round they shared
        a group (a trio gives three), in any order: what the database gives without grouping."""
        history = cls()
        first_round = None
        for first, second, round_index in meetings:
            history._note_meeting(first, second, round_index)
            history._note_meeting(second, first, round_index)
            if first_round is None or round_index < first_round:
                first_round = round_index
        history._first_round = first_round
        return history

    def with_round(self, round_index: int, groups: Iterable[Sequence[int]]) -> PairingHistory:
        """A copy that also remembers one more round."""
        extended = PairingHistory()
        extended._last_met = {user: dict(partners) for user, partners in self._last_met.items()}
        extended._times_met = {user: dict(partners) for user, partners in self._times_met.items()}
        extended._first_round = self._first_round
        extended._record(round_index, groups)
        return extended

    def _record(self, round_index: int, groups: Iterable[Sequence[int]]) -> None:
        for group in groups:
            members = sorted(set(group))
            for first, second in combinations(members, 2):
                self._note_meeting(first, second, round_index)
                self._note_meeting(second, first, round_index)
            if len(members) >= 2 and (self._first_round is None or round_index < self._first_round):
                self._first_round = round_index

    def _note_meeting(self, user: int, partner: int, round_index: int) -> None:
        last = self._last_met.setdefault(user, {})
        previous = last.get(partner)
        if previous is None or round_index > previous:
            last[partner] = round_index
        times = self._times_met.setdefault(user, {})
        times[partner] = times.get(partner, 0) + 1

    def last_met(self, first: int, second: int) -> int | None:
        """The latest round the two shared a group, or None if they never did."""
        return self._last_met.get(first, {}).get(second)

    def times_met(self, first: int, second: int) -> int:
        return self._times_met.get(first, {}).get(second, 0)

    def partners_of(self, user_id: int) -> Mapping[int, int]:
        """Everyone the member has been grouped with, mapped to the latest round they met."""
        return self._last_met.get(user_id, {})

    @property
    def first_round(self) -> int | None:
        """The earliest round that grouped anyone, or None for an empty history."""
        return self._first_round


@dataclass(frozen=True)
class PairingResult:
    """The week's groups (each sorted, then sorted among themselves) and who could not be paired.

    ``unpaired`` is only ever the lone candidate of a one-person week. ``repeat_pairs`` counts the
    pairs inside the groups who had met before (a trio holds three pairs).
    """

    groups: tuple[tuple[int, ...], ...]
    unpaired: tuple[int, ...]
    repeat_pairs: int

    def group_of(self, user_id: int) -> tuple[int, ...] | None:
        for group in self.groups:
            if user_id in group:
                return group
        return None


def pair_week(
    candidates: Sequence[Candidate],
    meetings: Sequence[tuple[int, int, int]],
    round_index: int,
    seed: int,
) -> PairingResult:
    """``make_groups`` from past meetings as the database lists them (see
    ``PairingHistory.from_meetings``): plain data in and out, so it can run in a worker process."""
    return make_groups(candidates, PairingHistory.from_meetings(meetings), round_index, seed)


# Stand-ins for None in the packed columns (no real offset or phase takes these values).
_NO_OFFSET = -(2**62)
_NO_PHASE = -1


@dataclass(frozen=True)
class PackedWeek:
    """A week's candidates and meetings as flat integer arrays, for the worker process.

    Pickling 10,000 ``Candidate`` objects and 130,000 meeting tuples took ~40 ms in one C call
    that holds the GIL, stalling the event loop and the database threads; an array pickles as
    one block of bytes. ``meetings`` is flat: member, partner, round, member, partner, round, ...
    """

    user_ids: array[int]
    offsets: array[int]
    phases: array[int]
    language_index: array[int]
    language_sets: tuple[frozenset[str], ...]
    meetings: array[int]

    @classmethod
    def of(cls, candidates: Sequence[Candidate], meetings: array[int]) -> PackedWeek:
        sets: dict[frozenset[str], int] = {}
        return cls(
            user_ids=array("q", [candidate.user_id for candidate in candidates]),
            offsets=array(
                "q",
                [
                    _NO_OFFSET if candidate.utc_offset_minutes is None else candidate.utc_offset_minutes
                    for candidate in candidates
                ],
            ),
            phases=array(
                "q",
                [
                    _NO_PHASE if candidate.phase_index is None else candidate.phase_index
                    for candidate in candidates
                ],
            ),
            language_index=array(
                "q", [sets.setdefault(candidate.languages, len(sets)) for candidate in candidates]
            ),
            language_sets=tuple(sets),
            meetings=meetings,
        )

    def candidates(self) -> list[Candidate]:
        return [
            Candidate(
                user_id,
                None if offset == _NO_OFFSET else offset,
                self.language_sets[languages],
                None if phase == _NO_PHASE else phase,
            )
            for user_id, offset, phase, languages in zip(
                self.user_ids, self.offsets, self.phases, self.language_index, strict=True
            )
        ]


def meeting_triples(flat: array[int]) -> list[tuple[int, int, int]]:
    """(member, partner, round) items from a flat meetings array (``PackedWeek.meetings``)."""
    return list(zip(flat[0::3], flat[1::3], flat[2::3], strict=True))


def pair_packed_week(week: PackedWeek, round_index: int, seed: int) -> PairingResult:
    """``pair_week`` for the worker process: unpacked there, off the bot's event loop."""
    return pair_week(week.candidates(), meeting_triples(week.meetings), round_index, seed)


def daytime_overlap_minutes(offset_a: int | None, offset_b: int | None) -> int:
    """Minutes per day when both members are in their 08:00-22:00 local daytime.

    Both windows are arcs of the same length on the 24-hour circle, one shifted by the offset
    difference; they can meet on both sides (UTC+0 and UTC+12 share 08-10 and 20-22 UTC).
    """
    if offset_a is None or offset_b is None:
        return UNKNOWN_OVERLAP_MINUTES
    shift = (offset_a - offset_b) % MINUTES_PER_DAY
    return max(0, DAYTIME_MINUTES - shift) + max(0, shift + DAYTIME_MINUTES - MINUTES_PER_DAY)


def make_groups(
    candidates: Sequence[Candidate], history: PairingHistory, round_index: int, seed: int
) -> PairingResult:
    """Group this week's candidates into pairs and, for an odd count, one trio.

    ``round_index`` is this round's number in the same numbering as the history, so the weeks
    since two members met is ``round_index - last_met``.
    """
    by_user = {candidate.user_id: candidate for candidate in candidates}
    if len(by_user) != len(candidates):
        raise ValueError("each member can be a candidate only once per round")
    if not by_user:
        return PairingResult(groups=(), unpaired=(), repeat_pairs=0)
    if len(by_user) == 1:
        return PairingResult(groups=(), unpaired=tuple(by_user), repeat_pairs=0)

    rng = random.Random(seed)
    problem = _Problem(
        [by_user[user_id] for user_id in sorted(by_user)],
        history,
        round_index,
        rng,
    )
    if problem.size <= EXHAUSTIVE_LIMIT:
        groups = _best_grouping_exhaustively(problem, rng)
    else:
        groups = _best_grouping_by_search(problem, rng)

    repeat_pairs = sum(
        1 for group in groups for first, second in combinations(group, 2) if not problem.fresh(first, second)
    )
    named = sorted(tuple(sorted(problem.user_ids[member] for member in group)) for group in groups)
    return PairingResult(groups=tuple(named), unpaired=(), repeat_pairs=repeat_pairs)


class _Problem:
    """The week as indexes 0..n-1 in similarity order, with the integer cost of every pair.

    The tier weights grow with n so that a whole week of the lower tier (at most n pairs, since
    n // 2 + 2 <= n for n >= 4 and a trio of 3 has 3 pairs) stays below one unit of the tier above.
    """

    def __init__(
        self,
        candidates: Sequence[Candidate],
        history: PairingHistory,
        round_index: int,
        rng: random.Random,
    ) -> None:
        tie_breaks = {candidate.user_id: rng.random() for candidate in candidates}
        ordered = sorted(candidates, key=lambda candidate: _similarity_key(candidate, tie_breaks))
        self.size = len(ordered)
        self.user_ids = [candidate.user_id for candidate in ordered]
        self.offsets = [candidate.utc_offset_minutes for candidate in ordered]
        self.languages = [candidate.languages for candidate in ordered]
        self.phases = [candidate.phase_index for candidate in ordered]
        self.round_index = round_index

        place_of_user = {user_id: place for place, user_id in enumerate(self.user_ids)}
        # last_met[i] maps j to the latest round i and j shared; "j in last_met[i]" means "met".
        self.last_met: list[dict[int, int]] = []
        oldest_age = 1
        for user_id in self.user_ids:
            met: dict[int, int] = {}
            for partner, met_round in history.partners_of(user_id).items():
                place = place_of_user.get(partner)
                if place is not None:
                    met[place] = met_round
                    oldest_age = max(oldest_age, round_index - met_round)
            self.last_met.append(met)
        self.max_age = oldest_age

        n = self.size
        self.weight_language = n * PHASE_GAP_CAP + 1
        self.weight_overlap = self.weight_language * (n * SHARED_LANGUAGES_CAP + 1)
        self.weight_age = self.weight_overlap * (n * DAYTIME_MINUTES + 1)
        self.weight_repeat = self.weight_age * (n * self.max_age + 1)

        # Members with the same (offset, languages, phase) cost the same with anyone apart from
        # the repeat tiers: local search asks for a million pair costs at 10,000 members, so the
        # rest of the cost is computed once per pair of such profiles and kept.
        profile_of: dict[tuple[int | None, frozenset[str], int | None], int] = {}
        self.profile = [
            profile_of.setdefault(key, len(profile_of))
            for key in zip(self.offsets, self.languages, self.phases, strict=True)
        ]
        self._profile_count = len(profile_of)
        self._likeness: dict[int, int] = {}

    def fresh(self, first: int, second: int) -> bool:
        return second not in self.last_met[first]

    def pair_cost(self, first: int, second: int) -> int:
        key = self.profile[first] * self._profile_count + self.profile[second]
        cost = self._likeness.get(key)
        if cost is None:
            cost = self._likeness[key] = self._likeness_cost(first, second)
        met_round = self.last_met[first].get(second)
        if met_round is None:
            return cost
        age = min(max(self.round_index - met_round, 1), self.max_age)
        return cost + self.weight_repeat + (self.max_age - age) * self.weight_age

    def _likeness_cost(self, first: int, second: int) -> int:
        """Tiers 3 and 4: daytime overlap, shared languages, phase gap."""
        overlap = daytime_overlap_minutes(self.offsets[first], self.offsets[second])
        cost = (DAYTIME_MINUTES - overlap) * self.weight_overlap
        shared = len(self.languages[first] & self.languages[second])
        cost += (SHARED_LANGUAGES_CAP - min(shared, SHARED_LANGUAGES_CAP)) * self.weight_language
        phase_a, phase_b = self.phases[first], self.phases[second]
        if phase_a is None or phase_b is None:
            return cost + UNKNOWN_PHASE_GAP
        return cost + min(abs(phase_a - phase_b), PHASE_GAP_CAP)

    def group_cost(self, group: Sequence[int]) -> int:
        if len(group) == 2:
            return self.pair_cost(group[0], group[1])
        return sum(self.pair_cost(first, second) for first, second in combinations(group, 2))


def _similarity_key(
    candidate: Candidate, tie_breaks: Mapping[int, float]
) -> tuple[bool, int, tuple[str, ...], bool, int, float]:
    return (
        candidate.utc_offset_minutes is None,
        candidate.utc_offset_minutes or 0,
        tuple(sorted(candidate.languages)),
        candidate.phase_index is None,
        candidate.phase_index or 0,
        tie_breaks[candidate.user_id],
    )


Grouping = list[tuple[int, ...]]


def _best_grouping_exhaustively(problem: _Problem, rng: random.Random) -> Grouping:
    """Score every grouping; the seeded member order decides among equally good ones."""
    members = list(range(problem.size))
    rng.shuffle(members)
    costs = [
        [problem.pair_cost(first, second) for second in range(problem.size)] for first in range(problem.size)
    ]
    best: tuple[tuple[int, ...], ...] = ()
    best_cost: int | None = None
    for grouping in _groupings(members):
        cost = 0
        for group in grouping:
            for first, second in combinations(group, 2):
                cost += costs[first][second]
        if best_cost is None or cost < best_cost:
            best, best_cost = grouping, cost
    return list(best)


def _groupings(members: list[int]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Every split into pairs plus, for an odd count, one trio, each produced exactly once."""
    if not members:
        yield ()
        return
    first, rest = members[0], members[1:]
    if len(members) % 2 == 1:
        for i, j in combinations(range(len(rest)), 2):
            remaining = [member for k, member in enumerate(rest) if k not in (i, j)]
            for tail in _groupings(remaining):
                yield ((first, rest[i], rest[j]), *tail)
    if len(members) % 2 == 0 or len(members) > 3:
        for i in range(len(rest)):
            remaining = rest[:i] + rest[i + 1 :]
            for tail in _groupings(remaining):
                yield ((first, rest[i]), *tail)


def _best_grouping_by_search(problem: _Problem, rng: random.Random) -> Grouping:
    matcher = _FreshMatcher(problem)
    matcher.match_neighbours(_GREEDY_WINDOW)
    matcher.maximise()
    groups: Grouping = []
    if problem.size % 2 == 1:
        trio = _TrioSearch(matcher).run()
        groups.append(trio)
    groups.extend(matcher.pairs())
    groups.extend(_pair_leftovers(problem, matcher.free_members()))
    _improve_locally(problem, groups, rng)
    return groups


class _FreshMatcher:
    """A maximum matching on the "never met" graph, grown by augmenting paths (Edmonds).

    The graph is implicit (everyone minus the people you met) because for large weeks it is
    nearly complete. Members can be switched off (``active``) to match the week without a trio.
    """

    def __init__(self, problem: _Problem) -> None:
        self.size = problem.size
        self.met = problem.last_met
        self.mate = [-1] * self.size
        self.active = [True] * self.size
        self.pair_count = 0
        self.last_outer: list[int] = []

    def fresh(self, first: int, second: int) -> bool:
        return second not in self.met[first]

    def neighbours(self, member: int) -> Iterator[int]:
        """Active members never met, nearest in the similarity order first."""
        n, met, active = self.size, self.met[member], self.active
        for step in range(1, n // 2 + 1):
            after = member + step
            if after >= n:
                after -= n
            if active[after] and after not in met:
                yield after
            before = member - step
            if before < 0:
                before += n
            if before != after and active[before] and before not in met:
                yield before

    def match_neighbours(self, window: int) -> None:
        """A quick first matching: each member takes the next fresh member close behind them."""
        mate, active, met = self.mate, self.active, self.met
        for member in range(self.size):
            if mate[member] != -1 or not active[member]:
                continue
            for other in range(member + 1, min(self.size, member + 1 + window)):
                if mate[other] == -1 and active[other] and other not in met[member]:
                    self._join(member, other)
                    break

    def _join(self, first: int, second: int) -> None:
        self.mate[first] = second
        self.mate[second] = first
        self.pair_count += 1

    def free_members(self) -> list[int]:
        return [member for member in range(self.size) if self.active[member] and self.mate[member] == -1]

    def pairs(self) -> list[tuple[int, ...]]:
        return [(member, partner) for member, partner in enumerate(self.mate) if member < partner]

    def maximise(self, target: int | None = None) -> None:
        """Augment until the matching is maximum (or has ``target`` pairs).

        A free member with no augmenting path never gets one later (a classic property of
        Edmonds' algorithm), so each free member is searched from at most once.
        """
        pending = self.free_members()
        pending.reverse()
        while pending and (target is None or self.pair_count < target):
            root = pending.pop()
            if self.mate[root] != -1:
                continue
            if not any(self.mate[member] == -1 for member in pending):
                break
            self._augment_from(root)

    def _augment_from(self, root: int) -> bool:
        around = list(self.neighbours(root))
        if not around:
            return False
        others = [member for member in self.free_members() if member != root]
        # Short paths first: in a nearly complete graph they almost always exist, and the full
        # search would shrink many tiny blossoms before finding them.
        for other in others:
            if self.fresh(root, other):
                self._join(root, other)
                return True
        for middle in around:
            far = self.mate[middle]
            for other in others:
                if other != far and self.fresh(far, other):
                    self.mate[root], self.mate[middle] = middle, root
                    self.mate[far], self.mate[other] = other, far
                    self.pair_count += 1
                    return True
        return self._blossom_search(root)

    def even_reachable(self, root: int) -> list[int]:
        """Members an even alternating path reaches from a free root (the root included).

        Call only on a maximum matching: the search then fails and its outer members are
        exactly the members that some maximum matching leaves free (Gallai-Edmonds).
        """
        if self._blossom_search(root):
            raise AssertionError("the matching was not maximum")
        return self.last_outer

    def _blossom_search(self, root: int) -> bool:
        """Edmonds' search from one free member; augments and returns True if a path exists.

        The tree alternates: "outer" members (the root and the mates of reached members) explore,
        "inner" members are reached from an outer one (``parent``). An edge between two outer
        members closes an odd cycle (a blossom), which is shrunk to its ``base``.
        """
        n, mate = self.size, self.mate
        parent = [-1] * n
        base = list(range(n))
        outer = [False] * n
        outer[root] = True
        tree = [root]
        queue = deque([root])

        def common_base(first: int, second: int) -> int:
            seen: set[int] = set()
            while True:
                first = base[first]
                seen.add(first)
                if mate[first] == -1:
                    break
                first = parent[mate[first]]
            while True:
                second = base[second]
                if second in seen:
                    return second
                second = parent[mate[second]]

        def mark_cycle(member: int, stop: int, child: int, in_blossom: set[int]) -> None:
            while base[member] != stop:
                in_blossom.add(base[member])
                in_blossom.add(base[mate[member]])
                parent[member] = child
                child = mate[member]
                member = parent[mate[member]]

        while queue:
            member = queue.popleft()
            for other in self.neighbours(member):
                if base[member] == base[other] or mate[member] == other:
                    continue
                if other == root or (mate[other] != -1 and parent[mate[other]] != -1):
                    new_base = common_base(member, other)
                    in_blossom: set[int] = set()
                    mark_cycle(member, new_base, other, in_blossom)
                    mark_cycle(other, new_base, member, in_blossom)
                    for reached in tree:
                        if base[reached] in in_blossom:
                            base[reached] = new_base
                            if not outer[reached]:
                                outer[reached] = True
                                queue.append(reached)
                elif parent[other] == -1:
                    parent[other] = member
                    tree.append(other)
                    if mate[other] == -1:
                        self._flip_path(other, parent)
                        return True
                    partner = mate[other]
                    outer[partner] = True
                    tree.append(partner)
                    queue.append(partner)
        self.last_outer = [member for member in tree if outer[member]]
        return False

    def _flip_path(self, end: int, parent: list[int]) -> None:
        member = end
        while member != -1:
            previous = parent[member]
            next_member = self.mate[previous]
            self.mate[member] = previous
            self.mate[previous] = member
            member = next_member
        self.pair_count += 1


class _TrioSearch:
    """Pick the trio that, with the best matching of everyone else, leaves the fewest repeats.

    With ``nu`` the size of a maximum "never met" matching M of everyone, a week with trio T has
    f(T) + nu(rest) fresh pairs, where f(T) counts T's fresh pairs and nu(rest) is the largest
    matching without T. One fresh pair of T plus that matching is a matching of everyone, so
    f(T) + nu(rest) <= nu + 2, and nu + 2 means T = {u, a, b} where some maximum matching leaves
    u free and pairs a with b. Steps, cheapest first (in any large week the first one succeeds):

    1. nu + 2 from M itself: a free member who never met either end of one of M's pairs.
    2. nu + 2 from another maximum matching: u must be one of the members some maximum matching
       leaves free (found by one failed search per free member); try each fresh triangle on them.
    3. nu + 1: a free member who never met one end of an M pair joins that pair.
    4. nu + 1 from a triangle (needed only when no free member has a fresh neighbour): try the
       triangles until the rest still keeps nu - 2 fresh pairs. A path of two fresh pairs is never
       better here: M covers every member with a fresh neighbour, so removing three of them costs
       at least two of M's pairs.
    5. nu: three free members, or a free member and any M pair.
    """

    def __init__(self, matcher: _FreshMatcher) -> None:
        self.matcher = matcher
        self.nu = matcher.pair_count

    def run(self) -> tuple[int, ...]:
        """Return the trio and leave the matcher holding the matching of everyone else."""
        matcher = self.matcher
        free = matcher.free_members()
        joins_one_end: tuple[int, ...] | None = None
        for lone in free:
            for member in matcher.neighbours(lone):
                partner = matcher.mate[member]
                if matcher.fresh(lone, partner):
                    return self._settle((lone, member, partner))
                if joins_one_end is None:
                    joins_one_end = (lone, member, partner)
        for trio in self._triangles_on(self._ever_free(free)):
            if self._rest_count(trio, self.nu - 1) == self.nu - 1:
                return self._settle(trio)
        if joins_one_end is not None:
            return self._settle(joins_one_end)
        for trio in self._triangles_on(range(matcher.size)):
            if self._rest_count(trio, self.nu - 2) >= self.nu - 2:
                return self._settle(trio)
        return self._settle(self._fallback(free))

    def _ever_free(self, free: list[int]) -> list[int]:
        found: set[int] = set()
        for root in free:
            found.update(self.matcher.even_reachable(root))
        return sorted(found)

    def _fallback(self, free: list[int]) -> tuple[int, ...]:
        """A trio worth nu fresh pairs when no free member has a fresh neighbour.

        Free members of a maximum matching never met each other, and here they met everyone.
        """
        if len(free) >= 3:
            return (free[0], free[1], free[2])
        member = next(member for member in range(self.matcher.size) if self.matcher.mate[member] != -1)
        return (free[0], member, self.matcher.mate[member])

    def _triangles_on(self, corners: Iterable[int]) -> Iterator[tuple[int, ...]]:
        """Fresh triangles with a corner in ``corners``, that corner first."""
        matcher = self.matcher
        for corner in corners:
            around = sorted(matcher.neighbours(corner))
            for first, second in combinations(around, 2):
                if matcher.fresh(first, second):
                    yield (corner, first, second)

    def _without(self, trio: tuple[int, ...]) -> None:
        matcher = self.matcher
        for member in trio:
            partner = matcher.mate[member]
            if partner != -1:
                matcher.mate[partner] = -1
                matcher.mate[member] = -1
                matcher.pair_count -= 1
            matcher.active[member] = False

    def _rest_count(self, trio: tuple[int, ...], target: int) -> int:
        """Size of the largest matching without the trio (stopping early at ``target``)."""
        matcher = self.matcher
        saved_mate, saved_count = list(matcher.mate), matcher.pair_count
        self._without(trio)
        matcher.maximise(target)
        count = matcher.pair_count
        matcher.mate, matcher.pair_count = saved_mate, saved_count
        for member in trio:
            matcher.active[member] = True
        return count

    def _settle(self, trio: tuple[int, ...]) -> tuple[int, ...]:
        self._without(trio)
        self.matcher.maximise()
        return trio


def _pair_leftovers(problem: _Problem, leftovers: list[int]) -> Grouping:
    """Pair the members the matching could not place; they have all met each other before.

    The cheapest pairs are taken first, which favours the repeats that are longest ago.
    """
    if len(leftovers) > _LEFTOVER_SORT_LIMIT:
        return [(leftovers[i], leftovers[i + 1]) for i in range(0, len(leftovers), 2)]
    options = sorted(
        (problem.pair_cost(first, second), first, second) for first, second in combinations(leftovers, 2)
    )
    placed: set[int] = set()
    pairs: Grouping = []
    for _cost, first, second in options:
        if first not in placed and second not in placed:
            placed.update((first, second))
            pairs.append((first, second))
    return pairs


# The other ways to split a trio and a pair into a trio and a pair: indexes into their joined members.
_TRIO_PAIR_SPLITS = tuple(
    (trio, tuple(index for index in range(5) if index not in trio))
    for trio in combinations(range(5), 3)
    if trio != (0, 1, 2)
)


def _improve_locally(problem: _Problem, groups: Grouping, rng: random.Random) -> None:
    _LocalSearch(problem, groups, rng).run()


class _LocalSearch:
    """Move members between groups while that makes the week strictly cheaper.

    Every accepted move lowers the total cost, whose top tier is the repeat count, so the
    minimum number of repeats found before is kept, and the search ends because the cost keeps
    falling (with a sweep limit as a time guard). Two kinds of move, both limited to each
    member's few cheapest partners (``partners``):

    * recombine two groups (pair + pair, or the trio + a pair) in any other way;
    * rotate a chain of up to ``_CHAIN_PAIRS`` pairs: a leaves b, b takes x, x's partner y takes
      the next one, ..., and the last one freed takes a. This is the alternating-cycle move of
      Lin-Kernighan style matching heuristics; a chain is only extended while what it has saved
      so far exceeds what it has added, which keeps the search small.
    """

    def __init__(self, problem: _Problem, groups: Grouping, rng: random.Random) -> None:
        self.problem = problem
        self.groups = groups
        self.group_of = [0] * problem.size
        for index, group in enumerate(groups):
            for member in group:
                self.group_of[member] = index
        self.costs = [problem.group_cost(group) for group in groups]
        self.visit_order = list(range(problem.size))
        rng.shuffle(self.visit_order)
        self.partners = _cheapest_partners(problem)

    def run(self) -> None:
        for _sweep in range(_MAX_SWEEPS):
            improved = False
            for member in self.visit_order:
                for other in self.partners[member]:
                    if self.group_of[other] != self.group_of[member] and self._recombine(
                        self.group_of[member], self.group_of[other]
                    ):
                        improved = True
                if self._rotate_from(member):
                    improved = True
            if not improved:
                return

    def _recombine(self, first_index: int, second_index: int) -> bool:
        groups, problem = self.groups, self.problem
        first, second = groups[first_index], groups[second_index]
        if len(first) < len(second):
            first_index, second_index, first, second = second_index, first_index, second, first
        current = self.costs[first_index] + self.costs[second_index]
        if len(first) == 2:  # two pairs, the common case: the two other splits, written out
            return self._recombine_pairs(first_index, second_index, current)
        joined = first + second
        best: tuple[int, int, tuple[int, ...], int, tuple[int, ...]] | None = None
        for left_places, right_places in _TRIO_PAIR_SPLITS:
            left = tuple(joined[place] for place in left_places)
            right = tuple(joined[place] for place in right_places)
            left_cost, right_cost = problem.group_cost(left), problem.group_cost(right)
            total = left_cost + right_cost
            if total < current and (best is None or total < best[0]):
                best = (total, left_cost, left, right_cost, right)
        if best is None:
            return False
        _total, left_cost, left, right_cost, right = best
        self._place(first_index, left, left_cost)
        self._place(second_index, right, right_cost)
        return True

    def _recombine_pairs(self, first_index: int, second_index: int, current: int) -> bool:
        """``_recombine`` for two pairs (a, b) and (c, d): (a, c) + (b, d), else (a, d) + (b, c)."""
        (a, b), (c, d) = self.groups[first_index], self.groups[second_index]
        cost = self.problem.pair_cost
        ac, bd = cost(a, c), cost(b, d)
        ad, bc = cost(a, d), cost(b, c)
        if ac + bd < current and ac + bd <= ad + bc:
            self._place(first_index, (a, c), ac)
            self._place(second_index, (b, d), bd)
            return True
        if ad + bc < current:
            self._place(first_index, (a, d), ad)
            self._place(second_index, (b, c), bc)
            return True
        return False

    def _place(self, index: int, group: tuple[int, ...], cost: int) -> None:
        self.groups[index] = group
        self.costs[index] = cost
        for member in group:
            self.group_of[member] = index

    def _partner_in_pair(self, member: int) -> int:
        group = self.groups[self.group_of[member]]
        if len(group) != 2:
            return -1
        return group[1] if group[0] == member else group[0]

    def _rotate_from(self, start: int) -> bool:
        first_partner = self._partner_in_pair(start)
        if first_partner == -1:
            return False
        saved = self.problem.pair_cost(start, first_partner)
        return self._extend_chain(start, [start, first_partner], saved)

    def _extend_chain(self, start: int, chain: list[int], saved: int) -> bool:
        """``chain`` is start, b, x1, y1, ...: pairs (start, b), (x1, y1), ... are being broken."""
        problem = self.problem
        loose_end = chain[-1]
        for taker in self.partners[loose_end]:
            if taker in chain:
                continue
            taker_partner = self._partner_in_pair(taker)
            if taker_partner == -1:
                continue
            added = problem.pair_cost(loose_end, taker)
            if added >= saved:
                continue
            still_saved = saved - added + problem.pair_cost(taker, taker_partner)
            chain.extend((taker, taker_partner))
            if still_saved > problem.pair_cost(taker_partner, start):
                self._apply_chain(chain)
                return True
            if len(chain) < 2 * _CHAIN_PAIRS and self._extend_chain(start, chain, still_saved):
                return True
            del chain[-2:]
        return False

    def _apply_chain(self, chain: list[int]) -> None:
        """Old pairs are chain[0:2], chain[2:4], ...; new ones chain[1:3], ..., (chain[-1], chain[0])."""
        indexes = [self.group_of[chain[place]] for place in range(0, len(chain), 2)]
        rotated = chain[1:] + chain[:1]
        for slot, index in enumerate(indexes):
            pair = (rotated[2 * slot], rotated[2 * slot + 1])
            self._place(index, pair, self.problem.pair_cost(*pair))


def _cheapest_partners(problem: _Problem) -> list[list[int]]:
    """Each member's ``_PARTNER_LIST`` cheapest partners, the only ones local search tries.

    Small weeks compare everyone; large ones only the members close by in the similarity order,
    who are the same-zone, same-language members whenever there are enough of them.
    """
    n = problem.size
    partners: list[list[int]] = []
    for member in range(n):
        if n <= _FULL_NEIGHBOURHOOD_LIMIT:
            pool: Iterable[int] = (other for other in range(n) if other != member)
        else:
            pool = {(member + step) % n for step in range(-_NEAR_PLACES, _NEAR_PLACES + 1) if step}
        ranked = sorted(pool, key=lambda other: (problem.pair_cost(member, other), other))
        partners.append(ranked[:_PARTNER_LIST])
    return partners
