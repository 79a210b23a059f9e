"""Running the app for real: sockets, readiness, watchdog, idle exit and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .activation import Notifier, listen_sockets
from .logs import AccessLogger
from .settings import Settings
from .web import make_app
from .web.app import apply_revocations
from .web.responses import SECURITY_HEADERS
from .web.state import HUBS, STREAMS

log = logging.getLogger(__name__)


async def _sites(runner: web.AppRunner, settings: Settings) -> list[str]:
    sockets = listen_sockets()
    where: list[str] = []
    if sockets:
        for sock in sockets:
            await web.SockSite(runner, sock).start()
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
            await web.UnixSite(runner, listen.unix_path).start()
        finally:
            os.umask(old_umask)
        os.chmod(listen.unix_path, listen.unix_mode)
        return [f"unix:{listen.unix_path}"]
    await web.TCPSite(runner, listen.host, listen.port, reuse_address=True).start()
    return [f"http://{listen.host}:{listen.port}"]


class _RequestHandler(RequestHandler):
    """aiohttp's connection handler, with its own error answers made like ours.

    aiohttp answers requests its parser refuses (bad request line, oversized or invalid header)
    and handlers that crash itself, without the application (no ``on_response_prepare``): by
    default with none of our security headers and a body that quotes the offending bytes.
    """

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
        response = web.Response(
            status=status,
            text=f"{status}: {phrase}\n",
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )
        response.force_close()
        return response


class _Server(web.Server):
    """An aiohttp server whose connections use ``_RequestHandler``."""

    def __call__(self) -> RequestHandler:
        return _RequestHandler(self, loop=self._loop, **self._kwargs)


class ProxyRunner(web.AppRunner):
    """``web.AppRunner`` for the proxy: aiohttp's own error answers carry our headers.

    aiohttp has no option for the connection handler's class, so the app's server is rebuilt as
    ``_Server`` with the same handler, request factory and options.
    """

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
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
        **server_options(settings),
    )
    await runner.setup()
    try:
        where = await _sites(runner, settings)
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
    """Every few seconds: tell systemd the status, ping the watchdog, and set ``stop`` once
    nothing has been connected for ``exit_idle_after`` (the socket starts the proxy again)."""
    app = runner.app
    loop = asyncio.get_running_loop()
    idle_since = loop.time()
    tick = min(5.0, notifier.watchdog_interval or 5.0, settings.exit_idle_after or 5.0)
    while True:
        server = runner.server
        connections = len(server.connections) if server is not None else 0
        streams = app[STREAMS].active
        hubs = app.get(HUBS, None)
        notifier.send(
            f"STATUS=serving: {connections} connections, {streams} streams, "
            f"{len(hubs) if hubs else 0} followed invocations"
        )
        if notifier.watchdog_interval:
            notifier.send("WATCHDOG=1")
        if connections:
            idle_since = loop.time()
        elif settings.exit_idle_after and loop.time() - idle_since >= settings.exit_idle_after:
            log.info("idle for %.0fs, exiting until the next connection", settings.exit_idle_after)
            stop.set()
            return
        await asyncio.sleep(tick)
