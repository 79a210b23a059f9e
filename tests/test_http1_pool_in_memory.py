"""The gatewayd client's connection pool against an in-memory upstream: which connections are
kept, and which are closed, byte for byte."""

from __future__ import annotations

import asyncio

import pytest

from journal_proxy.errors import UpstreamUnavailable
from journal_proxy.upstream.gatewayd import EXPORT_MIME, GatewaydClient

from .helpers_memory_upstream import MemoryUpstream, Peer, Request

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: " + EXPORT_MIME.encode() + b"\r\n"
BODY = b"__CURSOR=c\nMESSAGE=x\n\n"


def answering(framed: bytes) -> MemoryUpstream:
    """Every request gets ``framed`` (the head's framing header and the body) after HEAD, and
    the connection stays open for the next request."""

    async def answer(request: Request, peer: Peer) -> None:
        peer.send(HEAD + framed)

    return MemoryUpstream(answer)


async def read(client: GatewaydClient) -> bytes:
    async with asyncio.timeout(10), client.entries([("_SYSTEMD_INVOCATION_ID", "0" * 32)]) as body:
        return b"".join([chunk async for chunk in body])


CONTENT_LENGTH = b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)


@pytest.mark.parametrize("framed", [CONTENT_LENGTH, CHUNKED], ids=["content-length", "chunked"])
async def test_requests_share_one_connection_when_each_answer_ends_exactly(framed: bytes) -> None:
    upstream = answering(framed)
    client = upstream.client()
    try:
        for _ in range(3):
            assert await read(client) == BODY
    finally:
        await client.close()
        await upstream.stop()
    assert (upstream.connections, len(upstream.requests)) == (1, 3)


@pytest.mark.parametrize("framed", [CONTENT_LENGTH, CHUNKED], ids=["content-length", "chunked"])
async def test_an_answer_with_bytes_after_its_body_is_read_but_its_connection_is_not_kept(
    framed: bytes,
) -> None:
    """The body is whole, so the reader gets it; the bytes after it would be read as the answer
    to the next request, so that one goes on a new connection.  The same in both framings."""
    upstream = answering(framed + b"HTTP/1.1 200 OK\r\n")
    client = upstream.client()
    try:
        assert await read(client) == BODY
        assert await read(client) == BODY
    finally:
        await client.close()
        await upstream.stop()
    assert upstream.connections == 2


async def test_an_answer_cut_mid_body_is_a_broken_connection_not_bad_data() -> None:
    """A clean cut inside a chunk is a transient failure (the caller may reconnect), told apart
    from malformed framing, which is a protocol error."""

    async def answer(request: Request, peer: Peer) -> None:
        peer.send(HEAD + b"Transfer-Encoding: chunked\r\n\r\n100\r\n" + BODY)
        await asyncio.sleep(0)
        peer.end()

    upstream = MemoryUpstream(answer)
    client = upstream.client()
    try:
        with pytest.raises(UpstreamUnavailable, match="broke mid-stream"):
            await read(client)
    finally:
        await client.close()
        await upstream.stop()
