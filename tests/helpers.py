"""What many tests do, written once: raw HTTP, reading streams, waiting for a condition.

Tests wait on something observable (a status, a line, a counter), never on a fixed sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def exchange(host: str, port: int, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send ``raw`` bytes exactly as written and read until the server closes (a reset ends the
    answer too: what came before it is returned)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(_read_all(reader), timeout)
    finally:
        writer.close()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := await reader.read(65536):
            data += chunk
    return data


def exchange_blocking(
    raw: bytes,
    *,
    port: int | None = None,
    unix: str | None = None,
    source: str = "127.0.0.1",
    timeout: float = 10.0,
) -> bytes:
    """The blocking twin of :func:`exchange`, to loopback ``port`` (from address ``source``) or
    to the unix socket ``unix``, for tests that drive processes."""
    if unix is not None:
        sock = socket.socket(socket.AF_UNIX)
        sock.settimeout(timeout)
        sock.connect(unix)
    else:
        assert port is not None
        sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
        )
    with sock:
        sock.sendall(raw)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
    return data


def get_blocking(
    target: str, *, port: int | None = None, unix: str | None = None
) -> tuple[int, bytes]:
    """``GET target`` as HTTP/1.0 (the server closes after answering): status and body."""
    raw = f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode()
    status, _, body = split_response(exchange_blocking(raw, port=port, unix=unix))
    return status, body


def recv_until(sock: socket.socket, marker: bytes, got: bytes = b"") -> bytes:
    """Read a blocking socket (its own timeout applies) until ``marker`` is in what came."""
    while marker not in got:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"closed before {marker!r} came: {got[-300:]!r}")
        got += chunk
    return got


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP response; 0 when no HTTP answer came (connection closed)."""
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0


def split_response(data: bytes) -> tuple[int, bytes, bytes]:
    """Status, head and body (de-chunked) of a raw HTTP/1.1 response."""
    head, _, body = data.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2 :]
        body = out
    return status_of(head), head, body


async def raw_get(client: Any, target: str) -> tuple[int, bytes]:
    """``GET target`` exactly as written (no client-side URL normalisation): status and body."""
    request = f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    data = await exchange(client.server.host, client.server.port, request.encode("latin-1"))
    status, _, body = split_response(data)
    return status, body


async def readline(resp: Any, timeout: float = 5.0) -> str:
    """The next line of a streamed aiohttp response."""
    line: bytes = await asyncio.wait_for(resp.content.readline(), timeout)
    return line.decode()


async def sse_events(resp: Any, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
    """The next ``count`` Server-Sent Events (comments skipped) as field -> value."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    while len(events) < count:
        line = (await readline(resp, timeout)).rstrip("\n")
        if line == "":
            if "data" in current:
                events.append(current)
            current = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            current[field] = value
    return events


async def eventually(
    check: Callable[[], Awaitable[bool] | bool],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> None:
    """Wait until ``check()`` (plain or async) is true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(interval)


def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 20.0, what: str = "condition"
) -> None:
    """The blocking twin of :func:`eventually`, for tests that drive processes."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)
