"""Rows from the database on the event loop, formatted in a worker thread, a few batches apart.

The database driver is async, so reading stays on the loop; writing CSV/JSON/XLSX is CPU-bound,
so it runs beside it. A small queue between them keeps at most ``HANDOFF_BATCHES`` batches in
memory. An error on either side stops both and is raised to the caller. ``pump_batches`` hands
the formatter whole batches (the writers work batch by batch); ``pump`` hands it rows.
``pump_in_thread`` is for a reader that is synchronous: it reads and formats in one thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Sized
from itertools import chain
from typing import Final, Generic, TypeVar

HANDOFF_BATCHES: Final = 4
RowT = TypeVar("RowT")
BatchT = TypeVar("BatchT", bound=Sized)


class _AbortedError(Exception):
    """Tells the formatting thread that the rows stopped coming because of an error."""


class _Handoff(Generic[BatchT]):
    """The queue between the reader (event loop) and the formatter (worker thread)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[BatchT | BaseException | None] = queue.Queue(maxsize=HANDOFF_BATCHES)
        self._sink_stopped = threading.Event()

    def batches(self) -> Iterator[BatchT]:
        while (item := self._queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def run_sink(self, sink: Callable[[Iterable[BatchT]], object]) -> None:
        try:
            sink(self.batches())
        finally:
            self._sink_stopped.set()

    def _offer(self, item: BatchT | BaseException | None) -> bool:
        """Queue ``item`` once there is room; False if the sink stopped (it failed) meanwhile."""
        while not self._sink_stopped.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.05)
                return True
        return False

    async def hand_over(self, item: BatchT | BaseException | None) -> bool:
        try:
            self._queue.put_nowait(item)  # the usual case: room in the queue, no thread hop
        except queue.Full:
            return await asyncio.to_thread(self._offer, item)
        return True


async def pump(batches: AsyncIterator[list[RowT]], sink: Callable[[Iterable[RowT]], object]) -> int:
    """Run ``sink`` in a worker thread over the rows of ``batches``; returns the row count."""
    return await pump_batches(batches, lambda handed: sink(chain.from_iterable(handed)))


async def pump_batches(batches: AsyncIterator[BatchT], sink: Callable[[Iterable[BatchT]], object]) -> int:
    """Run ``sink`` in a worker thread over ``batches`` as they come; returns the row count."""
    handoff: _Handoff[BatchT] = _Handoff()
    consumer = asyncio.ensure_future(asyncio.to_thread(handoff.run_sink, sink))
    count = 0
    try:
        async for batch in batches:
            count += len(batch)
            if not await handoff.hand_over(batch):
                break
        else:
            await handoff.hand_over(None)
    except BaseException:
        await handoff.hand_over(_AbortedError())
        with contextlib.suppress(Exception):  # the first error is the one worth raising
            await consumer
        raise
    finally:
        aclose = getattr(batches, "aclose", None)
        if aclose is not None:
            await aclose()
    await consumer  # raises the sink's own error, if it stopped early
    return count


async def pump_in_thread(
    batches: Callable[[], Iterable[BatchT]], sink: Callable[[Iterable[BatchT]], object]
) -> int:
    """Run ``sink`` over ``batches()`` in one worker thread; returns the row count.

    The reader runs as the formatter asks for batches, so memory holds one batch at a time and
    the event loop stays free. If the caller is cancelled, the reader is stopped at its next
    batch (the sink sees an error) and the thread is waited for before the cancellation goes on,
    so nothing writes to the output afterwards.
    """
    stopped = threading.Event()
    count = 0

    def counted() -> Generator[BatchT, None, None]:
        nonlocal count
        source = iter(batches())
        try:
            for batch in source:
                if stopped.is_set():
                    raise _AbortedError
                count += len(batch)
                yield batch
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def run() -> None:
        rows = counted()
        try:
            sink(rows)
        finally:
            rows.close()  # here: a reader may hold what only its own thread may close

    work = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        stopped.set()
        with contextlib.suppress(Exception):
            await work
        raise
    return count
