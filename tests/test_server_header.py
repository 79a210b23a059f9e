"""No answer names the software or its version: raw sockets against the real server.

aiohttp adds ``Server: Python/3.x aiohttp/3.x`` to every answer it prepares, after anything the
caller set.  The app removes it from its own answers; ``ProxyRunner``'s connection handler
removes it from the answers aiohttp makes itself (requests its parser refuses, handlers that
crash).  Every path is asked here through ``ProxyRunner`` on a real TCP listener, as served.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from journal_proxy.config import settings_from_mapping
from journal_proxy.local import procs
from journal_proxy.service.server import ProxyRunner, server_options
from journal_proxy.web import make_app

from .conftest import UNIT, Corpus
from .helpers import exchange, split_response

#: What would name the software: a Server header, or the names in any header or body.
TELLS = re.compile(rb"(?im)^server:|aiohttp|python/")

#: Requests aiohttp's own parser refuses, each answered by it without the app.
PARSER_REJECTS = [
    b"GARBAGE\r\n\r\n",
    b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40,  # a TLS ClientHello
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
]


async def _serve(app: web.Application, port: int) -> ProxyRunner:
    settings = settings_from_mapping({"unit": [UNIT], "upstream": "http://127.0.0.1:1"})
    runner = ProxyRunner(app, **server_options(settings))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest.fixture
async def port(gatewayd: procs.Gatewayd) -> AsyncIterator[int]:
    settings = settings_from_mapping({"unit": [UNIT], "upstream": gatewayd.url})
    port = procs.free_port()
    runner = await _serve(make_app(settings), port)
    yield port
    await runner.cleanup()


def _assert_anonymous(answer: bytes, what: bytes) -> None:
    assert answer.startswith(b"HTTP/1."), (what[:60], answer[:200])  # an answer came
    assert not TELLS.search(answer), (what[:60], answer[:400])


@pytest.mark.parametrize("raw", PARSER_REJECTS, ids=lambda r: repr(r[:20]))
async def test_requests_the_parser_refuses_are_answered_anonymously(port: int, raw: bytes) -> None:
    answer = await exchange("127.0.0.1", port, raw)
    assert split_response(answer)[0] in (400, 413, 431, 505), answer[:200]
    _assert_anonymous(answer, raw)


def _request(line: str, *headers: bytes) -> bytes:
    return f"{line}\r\nHost: x\r\nConnection: close\r\n".encode() + b"".join(headers) + b"\r\n"


async def test_handler_streamed_304_and_head_answers_are_anonymous(
    port: int, corpus: Corpus
) -> None:
    log = f"/logs/{corpus.ok}.txt"
    for what in (b"read from gatewayd", b"from the cache"):
        answer = await exchange("127.0.0.1", port, _request(f"GET {log} HTTP/1.1"))
        status, head, body = split_response(answer)
        assert status == 200 and b"step 1" in body
        _assert_anonymous(answer, what)
    etag = re.search(rb"(?im)^etag: ([^\r\n]+)", head)  # a kept log has one
    assert etag is not None, head
    requests = [
        (_request(f"GET /logs/{corpus.running}.txt HTTP/1.1"), 200),  # streamed, never kept
        (_request(f"HEAD {log} HTTP/1.1"), 200),
        (_request(f"GET {log} HTTP/1.1", b"If-None-Match: " + etag[1] + b"\r\n"), 304),
        (_request(f"GET /logs/{corpus.unknown} HTTP/1.1"), 404),
        (_request("GET /nothing HTTP/1.1"), 404),
        (_request(f"DELETE {log} HTTP/1.1"), 405),
        (b"GET /healthz HTTP/1.0\r\n\r\n", 200),
    ]
    for raw, expected in requests:
        answer = await exchange("127.0.0.1", port, raw)
        assert split_response(answer)[0] == expected, (raw, answer[:300])
        _assert_anonymous(answer, raw)


async def test_a_crashing_handler_is_answered_anonymously() -> None:
    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("boom")

    app = web.Application()
    app.router.add_get("/", crash)
    port = procs.free_port()
    runner = await _serve(app, port)
    try:
        answer = await exchange("127.0.0.1", port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        await runner.cleanup()
    assert split_response(answer)[0] == 500
    _assert_anonymous(answer, b"crash")
