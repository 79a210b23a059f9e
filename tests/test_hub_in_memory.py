"""The live hub against an in-memory upstream: what gatewayd's follow does to it, byte for byte.

No gatewayd and no socket: the real client, pool and framing, with an upstream that is a
function (``helpers_memory_upstream``), so a follow can be broken exactly where a test says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery.hub import FollowHub, HubItem, Subscription
from journal_proxy.delivery.locate import Located, locate
from journal_proxy.journal.invocation_log import InvocationQuery
from journal_proxy.journal.items import Ended, EndReason
from journal_proxy.local import journal as lj
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Limits, Timeouts, UnitPins

from .conftest import UNIT
from .helpers_memory_upstream import CHUNKED_HEAD, MemoryUpstream, Peer, Request, hold_open

INV = lj.new_invocation_id()
#: Only a hang reaches it; everything here ends in well under a second.
HANG_GUARD = 10.0

Follow = Callable[[Request, Peer], Coroutine[Any, Any, None]]


CLOCK = lj.Clock()


def entries(*messages: str, first: int) -> bytes:
    """Unit lines in export format with the cursors gatewayd would give them, from ``first``."""
    lines = [lj.unit_line(CLOCK, UNIT, INV, m) for m in messages]
    return b"".join(b"__CURSOR=s=memory;i=%x\n" % (first + i) + e for i, e in enumerate(lines))


def upstream_with(follow: Follow) -> MemoryUpstream:
    """One unit line so far, no systemd lines; follows of the unit's lines answered by
    ``follow``, of systemd's lines held open with nothing new."""
    first = entries("before", first=0)

    async def answer(request: Request, peer: Peer) -> None:
        peer.send(CHUNKED_HEAD)
        if not request.follow:
            await peer.chunked(b"" if request.lifecycle else first)
            await hold_open(peer)
        elif request.lifecycle:
            await hold_open(peer)
        else:
            await follow(request, peer)

    return MemoryUpstream(answer)


@pytest.fixture
async def started() -> AsyncIterator[Callable[[MemoryUpstream], Subscription]]:
    """Start a hub on an upstream and subscribe one viewer; stops both afterwards."""
    hubs: list[FollowHub] = []
    upstreams: list[MemoryUpstream] = []

    def start(upstream: MemoryUpstream) -> Subscription:
        client = upstream.client(Timeouts(finish_grace=0.1))

        async def locator(query: InvocationQuery) -> Located:
            return await locate([client], query, 5.0)

        query = InvocationQuery(InvocationId(INV), UnitPins((UNIT,)), (), Limits())
        hub = FollowHub(locator, query, Timeouts(), Limits(), Masker.build(), lambda h: None)
        hubs.append(hub)
        upstreams.append(upstream)
        hub.start()
        return hub.subscribe()

    yield start
    for hub in hubs:
        hub.stop(EndReason.SHUTDOWN)
        await hub.wait_closed()
    for upstream in upstreams:
        await upstream.stop()


async def items_until_end(sub: Subscription) -> list[HubItem]:
    got: list[HubItem] = []
    async with asyncio.timeout(HANG_GUARD):
        while not isinstance(item := await sub.get(), Ended):
            got.append(item)
    return [*got, item]


async def test_bad_framing_in_a_follow_ends_the_hub_as_truncated_without_a_retry(
    started: Callable[[MemoryUpstream], Subscription],
) -> None:
    """Chunk data not followed by CRLF is bad data from gatewayd, not a cut: the hub ends at
    once (``truncated``) and the follow is not opened again.  With the hand-written parser the
    bytes waited as an unfinished size line; the hub hung, and a later close was retried."""

    async def bad_follow(request: Request, peer: Peer) -> None:
        peer.send(b"5\r\nhelloXX")
        await hold_open(peer)

    upstream = upstream_with(bad_follow)
    sub = started(upstream)
    items = await items_until_end(sub)
    last = items[-1]
    assert isinstance(last, Ended) and last.reason is EndReason.TRUNCATED
    unit_follows = [r for r in upstream.requests if r.follow and not r.lifecycle]
    assert len(unit_follows) == 1


async def test_a_follow_cut_mid_chunk_resumes_after_the_last_line_it_gave(
    started: Callable[[MemoryUpstream], Subscription],
) -> None:
    """gatewayd breaks a follow in the middle of a chunk: the follow is opened again from the
    cursor of the last whole entry, and the viewer sees every new line once."""
    fresh = entries("live 0", "live 1", "live 2", first=1)
    cursors = [line for line in fresh.split(b"\n") if line.startswith(b"__CURSOR=")]
    first_two = fresh[: fresh.index(cursors[2])]
    follows = 0

    async def cut_follow(request: Request, peer: Peer) -> None:
        nonlocal follows
        follows += 1
        if follows == 1:
            await peer.chunked(first_two, last=False)
            peer.send(b"100\r\n" + cursors[2] + b"\n")  # the third entry, cut short
            await asyncio.sleep(0.01)
            peer.cut()
        else:
            await peer.chunked(fresh[len(first_two) :], last=False)
            await hold_open(peer)

    upstream = upstream_with(cut_follow)
    sub = started(upstream)
    messages: list[str] = []
    async with asyncio.timeout(HANG_GUARD):
        while len(messages) < 3:
            item = await sub.get()
            assert not isinstance(item, Ended), item
            if isinstance(item, tuple):
                messages.append(item[1].message)
    assert messages == ["live 0", "live 1", "live 2"]
    unit_follows = [r for r in upstream.requests if r.follow and not r.lifecycle]
    assert len(unit_follows) == 2
    resumed_from = cursors[1].removeprefix(b"__CURSOR=").decode()
    assert unit_follows[1].headers["Range"].startswith(f"entries={resumed_from}:1:")
