"""Hostile clients against the proxy as it runs in production (its own process, real sockets).

Each test asserts the proxy stays up, serves a normal request afterwards, and reaches gatewayd
only for valid requests.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from journal_proxy.local import procs

from .conftest import UNIT, Corpus, CountingRelay
from .helpers import eventually, exchange, status_of

HOST = "127.0.0.1"


@dataclass
class Running:
    port: int
    relay: CountingRelay
    proc: subprocess.Popen[bytes]


@pytest.fixture
async def running(relay: CountingRelay) -> AsyncIterator[Running]:
    proxy = await asyncio.to_thread(
        procs.ProxyProcess, UNIT, f"http://127.0.0.1:{relay.port}", stderr=subprocess.PIPE
    )
    yield Running(proxy.port, relay, proxy.proc)
    proxy.stop()
    err = proxy.proc.stderr.read() if proxy.proc.stderr else b""
    assert b"Traceback" not in err, err[-2000:]


async def _still_serves(r: Running, corpus: Corpus) -> None:
    before = len(r.relay.request_lines)
    resp = await exchange(HOST, r.port, f"GET /logs/{corpus.running}.txt HTTP/1.0\r\n\r\n".encode())
    assert status_of(resp) == 200, resp[:200]
    assert len(r.relay.request_lines) > before


async def test_absolute_form_targets_are_refused(running: Running, corpus: Corpus) -> None:
    for target in (
        f"http://evil.example/logs/{'0' * 32}",
        "http://127.0.0.1:19531/entries",
        f"//logs/{corpus.ok}",
        f"http://x/logs/{corpus.ok}/../../machine",
    ):
        resp = await exchange(
            HOST,
            running.port,
            f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(),
        )
        assert status_of(resp) in (400, 404), (target, resp[:100])
    assert running.relay.connections == 0
    await _still_serves(running, corpus)


async def test_content_length_plus_transfer_encoding_is_rejected(
    running: Running, corpus: Corpus
) -> None:
    smuggle = (
        b"POST /logs/" + corpus.ok.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /logs/"
        + corpus.failed.encode()
        + b".txt HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    resp = await exchange(HOST, running.port, smuggle)
    assert status_of(resp) == 400
    assert b"failed: exit-code" not in resp  # the smuggled request was never answered
    assert running.relay.connections == 0
    await _still_serves(running, corpus)


async def test_oversized_request_line_and_headers(running: Running, corpus: Corpus) -> None:
    long_line = await exchange(
        HOST, running.port, b"GET /logs/" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert status_of(long_line) in (400, 414)
    big_header = await exchange(
        HOST,
        running.port,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n",
    )
    assert status_of(big_header) in (400, 431)
    many = b"".join(b"X-%d: y\r\n" % i for i in range(5000))
    many_headers = await exchange(
        HOST, running.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    )
    assert status_of(many_headers) in (0, 400, 431)
    assert running.relay.connections == 0
    await _still_serves(running, corpus)


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Evil: <script>EVIL</script>\x01\r\n\r\n",
        b"G<svg/EVIL>T /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1 <EVIL>\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: <EVIL>" + b"b" * 9000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX<EVIL>: y\r\n\r\n",
    ],
)
async def test_parser_errors_carry_security_headers_and_echo_nothing(
    running: Running, corpus: Corpus, raw: bytes
) -> None:
    """aiohttp's parser answers these itself; the answer must still be one of ours."""
    resp = await exchange(HOST, running.port, raw)
    head, _, body = resp.partition(b"\r\n\r\n")
    assert status_of(resp) == 400, resp[:300]
    headers = head.lower().split(b"\r\n")[1:]
    assert b"content-security-policy: default-src 'none'" in b"\n".join(headers)
    assert b"x-content-type-options: nosniff" in headers
    assert b"referrer-policy: no-referrer" in headers
    assert b"cache-control: no-store" in headers
    assert body == b"400: bad request\n"
    assert b"EVIL" not in resp
    await _still_serves(running, corpus)


async def test_http_1_0_is_served_without_chunking(running: Running, corpus: Corpus) -> None:
    resp = await exchange(
        HOST, running.port, f"GET /logs/{corpus.ok}.txt HTTP/1.0\r\n\r\n".encode()
    )
    head = resp.split(b"\r\n\r\n", 1)[0].lower()
    assert status_of(resp) == 200 and b"transfer-encoding: chunked" not in head


async def test_slowloris_and_idle_connections_do_not_starve_others(
    running: Running, corpus: Corpus
) -> None:
    writers = []
    for i in range(300):
        _, w = await asyncio.open_connection(HOST, running.port)
        if i % 2:
            w.write(b"GET /logs/")  # a request that never finishes
        writers.append(w)
    for _ in range(3):
        for w in writers[1::2]:
            w.write(b"a")
        await asyncio.sleep(0.1)  # the attack itself: a byte now and then, never a whole request
    started = time.monotonic()
    await _still_serves(running, corpus)
    assert time.monotonic() - started < 2
    for w in writers:
        w.close()


async def test_follow_flood_is_limited_per_client_and_others_still_served(
    running: Running, corpus: Corpus
) -> None:
    conns = []
    statuses = []
    for _ in range(40):
        reader, writer = await asyncio.open_connection(HOST, running.port)
        writer.write(f"GET /logs/{corpus.running}.txt?follow HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        statuses.append(status_of(await asyncio.wait_for(reader.readline(), 5) + b" "))
        conns.append(writer)
    assert statuses.count(200) == 16  # max_streams_per_client
    assert statuses.count(429) == 24
    health = await exchange(HOST, running.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert status_of(health) == 200
    for w in conns:
        w.close()

    async def served() -> bool:
        resp = await exchange(
            HOST, running.port, f"GET /logs/{corpus.ok}.txt HTTP/1.0\r\n\r\n".encode()
        )
        return status_of(resp) == 200

    await eventually(served, timeout=5, what="the closed follows' slots freed")
    await _still_serves(running, corpus)


async def test_scanners_are_slowed_down(running: Running, corpus: Corpus) -> None:
    codes = []
    for i in range(60):
        resp = await exchange(HOST, running.port, f"GET /logs/{i:032x}x HTTP/1.0\r\n\r\n".encode())
        codes.append(status_of(resp))
    assert codes[0] == 404
    assert 429 in codes
    assert running.relay.connections == 0
