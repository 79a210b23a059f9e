"""The one loop that writes a log, whichever way it was opened and whatever its format.

Small renders are batched into large writes; a live item (``Marker.FLUSH``) is sent at once.  A
reader that goes away ends the loop quietly: its upstream read is closed with the items.
"""

from __future__ import annotations

from contextlib import aclosing

from aiohttp import web

from ..invocation_log import InvocationQuery
from ..renderers import Renderer
from ..streams import OpenedLog, open_cached, open_now
from ..types import Ended, Marker, StatusChanged
from .state import CACHE, CLIENTS, MASKER, SETTINGS, TALLY

FLUSH_BYTES = 64 * 1024
#: The first screen of a page (or of ``less``) is sent early, before a full batch.
FIRST_FLUSH_LINES = 200


class _Writer:
    """Batches writes; remembers when the reader has gone, so the loop can stop."""

    def __init__(self, resp: web.StreamResponse, request: web.Request) -> None:
        self._resp = resp
        self._tally = request.app[TALLY]
        self._parts: list[bytes] = []
        self.pending = 0
        self.gone = False

    def add(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self.pending += len(data)

    async def flush(self) -> None:
        if not self._parts or self.gone:
            return
        data = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        self._tally.bytes_streamed += len(data)
        try:
            await self._resp.write(data)
        except ConnectionResetError:
            self.gone = True

    async def close(self) -> None:
        await self.flush()
        if not self.gone:
            try:
                await self._resp.write_eof()
            except ConnectionResetError:
                self.gone = True


async def respond(
    request: web.Request, renderer: Renderer, opened: OpenedLog
) -> web.StreamResponse:
    """Send ``opened`` as ``renderer``'s format: headers, the start, every item, the end."""
    async with aclosing(opened.items) as items:
        resp = web.StreamResponse()
        resp.content_type = renderer.content_type.split(";")[0]
        resp.charset = "utf-8"
        resp.headers["Cache-Control"] = "private, max-age=300" if opened.finished else "no-store"
        if opened.etag is not None:
            resp.headers["ETag"] = opened.etag
        resp.headers.update(renderer.headers)
        await resp.prepare(request)
        if request.method == "HEAD":
            return resp
        out = _Writer(resp, request)
        out.add(renderer.start(opened.status, opened.source))
        async for item in items:
            if isinstance(item, tuple):
                line, entry = item
                out.add(renderer.entry(line, entry))
                if out.pending < FLUSH_BYTES and line != FIRST_FLUSH_LINES:
                    continue
            elif isinstance(item, StatusChanged):
                out.add(renderer.status(item.status))
                continue
            elif isinstance(item, Ended):
                out.add(renderer.end(item.status, item.reason))
                break
            elif item is Marker.KEEPALIVE:
                out.add(renderer.keepalive())
            await out.flush()
            if out.gone:
                break
        await out.close()
        return resp


async def respond_current(
    request: web.Request, renderer: Renderer, query: InvocationQuery
) -> web.StreamResponse:
    """The log as it is now: from the cache when it is there, else read from gatewayd."""
    app = request.app
    cached = app[CACHE].get(query.invocation_id)
    if cached is not None:
        if request.headers.get("If-None-Match") == cached.etag:
            return web.Response(
                status=304, headers={"ETag": cached.etag, "Cache-Control": "private, max-age=300"}
            )
        return await respond(request, renderer, open_cached(cached))
    clients = app[CLIENTS]
    settings = app[SETTINGS]
    opened = await open_now(clients, query, app[MASKER], app[CACHE], settings.timeouts)
    return await respond(request, renderer, opened)
