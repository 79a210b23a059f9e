"""Live follow: one upstream follow per running invocation, broadcast to all its viewers.

gatewayd spends a thread per connection and its ``follow`` never ends.  So a :class:`FollowHub`
holds the only two follow connections for an invocation (its own lines and systemd's lines about
it; :mod:`journal_proxy.delivery.follow_pump` reopens one that gatewayd breaks), numbers the new entries,
and hands them to every :class:`Subscription`.  Each viewer reads the history it missed with an
ordinary, ending request, then drains its subscription from the line the hub had reached when it
subscribed: nothing repeated, nothing lost.

A viewer's queue (:class:`Subscription`, below) is bounded: one that falls behind is told so
(``too-slow``) and dropped, so a slow reader holds neither memory nor the others.  The one hub per
invocation is
kept by :class:`journal_proxy.delivery.hub_registry.HubRegistry`.  The hub stops when systemd reports the
invocation finished (after a short grace period for trailing lines), when nothing new came for the
idle time, at the maximum duration, when its last viewer leaves, or at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import aclosing

from journal_proxy.delivery.follow_pump import Pumped, pump
from journal_proxy.delivery.locate import Located
from journal_proxy.errors import InvocationNotFound, UpstreamError, UpstreamProtocolError
from journal_proxy.journal.entry import Entry, NumberedEntry
from journal_proxy.journal.invocation_log import InvocationQuery, Verifier
from journal_proxy.journal.items import Ended, EndReason, StatusChanged
from journal_proxy.journal.lifecycle import Status, StatusTracker
from journal_proxy.journal.merge import Feed, Merge
from journal_proxy.journal.unlabelled import read_unlabelled
from journal_proxy.journal.verify import verify_lifecycle_entry, verify_unit_entry
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Limits, Timeouts
from journal_proxy.upstream.gatewayd import GatewaydClient, Match

log = logging.getLogger(__name__)

#: How long a live entry from one upstream stream waits for the other stream to catch up, so that
#: the two are merged in the same order a later, ending request will see (and line numbers agree).
HOLD_BACK = 0.03

#: Lines a hub keeps so that joining viewers (and SSE reconnects) read their history from memory,
#: not from gatewayd.  A deploy log is rarely longer; past it, the hub drops what it kept and viewers
#: read their history from gatewayd again (counted in ``history_overflows``).  At about 300 bytes a
#: line, a hub holds at most some 6 MB.
HISTORY_LINES = 20_000

Locator = Callable[[InvocationQuery], Awaitable[Located]]


class FollowHub:
    """The shared upstream follow of one invocation."""

    def __init__(
        self,
        locator: Locator,
        query: InvocationQuery,
        timeouts: Timeouts,
        limits: Limits,
        masker: Masker,
        on_done: Callable[[FollowHub], None],
    ) -> None:
        self.invocation_id = query.invocation_id
        #: Live lines are masked here, once for every viewer; the session has seen every line
        #: from the first (the snapshot), so state across lines (a private key) is right.
        self._mask = masker.session()
        #: Every numbered, masked line so far (``history[n - 1]`` is line n), while within
        #: :data:`HISTORY_LINES`; None once the log grew past it.
        self.history: list[NumberedEntry] | None = []
        self._locate = locator
        #: The gatewayd that has the invocation; known once ``ready`` is set.
        self.client: GatewaydClient | None = None
        self.unreachable: tuple[str, ...] = ()
        self._query = query
        self._timeouts = timeouts
        self._limits = limits
        self._on_done = on_done
        self._subs: set[Subscription] = set()
        self.ready = asyncio.Event()
        self.not_found = False
        self.error: BaseException | None = None
        self.line = 0
        self._tracker = StatusTracker()
        #: systemd's first line about the run (its cursor) and the time of its last one so far:
        #: where the lines journald left unlabelled are looked for once the run finished.
        self._systemd_first: str | None = None
        self._systemd_last_usec = 0
        self._ended: Ended | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> Status:
        return self._tracker.status

    @property
    def viewers(self) -> int:
        return len(self._subs)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"follow-{self.invocation_id[:8]}")

    def subscribe(self) -> Subscription:
        """Subscribe; once ``ready`` is set, ``base_line`` is the last line the hub had counted.

        Items published later are the lines after ``base_line``; the viewer reads lines up to
        ``base_line`` itself, with an ordinary request.
        """
        sub = Subscription(self, self.line, self.status, self._limits.viewer_buffer)
        if self._ended is not None:
            sub.publish(self._ended)
        else:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        if not self._subs and self._task is not None:
            # Leave the registry at once: a viewer who comes while the task winds down gets a
            # new hub, not this one's "shutdown".
            self._on_done(self)
            self._task.cancel()

    async def wait_closed(self) -> None:
        """Wait until the hub's task (and its upstream connections) are gone."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def stop(self, reason: EndReason) -> None:
        """End the hub now (shutdown): viewers get an end item with ``reason``."""
        self._end(reason)
        if self._task is not None:
            self._task.cancel()

    def _end(self, reason: EndReason) -> None:
        if self._ended is not None:
            return
        self._ended = Ended(reason, self.status)
        for sub in list(self._subs):
            sub.publish(self._ended)
        self._subs.clear()
        self._on_done(self)

    def _keep(self, numbered: NumberedEntry) -> None:
        if self.history is None:
            return
        if len(self.history) >= HISTORY_LINES:
            self.history = None
            return
        self.history.append(numbered)

    def _publish(self, item: HubItem) -> None:
        for sub in list(self._subs):
            if not sub.publish(item):
                self.unsubscribe(sub)  # its buffer is freed now, not when its writer unblocks

    async def _run(self) -> None:
        try:
            cursors = await self._snapshot()
            if cursors is None:
                return
            if self.status.finished and not self._within_grace():
                self._end(EndReason.FINISHED)
                return
            await self._live(*cursors)
        except InvocationNotFound:
            self.not_found = True
        except UpstreamProtocolError as exc:
            log.warning("follow %s: upstream sent bad data: %s", self.invocation_id[:8], exc)
            self.error = exc
            self._end(EndReason.TRUNCATED)
        except UpstreamError as exc:
            log.warning(
                "follow %s: upstream error: %s (%r)", self.invocation_id[:8], exc, exc.__cause__
            )
            self.error = exc
            self._end(EndReason.UPSTREAM)
        except asyncio.CancelledError:
            self._end(EndReason.SHUTDOWN if self._subs else EndReason.NO_VIEWERS)
            raise
        finally:
            self.ready.set()
            self._end(EndReason.UPSTREAM)

    def _observe(self, entry: Entry) -> bool:
        """Take a line into the status (True if it changed), noting where systemd's lines are."""
        if entry.lifecycle is not None:
            self._systemd_first = self._systemd_first or entry.cursor
            self._systemd_last_usec = max(self._systemd_last_usec, entry.realtime_usec)
        return self._tracker.observe(entry.realtime_usec, entry.unit, entry.lifecycle)

    async def _missed(self, unit_cursor: str | None) -> bool:
        """Whether the finished run has lines journald stored without its ID, after ``unit_cursor``
        (the last line the follow saw): the follow asks by ID and never sees them.  One ending
        read per hub, not per viewer; if it fails, the stream ends as finished, as before."""
        start = unit_cursor or self._systemd_first
        if self.client is None or start is None or not self.status.unit:
            return False
        q = self._query
        run = (q.invocation_id, q.pins, q.public_fields, q.limits.max_entry_bytes)
        found = read_unlabelled(self.client, run, self.status.unit, start, self._systemd_last_usec)
        try:
            async with aclosing(found):
                async for batch in found:
                    if any(entry.cursor != start for entry in batch):
                        return True
        except UpstreamError as exc:
            log.warning("follow %s: unlabelled lines not read: %s", self.invocation_id[:8], exc)
        return False

    def _within_grace(self) -> bool:
        finished = self.status.finished_usec
        return finished is not None and time.time() * 1e6 - finished < (
            self._timeouts.finish_grace * 1e6
        )

    async def _snapshot(self) -> tuple[str | None, str | None] | None:
        """Count the existing lines and find where the live streams must resume."""
        located = await self._locate(self._query)
        self.client, self.unreachable = located.client, located.unreachable
        log_ = located.log
        async with aclosing(log_):
            async for batch in log_:
                for line, entry in batch:
                    self.line = line
                    self._keep((line, self._mask.apply(entry)))
                    self._observe(entry)
        last_unit, last_lifecycle = log_.merge.last_cursors
        for sub in self._subs:
            sub.base_line, sub.status = self.line, self.status
        self.ready.set()
        if not self._subs:
            self._end(EndReason.NO_VIEWERS)
            return None
        return last_unit, last_lifecycle

    async def _live(self, unit_cursor: str | None, lifecycle_cursor: str | None) -> None:
        q = self._query
        queue: asyncio.Queue[Pumped] = asyncio.Queue(maxsize=1024)
        sources: tuple[tuple[list[Match], Verifier, str | None], ...] = (
            (q.unit_matches(), verify_unit_entry, unit_cursor),
            (q.lifecycle_matches(), verify_lifecycle_entry, lifecycle_cursor),
        )
        assert self.client is not None
        pumps = [
            asyncio.create_task(pump(self.client, q, Feed(i), matches, check, cursor, queue))
            for i, (matches, check, cursor) in enumerate(sources)
        ]
        merge = Merge(
            line=self.line, hold_back=HOLD_BACK, last_cursors=(unit_cursor, lifecycle_cursor)
        )
        try:
            await self._merge(queue, merge)
        finally:
            for p in pumps:
                p.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def _merge(self, queue: asyncio.Queue[Pumped], merge: Merge) -> None:
        """Number the live entries in order, publish them, and end the hub when it is due."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        last_new = started
        finish_deadline: float | None = (
            loop.time() + self._timeouts.finish_grace if self.status.finished else None
        )
        while True:
            now = loop.time()
            deadlines = [
                (last_new + self._timeouts.follow_idle, EndReason.IDLE),
                (started + self._timeouts.follow_max, EndReason.MAX_DURATION),
            ]
            if finish_deadline is not None:
                deadlines.append((finish_deadline, EndReason.FINISHED))
            due, reason = min(deadlines)
            if now >= due:
                if reason is EndReason.FINISHED and await self._missed(merge.last_cursors[0]):
                    reason = EndReason.REREAD
                self._end(reason)
                return
            held = merge.deadline()
            wait = due - now if held is None else max(0.0, min(due, held) - now)
            try:
                async with asyncio.timeout(wait):
                    source, payload = await queue.get()
            except TimeoutError:
                pass
            else:
                if isinstance(payload, Exception):
                    raise payload
                if payload is None:
                    merge.end(source)
                    if merge.ended:
                        self._end(EndReason.UPSTREAM)
                        return
                else:
                    merge.push(source, payload, loop.time())
            now = loop.time()
            for line, entry in merge.release(now):
                last_new = now
                self.line = line
                numbered = (line, self._mask.apply(entry))
                self._keep(numbered)
                self._publish(numbered)
                if self._observe(entry):
                    self._publish(StatusChanged(self.status))
                    if self.status.finished and finish_deadline is None:
                        finish_deadline = now + self._timeouts.finish_grace


#: What a viewer's subscription carries.
HubItem = NumberedEntry | StatusChanged | Ended


class Subscription:
    """One viewer's bounded queue of hub items."""

    def __init__(self, hub: FollowHub, base_line: int, status: Status, limit: int) -> None:
        self.hub = hub
        self.base_line = base_line
        self.status = status
        self._items: deque[HubItem] = deque()
        self._limit = limit
        self._wakeup = asyncio.Event()
        self._ended: Ended | None = None

    def publish(self, item: HubItem) -> bool:
        """Queue ``item``; False if this viewer is (now) too far behind and must be dropped."""
        if self._ended is not None:
            return False
        if isinstance(item, Ended):
            self._ended = item
        elif len(self._items) >= self._limit:
            self._items.clear()
            self._ended = Ended(EndReason.TOO_SLOW, self.hub.status)
        else:
            self._items.append(item)
        self._wakeup.set()
        return self._ended is None

    async def get(self) -> HubItem:
        """The next item; an :class:`Ended` once the hub ends or this viewer is dropped.

        A plain coroutine rather than an async generator, so a caller's timeout (keep-alives)
        cancels only the wait, never the subscription.
        """
        while True:
            if self._items:
                return self._items.popleft()
            if self._ended is not None:
                return self._ended
            self._wakeup.clear()
            await self._wakeup.wait()

    def close(self) -> None:
        self.hub.unsubscribe(self)
