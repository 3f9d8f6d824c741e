"""Benchmark of weekly review pairing: the real round path, the algorithm alone, and repeats.

Run ``python bench/bench_pairing.py``. First the path the bot takes: ``ReviewRounds.run_round``
on a database with 26 past rounds (bench/scale_db.py, cached under bench/out/), which closes last
week's round, loads candidates and history from the database, pairs and stores the groups; each
phase is timed. Then medians of a few runs of ``make_groups`` alone;
building the ``PairingHistory`` from past rounds (what the service does before each round) is
timed separately. The 500-member history comes from running the algorithm itself for 52 weeks;
the 2,000-member one from 52 random weeks, which is quicker to generate and harder to pair
around (random partners spread the history evenly).

The comparison at the end is against what most coffee-chat bots do: shuffle the members and pair
them in order (the last three form a trio), with the same members and the same seeds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.reviews.pairing import Candidate, PairingHistory, daytime_overlap_minutes, make_groups

RUNS = 3
HISTORY_WEEKS = 52
SIMULATED_WEEKS = 26
# A plausible spread of a study community's members over the world; None is "zone not set".
ZONE_WEIGHTS: tuple[tuple[int | None, int], ...] = (
    (-480, 8),
    (-360, 5),
    (-300, 12),
    (-180, 5),
    (0, 10),
    (60, 14),
    (120, 8),
    (180, 4),
    (330, 12),
    (420, 3),
    (480, 7),
    (540, 4),
    (600, 3),
    (None, 10),
)
LANGUAGES = ("python", "go", "java", "javascript", "rust", "csharp", "kotlin", "php")

Groups = list[tuple[int, ...]]
Pairer = Callable[[Sequence[Candidate], PairingHistory, int, int], Groups]


def make_members(count: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    zones = [zone for zone, _weight in ZONE_WEIGHTS]
    weights = [weight for _zone, weight in ZONE_WEIGHTS]
    return [
        Candidate(
            user_id=100_000 + member,
            utc_offset_minutes=rng.choices(zones, weights)[0],
            languages=frozenset(rng.sample(LANGUAGES, rng.choice((1, 1, 2, 3)))),
            phase_index=rng.choice((None, *range(10))),
        )
        for member in range(count)
    ]


def ours(members: Sequence[Candidate], history: PairingHistory, round_index: int, seed: int) -> Groups:
    return list(make_groups(members, history, round_index, seed).groups)


def shuffled(members: Sequence[Candidate], _history: PairingHistory, _round_index: int, seed: int) -> Groups:
    """The usual coffee-chat bot: shuffle, pair in order, fold the odd one out into a trio."""
    user_ids = [member.user_id for member in members]
    random.Random(seed).shuffle(user_ids)
    groups: Groups = [tuple(user_ids[place : place + 2]) for place in range(0, len(user_ids) - 1, 2)]
    if len(user_ids) % 2 == 1 and groups:
        groups[-1] = (*groups[-1], user_ids[-1])
    return groups


def repeats(groups: Groups, history: PairingHistory) -> int:
    return sum(
        1
        for group in groups
        for first, second in combinations(group, 2)
        if history.last_met(first, second) is not None
    )


def mean_overlap_hours(groups: Groups, members: Sequence[Candidate]) -> float:
    offset_of = {member.user_id: member.utc_offset_minutes for member in members}
    overlaps = [
        daytime_overlap_minutes(offset_of[first], offset_of[second])
        for group in groups
        for first, second in combinations(group, 2)
    ]
    return statistics.fmean(overlaps) / 60


def self_made_rounds(members: Sequence[Candidate], weeks: int) -> list[tuple[int, Groups]]:
    """Past rounds made by the algorithm itself, week by week."""
    rounds: list[tuple[int, Groups]] = []
    history = PairingHistory()
    for week in range(weeks):
        groups = ours(members, history, week, seed=week)
        rounds.append((week, groups))
        history = history.with_round(week, groups)
    return rounds


def random_rounds(members: Sequence[Candidate], weeks: int) -> list[tuple[int, Groups]]:
    return [(week, shuffled(members, PairingHistory(), week, seed=10_000 + week)) for week in range(weeks)]


def time_pairing(label: str, members: Sequence[Candidate], rounds: list[tuple[int, Groups]]) -> None:
    started = time.perf_counter()
    history = PairingHistory.from_rounds(rounds)
    history_seconds = time.perf_counter() - started
    timings: list[float] = []
    repeat_counts: list[int] = []
    for run in range(RUNS):
        started = time.perf_counter()
        result = make_groups(members, history, len(rounds), seed=run)
        timings.append(time.perf_counter() - started)
        repeat_counts.append(result.repeat_pairs)
    # Zero repeats cannot be beaten, so zero found means zero avoidable.
    avoidable = "0" if max(repeat_counts) == 0 else f"up to {max(repeat_counts)} (not checked)"
    print(
        f"{label}: median {statistics.median(timings):.2f} s over {RUNS} runs "
        f"(max {max(timings):.2f} s; building the history took {history_seconds:.2f} s); "
        f"repeat pairs {repeat_counts}, avoidable {avoidable}"
    )


def simulate(label: str, members: Sequence[Candidate], pairers: dict[str, Pairer]) -> None:
    """Each method runs 26 weeks on its own history; same members and seeds for both."""
    totals: dict[str, int] = {}
    overlaps: dict[str, list[float]] = {}
    for name, pairer in pairers.items():
        history = PairingHistory()
        totals[name] = 0
        overlaps[name] = []
        for week in range(SIMULATED_WEEKS):
            groups = pairer(members, history, week, week)
            totals[name] += repeats(groups, history)
            overlaps[name].append(mean_overlap_hours(groups, members))
            history = history.with_round(week, groups)
    ours_total, shuffle_total = totals["ours"], totals["random shuffle"]
    ratio = f"{ours_total / shuffle_total:.3f}" if shuffle_total else "n/a"
    print(
        f"{label}, {SIMULATED_WEEKS} weeks: repeat pairs ours {ours_total} vs random shuffle "
        f"{shuffle_total} (ratio {ratio}); mean daytime overlap per pair "
        f"{statistics.fmean(overlaps['ours']):.1f} h vs {statistics.fmean(overlaps['random shuffle']):.1f} h"
    )


async def time_rounds_path(members: int) -> None:
    """One weekly round through ``ReviewRounds.run_round`` on a fresh copy, phase by phase."""
    import scale_db

    from bot.clock import system_clock
    from bot.config import Settings
    from bot.container import build_services
    from bot.content import load_catalog
    from bot.db.engine import create_engine, upgrade_database
    from bot.reviews import rounds
    from bot.reviews.repository import ReviewRepository

    path = await scale_db.working_copy(members, f"pairing-{members}")
    settings = Settings(database_url=f"sqlite+aiosqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    services = build_services(settings, engine, load_catalog(settings.content_dir), system_clock)
    async with services.sessions.begin() as session:
        await scale_db.align(session, system_clock())
    phases: dict[str, float] = {}
    for name in ("close_round", "store_round"):
        _timed_phase(rounds, name, phases)
    _timed_phase(rounds.ReviewRounds, "_candidates", phases)
    _timed_phase(ReviewRepository, "past_meetings", phases)  # the history's rows
    _timed_phase(rounds.ReviewRounds, "_pair", phases)  # history built and paired (worker process)
    started = time.perf_counter()
    outcome = await services.review_rounds.run_round(scale_db.GUILD_ID, scale_db.COHORT_NAME, lambda _: True)
    total = time.perf_counter() - started
    services.review_rounds.shutdown()
    await engine.dispose()
    detail = ", ".join(f"{name.strip('_')} {seconds:.2f} s" for name, seconds in phases.items())
    print(
        f"{members} members, real round path (26 rounds of history): {total:.2f} s for "
        f"{len(outcome.round.groups)} groups ({detail})"
    )


def _timed_phase(owner: Any, name: str, phases: dict[str, float]) -> None:
    original = getattr(owner, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        tick = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - tick

    setattr(owner, name, timed)


def main() -> None:
    started = time.perf_counter()
    for count in (2_000, 10_000):
        asyncio.run(time_rounds_path(count))
    members_500 = make_members(500, seed=1)
    print("generating 52 weeks of history for 500 members with the algorithm itself ...", flush=True)
    time_pairing("500 members, 52 self-made weeks", members_500, self_made_rounds(members_500, HISTORY_WEEKS))
    time_pairing("500 members, 52 random weeks", members_500, random_rounds(members_500, HISTORY_WEEKS))
    for count in (2000, 2001):
        members = make_members(count, seed=count)
        time_pairing(f"{count} members, 52 random weeks", members, random_rounds(members, HISTORY_WEEKS))

    pairers: dict[str, Pairer] = {"ours": ours, "random shuffle": shuffled}
    simulate("500 members", members_500, pairers)
    # A small cohort meets everyone within weeks, so repeats become unavoidable for both.
    simulate("24 members", make_members(24, seed=24), pairers)
    simulate("61 members", make_members(61, seed=61), pairers)
    print(f"whole benchmark: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
