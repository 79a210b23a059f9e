"""What many tests do, written once: raw HTTP, reading streams, waiting for a condition.

Tests wait on something observable (a status, a line, a counter), never on a fixed sleep.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def exchange(host: str, port: int, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send ``raw`` bytes exactly as written and read until the server closes."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP response."""
    return int(response.split(b" ", 2)[1])


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
