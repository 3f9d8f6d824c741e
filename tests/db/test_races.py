"""Two clicks or two moderators at the same moment, on a real SQLite file: nothing is lost."""

from __future__ import annotations

import asyncio

import pytest

from bot.cohorts.repository import MemberRepository
from bot.cohorts.resolve import cohort_named
from bot.container import Services
from bot.db.engine import in_write_turn
from bot.progress.repository import CompletionRepository
from bot.reminders.repository import ReminderRepository

GUILD, ALICE, MOD = 1001, 11, 99


async def make_cohort(services: Services) -> None:
    await services.cohorts.create(
        guild_id=GUILD,
        actor_id=MOD,
        name="Spring",
        roadmap_key="python-europe",
        channel_id=5,
        start="2026-03-02",
    )


def read_together(
    monkeypatch: pytest.MonkeyPatch, repository: type, method: str, *, meet_before: bool = False
) -> None:
    """Make two concurrent calls both finish their first read before either writes: the worst
    interleaving. Later reads (a re-read after a lost insert) go straight through. With
    ``meet_before`` both calls reach ``method`` before either runs it (for a write that checks
    and stores in one statement).

    A read inside a SQLite writing transaction is not held: this process's writers take turns
    (``bot.db.engine.WriterQueue``), so the other call cannot read until this one has committed,
    and the test checks that ordering gives the same answers."""
    barrier = asyncio.Barrier(2)
    original = getattr(repository, method)

    async def meet() -> None:
        if in_write_turn():
            return
        if barrier.n_waiting or (not barrier.broken and not getattr(barrier, "passed", False)):
            await barrier.wait()
            barrier.passed = True  # type: ignore[attr-defined]

    async def read_then_wait(self: object, *args: object) -> object:
        if meet_before:
            await meet()
            return await original(self, *args)
        found = await original(self, *args)
        await meet()
        return found

    monkeypatch.setattr(repository, method, read_then_wait)


async def test_a_double_click_on_join_joins_once_and_answers_both(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_cohort(services)
    read_together(monkeypatch, MemberRepository, "get")
    first, second = await asyncio.gather(
        services.cohorts.join(GUILD, "Spring", ALICE, "alice"),
        services.cohorts.join(GUILD, "Spring", ALICE, "alice"),
    )
    assert sorted([first.changed, second.changed]) == [False, True]
    async with services.sessions() as session:
        spring = await cohort_named(session, GUILD, "Spring")
        members = await MemberRepository(session).active_in(spring.id)
    assert [member.user_id for member in members] == [ALICE]


async def test_a_double_click_on_checkpoint_done_counts_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_cohort(services)
    await services.cohorts.join(GUILD, "Spring", ALICE, "alice")
    read_together(monkeypatch, CompletionRepository, "add_if_new", meet_before=True)
    first, second = await asyncio.gather(
        services.progress.complete(GUILD, ALICE, "python-oop-async"),
        services.progress.complete(GUILD, ALICE, "python-oop-async"),
    )
    assert sorted([first.changed, second.changed]) == [False, True]
    assert first.done == second.done == 1


async def test_two_reminder_settings_at_once_on_a_new_member_both_take_effect(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_together(monkeypatch, ReminderRepository, "setting")
    first, second = await asyncio.gather(
        services.reminders.settings(GUILD, ALICE, review=True),
        services.reminders.settings(GUILD, ALICE, weekly=True),
    )
    assert first.changed and second.changed
    monkeypatch.undo()
    shown = await services.reminders.settings(GUILD, ALICE)
    assert (shown.review, shown.streak, shown.weekly) == (True, False, True)
