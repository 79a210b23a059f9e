"""A review's findings against the own HTTP/1.1 client (``http1``, ``framing``,
``gatewayd``), written without reading its tests: each failed on 5f61173 for the reason its
docstring gives (the docstrings describe that code) and passes since the fix.  The fake upstreams
are small asyncio servers that answer with raw bytes: framing and schemes that the real gatewayd
never produces, which is what these tests are about.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

from journal_proxy.config import parse_upstream
from journal_proxy.errors import UpstreamError
from journal_proxy.settings import Timeouts
from journal_proxy.upstream.framing import ResponseParser
from journal_proxy.upstream.gatewayd import EXPORT_MIME, GatewaydClient
from journal_proxy.upstream.pool import Pool

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

TIMEOUTS = Timeouts(upstream_connect=2.0, upstream_headers=2.0, upstream_read=2.0)
EMPTY_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: " + EXPORT_MIME.encode() + b"\r\nContent-Length: 0\r\n"
)


class FakeUpstream:
    """An asyncio server running ``handler`` per connection; ``stop()`` waits for the handlers."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._tasks: list[asyncio.Task[None]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        await self._handler(reader, writer)

    async def __aenter__(self) -> FakeUpstream:
        self.server = await asyncio.start_server(self._run, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 5.0)
        await self.server.wait_closed()


async def _read_all(client: GatewaydClient) -> bytes:
    out = b""
    async with client.entries([("_SYSTEMD_INVOCATION_ID", "0" * 32)]) as body:
        async for chunk in body:
            out += chunk
    return out


def test_header_value_with_a_long_inner_blank_run_parses_in_linear_time() -> None:
    """A header value ``x<blanks>y`` makes ``_HEADER``'s lazy ``([^\\r\\n]*?)[ \\t]*`` retry the
    trailing ``[ \\t]*`` over the whole blank run at every position: quadratic in the run.  A
    64 KiB head (the limit) built like this blocks the event loop for about 26 s per response,
    for every client and every upstream, and ``upstream_headers`` cannot stop it (it is one
    synchronous call).  Any hostile or man-in-the-middled upstream can send it."""
    raw = b"HTTP/1.1 200 OK\r\nX-Pad: x" + b" " * 16_000 + b"y\r\n\r\n"
    started = time.perf_counter()
    head = ResponseParser().head(raw)
    elapsed = time.perf_counter() - started
    assert head.headers["x-pad"].startswith("x")
    assert elapsed < 0.5, f"ResponseParser.head took {elapsed:.2f} s for a 16 KB header line"


async def test_uppercase_https_scheme_still_speaks_tls() -> None:
    """``HTTPS://host:port`` passes the configuration check (``urlsplit`` lower-cases the scheme),
    and aiohttp spoke TLS to it; ``gatewayd._target`` tests ``url.startswith("https://")``, so
    the request now goes out in plain text: an on-path attacker can answer it without any
    certificate, which is exactly what the operator asked TLS to prevent."""
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            received.append(await reader.read(5))
        finally:
            writer.close()

    async with FakeUpstream(handler) as upstream:
        client = GatewaydClient(parse_upstream(f"HTTPS://127.0.0.1:{upstream.port}"), TIMEOUTS)
        try:
            await _read_all(client)
        except UpstreamError:
            pass  # the handshake (or the plain request) fails either way; what was sent counts
        finally:
            await client.close()
    assert received, "the upstream never saw a connection"
    assert not received[0].startswith(b"GET"), "a plain-text request went to an https:// URL"
    assert received[0][:1] == b"\x16", "expected a TLS handshake record"


async def test_internationalised_upstream_host_is_sent_as_idna() -> None:
    """An upstream such as ``http://bücher.example:19531`` passes the configuration check and
    aiohttp sent ``Host: xn--bcher-kva.example:19531``.  ``Pool.get`` encodes the request with
    ``"ascii"``, so every request raises ``UnicodeEncodeError``, which no layer maps: the log
    routes answer 500 and ``ping()`` (``/healthz``) raises instead of returning ``False``."""
    hosts: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            hosts.extend(
                line.partition(b":")[2].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"host:")
            )
            writer.write(EMPTY_OK + b"\r\n")
            await writer.drain()
            await reader.read()
        finally:
            writer.close()

    async with FakeUpstream(handler) as upstream:
        port = upstream.port
        client = GatewaydClient(parse_upstream(f"http://bücher.example:{port}"), TIMEOUTS)
        # The name does not resolve here: connect to the fake upstream, keep what was built.
        assert isinstance(client._pool, Pool)
        client._pool.target = dataclasses.replace(client._pool.target, host="127.0.0.1")
        try:
            assert await _read_all(client) == b""
        finally:
            await client.close()
    assert hosts == [f"xn--bcher-kva.example:{port}".encode()]


async def test_connection_close_in_a_repeated_connection_header_is_honoured() -> None:
    """``Connection`` is a list field: two field lines mean ``close, keep-alive``, and ``close``
    forbids reuse (RFC 9110 7.6.1, 5.3).  ``ResponseParser.head`` keeps only the last line of a
    repeated name, so the ``close`` is lost and the connection goes back to the pool; the next
    request is written to a connection the upstream said it would not read again."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections) + 1)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(EMPTY_OK + b"Connection: close\r\nConnection: keep-alive\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async with FakeUpstream(handler) as upstream:
        client = GatewaydClient(parse_upstream(f"http://127.0.0.1:{upstream.port}"), TIMEOUTS)
        try:
            await _read_all(client)
            await _read_all(client)
        finally:
            await client.close()
    assert len(connections) == 2, "the second request reused a connection marked close"
