"""One HTTP/1.1 exchange with gatewayd on one connection: a GET, its response head, its body.

Why our own connection and not aiohttp's client: gatewayd sends every journal entry as its own
HTTP chunk, so a big log is a hundred thousand chunks of under a kilobyte, and aiohttp's reader
pays several Python calls per chunk before a byte reaches the parser; here a whole socket read is
de-chunked in one call into llhttp (``framing``).  And a reader that keeps up with gatewayd
wakes once per chunk: owning the socket lets a read with an end wait a moment for more
(:func:`_gather`, issue 17).  The client side of HTTP/1.1 is small when the only peer is gatewayd
and every request is a GET without a body.

Where connections come from, and how they are kept alive: ``pool``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import cast

from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.upstream.framing import Head, ResponseParser

#: Past this much unread, the socket is paused: memory per upstream stream stays bounded.
HIGH_WATER = 512 * 1024
#: A read this big is worth waking for; a smaller one may wait to gather more (a read with an end).
GATHERED = 64 * 1024
_MAX_HEAD = 64 * 1024
_KEEP_IDLE_SECONDS = 30.0


class Inbound(asyncio.Protocol):
    """The bytes arriving on one connection, handed over a whole buffer at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffered = 0
        self._chunks: list[bytes] = []
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._flow_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self._flow_paused and self.transport:
            self._flow_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # close the transport: gatewayd is done with this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._chunks

    @property
    def reading(self) -> bool:
        """False while paused for being full, or closed: then there is plenty to read already."""
        return self.transport is not None and self.transport.is_reading()

    async def read(self) -> bytes:
        """Everything buffered, waiting for at least one byte; ``b""`` at a clean end."""
        while not self._chunks:
            if self._eof:
                if self._error is not None:
                    raise self._error
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        if self._flow_paused and self.transport is not None:
            self._flow_paused = False
            self.transport.resume_reading()
        return data

    def unread(self, data: bytes) -> None:
        """Put back what was read past the response head."""
        if data:
            self._chunks.insert(0, data)
            self.buffered += len(data)


class Connection:
    """One connection to gatewayd; reusable only after a response was read exactly to its end."""

    def __init__(self, transport: asyncio.Transport, inbound: Inbound) -> None:
        self.transport = transport
        self.inbound = inbound
        self.reusable = False
        self.idle_since = 0.0

    def alive(self, now: float) -> bool:
        """Fit to reuse: open, within the idle time, and silent since its last response (bytes
        gatewayd sent unasked would be read as the next answer)."""
        return (
            not self.inbound.at_eof
            and not self.inbound.buffered
            and not self.transport.is_closing()
            and now - self.idle_since < _KEEP_IDLE_SECONDS
        )

    def close(self) -> None:
        self.transport.abort()

    async def exchange(self, request: bytes) -> Response:
        """Send a request; the response once its head is in."""
        self.transport.write(request)
        raw = b""
        searched = 0  # where the blank line may start: each byte is searched about once
        while (end := raw.find(b"\r\n\r\n", searched)) == -1:
            if len(raw) > _MAX_HEAD:
                raise UpstreamProtocolError("gatewayd sent an oversized response head")
            searched = max(0, len(raw) - 3)
            data = await self.inbound.read()
            if not data:
                raise ConnectionResetError("gatewayd closed the connection before answering")
            raw += data
        if end > _MAX_HEAD:
            raise UpstreamProtocolError("gatewayd sent an oversized response head")
        self.inbound.unread(raw[end + 4 :])
        parser = ResponseParser()
        return Response(self, parser.head(raw[: end + 4]), parser)


class Response:
    """A response whose head has been read; iterate ``body()`` once."""

    def __init__(self, connection: Connection, head: Head, parser: ResponseParser) -> None:
        self.connection = connection
        self.head = head
        self.complete = False
        self._parser = parser

    async def body(self, gather: float = 0.0) -> AsyncGenerator[bytes, None]:
        """The body's bytes, one socket read at a time (de-chunked); raises when it is cut.

        With ``gather`` seconds, once a body has proved big, a small read is followed by up to
        that long a pause with the socket unread, so the next read takes what arrived meanwhile
        in one go (see :func:`_gather`).  A small body never waits.
        """
        parser = self._parser
        inbound = self.connection.inbound
        received = 0
        while not parser.done:
            data = await inbound.read()
            size = len(data)
            if not size:
                if parser.until_eof:
                    break  # a body that ends with the connection
                # A broken connection, not bad data: the caller may reconnect and carry on.
                raise ConnectionResetError("gatewayd closed the connection mid-response")
            received += size
            data = parser.feed(data)
            if data:
                yield data
            # A big body arriving as a trickle: gather before the next read.
            if gather and received > GATHERED > size and not parser.done:
                await _gather(inbound, gather)
        self.complete = True
        self.connection.reusable = self._reusable()

    def _reusable(self) -> bool:
        """Only a response read exactly to its end, with nothing after it, on a connection
        gatewayd keeps open.  Bytes after the end, in either framing, are an answer nobody asked
        for: the body stands, the connection is closed (whether they came in the body's last
        read or later, the same: ``Connection.alive`` refuses a connection holding any)."""
        parser, head = self._parser, self.head
        closing = "close" in head.headers.get("connection", "").lower()
        leftover = parser.surplus or self.connection.inbound.buffered > 0
        return not (parser.until_eof or leftover or closing) and head.version == 1


async def _gather(inbound: Inbound, seconds: float) -> None:
    """Let a slow trickle pile up in the kernel before reading it.

    gatewayd writes one entry per send, so a reader that keeps up wakes once per entry (~1 KB)
    and spends more CPU on waking than on the log; on a small machine that CPU is taken from
    gatewayd itself (measured: 2.3-3.5 s of CPU to receive a 100,000-entry log, 0.6-0.8 s with
    this).  Only for reads with an end: a live line never waits.
    """
    await asyncio.sleep(0)  # one turn of the loop takes in what the kernel already holds
    if inbound.at_eof or inbound.buffered >= GATHERED or not inbound.reading:
        return
    transport = inbound.transport
    assert transport is not None
    transport.pause_reading()
    try:
        await asyncio.sleep(seconds)
    finally:
        if not transport.is_closing():
            transport.resume_reading()
