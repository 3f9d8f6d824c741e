"""``in_slices``: every item once, in order, with the event loop free between slices."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from bot.kernel.slices import in_slices


async def collect(items: list[int], size: int) -> list[list[int]]:
    return [list(piece) async for piece in in_slices(items, size)]


@given(st.lists(st.integers(), max_size=60), st.integers(min_value=1, max_value=9))
def test_slices_cover_the_items_once_in_order_none_longer_than_asked(items: list[int], size: int) -> None:
    pieces = asyncio.run(collect(items, size))
    assert [item for piece in pieces for item in piece] == items
    assert all(1 <= len(piece) <= size for piece in pieces)
    assert len(pieces) == -(-len(items) // size)


async def test_another_task_runs_between_two_slices() -> None:
    ticks: list[int] = []

    async def ticker() -> None:
        while True:
            ticks.append(len(ticks))
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    seen_between: list[int] = []
    async for _ in in_slices(list(range(1_000)), 250):
        seen_between.append(len(ticks))
    running.cancel()
    assert seen_between == sorted(set(seen_between)) and len(seen_between) == 4  # the ticker ran each time
