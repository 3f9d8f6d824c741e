"""Long loops on the event loop, cut into slices with a yield between them.

A 10,000-member review round builds tens of thousands of rows in Python. Done in one go, that
holds the event loop for a tenth of a second at a time, and every member's command waits behind
it; in slices of a few hundred items the loop serves them in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Final, TypeVar

Item = TypeVar("Item")

# Items per slice: a fraction of a millisecond of typical per-row Python work.
SLICE: Final = 100


async def in_slices(items: Sequence[Item], size: int = SLICE) -> AsyncIterator[Sequence[Item]]:
    """``items`` in consecutive slices; the event loop runs other tasks before each one after
    the first."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + size]
