"""A stand-in gatewayd: answers ``/entries`` with export-format bytes a test chose, including what
a real journal refuses to hold (more than 1,024 fields, times past the year 3112).  And a probe
that times an unrelated request while something else runs in the same event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from journal_proxy.upstream.gatewayd import EXPORT_MIME

#: What the stand-in sends for a request path: the body, or None for an empty one.
Answer = Callable[[str], bytes | None]


class StandInGatewayd:
    """Answers every request with ``answer(path)``: chunked, in writes of ``piece`` bytes.  A
    ``follow`` request gets no entries and is held open, as gatewayd holds it when nothing new is
    written.  ``stop()`` ends every handler."""

    def __init__(self, answer: Answer, piece: int = 65536) -> None:
        self._answer = answer
        self._piece = piece
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> StandInGatewayd:
        self.server = await asyncio.start_server(self._run, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                follow = "follow" in path
                await self._send(writer, b"" if follow else self._answer(path) or b"", follow)
                if follow:
                    await reader.read()  # held open until the proxy lets go
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, body: bytes, follow: bool) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + EXPORT_MIME.encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for pos in range(0, len(body), self._piece):
            piece = body[pos : pos + self._piece]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
        if not follow:
            writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # each handler then ends on its own, nothing cancelled
        await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), 10)
        await self.server.wait_closed()


@dataclass
class Probe:
    """The slowest answer to an unrelated request, and the longest the loop was held, while a
    read ran: what any other reader of the proxy waits for."""

    slowest: float = 0.0
    held: float = 0.0
    answers: int = 0
    statuses: set[int] = field(default_factory=set)


async def while_probing(
    work: Awaitable[Any], client: Any, targets: list[str], interval: float = 0.01
) -> tuple[Any, Probe]:
    """Run ``work``; meanwhile GET ``targets`` in turn, one at a time, and time each answer, and
    measure how late a short sleep wakes (the event loop's longest hold)."""
    probe = Probe()
    done = asyncio.Event()

    async def ask() -> None:
        turn = 0
        while not done.is_set():
            started = time.perf_counter()
            resp = await client.get(targets[turn % len(targets)])
            await resp.read()
            probe.slowest = max(probe.slowest, time.perf_counter() - started)
            probe.statuses.add(resp.status)
            probe.answers += 1
            turn += 1
            await asyncio.sleep(interval)

    async def lag() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            probe.held = max(probe.held, time.perf_counter() - started - 0.005)

    tasks = [asyncio.ensure_future(ask()), asyncio.ensure_future(lag())]
    try:
        result = await work
    finally:
        done.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
    return result, probe


def with_cursors(entries: list[bytes]) -> bytes:
    """Export-format entries, one each, with a ``__CURSOR`` first as gatewayd writes it
    (journal-remote adds one; a stand-in must).  Sequence numbers count up."""
    return b"".join(b"__CURSOR=s=standin;i=%x\n" % i + entry for i, entry in enumerate(entries))
