"""One shared read for concurrent readers, against an in-memory upstream: joined, ended, cut.

No gatewayd and no socket (``helpers_memory_upstream``): the upstream holds the body at a point
the test chooses, so "a second reader arrives while the read is young" happens every run, and the
end of the body is exactly the one the test names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager

import pytest

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery.opening import OpenedLog, open_now
from journal_proxy.delivery.shared_read import SharedReads
from journal_proxy.journal.invocation_log import InvocationQuery
from journal_proxy.journal.items import Ended, EndReason
from journal_proxy.local import journal as lj
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Limits, Timeouts, UnitPins

from .conftest import UNIT
from .helpers_memory_upstream import CHUNKED_HEAD, MemoryUpstream, Peer, Request, hold_open

INV = lj.new_invocation_id()
HANG_GUARD = 10.0
CLOCK = lj.Clock()
LINES = [
    b"__CURSOR=s=memory;i=%x\n" % i + lj.unit_line(CLOCK, UNIT, INV, f"line {i}") for i in range(40)
]
#: How the unit lines' body ends, and the reason each reader's last item then carries.
ENDINGS = {"end": None, "cut": EndReason.UPSTREAM, "bad": EndReason.TRUNCATED}


def upstream_ending(ending: str, go: asyncio.Event) -> MemoryUpstream:
    """No systemd lines; the unit's first ten lines at once, the rest once ``go`` is set, then
    the body's end: the last chunk, a cut connection, or chunk data not followed by CRLF."""

    async def answer(request: Request, peer: Peer) -> None:
        peer.send(CHUNKED_HEAD)
        if request.lifecycle:
            await peer.chunked(b"")
            return await hold_open(peer)
        await peer.chunked(b"".join(LINES[:10]), piece=200, last=False)
        await go.wait()
        await peer.chunked(b"".join(LINES[10:]), piece=200, last=ending == "end")
        if ending == "cut":
            peer.cut()
        if ending == "bad":
            peer.send(b"5\r\nhelloXX")
        await hold_open(peer)

    return MemoryUpstream(answer)


@asynccontextmanager
async def shared_reads(
    ending: str, go: asyncio.Event
) -> AsyncIterator[tuple[MemoryUpstream, SharedReads, Callable[[], Awaitable[OpenedLog]]]]:
    """A :class:`SharedReads` over :func:`upstream_ending`, and the opener its readers use."""
    upstream = upstream_ending(ending, go)
    client = upstream.client(Timeouts())
    query = InvocationQuery(InvocationId(INV), UnitPins((UNIT,)), (), Limits())
    masker = Masker.build()

    async def opener() -> OpenedLog:
        return await open_now([client], query, masker, Timeouts())

    try:
        yield upstream, SharedReads(), opener
    finally:
        await client.close()
        await upstream.stop()


async def read_all(opened: OpenedLog) -> tuple[list[str], Ended]:
    messages: list[str] = []
    async with asyncio.timeout(HANG_GUARD), aclosing(opened.items) as items:
        async for item in items:
            if isinstance(item, Ended):
                return messages, item
            if isinstance(item, list):
                messages += [entry.message for _, entry in item]
    raise AssertionError("the items ended without an Ended")


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_a_reader_who_joins_gets_every_line_and_the_same_end(ending: str) -> None:
    """Two readers, the second arriving while the first read is young: gatewayd is asked once
    (one query for systemd's lines, one for the unit's), both get all the lines, in order, and
    both get the end the body really had: clean, cut (``upstream``) or bad data (``truncated``)."""
    go = asyncio.Event()
    async with shared_reads(ending, go) as (upstream, reads, opener):
        first = await reads.open(InvocationId(INV), opener)
        second = await reads.open(InvocationId(INV), opener)
        go.set()
        results = await asyncio.gather(read_all(first), read_all(second))
        for opened in (first, second):
            assert opened.on_close is not None
            opened.on_close()
    expected = [f"line {i}" for i in range(40)]
    for messages, ended in results:
        assert ended.reason == ENDINGS[ending]
        assert messages == expected if ending == "end" else messages == expected[: len(messages)]
    assert len(upstream.requests) == 2


async def test_a_reader_arriving_as_the_last_one_leaves_gets_the_whole_log() -> None:
    """The last reader leaving stops the read (its task is cancelled); a request arriving before
    that task is done must not join it: it would wait for batches nobody sends any more (a finished
    read hung for its client's whole timeout, once in 10,000 requests of bench/soak.py)."""
    go = asyncio.Event()
    async with shared_reads("end", go) as (_, reads, opener):
        first = await reads.open(InvocationId(INV), opener)
        assert first.on_close is not None
        first.on_close()  # the only reader leaves: the read is being stopped
        second = await reads.open(InvocationId(INV), opener)
        go.set()
        messages, ended = await read_all(second)
        assert second.on_close is not None
        second.on_close()
    assert ended.reason is None
    assert messages == [f"line {i}" for i in range(40)]
