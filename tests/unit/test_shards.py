"""Sharding settings, the one ownership rule, the job gate and retry hook, and per-channel pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from discord.ext import commands
from pydantic import ValidationError
from sqlalchemy import exc as db_errors

from bot.app import ShardedWaypointBot, WaypointBot, create_bot
from bot.config import Settings
from bot.kernel import slots
from bot.pacing import PostPacer
from bot.scheduling import Ownership, Scheduling, owns_guild, retry_job_id, shard_of


def make_settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0-3", (0, 1, 2, 3)), ("0,2,5", (0, 2, 5)), ("1", (1,)), (" 0-1, 4 ", (0, 1, 4)), ("", None)],
)
def test_shard_ids_read_ranges_and_lists(raw: str, expected: tuple[int, ...] | None) -> None:
    assert make_settings(shard_count=8, shard_ids=raw).shard_ids == expected


def test_shard_ids_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "2-3")
    settings = make_settings()
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))


@pytest.mark.parametrize(
    "values",
    [
        {"shard_ids": "0-1"},  # no shard count
        {"shard_count": 2, "shard_ids": "0-2"},  # shard 2 does not exist
        {"shard_count": 4, "shard_ids": "0,0"},  # twice
        {"shard_count": 4, "shard_ids": "3-1"},  # backwards
        {"shard_count": 4, "shard_ids": "a-b"},
        {"shard_count": 0},
    ],
)
def test_impossible_shard_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        make_settings(**values)


def test_the_rate_budget_is_split_by_shards() -> None:
    assert make_settings().post_rate == pytest.approx(35.0)
    assert make_settings(shard_count=4, shard_ids="0").post_rate == pytest.approx(35.0 / 4)
    assert make_settings(shard_count=4, shard_ids="0-2").post_rate == pytest.approx(35.0 * 3 / 4)
    assert make_settings(shard_count=4).post_rate == pytest.approx(35.0)  # every shard here


def test_discords_rule_decides_ownership() -> None:
    guild = (123_456 << 22) | 999  # the low 22 bits never matter
    assert shard_of(guild, 4) == 123_456 % 4 == 0
    assert owns_guild(guild, None, None)  # one process owns everything
    assert owns_guild(guild, 4, None)
    assert owns_guild(guild, 4, (0, 2)) and not owns_guild(guild, 4, (1, 3))
    every = [Ownership(4, (shard,)) for shard in range(4)]
    for guild_id in range(0, 50 << 22, 1 << 21):
        assert sum(ownership.owns(guild_id) for ownership in every) == 1


def test_only_the_process_with_shard_zero_syncs_commands() -> None:
    assert Ownership().syncs_commands and Ownership(2, None).syncs_commands
    assert Ownership(2, (0,)).syncs_commands and not Ownership(2, (1,)).syncs_commands


def test_create_bot_picks_the_sharded_class_only_when_asked() -> None:
    plain = create_bot(make_settings())
    assert type(plain) is WaypointBot and not isinstance(plain, commands.AutoShardedBot)
    sharded = create_bot(make_settings(shard_count=4, shard_ids="1-2"))
    assert isinstance(sharded, ShardedWaypointBot) and isinstance(sharded, commands.AutoShardedBot)
    assert (sharded.shard_count, sharded.shard_ids) == (4, [1, 2])
    assert sharded.scheduling.owns(1 << 22) and not sharded.scheduling.owns(0)
    assert sharded.pacer.rate == pytest.approx(35.0 / 2)


# --- the gate and the retry hook ----------------------------------------------------------------

SLOT = slots.WeeklySlot(weekday=0, at=datetime(2026, 1, 5, 18).time(), timezone="Europe/Berlin")
NOW = datetime(2026, 1, 5, 17, tzinfo=UTC)


async def test_a_transient_failure_is_retried_by_the_running_process() -> None:
    scheduling = Scheduling(retry_delays=(15.0, 60.0), clock=lambda: NOW)
    scheduling.scheduler.start(paused=True)
    calls: list[int] = []

    async def body(cohort_id: int) -> None:
        calls.append(cohort_id)
        if len(calls) < 3:
            raise db_errors.TimeoutError("QueuePool limit reached")

    try:
        job = scheduling.weekly("prompt", 7, SLOT, body)
        await job.func(*job.args)
        retry = scheduling.get_job(retry_job_id("prompt:7"))
        assert retry is not None and retry.next_run_time == NOW.replace(second=15)
        await retry.func(*retry.args)
        second = scheduling.get_job(retry_job_id("prompt:7"))
        assert second is not None and (second.next_run_time - NOW).total_seconds() == 60
        await second.func(*second.args)
        assert calls == [7, 7, 7]
        scheduling.cancel("prompt:7")
        assert scheduling.get_job("prompt:7") is None and scheduling.get_job(retry_job_id("prompt:7")) is None
    finally:
        scheduling.shutdown()


async def test_retries_stop_and_other_failures_are_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    scheduling = Scheduling(retry_delays=(), clock=lambda: NOW)
    scheduling.scheduler.start(paused=True)

    async def locked(_cohort_id: int) -> None:
        raise db_errors.OperationalError("UPDATE", {}, Exception("database is locked"))

    async def bug(_cohort_id: int) -> None:
        raise KeyError("a bug")

    try:
        for prefix, body in (("locked", locked), ("bug", bug)):
            job = scheduling.weekly(prefix, 1, SLOT, body)
            await job.func(*job.args)
            assert scheduling.get_job(retry_job_id(f"{prefix}:1")) is None
        assert "giving up" in caplog.text and "scheduled job bug:1 failed" in caplog.text
    finally:
        scheduling.shutdown()


async def test_the_gate_bounds_how_many_job_bodies_run_at_once() -> None:
    scheduling = Scheduling(concurrency=3)
    running = peak = 0

    async def body(_cohort_id: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1

    jobs = [scheduling.weekly("prompt", number, SLOT, body) for number in range(50)]
    await asyncio.gather(*(job.func(*job.args) for job in jobs))
    assert peak == 3


# --- pacing ---------------------------------------------------------------------------------------


class VirtualTime:
    """A clock that a sleep moves forward: callers awaited one after another see real spacing."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_one_channel_never_gets_more_than_five_messages_in_five_seconds() -> None:
    clock = VirtualTime()
    pacer = PostPacer(rate=35.0, burst=5, monotonic=clock.monotonic, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(23):
        await pacer.wait(42)
        sent.append(clock.now)
    assert sent[:5] == [0.0] * 5
    for index in range(5, len(sent)):
        assert sent[index] - sent[index - 5] >= 5.0 - 1e-9
    assert sent[-1] == pytest.approx(20.0)  # 23 messages: five every five seconds, no slower


async def test_a_busy_channel_leaves_the_global_budget_to_the_others() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    pacer = PostPacer(rate=10.0, burst=20, monotonic=lambda: 0.0, sleep=record)
    for _ in range(5):
        await pacer.wait(1)
    busy = asyncio.ensure_future(pacer.wait(1))  # the sixth in channel 1 waits its five seconds
    await asyncio.sleep(0)
    for channel in range(2, 7):
        await pacer.wait(channel)  # the other channels go at once, inside the global burst
    assert waits == [pytest.approx(5.0)]  # only channel 1's sixth message waited
    await busy


async def test_global_and_channel_limits_hold_together() -> None:
    clock = VirtualTime()
    pacer = PostPacer(rate=4.0, burst=2, monotonic=clock.monotonic, sleep=clock.sleep)
    sent: list[tuple[float, int]] = []
    for turn in range(40):
        channel = turn % 2
        await pacer.wait(channel)
        sent.append((clock.now, channel))
    times = [moment for moment, _ in sent]
    for first in times:
        assert sum(1 for moment in times if first <= moment < first + 1.0) <= 2 + 4
    for channel in (0, 1):
        mine = [moment for moment, where in sent if where == channel]
        assert all(mine[i] - mine[i - 5] >= 5.0 - 1e-9 for i in range(5, len(mine)))
