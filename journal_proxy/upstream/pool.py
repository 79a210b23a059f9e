"""Where the gatewayd client's connections come from: opened (TCP, TLS or a unix socket), kept
alive between requests (gatewayd answers two queries per log), and replaced when dead.

One that gatewayd closed while idle is noticed before use; a request that meets a dead reused one
is sent once more on a fresh one, as browsers and aiohttp do for idempotent requests.

Two seams, as httpx has its transports: the gatewayd client talks to a :class:`Transport` (this
pool is the one there is), and the pool gets its connections from a :data:`Connect` function
(:func:`open_connection`, sockets; the tests' in-memory upstream hands out connections with no
socket, so the pool, the framing, the hub and the shared read are tested byte for byte).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from journal_proxy.upstream.http1 import Connection, Inbound, Response

_MAX_IDLE = 32


@dataclass(frozen=True, slots=True)
class Target:
    """Where requests go, parsed once from the configured upstream."""

    host: str
    port: int
    unix_path: str | None
    tls: ssl.SSLContext | None
    host_header: str


def _keepalive(sock: socket.socket | None) -> None:
    """TCP keepalive probes after 30 s of silence, 3 of them 10 s apart: a live follow is silent
    while the unit is, so a remote gatewayd that vanished without a word (power, network) is
    noticed in about a minute and the follow reconnects, rather than at the idle limit."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):  # Linux has all three
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


async def open_connection(target: Target) -> Connection:
    """A new connection over a socket: TCP (with keepalive probes), TLS or a unix socket."""
    loop = asyncio.get_running_loop()
    if target.unix_path:
        transport, inbound = await loop.create_unix_connection(Inbound, target.unix_path)
    else:
        transport, inbound = await loop.create_connection(
            Inbound, target.host, target.port, ssl=target.tls
        )
        _keepalive(transport.get_extra_info("socket"))
    return Connection(transport, inbound)


#: Where a pool's new connections come from.
Connect = Callable[[Target], Awaitable[Connection]]


class Transport(Protocol):
    """What the gatewayd client sends its requests through (httpx's ``AsyncBaseTransport``)."""

    async def get(self, path: str, headers: dict[str, str], connect_timeout: float) -> Response:
        """``GET path``; the response once its head is in."""

    def release(self, response: Response) -> None:
        """The caller is done with ``response``, read to its end or not."""

    def close(self) -> None:
        """No more requests."""


class Pool:
    """Keep-alive connections to one gatewayd, most recently used first."""

    def __init__(self, target: Target, connect: Connect = open_connection) -> None:
        self.target = target
        self._connect = connect
        self._idle: list[Connection] = []
        self._closed = False

    def _take(self) -> Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.alive(now):
                return connection
            connection.close()
        return None

    async def get(self, path: str, headers: dict[str, str], connect_timeout: float) -> Response:
        """Send ``GET path`` and read the response head.  A reused connection that turns out to
        be dead is replaced once by a fresh one."""
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self.target.host_header}",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
        connection = self._take()
        if connection is not None:
            try:
                return await connection.exchange(request)
            except OSError:
                connection.close()  # closed by gatewayd while idle: once more, on a fresh one
            except BaseException:
                connection.close()
                raise
        async with asyncio.timeout(connect_timeout):
            connection = await self._connect(self.target)
        try:
            return await connection.exchange(request)
        except BaseException:
            connection.close()
            raise

    def release(self, response: Response) -> None:
        """Give the connection back if its response was read to the end, else close it."""
        connection = response.connection
        keep = response.complete and connection.reusable and not self._closed
        if keep and len(self._idle) < _MAX_IDLE:
            connection.reusable = False
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close the idle connections; one still in use closes when its response is done."""
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()
