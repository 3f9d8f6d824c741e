"""The pacer: every request the bot makes on its own waits its turn under Discord's rate limits.

One per bot, shared by weekly posts, review announcements, threads and their first messages,
reminders and DMs: a global token bucket (the token's budget, split by the process's share of
shards) plus a bucket per channel (5 messages per 5 seconds). The clock and the sleep are injected
so tests never wait.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from typing import Any

CHANNEL_LIMIT = 5  # Discord: at most 5 messages per 5 seconds in one channel (threads are channels)
CHANNEL_WINDOW = 5.0


class PostPacer:
    """Spaces outgoing requests under Discord's global limit and its per-channel limit.

    Global: a token bucket (as GCRA): up to ``burst`` requests at once, then one every ``1/rate``
    seconds; with the defaults no one-second window holds more than 40. The rate is this process's
    share of the token's budget (``Settings.post_rate``). Per channel (``wait(channel_id)``): a
    channel's callers go one at a time, each at least ``channel_window`` seconds after the one
    ``channel_limit`` sends before it, so a 5,000-thread round in one channel never floods it, and
    only that channel waits: the global turn is taken when the channel's turn comes, so other
    channels keep the global budget meanwhile. Every caller gets its turn, nothing is dropped; the
    clock and the sleep are injectable so tests never wait.
    """

    def __init__(
        self,
        rate: float = 35.0,
        burst: int = 5,
        *,
        channel_limit: int = CHANNEL_LIMIT,
        channel_window: float = CHANNEL_WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1 or channel_limit < 1 or channel_window < 0:
            raise ValueError("rate must be positive, burst and channel_limit at least 1")
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._theoretical = monotonic()  # GCRA: when the bucket would next be empty
        self._channel_limit = channel_limit
        self._channel_window = channel_window
        self._channel_sends: dict[int, collections.deque[float]] = {}
        self._channel_locks: dict[int, asyncio.Lock] = {}

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    async def wait(self, channel_id: int | None = None) -> None:
        """Return when the caller may send (to ``channel_id`` if given); callers keep their order."""
        if channel_id is None:
            await self._global_turn()
            return
        lock = self._channel_locks.setdefault(channel_id, asyncio.Lock())
        async with lock:
            sends = self._channel_sends.setdefault(channel_id, collections.deque(maxlen=self._channel_limit))
            if len(sends) == self._channel_limit:
                delay = sends[0] + self._channel_window - self._monotonic()
                if delay > 0:
                    await self._sleep(delay)
            sends.append(await self._global_turn())
        self._forget_quiet_channels()

    async def _global_turn(self) -> float:
        """Reserve the next global turn and wait for it; returns the moment of the turn."""
        now = self._monotonic()
        turn = max(now, self._theoretical - self._tolerance)
        self._theoretical = max(self._theoretical, turn) + self._interval
        if turn > now:
            await self._sleep(turn - now)
        return turn

    def _forget_quiet_channels(self) -> None:
        """Drop channels with no send inside the window (bounded memory over a long run)."""
        if len(self._channel_sends) < 1_024:
            return
        horizon = self._monotonic() - self._channel_window
        for channel_id, sends in list(self._channel_sends.items()):
            lock = self._channel_locks.get(channel_id)
            if sends and sends[-1] < horizon and (lock is None or not lock.locked()):
                del self._channel_sends[channel_id]
                self._channel_locks.pop(channel_id, None)
