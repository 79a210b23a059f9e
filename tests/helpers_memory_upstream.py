"""An in-memory gatewayd: the real pool, connection and framing, with no socket and no process.

``MemoryUpstream(answer)`` hands the pool connections (its ``connect`` seam) whose far end is a
function: ``answer(request, peer)`` runs once per request and writes raw bytes with ``peer``
(any framing, right or wrong, split anywhere), ends or cuts the connection, or holds it open as
gatewayd holds a follow.  A paused connection (``_gather``, the high-water mark) holds what is
sent until it resumes, as a kernel buffer would.  ``stop()`` ends every answer it started.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from journal_proxy.settings import Timeouts, Upstream
from journal_proxy.upstream.gatewayd import EXPORT_MIME, GatewaydClient
from journal_proxy.upstream.http1 import Connection, Inbound
from journal_proxy.upstream.pool import Pool, Target

CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: " + EXPORT_MIME.encode() + b"\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


@dataclass(frozen=True)
class Request:
    """One request as the upstream read it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]

    @property
    def follow(self) -> bool:
        return "follow" in self.query

    @property
    def lifecycle(self) -> bool:
        """systemd's lines about the invocation (``_PID=1``), not the unit's own."""
        return self.query.get("_PID") == "1"


class Peer:
    """The upstream's end of one connection."""

    def __init__(self, transport: MemoryTransport) -> None:
        self._transport = transport
        self.closed = asyncio.Event()  # the proxy closed (or aborted) the connection

    def send(self, data: bytes) -> None:
        """Bytes to the proxy, at once unless it paused reading (then when it resumes)."""
        self._transport.deliver(data)

    async def drain(self) -> None:
        """Wait while the proxy has paused reading, as a socket's send buffer would."""
        while self._transport.paused and not self.closed.is_set():
            await asyncio.sleep(0.001)

    async def chunked(self, body: bytes, piece: int = 4096, last: bool = True) -> None:
        """``body`` as chunks of ``piece`` bytes, each its own send; then the last chunk."""
        for pos in range(0, len(body), piece):
            part = body[pos : pos + piece]
            self.send(b"%x\r\n%s\r\n" % (len(part), part))
            await self.drain()
        if last:
            self.send(b"0\r\n\r\n")

    def end(self) -> None:
        """A clean end of the connection (after what was sent)."""
        self._transport.deliver(None)

    def cut(self) -> None:
        """A broken connection: the proxy's next read raises."""
        self._transport.lose(ConnectionResetError("cut by the in-memory upstream"))


Answer = Callable[[Request, Peer], Coroutine[Any, Any, None]]


class MemoryTransport(asyncio.Transport):
    """The proxy's end of one in-memory connection."""

    def __init__(self, upstream: MemoryUpstream, inbound: Inbound) -> None:
        super().__init__()
        self._upstream = upstream
        self._inbound = inbound
        self._request = b""
        self._held: list[bytes | None] = []
        self._closing = False
        self.paused = False
        self.peer = Peer(self)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._request += bytes(data)
        head, sep, self._request = self._request.partition(b"\r\n\r\n")
        if not sep:
            self._request = head
            return
        self._upstream.started(_parse_request(head), self.peer)

    def deliver(self, data: bytes | None) -> None:
        """Data (None: the end) to the inbound side, or held while paused."""
        if self._closing:
            return
        if self.paused or self._held:
            self._held.append(data)
        elif data is None:
            self._closing = True
            self._inbound.eof_received()
            self._inbound.connection_lost(None)
            self.peer.closed.set()
        else:
            self._inbound.data_received(data)

    def lose(self, exc: Exception | None) -> None:
        if not self._closing:
            self._closing = True
            self._held.clear()
            self._inbound.connection_lost(exc)
        self.peer.closed.set()

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
        asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        held, self._held = self._held, []
        for data in held:
            self.deliver(data)

    def is_reading(self) -> bool:
        return not self.paused and not self._closing

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self.abort()

    def abort(self) -> None:
        self.lose(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


def _parse_request(head: bytes) -> Request:
    line, *fields = head.decode("ascii").split("\r\n")
    target = urlsplit(line.split(" ")[1])
    headers = dict(f.split(": ", 1) for f in fields)
    return Request(target.path, dict(parse_qsl(target.query, keep_blank_values=True)), headers)


class MemoryUpstream:
    """Answers every request with ``answer``; counts connections and keeps the requests."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.requests: list[Request] = []

    async def connect(self, target: Target) -> Connection:
        """The pool's ``connect`` seam: a new in-memory connection."""
        inbound = Inbound()
        transport = MemoryTransport(self, inbound)
        inbound.connection_made(transport)
        self.connections += 1
        return Connection(transport, inbound)

    def started(self, request: Request, peer: Peer) -> None:
        self.requests.append(request)
        task = asyncio.create_task(self._answer(request, peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def pool(self) -> Pool:
        return Pool(Target("memory.invalid", 80, None, None, "memory.invalid"), self.connect)

    def client(self, timeouts: Timeouts | None = None) -> GatewaydClient:
        """A gatewayd client whose pool connects here."""
        upstream = Upstream("http://memory.invalid")
        return GatewaydClient(upstream, timeouts or Timeouts(), transport=self.pool())

    async def stop(self) -> None:
        """End every answer still running."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def hold_open(peer: Peer) -> None:
    """Keep the connection open until the proxy closes it (a follow with nothing new)."""
    await peer.closed.wait()
