"""/stats over a real SQLite file: the counts are checked against what members did."""

from __future__ import annotations

import pytest

from bot.container import Services
from tests.db.conftest import FakeClock
from tests.db.test_exports import ALICE, BOB, GUILD, Seeded, seed_server


@pytest.fixture
async def seeded(services: Services, clock: FakeClock) -> Seeded:
    return await seed_server(services, clock)


async def test_stats_counts_phases_weeks_and_stalled_members(services: Services, seeded: Seeded) -> None:
    report = await services.stats.report(GUILD, None)
    snapshot = report.snapshot

    assert snapshot.cohort_label == "All cohorts"
    phases = dict(snapshot.members_per_phase)
    assert (phases["Foundations"], phases["Intermediate"], phases["Advanced"]) == (2, 0, 0)
    assert phases["Days 1-10: pick a language and set up"] == 1  # Carol has 2 of its 3
    assert sum(phases.values()) == 3
    assert [label for label, _ in snapshot.weekly_completions] == [
        "Jan 12",
        "Jan 19",
        "Jan 26",
        "Feb 2",
        "Feb 9",
        "Feb 16",
        "Feb 23",
        "Mar 2",
    ]
    # Feb 9 week: Alice, Dave (since left) and Carol twice; then Alice; then the retired key.
    assert [count for _, count in snapshot.weekly_completions] == [0, 0, 0, 0, 4, 1, 1, 0]
    assert report.completions_in_window == 6
    # Bob never completed anything and Carol's last was on Feb 12: both stalled.
    assert (snapshot.active_members, snapshot.stalled_members) == (3, 2)


async def test_stats_for_one_cohort(services: Services, seeded: Seeded, clock: FakeClock) -> None:
    await services.progress.complete(GUILD, BOB, "python-oop-async", cohort_name="Spring")
    for key in ("python-oop-async", "crud-api", "postgres-queries-indexing", "aws-free-tier-deploy"):
        await services.progress.complete(GUILD, ALICE, key, cohort_name="Spring")

    report = await services.stats.report(GUILD, "spring")

    assert report.cohort_name == "Spring"
    assert report.snapshot.cohort_label == "Spring · Python Backend Developer (Europe)"
    assert report.snapshot.members_per_phase == [("Foundations", 1), ("Intermediate", 1), ("Advanced", 0)]
    assert report.snapshot.weekly_completions[-1] == ("Mar 2", 3)  # Alice had two of the four already
    assert (report.snapshot.active_members, report.snapshot.stalled_members) == (2, 0)


async def test_stats_of_an_empty_server(services: Services) -> None:
    report = await services.stats.report(GUILD, None)

    assert report.snapshot.is_empty
    assert report.snapshot.members_per_phase == []
