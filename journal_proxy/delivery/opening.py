"""Two ways to read an invocation's log, one shape for the web layer to write.

* :func:`open_now`: the log as it is now, streamed from gatewayd (``shared_read`` lets concurrent
  requests share one; the web layer keeps a finished one's bytes in the cache);
* :func:`open_follow`: the history a live viewer missed, then the hub's new lines until the end.

Each returns an :class:`OpenedLog` before any byte is sent, so "not found" and "gatewayd down" can
still become a status; its ``items`` are verified, masked and numbered, ending with one
:class:`Ended`.  Nothing here reads a request: the web layer passes plain values in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass

from journal_proxy.delivery.hub import FollowHub, Subscription
from journal_proxy.delivery.hub_registry import HubRegistry
from journal_proxy.delivery.locate import Located, locate
from journal_proxy.errors import InvocationNotFound, UpstreamError, UpstreamProtocolError
from journal_proxy.journal.invocation_log import InvocationQuery, open_log
from journal_proxy.journal.items import (
    Ended,
    EndReason,
    Item,
    Lines,
    Marker,
    Seen,
    Source,
    StatusChanged,
)
from journal_proxy.journal.lifecycle import Status
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Timeouts
from journal_proxy.upstream.gatewayd import GatewaydClient

log = logging.getLogger(__name__)

#: A live stream with nothing new for this long sends a keep-alive (SSE comment) to the reader.
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class OpenedLog:
    """A log ready to be written: what the headers need, and the items (iterate once)."""

    status: Status
    source: Source
    items: AsyncGenerator[Item, None]
    #: Called when the writer is done with the log, whether or not it read the items (a HEAD
    #: request, a reader gone before the first byte): closing a generator that never started
    #: runs none of its code, so what must always be released cannot live only in its finally.
    on_close: Callable[[], None] | None = None

    @property
    def finished(self) -> bool:
        return self.status.finished

    async def aclose(self) -> None:
        try:
            await self.items.aclose()
        finally:
            if self.on_close is not None:
                self.on_close()


def source_of(located: Located, several_upstreams: bool) -> Source:
    """Name the host only when there is more than one to choose from."""
    if not several_upstreams:
        return Source()
    return Source(located.host, located.unreachable)


async def open_now(
    clients: Sequence[GatewaydClient],
    query: InvocationQuery,
    masker: Masker,
    timeouts: Timeouts,
) -> OpenedLog:
    located = await locate(clients, query, timeouts.upstream_headers)
    source = source_of(located, len(clients) > 1)
    return OpenedLog(located.log.status, source, _now_items(located, query, masker))


async def _now_items(
    located: Located, query: InvocationQuery, masker: Masker
) -> AsyncGenerator[Item, None]:
    log_ = located.log
    session = masker.session()
    reason: EndReason | None = None
    apply = session.apply
    async with aclosing(log_):
        try:
            async for batch in log_:
                yield [(line, apply(entry)) for line, entry in batch]
        except UpstreamError as exc:
            protocol = isinstance(exc, UpstreamProtocolError)
            reason = EndReason.TRUNCATED if protocol else EndReason.UPSTREAM
            log.warning("stream %s… cut short: %s", query.invocation_id[:8], exc)
    yield Ended(reason, log_.status)


async def open_follow(
    hubs: HubRegistry,
    query: InvocationQuery,
    masker: Masker,
    *,
    resume: int,
    several_upstreams: bool,
    follow_max: float,
) -> OpenedLog:
    """Join (or start) the invocation's hub; ``resume`` is the last line the reader has."""
    hub = hubs.get(query)
    sub = hub.subscribe()
    try:
        await hub.ready.wait()
        if hub.not_found:
            raise InvocationNotFound(query.invocation_id)
        if hub.error is not None and hub.line == 0:
            raise hub.error
        assert hub.client is not None  # ready, found and without error: located
    except BaseException:
        sub.close()
        raise
    source = Source(hub.client.upstream.label, hub.unreachable) if several_upstreams else Source()
    items = _follow_items(hubs, hub, sub, query, masker, resume, follow_max)
    return OpenedLog(sub.status, source, items, on_close=sub.close)


async def _history_from_gatewayd(
    hub: FollowHub, query: InvocationQuery, masker: Masker, resume: int, until: int
) -> AsyncGenerator[Lines | Seen | Ended, None]:
    """Lines ``resume + 1`` to ``until``, read again (the hub no longer holds them); the lines
    up to ``resume`` as :class:`Seen`."""
    assert hub.client is not None
    session = masker.session()  # sees every line from the first, so its state is right
    try:
        log_ = await open_log(hub.client, query)
        async with aclosing(log_):
            async for batch in log_:
                masked = [(line, session.apply(entry)) for line, entry in batch if line <= until]
                seen = [numbered for numbered in masked if numbered[0] <= resume]
                if seen:
                    yield Seen(tuple(seen))
                new = [numbered for numbered in masked if numbered[0] > resume]
                if new:
                    yield new
                if batch[-1][0] >= until:
                    break
    except (UpstreamError, InvocationNotFound) as exc:
        # Headers are sent: end the stream with a note rather than an error status.
        log.warning("follow %s… history cut short: %s", query.invocation_id[:8], exc)
        yield Ended(EndReason.UPSTREAM, hub.status)


async def _follow_items(
    hubs: HubRegistry,
    hub: FollowHub,
    sub: Subscription,
    query: InvocationQuery,
    masker: Masker,
    resume: int,
    follow_max: float,
) -> AsyncGenerator[Item, None]:
    """The lines after ``resume`` the reader missed (from the hub's memory, else from gatewayd),
    then the hub's live lines; the subscription is closed however the reader stops."""
    deadline = asyncio.get_running_loop().time() + follow_max
    try:
        last = resume
        if sub.base_line:
            # Lines 1..base_line: the ones after ``resume`` are sent, the others are Seen.
            if hub.history is not None:
                # From the hub's memory: joining a live run costs gatewayd nothing.
                yield Seen(hub.history[: min(resume, sub.base_line)])
                for numbered in hub.history[resume : sub.base_line]:
                    yield numbered
            else:
                hubs.history_reads += 1
                past = _history_from_gatewayd(hub, query, masker, resume, sub.base_line)
                async for earlier in past:
                    yield earlier
                    if isinstance(earlier, Ended):
                        return
        yield Marker.FLUSH
        live = _live_items(hub, sub, deadline, max(last, sub.base_line))
        async with aclosing(live):
            async for item in live:
                yield item
    finally:
        sub.close()


async def _live_items(
    hub: FollowHub, sub: Subscription, deadline: float, last: int
) -> AsyncGenerator[Item, None]:
    """The hub's lines after ``last`` (each flushed), keep-alives while nothing comes, the end."""
    loop = asyncio.get_running_loop()
    while True:
        # The timeout wraps the wait only, never a yield: the reader's writes are not ours
        # to cancel.
        left = deadline - loop.time()
        if left <= 0:
            yield Ended(EndReason.MAX_DURATION, hub.status)
            return
        try:
            async with asyncio.timeout(min(KEEPALIVE_SECONDS, left)):
                item = await sub.get()
        except TimeoutError:
            if deadline - loop.time() > 0:
                yield Marker.KEEPALIVE
            continue
        if isinstance(item, Ended):
            yield item
            return
        if isinstance(item, StatusChanged):
            yield item
        elif item[0] > last:
            last = item[0]
            yield item
        else:
            yield Seen((item,))
        yield Marker.FLUSH
