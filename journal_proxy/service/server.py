"""Running the app for real: sockets, readiness, watchdog, idle exit and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from journal_proxy.service.activation import Notifier, listen_sockets
from journal_proxy.service.log_format import AccessLogger
from journal_proxy.settings import Settings, Timeouts
from journal_proxy.web import make_app
from journal_proxy.web.app import apply_revocations
from journal_proxy.web.responses import SECURITY_HEADERS
from journal_proxy.web.state import HUBS, STREAMS

log = logging.getLogger(__name__)


async def _sites(runner: web.AppRunner, settings: Settings) -> list[str]:
    """Start listening where systemd or the settings say; what to log about where."""
    sockets = listen_sockets()
    where: list[str] = []
    if sockets:
        for sock in sockets:
            await web.SockSite(runner, sock, backlog=ACCEPT_BURST).start()
            where.append(
                f"activated fd {sock.fileno()} ({'unix' if sock.family == socket.AF_UNIX else 'tcp'})"
            )
        return where
    listen = settings.listen
    if listen.unix_path:
        if os.path.exists(listen.unix_path):
            os.unlink(listen.unix_path)
        old_umask = os.umask(0o177)  # never, even for a moment, more open than owner-only
        try:
            await web.UnixSite(runner, listen.unix_path, backlog=ACCEPT_BURST).start()
        finally:
            os.umask(old_umask)
        os.chmod(listen.unix_path, listen.unix_mode)
        return [f"unix:{listen.unix_path}"]
    await web.TCPSite(
        runner, listen.host, listen.port, reuse_address=True, backlog=ACCEPT_BURST
    ).start()
    return [f"http://{listen.host}:{listen.port}"]


#: Connections asyncio accepts at a time, before any of them is seen by ``_Server.admit``: a few
#: such bursts can be under way at once, and must fit in the descriptors kept in reserve.
ACCEPT_BURST = 32

#: Connections the kernel completes and queues for us to accept.  asyncio lists its sockets with
#: its accept burst, and a queue that short overflows while slow clients that were closed
#: reconnect: the kernel then drops a new client's SYN, and the client retries after 1, 3, 7 s.
#: The kernel caps it at ``net.core.somaxconn`` (4096 by default since Linux 5.4).
LISTEN_BACKLOG = 4096


def _deepen_backlog(runner: web.AppRunner) -> None:
    """List the listening sockets again with ``LISTEN_BACKLOG`` (Linux updates a listening
    socket's queue; the accept burst stays asyncio's)."""
    for site in runner.sites:
        server = getattr(site, "_server", None)  # aiohttp keeps the asyncio.Server there
        for listening in getattr(server, "sockets", ()):
            with socket.socket(fileno=os.dup(listening.fileno())) as same:
                same.listen(LISTEN_BACKLOG)


class _Anonymous(web.Response):
    """An answer aiohttp makes itself, without the ``Server`` header it would add.

    aiohttp sets ``Server: Python/3.x aiohttp/3.x`` while preparing the headers, after anything
    the caller could set; the app's ``on_response_prepare`` removes it from the app's answers,
    but the answers below never reach the app.  No answer of this service names its software.
    """

    async def _prepare_headers(self) -> None:
        await super()._prepare_headers()
        self.headers.pop(hdrs.SERVER, None)


class _RequestHandler(RequestHandler):
    """aiohttp's connection handler, with its own error answers made like ours, and a bound
    on how long a connection may take to send a request head.

    aiohttp answers requests its parser refuses (bad request line, oversized or invalid header)
    and handlers that crash itself, without the application (no ``on_response_prepare``): by
    default with none of our security headers, a body that quotes the offending bytes and the
    ``Server`` header.  A connection is *waiting* from when it is accepted or its last answer
    ended until a whole request head has come; ``_Server`` keeps the waiting ones, oldest first.
    """

    # aiohttp's own reference to its server is dropped when the peer goes; this one stays.
    _proxy_server: _Server
    _head_timer: asyncio.TimerHandle | None = None

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's own method logs the error, and raises if an answer has already started;
        # its answer is discarded.
        super().handle_error(request, status, exc, message)
        try:
            phrase = HTTPStatus(status).phrase.lower()
        except ValueError:
            phrase = "error"
        response = _Anonymous(
            status=status,
            text=f"{status}: {phrase}\n",
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )
        response.force_close()
        return response

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(self._manager, _Server)
        self._proxy_server = self._manager
        super().connection_made(transport)
        self._proxy_server.admit(self, transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._messages:  # a whole head (or aiohttp's refusal of one) has come
            self._disarm_head_timer()
            self._proxy_server.head_came(self)
        elif data and self._head_timer is None and self._proxy_server.is_waiting(self):
            self._arm_head_timer()  # the first bytes of a keep-alive connection's next head

    async def finish_response(
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> tuple[web.StreamResponse, bool]:
        try:
            return await super().finish_response(request, resp, start_time)
        finally:
            if not self._messages:  # none pipelined behind it: waiting for the next head
                self._proxy_server.wait_again(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head_timer()
        self._proxy_server.forget(self)
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        timeout = self._proxy_server.head_timeout
        self._head_timer = self._loop.call_later(timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        """The head did not come in time: close, as nginx does (no answer is owed)."""
        self._head_timer = None
        if self._proxy_server.is_waiting(self):
            self.force_close()


def _crowded_from() -> int:
    """How many descriptors in use count as running short.

    The reserve left above covers the bursts of accepts under way (``ACCEPT_BURST`` each) and
    the descriptors that are not client connections: the listeners, the event loop's own, and
    an upstream connection per request in flight.  With 1,024 descriptors, 832.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return soft - min(_DESCRIPTOR_RESERVE, soft // 4)


_DESCRIPTOR_RESERVE = 192
_HEAD_TIMEOUT = Timeouts().request_head


class _Server(web.Server):
    """An aiohttp server whose connections use ``_RequestHandler``, and which keeps the
    connections waiting for a request head, oldest first.

    When descriptors run short, each new connection closes the one that has waited longest,
    so clients that hold half a request (or nothing) cannot keep a new client out, and a
    request in flight is never cut for it.
    """

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:  # noqa: ANN401 - aiohttp's options, passed on
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self._open: set[_RequestHandler] = set()
        self._waiting: dict[_RequestHandler, None] = {}  # in the order they began to wait
        self._crowded_from = _crowded_from()
        #: Connections closed to make room, for the status line.
        self.evicted = 0
        #: ``loop.time()`` when a request last began or ended: what idle exit counts from.
        self.last_busy = self._loop.time()

    def __call__(self) -> RequestHandler:
        return _RequestHandler(self, loop=self._loop, **self._kwargs)

    @property
    def busy(self) -> int:
        """Connections with a request in flight (a live follow among them)."""
        return len(self._open) - len(self._waiting)

    def is_waiting(self, handler: _RequestHandler) -> bool:
        return handler in self._waiting

    def admit(self, handler: _RequestHandler, transport: asyncio.BaseTransport) -> None:
        """A new connection waits for its head; if descriptors run short, the connection
        that has waited longest is closed to make room.

        Short means: the client connections, plus an upstream one per request in flight, reach
        ``_crowded_from``; or the kernel gave this connection a descriptor numbered that high
        (it gives the lowest free one, so every number below it is in use).
        """
        self._open.add(handler)
        self._waiting[handler] = None
        sock = transport.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        if max(fd, len(self._open) + self.busy) < self._crowded_from:
            return
        oldest = next(iter(self._waiting))
        if oldest is not handler:
            self._waiting.pop(oldest)
            self.evicted += 1
            oldest.force_close()

    def head_came(self, handler: _RequestHandler) -> None:
        self._waiting.pop(handler, None)
        self.last_busy = self._loop.time()

    def wait_again(self, handler: _RequestHandler) -> None:
        """An answer ended: the connection waits again, now the newest."""
        self._waiting.pop(handler, None)
        if handler in self._open:
            self._waiting[handler] = None
        self.last_busy = self._loop.time()

    def forget(self, handler: _RequestHandler) -> None:
        self._open.discard(handler)
        self._waiting.pop(handler, None)


class ProxyRunner(web.AppRunner):
    """``web.AppRunner`` for the proxy: aiohttp's own error answers carry our headers, and
    connections are held to ``head_timeout`` and made room for (``_Server``).

    aiohttp has no option for the connection handler's class, so the app's server is rebuilt as
    ``_Server`` with the same handler, request factory and options.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        head_timeout: float = _HEAD_TIMEOUT,
        **kwargs: Any,  # noqa: ANN401 - aiohttp's options, passed on
    ) -> None:
        super().__init__(app, **kwargs)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            head_timeout=self._head_timeout,
            **made._kwargs,
        )


def server_options(settings: Settings) -> dict[str, Any]:
    """How aiohttp's HTTP server is run; the tests use the same options."""
    return {
        "handler_cancellation": True,  # a viewer that disconnects frees its stream at once
        "max_line_size": settings.limits.max_request_line,
        "max_field_size": settings.limits.max_header_bytes,
        "keepalive_timeout": 15.0,
    }


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM/SIGINT (or the idle exit), then shut down gracefully."""
    notifier = Notifier()
    app = make_app(settings)
    runner = ProxyRunner(
        app,
        access_log_class=AccessLogger,
        access_log=logging.getLogger("journal_proxy.access"),
        shutdown_timeout=settings.timeouts.shutdown,
        head_timeout=settings.timeouts.request_head,
        **server_options(settings),
    )
    await runner.setup()
    try:
        where = await _sites(runner, settings)
        _deepen_backlog(runner)
    except BaseException:
        await runner.cleanup()  # close the gatewayd clients too, not only the sockets
        raise
    log.info(
        "serving on %s, upstream %s",
        ", ".join(where),
        ", ".join(u.label for u in settings.upstreams),
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # systemctl reload: apply the revocation list now (the file watch would within a second).
    loop.add_signal_handler(signal.SIGHUP, apply_revocations, app)

    notifier.send("READY=1", "STATUS=serving")
    keeper = asyncio.create_task(_housekeeping(runner, settings, notifier, stop))
    try:
        await stop.wait()
    finally:
        notifier.send("STOPPING=1", "STATUS=shutting down")
        keeper.cancel()
        log.info("shutting down")
        await runner.cleanup()
        notifier.close()
        log.info("stopped")


async def _housekeeping(
    runner: web.AppRunner, settings: Settings, notifier: Notifier, stop: asyncio.Event
) -> None:
    """Every few seconds: tell systemd the status, ping the watchdog, and set ``stop`` once no
    request has been in flight for ``exit_idle_after`` (the socket starts the proxy again).

    Only requests count, not connections: nginx keeps idle connections open to the proxy for
    reuse, and would otherwise keep it running for ever.  A live follow is a request in flight.
    Closing an idle keep-alive connection at exit is safe: nginx retries a request that meets a
    closed one on another connection, and that starts the proxy again.
    """
    app = runner.app
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    tick = min(5.0, notifier.watchdog_interval or 5.0, settings.exit_idle_after or 5.0)
    while True:
        server = runner.server
        connections = len(server.connections) if server is not None else 0
        busy = server.busy if isinstance(server, _Server) else connections
        streams = app[STREAMS].active
        hubs = app.get(HUBS, None)
        evicted = server.evicted if isinstance(server, _Server) else 0
        notifier.send(
            f"STATUS=serving: {connections} connections ({busy} with a request), "
            f"{streams} streams, {len(hubs) if hubs else 0} followed invocations, "
            f"{evicted} waiting connections closed to make room"
        )
        if notifier.watchdog_interval:
            notifier.send("WATCHDOG=1")
        if busy:
            idle_since = loop.time()
        elif isinstance(server, _Server):
            idle_since = max(idle_since, server.last_busy)
        idle_for = loop.time() - idle_since
        if not busy and settings.exit_idle_after and idle_for >= settings.exit_idle_after:
            log.info("idle for %.0fs, exiting until the next request", settings.exit_idle_after)
            stop.set()
            return
        await asyncio.sleep(tick)
