"""Where a response body ends, on one connection to an in-memory upstream (issue 28, item 4).

Each failed on the hand-written parser (61c603e) for the reason its docstring gives, and uses only
the connection API that parser already had, so it still runs against that code.  The upstream
holds the connection open unless a test says otherwise: a body that is read to the end of the
connection would never end, and the guard below turns that hang into a failure.
"""

from __future__ import annotations

import asyncio

import pytest

from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.upstream.http1 import Response
from journal_proxy.upstream.pool import Target

from .helpers_memory_upstream import MemoryUpstream, Peer, Request, hold_open

TARGET = Target("memory.invalid", 80, None, None, "memory.invalid")
REQUEST = b"GET /entries HTTP/1.1\r\nHost: memory.invalid\r\n\r\n"
#: Long enough never to cut a body that has ended; only a hang reaches it.
HANG_GUARD = 5.0


def sending(*pieces: bytes) -> MemoryUpstream:
    """An upstream that sends ``pieces`` (a turn of the loop apart) and holds the line open."""

    async def answer(request: Request, peer: Peer) -> None:
        for piece in pieces:
            peer.send(piece)
            await asyncio.sleep(0)
        await hold_open(peer)

    return MemoryUpstream(answer)


async def read_body(response: Response) -> bytes:
    async with asyncio.timeout(HANG_GUARD):
        return b"".join([chunk async for chunk in response.body()])


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    ],
)
async def test_a_204_or_304_has_no_body(head: bytes) -> None:
    """RFC 9112 6.3: a 204 or 304 ends at its blank line, whatever its headers say.  The old
    parser found no length and read it to the end of the connection: a kept-alive one never
    ends, so the read hung until a timeout, and the connection was never reused."""
    upstream = sending(head)
    try:
        connection = await upstream.connect(TARGET)
        response = await connection.exchange(REQUEST)
        assert await read_body(response) == b""
        assert response.complete and connection.reusable
    finally:
        await upstream.stop()


async def test_chunk_data_not_followed_by_crlf_is_an_error_at_once() -> None:
    """``5\\r\\nhelloXX``: the old decoder took ``XX`` for the start of the next size line and
    waited for its end, raising nothing; when the upstream later closed, the read was taken for
    a transient cut and retried instead of failing as bad data."""
    upstream = sending(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhelloXX")
    try:
        connection = await upstream.connect(TARGET)
        response = await connection.exchange(REQUEST)
        with pytest.raises(UpstreamProtocolError):
            await read_body(response)
    finally:
        await upstream.stop()


@pytest.mark.parametrize("later", [False, True], ids=["same-read", "next-read"])
@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 5\r\n\r\nhello",
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["content-length", "chunked"],
)
async def test_bytes_after_a_body_close_the_connection_in_either_framing(
    framing: bytes, later: bool
) -> None:
    """Surplus bytes are an answer nobody asked for: the body stands and the connection is never
    reused, in both framings.  The old code raised for a Content-Length body (when the surplus
    came in the same read) and quietly closed for a chunked one."""
    response_bytes = b"HTTP/1.1 200 OK\r\n" + framing
    pieces = (response_bytes, b"EXTRA") if later else (response_bytes + b"EXTRA",)
    upstream = sending(*pieces)
    try:
        connection = await upstream.connect(TARGET)
        response = await connection.exchange(REQUEST)
        assert await read_body(response) == b"hello"
        await asyncio.sleep(0.01)  # the next-read surplus has arrived by now
        assert response.complete
        assert not (connection.reusable and connection.alive(connection.idle_since))
    finally:
        await upstream.stop()
