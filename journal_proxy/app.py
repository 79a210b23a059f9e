"""The aiohttp application: routes, headers, and the one place errors become HTTP statuses.

Request path, in order: validate the raw path (``ids``), pick a format, open the invocation's log
(``invocation_log`` over ``gatewayd``, each entry ``verify``-ed), ``mask`` it, render it
(``renderers``), write it.  Live follows go through ``hub``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from enum import Enum

from aiohttp import web

from .assets import Assets
from .cache import CachedLog, FinishedLogCache
from .entry import Entry
from .errors import (
    InvocationNotFound,
    Throttled,
    TooBusy,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from .gatewayd import GatewaydClient
from .hub import Ended, HubRegistry, StatusChanged
from .ids import LogFormat, LogTarget, parse_log_path
from .invocation_log import Counters, InvocationQuery, open_log
from .lifecycle import Status
from .limits import RefusalThrottle, StreamLimiter, client_address
from .metrics import Metrics
from .renderers import Renderer, Source
from .renderers.html import HtmlRenderer
from .renderers.jsonl import JsonLinesRenderer
from .renderers.sse import SseRenderer
from .renderers.text import TextRenderer
from .settings import Settings
from .upstreams import Located, locate

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
CLIENTS = web.AppKey("clients", list[GatewaydClient])
HUBS = web.AppKey("hubs", HubRegistry)
METRICS = web.AppKey("metrics", Metrics)
ASSETS = web.AppKey("assets", Assets)
COUNTERS = web.AppKey("counters", Counters)
STREAMS = web.AppKey("streams", StreamLimiter)
THROTTLE = web.AppKey("throttle", RefusalThrottle)
CACHE = web.AppKey("cache", FinishedLogCache)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
FLUSH_BYTES = 64 * 1024
FIRST_FLUSH_LINES = 200
SSE_KEEPALIVE = 15.0


class Kind(Enum):
    TEXT = "text"
    JSON = "json"
    SSE = "sse"
    HTML = "html"


def negotiate(target: LogTarget, accept: str) -> Kind:
    """The path suffix decides; without one, the Accept header picks HTML, SSE, JSON or text."""
    if target.format is LogFormat.TEXT:
        return Kind.TEXT
    if target.format is LogFormat.JSON:
        return Kind.JSON
    accept = accept.lower()
    if "text/event-stream" in accept:
        return Kind.SSE
    if "text/html" in accept:
        return Kind.HTML
    if "application/json" in accept or "application/x-ndjson" in accept:
        return Kind.JSON
    return Kind.TEXT


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def _wants_follow(request: web.Request) -> bool:
    value = request.query.get("follow")
    return value is not None and value.lower() not in ("0", "false", "no")


def _resume_from(request: web.Request) -> int:
    """``Last-Event-ID`` is read (never forwarded): a line position we resume after."""
    value = request.headers.get("Last-Event-ID", "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return 0


def _renderer(kind: Kind, request: web.Request, target: LogTarget) -> Renderer:
    if kind is Kind.HTML:
        assets = request.app[ASSETS]
        urls = assets.urls
        return HtmlRenderer(
            target.invocation_id, urls["style.css"], urls["app.js"], urls["icon.svg"]
        )
    if kind is Kind.SSE:
        return SseRenderer()
    if kind is Kind.JSON:
        return JsonLinesRenderer()
    return TextRenderer()


def _query(request: web.Request, target: LogTarget) -> InvocationQuery:
    s = request.app[SETTINGS]
    return InvocationQuery(
        target.invocation_id, s.units, s.public_fields, s.limits, request.app[COUNTERS]
    )


class ClientGone(Exception):
    """The reader disconnected mid-stream; its response is returned as it is."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("client went away")
        self.response = response


class _Writer:
    """Batches small renders into large writes, and counts bytes for /metrics."""

    def __init__(self, resp: web.StreamResponse, metrics: Metrics) -> None:
        self._resp = resp
        self._metrics = metrics
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)

    @property
    def pending(self) -> int:
        return self._size

    async def flush(self) -> None:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            self._size = 0
            self._metrics.bytes_streamed += len(data)
            try:
                await self._resp.write(data)
            except ConnectionResetError as exc:
                raise ClientGone(self._resp) from exc

    async def close(self) -> web.StreamResponse:
        """Write what is left and end the response; a reader already gone is no error."""
        await self.flush()
        with contextlib.suppress(ConnectionResetError):
            await self._resp.write_eof()
        return self._resp


async def _prepare(
    request: web.Request, renderer: Renderer, *, finished: bool, etag: str | None = None
) -> web.StreamResponse:
    resp = web.StreamResponse()
    if etag is not None:
        resp.headers["ETag"] = etag
    resp.content_type = renderer.content_type.split(";")[0]
    resp.charset = "utf-8"
    resp.headers["Cache-Control"] = "private, max-age=300" if finished else "no-store"
    if isinstance(renderer, SseRenderer):
        resp.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer this stream
    await resp.prepare(request)
    return resp


def _source(app: web.Application, host: str, unreachable: tuple[str, ...]) -> Source:
    """Name the host only when there is more than one to choose from."""
    if len(app[SETTINGS].upstreams) == 1:
        return Source()
    return Source(host, unreachable)


def _cacheable(status: Status, grace: float) -> bool:
    """Finished long enough ago that systemd's trailing lines (resources) are in."""
    finished = status.finished_usec
    return finished is not None and time.time() * 1e6 - finished > (grace + 60) * 1e6


async def _serve_cached(
    request: web.Request, cached: CachedLog, renderer: Renderer
) -> web.StreamResponse:
    if request.headers.get("If-None-Match") == cached.etag:
        return web.Response(
            status=304, headers={"ETag": cached.etag, "Cache-Control": "private, max-age=300"}
        )
    resp = await _prepare(request, renderer, finished=True, etag=cached.etag)
    if request.method == "HEAD":
        return resp
    out = _Writer(resp, request.app[METRICS])
    out.add(renderer.start(cached.status, cached.source))
    for line, entry in enumerate(cached.entries, 1):
        out.add(renderer.entry(line, entry))
        if out.pending >= FLUSH_BYTES:
            await out.flush()
    out.add(renderer.end(cached.status, None))
    return await out.close()


async def _serve_log(
    request: web.Request, target: LogTarget, renderer: Renderer
) -> web.StreamResponse:
    """An ordinary request: the log as it is now, streamed, then the end."""
    app = request.app
    settings = app[SETTINGS]
    masker = settings.masker
    cache = app[CACHE]
    cached = cache.get(target.invocation_id)
    if cached is not None:
        return await _serve_cached(request, cached, renderer)
    clients: list[GatewaydClient] = app[CLIENTS]
    located = await locate(clients, _query(request, target), settings.timeouts.upstream_headers)
    source = _source(app, located.host, located.unreachable)
    log_ = located.log
    async with aclosing(log_):
        keep: list[Entry] | None = (
            [] if _cacheable(log_.status, settings.timeouts.finish_grace) else None
        )
        resp = await _prepare(request, renderer, finished=log_.status.finished)
        if request.method == "HEAD":
            return resp
        out = _Writer(resp, app[METRICS])
        out.add(renderer.start(log_.status, source))
        reason: str | None = None
        try:
            async for line, entry in log_:
                entry = masker.apply(entry)
                out.add(renderer.entry(line, entry))
                if keep is not None:
                    keep.append(entry)
                    if len(keep) > cache.max_entries:
                        keep = None
                if out.pending >= FLUSH_BYTES or line == FIRST_FLUSH_LINES:
                    await out.flush()
        except UpstreamError as exc:
            reason = "truncated" if isinstance(exc, UpstreamProtocolError) else "upstream"
            log.warning("stream %s… cut short: %s", target.invocation_id[:8], exc)
        out.add(renderer.end(log_.status, reason))
        if keep is not None and reason is None:
            cache.put(target.invocation_id, log_.status, keep, source)
        return await out.close()


async def _serve_follow(
    request: web.Request, target: LogTarget, renderer: Renderer
) -> web.StreamResponse:
    """A live follow: the history this viewer missed, then the hub's new lines, then the end."""
    app = request.app
    settings = app[SETTINGS]
    masker = settings.masker
    query = _query(request, target)
    resume = _resume_from(request) if isinstance(renderer, SseRenderer) else 0
    hub = app[HUBS].get(query)
    sub = hub.subscribe()
    try:
        await hub.ready.wait()
        if hub.not_found:
            raise InvocationNotFound(target.invocation_id)
        if hub.error is not None and hub.line == 0:
            raise hub.error
        resp = await _prepare(request, renderer, finished=False)
        if request.method == "HEAD":
            return resp
        out = _Writer(resp, app[METRICS])
        assert hub.client is not None
        out.add(
            renderer.start(sub.status, _source(app, hub.client.upstream.label, hub.unreachable))
        )
        last = resume
        if resume < sub.base_line:
            try:
                log_ = await open_log(hub.client, query)
                async with aclosing(log_):
                    async for line, entry in log_:
                        if line <= resume:
                            continue
                        out.add(renderer.entry(line, masker.apply(entry)))
                        last = line
                        if out.pending >= FLUSH_BYTES:
                            await out.flush()
                        if line >= sub.base_line:
                            break
            except (UpstreamError, InvocationNotFound) as exc:
                # Headers are sent: end the stream with a note rather than an error status.
                log.warning("follow %s… history cut short: %s", target.invocation_id[:8], exc)
                out.add(renderer.end(hub.status, "upstream"))
                return await out.close()
        await out.flush()
        last = max(last, sub.base_line)
        try:
            async with asyncio.timeout(settings.timeouts.follow_max):
                while True:
                    try:
                        async with asyncio.timeout(SSE_KEEPALIVE):
                            item = await sub.get()
                    except TimeoutError:
                        if isinstance(renderer, SseRenderer):
                            out.add(b": keep-alive\n\n")
                            await out.flush()
                        continue
                    if isinstance(item, Ended):
                        out.add(renderer.end(item.status, item.reason))
                        break
                    if isinstance(item, StatusChanged):
                        out.add(renderer.status(item.status))
                    else:
                        line, entry = item
                        if line > last:
                            out.add(renderer.entry(line, masker.apply(entry)))
                            last = line
                    await out.flush()
        except TimeoutError:
            out.add(renderer.end(hub.status, "max-duration"))
        return await out.close()
    finally:
        sub.close()


async def logs(request: web.Request) -> web.StreamResponse:
    app = request.app
    target = parse_log_path(request.raw_path)
    if target is None:
        return _refuse(request)
    if request.method not in ("GET", "HEAD"):
        return _plain(405, "405: method not allowed", {"Allow": "GET, HEAD"})
    kind = negotiate(target, request.headers.get("Accept", ""))
    follow = kind is Kind.SSE or (kind is not Kind.HTML and _wants_follow(request))
    client = _client(request)
    if app[THROTTLE].throttled(client):
        raise Throttled()
    renderer = _renderer(kind, request, target)
    metrics = app[METRICS]
    with app[STREAMS].stream(client):
        metrics.active_streams += 1
        try:
            if follow:
                return await _serve_follow(request, target, renderer)
            return await _serve_log(request, target, renderer)
        except ClientGone as gone:
            return gone.response
        finally:
            metrics.active_streams -= 1


def _client(request: web.Request) -> str:
    """Who the limits count this request against (``limits.client_address`` has the rule)."""
    return client_address(
        request.remote,
        request.headers.get("X-Forwarded-For"),
        request.app[SETTINGS].trusted_proxies,
    )


def _refuse(request: web.Request) -> web.Response:
    """404 for anything that is not a log link; scanners get slowed down with 429."""
    app = request.app
    app[METRICS].refused += 1
    if not app[THROTTLE].allow(_client(request)):
        return _plain(429, "429: too many refused requests", {"Retry-After": "30"})
    return _plain(404, "404: not found")


async def not_found(request: web.Request) -> web.Response:
    return _refuse(request)


async def static(request: web.Request) -> web.Response:
    asset = request.app[ASSETS].get(request.match_info["name"])
    if asset is None or request.method not in ("GET", "HEAD"):
        return _refuse(request)
    return web.Response(
        body=asset.body,
        headers={
            "Content-Type": asset.content_type,
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


async def healthz(request: web.Request) -> web.Response:
    """200 when every gatewayd answers; says nothing about the journal either way."""
    answers = await asyncio.gather(*(c.ping() for c in request.app[CLIENTS]))
    ok = all(answers)
    return _plain(200 if ok else 503, "ok" if ok else "upstream unavailable")


async def metrics_handler(request: web.Request) -> web.Response:
    app = request.app
    clients = app[CLIENTS]
    counters = app[COUNTERS]
    body = app[METRICS].render(
        entries=counters.entries,
        dropped=counters.dropped,
        upstream_requests=sum(c.requests for c in clients),
        upstream_errors=sum(c.errors for c in clients),
        upstream_latency=sum(c.latency_total for c in clients),
        hubs=len(app[HUBS]),
        viewers=app[HUBS].viewers,
        cache_bytes=app[CACHE].bytes,
        cache_logs=len(app[CACHE]),
        stream_clients=app[STREAMS].clients,
        throttle_clients=len(app[THROTTLE]),
    )
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def map_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place our errors become statuses: short bodies, never a traceback."""
    try:
        return await handler(request)
    except InvocationNotFound:
        return _refuse(request)
    except UpstreamTimeout:
        return _plain(504, "504: the journal server did not answer in time")
    except UpstreamError:
        return _plain(502, "502: the journal server is unavailable")
    except TooBusy as exc:
        return _plain(429, "429: too many streams", {"Retry-After": str(exc.retry_after)})
    except Throttled:
        return _plain(429, "429: too many refused requests", {"Retry-After": "30"})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.pop("Server", None)
    request.app[METRICS].responses[response.status] += 1


async def _upstream_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    clients = [GatewaydClient(u, settings.timeouts) for u in settings.upstreams]
    app[CLIENTS] = clients

    async def locator(query: InvocationQuery) -> Located:
        return await locate(clients, query, settings.timeouts.upstream_headers)

    app[HUBS] = HubRegistry(locator, settings.timeouts, settings.limits)
    yield
    await app[HUBS].close("shutdown")
    await asyncio.gather(*(c.close() for c in clients))


async def _end_streams(app: web.Application) -> None:
    """On shutdown, end follow streams with a closing line before connections are closed."""
    if HUBS in app:
        await app[HUBS].close("shutdown")
        await asyncio.sleep(0.05)  # let handlers write their last line


def make_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[map_errors], client_max_size=1024)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[ASSETS] = Assets()
    app[COUNTERS] = Counters()
    app[STREAMS] = StreamLimiter(
        settings.limits.max_streams, settings.limits.max_streams_per_client
    )
    app[THROTTLE] = RefusalThrottle()
    app[CACHE] = FinishedLogCache(settings.limits.cache_bytes)
    app.cleanup_ctx.append(_upstream_ctx)
    app.on_shutdown.append(_end_streams)
    app.on_response_prepare.append(_security_headers)
    app.router.add_route("*", "/logs/{tail:.*}", logs)
    app.router.add_route("*", "/static/{name}", static)
    app.router.add_get("/healthz", healthz)
    if settings.metrics:
        app.router.add_get("/metrics", metrics_handler)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
