"""The HTTP/1.1 the proxy speaks to gatewayd: framing rules with bytes alone, then keep-alive,
a dead idle connection, an abandoned stream and gathering against the real gatewayd."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.settings import Timeouts, Upstream
from journal_proxy.upstream import http1
from journal_proxy.upstream.framing import ResponseParser
from journal_proxy.upstream.gatewayd import GatewaydClient
from journal_proxy.upstream.pool import Pool

from .conftest import UNIT, Corpus, CountingRelay

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.fdo.journal\r\nTransfer-Encoding: chunked\r\n\r\n"
BODY = b"5;ext=1\r\nhello\r\n1\r\n \r\n1A\r\n" + b"w" * 26 + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"


def _chunked() -> ResponseParser:
    parser = ResponseParser()
    parser.head(HEAD)
    return parser


def test_a_head_is_read_strictly() -> None:
    head = ResponseParser().head(HEAD)
    assert (head.status, head.version, head.content_type) == (200, 1, "application/vnd.fdo.journal")
    for bad in (
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",  # llhttp's own rule allows it; ours does not
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",  # nothing asked for an interim answer
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 600 Beyond\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: \x00\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    ):
        with pytest.raises(UpstreamProtocolError):
            ResponseParser().head(bad)


@pytest.mark.parametrize(
    "headers",
    [
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: gzip\r\n",
        b"Content-Length: +5\r\n",
        b"Content-Length: 0x10\r\n",
        b"Content-Length: 5 5\r\n",
    ],
)
def test_an_ambiguous_body_length_is_refused(headers: bytes) -> None:
    with pytest.raises(UpstreamProtocolError):
        ResponseParser().head(b"HTTP/1.1 200 OK\r\n" + headers + b"\r\n")


def test_a_chunked_body_decodes_the_same_however_it_is_split() -> None:
    expected = b"hello " + b"w" * 26
    for cut in range(len(BODY) + 1):
        for second in (cut, min(len(BODY), cut + 7)):
            parser = _chunked()
            pieces = (BODY[:cut], BODY[cut:second], BODY[second:])
            out = b"".join(parser.feed(p) for p in pieces if p)
            assert (out, parser.done, parser.surplus) == (expected, True, False), cut


@pytest.mark.parametrize("after", [b"HTTP/1.1 200 OK", b"garbage", b"HTTP/1.1 200 OK\r\n\r\n"])
def test_bytes_after_the_last_chunk_are_noticed(after: bytes) -> None:
    parser = _chunked()
    assert parser.feed(b"1\r\na\r\n0\r\n\r\n" + after) == b"a"
    assert parser.done and parser.surplus


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\n",
        b"-1\r\nx\r\n",
        b"0x1\r\nx\r\n",
        b" 1\r\nx\r\n",
        b"1 \r\nx\r\n",
        b"1_0\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"5\r\nhelloXX",
        b"1" * 17 + b"\r\n",
        b"1;" + b"e" * 2000,
        b"0\r\n" + b"T: x\r\n" * 2000,
        b"0\r\nT" + b"x" * 10_000,
    ],
)
def test_malformed_chunking_is_a_protocol_error(body: bytes) -> None:
    parser = _chunked()
    with pytest.raises(UpstreamProtocolError):
        for i in range(0, len(body), 3):  # in pieces, as a network delivers it
            parser.feed(body[i : i + 3])


def _client(relay: CountingRelay) -> GatewaydClient:
    return GatewaydClient(Upstream(f"http://127.0.0.1:{relay.port}"), Timeouts())


async def _read(client: GatewaydClient, inv: str, stop_after: int | None = None) -> int:
    pieces = 0
    async with client.entries([("_SYSTEMD_INVOCATION_ID", inv)]) as body:
        async for _ in body:
            pieces += 1
            if pieces == stop_after:
                break
    return pieces


async def test_queries_share_one_kept_alive_connection(
    relay: CountingRelay, corpus: Corpus
) -> None:
    client = _client(relay)
    try:
        for _ in range(3):
            assert await _read(client, corpus.ok) > 0
        assert relay.connections == 1
        assert len(relay.request_lines) == 3
    finally:
        await client.close()


@pytest.mark.parametrize("noticed", [True, False], ids=["noticed", "met-on-use"])
async def test_a_connection_gatewayd_dropped_while_idle_is_replaced(
    relay: CountingRelay, corpus: Corpus, noticed: bool
) -> None:
    """Either the drop is seen before the connection is taken, or the request meets it and is
    sent again on a fresh one; the caller sees neither."""
    client = _client(relay)
    try:
        await _read(client, corpus.ok)
        await _read(client, corpus.ok)
        assert relay.connections == 1
        relay.cut()  # the kept connection dies while nobody uses it
        if noticed:
            await asyncio.sleep(0.05)
        assert await _read(client, corpus.ok) > 0
        assert relay.connections == 2
    finally:
        await client.close()


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str, int]]:
    directory: Path = tmp_path_factory.mktemp("big")
    inv, clock, entries = lj.new_invocation_id(), lj.Clock(), 3000
    parts = [lj.unit_line(clock, UNIT, inv, f"line {i} " + "x" * 200) for i in range(entries)]
    procs.write_journal(directory, "big", b"".join(parts))
    gw = procs.Gatewayd(directory)
    yield gw, inv, entries
    gw.stop()


async def test_an_abandoned_stream_is_not_reused(big_log: tuple[procs.Gatewayd, str, int]) -> None:
    gw, inv, _ = big_log
    relay = CountingRelay(gw.port)
    await relay.start()
    client = _client(relay)
    try:
        assert await _read(client, inv, stop_after=1) == 1
        assert await _read(client, inv) > 0  # whole, on a new connection: the old one was closed
        assert relay.connections == 2
    finally:
        await client.close()
        await relay.close()


async def test_a_read_with_an_end_arrives_in_few_large_pieces(
    big_log: tuple[procs.Gatewayd, str, int],
) -> None:
    """gatewayd sends one chunk per entry; a reader that keeps up would wake for each one."""
    gw, inv, entries = big_log
    client = GatewaydClient(Upstream(gw.url), Timeouts())
    try:
        pieces = await _read(client, inv)
        assert pieces <= entries / 10, pieces
    finally:
        await client.close()


@pytest.fixture
def gathers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause a read takes to gather, by its length."""
    waits: list[float] = []
    real = http1._gather

    async def counted(inbound: http1.Inbound, seconds: float) -> None:
        waits.append(seconds)
        await real(inbound, seconds)

    monkeypatch.setattr(http1, "_gather", counted)
    return waits


async def test_only_a_big_body_ever_waits_to_gather(
    relay: CountingRelay, corpus: Corpus, gathers: list[float]
) -> None:
    """A small log (the burst after a deploy) is answered without a pause; only a body that
    has proved big, and arrives as a trickle, is gathered."""
    client = _client(relay)
    try:
        await _read(client, corpus.ok)
        assert gathers == []
    finally:
        await client.close()


async def test_a_trickling_big_body_is_gathered(
    big_log: tuple[procs.Gatewayd, str, int], gathers: list[float]
) -> None:
    gw, inv, _ = big_log
    client = GatewaydClient(Upstream(gw.url), Timeouts())
    try:
        await _read(client, inv)
        assert gathers and all(0 < w < 0.01 for w in gathers)
    finally:
        await client.close()


async def test_an_upstream_connection_probes_a_silent_peer(
    relay: CountingRelay, corpus: Corpus
) -> None:
    """A live follow is silent while the unit is: TCP keepalive notices a gatewayd that vanished
    without a word in about a minute, rather than at the follow's idle limit."""
    client = _client(relay)
    try:
        await _read(client, corpus.ok)
        assert isinstance(client._pool, Pool)
        (kept,) = client._pool._idle
        sock = kept.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
    finally:
        await client.close()
