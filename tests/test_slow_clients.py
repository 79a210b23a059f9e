"""The proxy on its own TCP listener (no nginx in front) against slow clients.

A request head must be complete within ``timeouts.request_head`` (10 s by default) of its first
byte, or of the connect for a new connection; when descriptors run short, each new connection
closes the connection that has waited longest for its head.  So clients that hold half a request
line cannot keep a new client out, even with more of them than the proxy has descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journal_proxy.local import procs

from .conftest import UNIT, Corpus
from .helpers import split_response

HALF_LINE = b"GET /logs/0123456789abcdef"
SLOW_CLIENTS = 1100
DESCRIPTORS = 1024


def _proxy(
    gatewayd: procs.Gatewayd, tmp_path: Path, head: float, **kw: object
) -> procs.ProxyProcess:
    config = tmp_path / "config.toml"
    config.write_text(f"[timeouts]\nrequest_head = {head}\n")
    return procs.ProxyProcess(UNIT, gatewayd.url, "--config", str(config), **kw)  # type: ignore[arg-type]


@pytest.fixture
def quick_heads(gatewayd: procs.Gatewayd, tmp_path: Path) -> Iterator[int]:
    """A proxy that allows 1 s for a request head."""
    proxy = _proxy(gatewayd, tmp_path, 1.0)
    yield proxy.port
    proxy.stop()


def _seconds_until_closed(sock: socket.socket, trickle: bytes = b"") -> float:
    """Send ``trickle`` a byte every 0.2 s (then nothing) until the proxy closes the
    connection without an answer; how long that took."""
    began = time.monotonic()
    sock.settimeout(0.2)
    while True:
        if trickle:
            try:
                sock.send(trickle[:1])
            except OSError:
                return time.monotonic() - began
            trickle = trickle[1:]
        try:
            got = sock.recv(1024)
        except TimeoutError:
            continue
        except ConnectionResetError:
            got = b""
        assert got == b"", got  # closed, never answered
        return time.monotonic() - began


def test_a_head_not_complete_in_time_is_closed(quick_heads: int) -> None:
    with socket.create_connection(("127.0.0.1", quick_heads)) as sock:
        sock.sendall(HALF_LINE)
        took = _seconds_until_closed(sock)
    assert 0.9 <= took < 5, took  # aiohttp's own keep-alive limit would be 15 s
    with socket.create_connection(("127.0.0.1", quick_heads)) as sock:  # bytes keep coming
        took = _seconds_until_closed(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: yyyyyyyy")
    assert 0.9 <= took < 5, took


def test_an_idle_keep_alive_connection_waits_for_its_next_head(quick_heads: int) -> None:
    """The bound counts from the next head's first byte, not from the last answer: an idle
    keep-alive connection (nginx's) stays open longer than it, and then is held to it."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", quick_heads), timeout=5) as sock:
        sock.sendall(request)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(3)  # 3 times the head's bound, idle
        sock.sendall(request)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.sendall(HALF_LINE)
        took = _seconds_until_closed(sock)
    assert 0.9 <= took < 5, took


class SlowClients:
    """``count`` connections, each holding half a request line; ``reconnect``: one the proxy
    closes connects again at once (the harder case: it is back in the queue before a newcomer)."""

    def __init__(self, port: int, count: int, reconnect: bool) -> None:
        self.port, self.count, self.reconnect = port, count, reconnect
        self.connected = 0
        self.holding = 0
        self.closed = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> SlowClients:
        self._tasks = [asyncio.create_task(self._one()) for _ in range(self.count)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(self) -> None:
        while True:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.connected += 1
            try:
                writer.write(HALF_LINE)
                self.holding += 1
                with contextlib.suppress(OSError):
                    await reader.read(1)
                self.holding -= 1
                self.closed += 1
            finally:
                writer.close()
            if not self.reconnect:
                return


async def _timed_read(port: int, target: str) -> float:
    began = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        answer = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    status, _, body = split_response(answer)
    assert status == 200 and b"step 5" in body, answer[:300]
    return time.monotonic() - began


async def _flooded(pid: int, slow: SlowClients) -> None:
    """Until every slow client has connected once and the proxy holds most of its descriptors
    (``admit`` keeps 192 of 1,024 in reserve)."""
    deadline = time.monotonic() + 30
    while slow.connected < slow.count or len(os.listdir(f"/proc/{pid}/fd")) < 800:
        assert time.monotonic() < deadline, (slow.connected, os.listdir(f"/proc/{pid}/fd"))
        await asyncio.sleep(0.1)


def _few_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))


@pytest.mark.parametrize("reconnect", [False, True], ids=["holding", "reconnecting"])
async def test_slow_clients_beyond_the_descriptors_keep_no_one_out(
    gatewayd: procs.Gatewayd, corpus: Corpus, tmp_path: Path, reconnect: bool
) -> None:
    """1,100 slow clients against 1,024 descriptors, and a head bound of 60 s, so that only
    making room can let a newcomer in: a real read from gatewayd is answered within seconds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < SLOW_CLIENTS + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, SLOW_CLIENTS + 200), hard))
    proxy = _proxy(gatewayd, tmp_path, 60.0, stderr=subprocess.PIPE, preexec_fn=_few_descriptors)
    try:
        async with SlowClients(proxy.port, SLOW_CLIENTS, reconnect) as slow:
            await _flooded(proxy.proc.pid, slow)
            waits = [await _timed_read(proxy.port, f"/logs/{corpus.ok}.txt") for _ in range(3)]
            if reconnect:  # room was made for newcomers, and the slow ones came back
                assert slow.closed >= SLOW_CLIENTS - DESCRIPTORS, slow.closed
            else:  # they held on meanwhile
                assert slow.holding >= DESCRIPTORS * 0.7, slow.holding
        assert max(waits) < 5, waits  # the head bound (60 s) or aiohttp's keep-alive (15 s)
    finally:
        proxy.proc.terminate()
        _, err = proxy.proc.communicate(timeout=15)
    assert b"Traceback" not in err, err[-2000:]
