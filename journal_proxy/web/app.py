"""The app factory: the CLI and the tests build the same application from :class:`Settings`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from journal_proxy.access.ids import parse_invocation_id
from journal_proxy.access.limits import RefusalThrottle, StreamLimiter
from journal_proxy.access.revocation import RevocationList
from journal_proxy.delivery.cache import FinishedLogCache
from journal_proxy.delivery.hub_registry import HubRegistry
from journal_proxy.delivery.keep import Keeper
from journal_proxy.delivery.locate import Located, locate
from journal_proxy.delivery.shared_read import SharedReads
from journal_proxy.journal.invocation_log import Counters, InvocationQuery
from journal_proxy.journal.items import EndReason
from journal_proxy.mask.masker import Masker
from journal_proxy.settings import Settings
from journal_proxy.triage.problems import build_matchers
from journal_proxy.upstream.gatewayd import GatewaydClient
from journal_proxy.web import app_metrics, routes
from journal_proxy.web.assets import Assets
from journal_proxy.web.metrics import Metrics, Tally
from journal_proxy.web.responses import add_security_headers, map_errors
from journal_proxy.web.state import (
    ASSETS,
    CACHE,
    CLIENTS,
    CLOCK,
    COUNTERS,
    HUBS,
    KEEPER,
    MASKER,
    MATCHERS,
    METRICS,
    READS,
    REVOCATIONS,
    SETTINGS,
    STREAMS,
    TALLY,
    THROTTLE,
)

log = logging.getLogger(__name__)

#: How often the revocation list's file is ``stat``-ed: a revoked follower ends within this.
REVOCATION_CHECK_SECONDS = 0.5

#: After the hubs are told to stop, how long their viewers get to write the closing line.
_LAST_LINE_SECONDS = 0.05


async def _upstreams(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the gatewayd clients and the follow hubs live exactly as long as the app."""
    settings = app[SETTINGS]
    clients = tuple(GatewaydClient(u, settings.timeouts) for u in settings.upstreams)
    app[CLIENTS] = clients

    async def locator(query: InvocationQuery) -> Located:
        return await locate(clients, query, settings.timeouts.upstream_headers)

    app[HUBS] = HubRegistry(locator, settings.timeouts, settings.limits, app[MASKER])
    app_metrics.register(app, app_metrics.UPSTREAM)
    yield
    await app[HUBS].close(EndReason.SHUTDOWN)
    await asyncio.gather(*(c.close() for c in clients))


def apply_revocations(app: web.Application) -> int:
    """Re-read the revocation list if its file changed; end each newly revoked link's live
    follows (with a last line) and drop its cached log.  Returns how many were newly revoked.

    The file watch calls this twice a second; a ``SIGHUP`` handler may call it too.
    """
    added = app[REVOCATIONS].refresh()
    for invocation_id in added:
        if HUBS in app:
            app[HUBS].stop_invocation(invocation_id, EndReason.REVOKED)
        app[CACHE].drop(invocation_id)
        keeper = app[KEEPER]
        if keeper is not None:
            keeper.drop(invocation_id)
    return len(added)


async def _watch_revocations(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the revocation file watch, so ``journal-proxy revoke`` needs no restart."""
    if app[REVOCATIONS].path is None:
        yield
        return

    async def watch() -> None:
        while True:
            await asyncio.sleep(REVOCATION_CHECK_SECONDS)
            try:
                apply_revocations(app)
            except Exception:  # the watch must outlive any one bad read
                log.exception("applying the revocation list failed")

    task = asyncio.create_task(watch())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _end_follows(app: web.Application) -> None:
    """``on_shutdown``: end follow streams with a closing line before connections are closed."""
    if HUBS in app:
        await app[HUBS].close(EndReason.SHUTDOWN)
        await asyncio.sleep(_LAST_LINE_SECONDS)


def _keeper(settings: Settings, revocations: RevocationList) -> Keeper | None:
    """The kept runs, indexed once; any run revoked while the proxy was not running goes now."""
    if settings.keep.directory is None:
        return None

    def revoked(name: str) -> bool:
        invocation_id = parse_invocation_id(name)
        return invocation_id is not None and revocations.reason(invocation_id) is not None

    keeper = Keeper(settings.keep, revoked)
    keeper.scan()
    for name in keeper.invocation_ids():
        if revoked(name):
            keeper.drop(name)
    return keeper


def make_app(settings: Settings, clock: Callable[[], float] = time.time) -> web.Application:
    """Build the application; raises ``ConfigError`` if a masking pattern or the revocation
    list is unusable.  ``clock`` (unix seconds) decides when signed links expire."""
    app = web.Application(middlewares=[map_errors], client_max_size=1024)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[REVOCATIONS] = RevocationList(settings.revocation_file)
    app[MASKER] = Masker.build(
        builtin=settings.mask.builtin,
        patterns=settings.mask.patterns,
        literals=settings.mask.literals,
        max_chars=settings.limits.max_message_chars,
    )
    app[MATCHERS] = build_matchers(settings.problems.errors, settings.problems.warnings)
    metrics = Metrics()
    app[METRICS] = metrics
    app[TALLY] = Tally(
        responses=metrics.labelled(
            "responses_total", "counter", "HTTP responses by status code.", "code"
        )
    )
    app[ASSETS] = Assets()
    app[COUNTERS] = Counters()
    app[STREAMS] = StreamLimiter(
        settings.limits.max_streams, settings.limits.max_streams_per_client
    )
    app[THROTTLE] = RefusalThrottle(
        burst=settings.limits.refusal_burst,
        per_second=settings.limits.refusals_per_minute / 60,
    )
    app[CACHE] = FinishedLogCache(settings.limits.cache_bytes)
    app[READS] = SharedReads()
    app[KEEPER] = _keeper(settings, app[REVOCATIONS])
    app_metrics.register(app, app_metrics.APP)
    if app[KEEPER] is not None:
        app_metrics.register(app, app_metrics.KEPT)
    app.cleanup_ctx.append(_upstreams)
    app.cleanup_ctx.append(_watch_revocations)
    app.on_shutdown.append(_end_follows)
    app.on_response_prepare.append(add_security_headers)
    app.router.add_route("*", "/logs/{tail:.*}", routes.logs)
    app.router.add_route("*", "/static/{name:.+}", routes.static)
    app.router.add_get("/healthz", routes.healthz)
    if settings.metrics:
        app.router.add_get("/metrics", routes.metrics)
    app.router.add_route("*", "/{tail:.*}", routes.anything_else)
    return app
