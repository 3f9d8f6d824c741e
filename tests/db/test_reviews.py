"""Review pairing on a real SQLite file: opt-in rules, idempotent rounds, reviews, reminders, snoozes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.container import Services
from bot.db.engine import create_sessionmaker
from bot.db.models import ReviewGroup, ReviewParticipant, ReviewRound
from bot.kernel.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from bot.reviews.rules import MISSED_ROUNDS_LIMIT, REVIEW_WINDOW, round_seed
from bot.reviews.views import Participation, RoundOutcome
from cogs.review.render import auto_snooze_notice
from tests.db.conftest import FakeClock

GUILD, OTHER_GUILD = 1001, 2002
MOD = 1
ALICE, BOB, CAROL, DAVE, ERIN = 11, 12, 13, 14, 15


def everyone(_user_id: int) -> bool:
    return True


async def _cohort(services: Services, *, start: str = "2026-03-02", name: str = "Spring") -> None:
    await services.cohorts.create(
        guild_id=GUILD,
        actor_id=MOD,
        name=name,
        roadmap_key="python-europe",
        channel_id=555,
        start=start,
        timezone="Europe/Berlin",
        weekday="mon",
        at="18:00",
    )


async def _opted_in(services: Services, user_ids: Iterable[int], cohort: str = "Spring") -> None:
    for user_id in user_ids:
        await services.cohorts.join(GUILD, cohort, user_id, f"user{user_id}")
        await services.reviews.join(GUILD, user_id, cohort)


def _members(outcome: RoundOutcome) -> list[int]:
    return sorted(user_id for group in outcome.round.groups for user_id in group.member_ids)


async def _next_week(services: Services, clock: FakeClock) -> None:
    """Move a week on and run the hourly upkeep, which closes the rounds now due."""
    clock.advance(days=7)
    await services.review_rounds.close_due_rounds()


# --- opting in ---------------------------------------------------------------------------------


async def test_join_validates_input_and_changes_nothing_when_refused(services: Services) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    bad_inputs = [
        ({"languages": ", ".join(f"lang{number}" for number in range(11))}, "at most 10 languages"),
        ({"languages": "python, " + "x" * 21}, "too long"),
        ({"languages": "python; drop table"}, "isn't a language name"),
        ({"timezone": "Europe/Berlinn"}, "Did you mean `Europe/Berlin`"),
    ]
    for options, expected in bad_inputs:
        with pytest.raises(InvalidInputError, match=expected):
            await services.reviews.join(GUILD, ALICE, "Spring", **options)
    with pytest.raises(NotFoundError, match="Did you mean `Spring`"):
        await services.reviews.join(GUILD, ALICE, "Sprng")
    with pytest.raises(PermissionDeniedError, match="aren't in \\*\\*Spring\\*\\*"):
        await services.reviews.join(GUILD, BOB, "Spring")
    status = await services.reviews.status(GUILD, ALICE, "Spring")
    assert status.participation is Participation.NOT_OPTED_IN


async def test_join_then_update_keeps_what_was_not_given(services: Services) -> None:
    await _cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    first = await services.reviews.join(
        GUILD, ALICE, "spring", languages="Python, go, python", timezone="europe/berlin"
    )
    assert first.first_time and first.languages == ("python", "go") and first.timezone == "Europe/Berlin"
    update = await services.reviews.join(GUILD, ALICE, "Spring", timezone="Asia/Tokyo")
    assert not update.first_time and not update.came_back
    assert update.languages == ("python", "go") and update.timezone == "Asia/Tokyo"
    cleared = await services.reviews.join(GUILD, ALICE, "Spring", languages="")
    assert cleared.languages == ()


async def test_leave_and_snooze(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE])
    for weeks in (0, 9):
        with pytest.raises(InvalidInputError, match="1 to 8 weeks"):
            await services.reviews.snooze(GUILD, ALICE, "Spring", weeks)
    snooze = await services.reviews.snooze(GUILD, ALICE, "Spring", 2)
    # No round has run in week 1 yet, so weeks 1 and 2 are skipped.
    assert (snooze.first_skipped_week, snooze.back_in_week) == (1, 3)
    assert (await services.reviews.status(GUILD, ALICE)).participation is Participation.SNOOZED
    assert (await services.reviews.leave(GUILD, ALICE, "Spring")).changed
    assert not (await services.reviews.leave(GUILD, ALICE, "Spring")).changed
    with pytest.raises(NotFoundError, match="use `/review join` first"):
        await services.reviews.snooze(GUILD, ALICE, "Spring", 1)
    back = await services.reviews.join(GUILD, ALICE, "Spring")
    assert back.came_back
    assert (await services.reviews.status(GUILD, ALICE)).participation is Participation.ACTIVE


# --- rounds ------------------------------------------------------------------------------------


async def test_a_round_runs_once_per_week_and_keeps_its_seed(services: Services, engine: AsyncEngine) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    first = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    second = await services.review_rounds.run_round(GUILD, "spring", everyone)
    assert first.created and not second.created
    assert second.round.id == first.round.id and second.round.groups == first.round.groups
    assert first.round.week == 1
    assert first.round.due_at - first.round.created_at == REVIEW_WINDOW
    assert len(first.round.groups) == 2 and _members(first) == [ALICE, BOB, CAROL, DAVE]
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        stored = await session.scalar(select(ReviewRound))
        assert stored is not None and stored.seed == round_seed(stored.cohort_id, 1)
        assert await session.scalar(select(func.count()).select_from(ReviewRound)) == 1


async def test_concurrent_runs_make_one_round(services: Services, engine: AsyncEngine) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL])
    outcomes = await asyncio.gather(
        *(services.review_rounds.run_round(GUILD, "Spring", everyone) for _ in range(4))
    )
    assert sum(outcome.created for outcome in outcomes) == 1
    assert len({outcome.round.id for outcome in outcomes}) == 1
    async with create_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewGroup)) == 1


async def test_odd_count_gives_one_trio_and_nobody_twice(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE, ERIN])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    sizes = sorted(len(group.member_ids) for group in outcome.round.groups)
    assert sizes == [2, 3]
    assert _members(outcome) == [ALICE, BOB, CAROL, DAVE, ERIN]  # each exactly once
    assert outcome.round.lone_member_ids == ()


async def test_a_single_participant_is_told_there_is_no_partner(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.round.paired_groups == () and outcome.round.lone_member_ids == (ALICE,)
    status = await services.reviews.status(GUILD, ALICE)
    assert status.group is not None and status.group.is_lone and status.partner_ids == ()
    await services.cohorts.join(GUILD, "Spring", BOB, "bob")
    with pytest.raises(InvalidInputError, match="no partner this round"):
        await services.reviews.record_done(GUILD, ALICE, BOB)


async def test_only_available_members_are_paired(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE, ERIN])
    await services.cohorts.leave(GUILD, "Spring", BOB)  # left the cohort
    await services.reviews.leave(GUILD, CAROL, "Spring")  # opted out of reviews
    await services.reviews.snooze(GUILD, DAVE, "Spring", 1)
    await services.cohorts.join(GUILD, "Spring", 99, "never opted in")
    outcome = await services.review_rounds.run_round(GUILD, "Spring", lambda user_id: user_id != ERIN)
    # Only Alice is left: Erin is no longer in the server.
    assert _members(outcome) == [ALICE] and outcome.round.lone_member_ids == (ALICE,)


async def test_rounds_are_refused_before_the_start_and_when_nobody_is_available(
    services: Services, engine: AsyncEngine
) -> None:
    await _cohort(services, start="2026-03-16")
    await _opted_in(services, [ALICE, BOB])
    with pytest.raises(ConflictError, match="starts on 2026-03-16"):
        await services.review_rounds.run_round(GUILD, "Spring", everyone)
    await _cohort(services, name="Empty")
    with pytest.raises(ConflictError, match="Nobody in \\*\\*Empty\\*\\*"):
        await services.review_rounds.run_round(GUILD, "Empty", everyone)
    with pytest.raises(NotFoundError, match="no cohort called"):
        await services.review_rounds.run_round(OTHER_GUILD, "Spring", everyone)
    async with create_sessionmaker(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(ReviewRound)) == 0


async def test_snoozed_members_return_after_their_weeks(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL])
    await services.reviews.snooze(GUILD, CAROL, "Spring", 2)
    for week in (1, 2):
        outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
        assert outcome.round.week == week and CAROL not in _members(outcome)
        for group in outcome.round.paired_groups:
            for reviewer, reviewee in combinations(group.member_ids, 2):
                await services.reviews.record_done(GUILD, reviewer, reviewee)
                await services.reviews.record_done(GUILD, reviewee, reviewer)
        await _next_week(services, clock)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.round.week == 3 and CAROL in _members(outcome)


async def test_no_avoidable_repeat_partner(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    seen: set[tuple[int, ...]] = set()
    for _ in range(3):  # four people have exactly three different pairings
        outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
        for group in outcome.round.groups:
            assert group.member_ids not in seen
            seen.add(group.member_ids)
            for reviewer, reviewee in combinations(group.member_ids, 2):
                await services.reviews.record_done(GUILD, reviewer, reviewee)
        await _next_week(services, clock)
    assert len(seen) == 6  # every possible pair met exactly once


# --- recording reviews -------------------------------------------------------------------------


async def test_record_done_rules(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    with pytest.raises(NotFoundError, match="no review round in \\*\\*Spring\\*\\* yet this week"):
        await services.reviews.record_done(GUILD, ALICE, BOB)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    group = outcome.round.group_of(ALICE)
    assert group is not None
    partner = next(user_id for user_id in group.member_ids if user_id != ALICE)
    stranger = next(user_id for user_id in (BOB, CAROL, DAVE) if user_id not in group.member_ids)
    with pytest.raises(InvalidInputError, match="isn't in your review group"):
        await services.reviews.record_done(GUILD, ALICE, stranger)
    with pytest.raises(InvalidInputError, match="your own work"):
        await services.reviews.record_done(GUILD, ALICE, ALICE)
    with pytest.raises(InvalidInputError, match="http:// or https://"):
        await services.reviews.record_done(GUILD, ALICE, partner, link="ftp://example.org/review")
    with pytest.raises(PermissionDeniedError):
        await services.reviews.record_done(GUILD, 77, partner, cohort_name="Spring")
    counts = await services.reviews.counts(GUILD, ALICE, "Spring")
    assert (counts.given, counts.received) == (0, 0)

    done = await services.reviews.record_done(GUILD, ALICE, partner, link="https://github.com/org/pr/1")
    assert done.changed and done.week == 1 and done.still_to_review == ()
    again = await services.reviews.record_done(GUILD, ALICE, partner, link="https://github.com/org/pr/2")
    assert not again.changed
    await services.reviews.record_done(GUILD, partner, ALICE)
    counts = await services.reviews.counts(GUILD, ALICE, "Spring")
    assert (counts.given, counts.received) == (1, 1)
    status = await services.reviews.status(GUILD, ALICE)
    assert status.round is not None and (ALICE, partner) in status.round.reviews
    history = await services.reviews.history(GUILD, ALICE)
    assert [entry.week for entry in history.entries] == [1]
    assert history.entries[0].gave == ((partner, "https://github.com/org/pr/2"),)
    assert history.given == 1 and history.received == 1


async def test_trio_members_still_owe_a_review_until_both(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.round.groups[0].member_ids == (ALICE, BOB, CAROL)
    done = await services.reviews.record_done(GUILD, ALICE, BOB)
    assert done.still_to_review == (CAROL,)


async def test_concurrent_done_records_once(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    await services.review_rounds.run_round(GUILD, "Spring", everyone)
    results = await asyncio.gather(*(services.reviews.record_done(GUILD, ALICE, BOB) for _ in range(4)))
    assert sum(result.changed for result in results) == 1
    assert (await services.reviews.counts(GUILD, ALICE, "Spring")).given == 1


# --- reminders, closing and auto-snooze ---------------------------------------------------------


async def test_reminder_goes_once_to_those_without_a_review(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    group = outcome.round.group_of(ALICE)
    assert group is not None
    partner = next(user_id for user_id in group.member_ids if user_id != ALICE)
    await services.reviews.record_done(GUILD, ALICE, partner)

    clock.advance(days=3)  # three days before the due date: too early
    assert await services.review_rounds.claim_due_reminders() == []
    clock.advance(days=1, minutes=1)  # inside the last two days
    batches = await services.review_rounds.claim_due_reminders()
    assert len(batches) == 1
    pending = {group.id: members for group, members in batches[0].pending}
    assert pending[group.id] == (partner,)
    other = next(g for g in outcome.round.groups if g.id != group.id)
    assert pending[other.id] == other.member_ids
    assert await services.review_rounds.claim_due_reminders() == []  # sent once


async def test_three_missed_rounds_snooze_a_member_and_tell_them_once(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    for week in range(1, MISSED_ROUNDS_LIMIT + 1):
        outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
        assert outcome.round.week == week and _members(outcome) == [ALICE, BOB]
        await services.reviews.record_done(GUILD, ALICE, BOB)  # Bob never reviews
        clock.advance(days=7)
        snoozed = await services.review_rounds.close_due_rounds()
        if week < MISSED_ROUNDS_LIMIT:
            assert snoozed == []
    assert [(item.user_id, item.cohort_name) for item in snoozed] == [(BOB, "Spring")]
    assert "3 rounds in a row" in auto_snooze_notice(snoozed[0])
    assert await services.review_rounds.close_due_rounds() == []  # closing is idempotent

    status = await services.reviews.status(GUILD, BOB)
    assert status.participation is Participation.AUTO_SNOOZED
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.round.lone_member_ids == (ALICE,)  # Alice is not paired with an absent member

    notices = await services.reviews.take_notices(GUILD, BOB)
    assert len(notices) == 1 and "/review join cohort:Spring" in auto_snooze_notice(notices[0])
    assert await services.reviews.take_notices(GUILD, BOB) == []
    assert await services.reviews.take_notices(GUILD, ALICE) == []
    back = await services.reviews.join(GUILD, BOB, "Spring")
    assert back.came_back
    assert (await services.reviews.status(GUILD, BOB)).participation is Participation.ACTIVE


async def test_a_review_resets_the_missed_streak_and_a_steady_reviewer_stays_at_zero(
    services: Services, clock: FakeClock
) -> None:
    """Bob misses two rounds, reviews in the third, and missing the fourth snoozes nobody; Alice,
    who always reviews, stays at 0 (her row is left alone at each close)."""
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    streaks: list[dict[int, int]] = []
    for week in range(1, 5):
        await services.review_rounds.run_round(GUILD, "Spring", everyone)
        await services.reviews.record_done(GUILD, ALICE, BOB)
        if week == 3:
            await services.reviews.record_done(GUILD, BOB, ALICE)
        clock.advance(days=7)
        assert await services.review_rounds.close_due_rounds() == []
        async with services.sessions() as session:
            rows = await session.execute(select(ReviewParticipant.user_id, ReviewParticipant.missed_streak))
            streaks.append(dict(rows.all()))
    assert streaks == [{ALICE: 0, BOB: 1}, {ALICE: 0, BOB: 2}, {ALICE: 0, BOB: 0}, {ALICE: 0, BOB: 1}]
    assert (await services.reviews.status(GUILD, BOB)).participation is Participation.ACTIVE


async def test_the_next_round_closes_the_last_one_first(services: Services, clock: FakeClock) -> None:
    """Without the hourly job, pairing still applies missed rounds before it chooses groups."""
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL])
    for _ in range(MISSED_ROUNDS_LIMIT):
        await services.review_rounds.run_round(GUILD, "Spring", everyone)
        await services.reviews.record_done(GUILD, ALICE, BOB)
        await services.reviews.record_done(GUILD, BOB, ALICE)
        clock.advance(days=7)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert [item.user_id for item in outcome.auto_snoozed] == [CAROL]
    assert _members(outcome) == [ALICE, BOB]


async def test_weekly_job_path_skips_disabled_and_unstarted_cohorts(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    cohort_id = (await services.cohorts.info(GUILD, "Spring")).id
    await services.review_schedule.set_schedule(GUILD, "Spring", enabled=False)
    assert await services.review_rounds.run_scheduled_round(cohort_id, everyone) is None
    view = await services.review_schedule.set_schedule(
        GUILD, "Spring", enabled=True, weekday="wed", at="09:30"
    )
    assert view.slot.weekday == 2 and view.slot.at.hour == 9 and not view.follows_prompt_slot
    outcome = await services.review_rounds.run_scheduled_round(cohort_id, everyone)
    assert outcome is not None and outcome.created
    again = await services.review_rounds.run_scheduled_round(cohort_id, everyone)
    assert again is not None and not again.created and again.round.id == outcome.round.id
    await _cohort(services, name="Later", start="2026-04-01")
    later_id = (await services.cohorts.info(GUILD, "Later")).id
    assert await services.review_rounds.run_scheduled_round(later_id, everyone) is None
    assert await services.review_rounds.run_scheduled_round(9999, everyone) is None


async def test_unpublished_rounds_are_found_until_posted(services: Services) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB, CAROL, DAVE])
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert [view.id for view in await services.review_rounds.unpublished_rounds()] == [outcome.round.id]
    await services.review_rounds.mark_announced(outcome.round.id, 123)
    for number, group in enumerate(outcome.round.groups):
        await services.review_rounds.set_thread(group.id, 500 + number)
    assert await services.review_rounds.unpublished_rounds() == []


async def test_due_date_uses_the_round_time(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE, BOB])
    clock.advance(days=2, hours=3)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    assert outcome.round.due_at == clock.now + timedelta(days=6)


async def test_a_slot_missed_while_down_is_caught_up_within_the_grace(
    services: Services, clock: FakeClock
) -> None:
    await _cohort(services)  # Mondays 18:00 Berlin = 17:00 UTC; the clock says Monday 09:00 UTC
    await _opted_in(services, [ALICE, BOB])
    grace = timedelta(hours=12)
    cohort_id = (await services.cohorts.info(GUILD, "Spring")).id
    assert await services.review_rounds.cohorts_missing_their_round(grace) == []  # the slot is still ahead
    clock.advance(hours=21)  # Tuesday 06:00 UTC: 13 hours after the slot, too late to run it
    assert await services.review_rounds.cohorts_missing_their_round(grace) == []
    clock.advance(days=6, hours=11, minutes=30)  # next Monday 17:30 UTC: week 2's slot just passed
    assert await services.review_rounds.cohorts_missing_their_round(grace) == [cohort_id]
    outcome = await services.review_rounds.run_scheduled_round(cohort_id, everyone)
    assert outcome is not None and outcome.round.week == 2
    assert await services.review_rounds.cohorts_missing_their_round(grace) == []
    await services.review_schedule.set_schedule(GUILD, "Spring", enabled=False)
    clock.advance(days=7)
    assert await services.review_rounds.cohorts_missing_their_round(grace) == []


@pytest.mark.slow
async def test_a_large_cohort_is_paired_in_full(services: Services) -> None:
    await _cohort(services)
    user_ids = list(range(1000, 1151))  # 151 members: above the in-thread threshold, odd
    await _opted_in(services, user_ids)
    outcome = await services.review_rounds.run_round(GUILD, "Spring", everyone)
    sizes = sorted(len(group.member_ids) for group in outcome.round.groups)
    assert sizes == [2] * 74 + [3]
    assert _members(outcome) == user_ids


async def test_an_expired_snooze_is_not_a_return(services: Services, clock: FakeClock) -> None:
    await _cohort(services)
    await _opted_in(services, [ALICE])
    await services.reviews.snooze(GUILD, ALICE, "Spring", 1)  # skips week 1 only
    assert (await services.reviews.join(GUILD, ALICE, "Spring", languages="go")).came_back
    await services.reviews.snooze(GUILD, ALICE, "Spring", 1)
    clock.advance(days=14)  # week 3: the snooze is over
    assert (await services.reviews.status(GUILD, ALICE)).participation is Participation.ACTIVE
    assert not (await services.reviews.join(GUILD, ALICE, "Spring", languages="go")).came_back
