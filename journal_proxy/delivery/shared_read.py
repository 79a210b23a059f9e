"""One gatewayd read for concurrent requests of one log (single flight), whatever their format.

When a deployment status turns red, its link is clicked by several people within a second, and
each click would cost gatewayd two queries and the proxy a full parse.  The first request starts a
:class:`SharedRead`; requests for the same invocation that arrive while it is young join it: they
get the items read so far (kept while the read is young: at most :data:`JOIN_WINDOW`) and then the
rest as they come, and each renders its own format.  Later requests read on their own (or, once
the log is finished, from the cache).

The read runs in its own task, so the first reader leaving does not end it for the others; it stops
when nobody is reading.  Items travel in batches through bounded queues: memory is bounded by the
join window and the queues, and the slowest reader sets the pace of one shared read (as it would
set the pace of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery.opening import OpenedLog
from journal_proxy.journal.items import Ended, EndReason, Item

log = logging.getLogger(__name__)

#: A request may join a read that has produced at most this many lines.
JOIN_WINDOW = 2000
#: Lines per hand-over, at least (a batch from one upstream read is handed over whole: a few
#: hundred lines); a queue per reader holds at most QUEUE_BATCHES hand-overs.
BATCH = 64
QUEUE_BATCHES = 4
#: A reader whose queue stays full this long is dropped (its stream ends with a note), so one
#: stalled reader cannot hold the read, and everyone else on it, for ever.
STALL_SECONDS = 30.0

Opener = Callable[[], Awaitable[OpenedLog]]


class SharedRead:
    def __init__(self, opener: Opener, on_closed: Callable[[SharedRead], None]) -> None:
        self._opened: asyncio.Future[OpenedLog] = asyncio.get_running_loop().create_future()
        self._replay: list[Item] | None = []
        self._replay_lines = 0
        self._queues: set[asyncio.Queue[list[Item]]] = set()
        self._dropped: set[asyncio.Queue[list[Item]]] = set()
        self._on_closed = on_closed
        self._task = asyncio.create_task(self._run(opener))

    @property
    def joinable(self) -> bool:
        return self._replay is not None and not self._task.done()

    async def join(self) -> OpenedLog:
        """The log for one more reader; raises what opening raised (404, 502, ...)."""
        assert self._replay is not None
        queue: asyncio.Queue[list[Item]] = asyncio.Queue(QUEUE_BATCHES)
        replay = list(self._replay)
        self._queues.add(queue)
        try:
            opened = await asyncio.shield(self._opened)
        except BaseException:
            self._leave(queue)
            raise
        items = self._items(queue, replay, opened)
        return OpenedLog(opened.status, opened.source, items, on_close=lambda: self._leave(queue))

    async def _items(
        self, queue: asyncio.Queue[list[Item]], replay: list[Item], opened: OpenedLog
    ) -> AsyncGenerator[Item, None]:
        for item in replay:
            yield item
            if isinstance(item, Ended):
                return
        while True:
            if queue in self._dropped and queue.empty():
                yield Ended(EndReason.TOO_SLOW, opened.status)
                return
            for item in await queue.get():
                yield item
                if isinstance(item, Ended):
                    return

    def _leave(self, queue: asyncio.Queue[list[Item]]) -> None:
        """A reader is done (or gone); the last one out stops the read."""
        self._queues.discard(queue)
        self._dropped.discard(queue)
        if not self._queues:
            # Not joinable from now on: the task is only told to stop, and a request joining
            # before it is done would wait for batches that never come.
            self._replay = None
            self._task.cancel()

    async def _run(self, opener: Opener) -> None:
        try:
            try:
                opened = await opener()
            except Exception as exc:
                self._opened.set_exception(exc)
                self._opened.exception()  # retrieved: no "never retrieved" warning without joiners
                return
            self._opened.set_result(opened)
            await self._pump(opened)
        except asyncio.CancelledError:
            self._opened.cancel()  # nobody is waiting for it any more
        finally:
            self._replay = None
            self._on_closed(self)

    async def _pump(self, opened: OpenedLog) -> None:
        batch: list[Item] = []
        lines = 0
        async with aclosing(opened.items) as items:
            try:
                async for item in items:
                    batch.append(item)
                    lines += len(item) if isinstance(item, list) else 1
                    if lines >= BATCH or isinstance(item, Ended):
                        await self._hand_over(batch, lines)
                        batch, lines = [], 0
                        if not self._queues and self._replay is None:
                            return  # every reader dropped, and nobody can join any more
            except Exception as exc:  # the reader gets a last line, never a hang
                log.warning("shared read failed: %r", exc)
                await self._hand_over([*batch, Ended(EndReason.UPSTREAM, opened.status)], lines)

    async def _hand_over(self, batch: list[Item], lines: int) -> None:
        if self._replay is not None:
            self._replay += batch
            self._replay_lines += lines
            if self._replay_lines > JOIN_WINDOW:
                self._replay = None  # too old to join: later requests read on their own
                self._on_closed(self)
        for queue in list(self._queues):
            try:
                async with asyncio.timeout(STALL_SECONDS):
                    await queue.put(batch)
            except TimeoutError:
                # Too slow: it gets what it has, then a last line; the others carry on.
                self._queues.discard(queue)
                self._dropped.add(queue)


class SharedReads:
    """The young reads, by invocation: at most one joinable read each."""

    def __init__(self) -> None:
        self._reads: dict[InvocationId, SharedRead] = {}

    def __len__(self) -> int:
        return len(self._reads)

    async def open(self, invocation_id: InvocationId, opener: Opener) -> OpenedLog:
        read = self._reads.get(invocation_id)
        if read is None or not read.joinable:
            read = SharedRead(opener, lambda r: self._forget(invocation_id, r))
            self._reads[invocation_id] = read
        return await read.join()

    def _forget(self, invocation_id: InvocationId, read: SharedRead) -> None:
        with contextlib.suppress(KeyError):
            if self._reads[invocation_id] is read:
                del self._reads[invocation_id]
