"""The one loop that writes a log, whichever way it was opened and whatever its format, and the
finished-log cache in front of it.

Small renders are batched into large writes; a live item (``Marker.FLUSH``) is sent at once.  A
reader that goes away ends the loop quietly: its upstream read is closed with the items.  When the
log is finished (``FinishedLogCache.admits``), the bytes written are also gzip-compressed on the
way and kept; the next reader of that format gets them with ``Content-Encoding: gzip`` when it
accepts it, else decompressed (at once when small, on the way out when big).
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable, Iterable
from contextlib import aclosing

from aiohttp import web

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery.cache import CachedBody, FinishedLogCache
from journal_proxy.delivery.keep import Keeper
from journal_proxy.delivery.opening import OpenedLog, open_now
from journal_proxy.errors import InvocationNotFound, UpstreamError
from journal_proxy.journal.entry import Entry, NumberedEntry
from journal_proxy.journal.invocation_log import InvocationQuery
from journal_proxy.journal.items import Ended, EndReason, Marker, Seen, StatusChanged
from journal_proxy.journal.lifecycle import Status
from journal_proxy.renderers import Renderer, last_resort_end
from journal_proxy.web.state import CACHE, CLIENTS, KEEPER, MASKER, READS, SETTINGS, TALLY

log = logging.getLogger(__name__)

FLUSH_BYTES = 64 * 1024
#: The first screen of a page (or of ``less``) is sent early, before a full batch.
FIRST_FLUSH_LINES = 200
#: gzip level for kept bodies: compressed once per log and format, so a good ratio is worth it.
GZIP_LEVEL = 6
_GZIP_WBITS = 31  # zlib's way of asking for the gzip container
VARY = "Accept, Accept-Encoding"
#: A kept body goes out in one write with its headers when the client takes gzip, or when it is
#: at most this long decompressed: the burst of clicks after a deploy is many reads of a small
#: log, and three system calls per response (headers, body, end) were a fifth of the time.
ONE_WRITE_BYTES = 64 * 1024


def variant_of(renderer: Renderer) -> str:
    """What, besides the log, decides a renderer's bytes: its class and its options.

    Renderers are deterministic: the same options and the same items give the same bytes, so this
    names a cached body exactly.  Options are the renderer's plain attributes (the page's asset
    URLs, a text renderer's ``color``); helper objects it starts with (a fresh tracker, say) are
    the same for every new renderer, so only their type is named.
    """
    parts = [type(renderer).__name__]
    for name, value in sorted(vars(renderer).items()):
        plain = value is None or isinstance(value, str | int | float | bool)
        parts.append(f"{name}={value!r}" if plain else f"{name}:{type(value).__name__}")
    return ";".join(parts)


def accepts_gzip(accept_encoding: str) -> bool:
    """``gzip`` (or ``*``) listed without ``q=0``."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


class _Recorder:
    """gzip and hash the bytes as they are written, up to the cache's bound for one body; the
    body is kept in the cache, and on disk beside the run when the run is kept."""

    def __init__(
        self,
        cache: FinishedLogCache,
        invocation_id: InvocationId,
        variant: str,
        keeper: Keeper | None = None,
    ) -> None:
        self._cache = cache
        self._keeper = keeper
        self._key = (invocation_id, variant)
        self._zip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)
        self._hash = hashlib.sha256()
        self._parts: list[bytes] = []
        self._size = 0
        self.over = False

    def add(self, data: bytes) -> None:
        if self.over:
            return
        self._hash.update(data)
        packed = self._zip.compress(data)
        if packed:
            self._parts.append(packed)
            self._size += len(packed)
            if self._size > self._cache.max_body:
                self.over = True
                self._parts.clear()

    def keep(self, ended: Ended) -> None:
        if self.over or ended.reason is not None:
            return
        self._parts.append(self._zip.flush())
        etag = f'"{self._hash.hexdigest()[:24]}"'
        packed = b"".join(self._parts)
        self._cache.put(*self._key, ended.status, etag, packed)
        if self._keeper is not None:
            self._keeper.save_body(*self._key, etag, ended.status, packed)


class _Writer:
    """Batches writes; remembers when the reader has gone, so the loop can stop."""

    def __init__(
        self, resp: web.StreamResponse, request: web.Request, recorder: _Recorder | None
    ) -> None:
        self._resp = resp
        self._tally = request.app[TALLY]
        self._recorder = recorder
        self._parts: list[bytes] = []
        self.pending = 0
        self.gone = False
        #: Whether the end of the body was asked for (nothing can be written after it).
        self.closed = False
        #: The status as the body last told it, and the line a renderer failed at (0: none).
        self.status = Status()
        self.failed_line = 0

    def add(self, data: bytes) -> None:
        if data:
            self._parts.append(data)
            self.pending += len(data)

    def take(self) -> bytes:
        """The pending bytes, joined, recorded and counted; the caller writes them."""
        data = b"".join(self._parts)
        self._parts.clear()
        self.pending = 0
        if self._recorder is not None:
            self._recorder.add(data)
        self._tally.bytes_streamed += len(data)
        return data

    async def flush(self) -> None:
        if not self._parts or self.gone:
            return
        try:
            await self._resp.write(self.take())
        except ConnectionResetError:
            self.gone = True

    async def close(self, last: bytes | None = None) -> None:
        """The pending bytes (or ``last``, already taken) and the end of the body in one write:
        a small log goes out in one send, headers included."""
        if self.gone or self.closed:
            return
        self.closed = True
        try:
            await self._resp.write_eof(self.take() if last is None else last)
        except ConnectionResetError:
            self.gone = True


def _headers(resp: web.StreamResponse, renderer: Renderer, *, finished: bool) -> None:
    # Set as the header itself: the content_type and charset setters parse it again each time.
    resp.headers["Content-Type"] = renderer.content_type
    resp.headers["Cache-Control"] = "private, max-age=300" if finished else "no-store"
    resp.headers["Vary"] = VARY
    resp.headers.update(renderer.headers)


async def respond(
    request: web.Request,
    renderer: Renderer,
    opened: OpenedLog,
    recorder: _Recorder | None = None,
) -> web.StreamResponse:
    """Send ``opened`` as ``renderer``'s format: headers, the start, every item, the end.

    Once the headers are out nothing may cut the body (a client would get a cut transfer and no
    word why, issue 26): an exception while it is written ends it with the format's end for
    :attr:`EndReason.INTERNAL`, and is logged once with its traceback.
    """
    async with aclosing(opened):
        resp = web.StreamResponse()
        _headers(resp, renderer, finished=opened.finished)
        await resp.prepare(request)
        if request.method == "HEAD":
            return resp
        out = _Writer(resp, request, recorder)
        out.status = opened.status
        try:
            await _write_items(out, renderer, opened, recorder)
        except Exception as exc:
            await _end_after_failure(out, renderer, exc)
        return resp


async def _write_items(
    out: _Writer, renderer: Renderer, opened: OpenedLog, recorder: _Recorder | None
) -> None:
    """The body: the start, every item, the end (see :func:`respond`)."""
    out.add(renderer.start(opened.status, opened.source))
    render = renderer.entry
    async for item in opened.items:
        if isinstance(item, list):  # a batch of lines, as one upstream read gave them
            _render_lines(render, item, out)
            if out.pending < FLUSH_BYTES and not item[0][0] <= FIRST_FLUSH_LINES <= item[-1][0]:
                continue
        elif isinstance(item, tuple):
            _render_lines(render, (item,), out)
            if out.pending < FLUSH_BYTES and item[0] != FIRST_FLUSH_LINES:
                continue
        elif isinstance(item, StatusChanged):
            out.status = item.status
            out.add(renderer.status(item.status))
            continue
        elif isinstance(item, Seen):
            for line, entry in item.entries:
                renderer.seen(line, entry)
            continue
        elif isinstance(item, Ended):
            out.status = item.status
            out.add(renderer.end(item.status, item.reason))
            last = out.take()
            if recorder is not None and not out.gone:
                recorder.keep(item)  # before the last chunk: the next reader finds it kept
            await out.close(last)
            return
        elif item is Marker.KEEPALIVE:
            out.add(renderer.keepalive())
        await out.flush()
        if out.gone:
            break
    await out.close()


def _render_lines(
    render: Callable[[int, Entry], bytes], lines: Iterable[NumberedEntry], out: _Writer
) -> None:
    """Each line rendered into ``out``.  A loop rather than one join of a list: when a line
    fails, the lines before it are still written, and ``out`` knows which line it was."""
    parts: list[bytes] = []
    append = parts.append
    line = 0
    try:
        for line, entry in lines:
            append(render(line, entry))
    except Exception:
        out.failed_line = line
        raise
    finally:
        out.add(b"".join(parts))


async def _end_after_failure(out: _Writer, renderer: Renderer, exc: Exception) -> None:
    """End a body that failed half-way with a clear last line, and log the failure once."""
    if out.gone or out.closed:
        log.error("writing %s failed after its end: %r", type(renderer).__name__, exc)
        return  # nothing more can be written; the reader has what was sent
    reason = EndReason.INTERNAL
    try:
        last = renderer.end(out.status, reason)
        also = ""
    except Exception as end_exc:
        last, also = last_resort_end(renderer.content_type, reason), f" (its end too: {end_exc!r})"
    at = f"line {out.failed_line}" if out.failed_line else "the log"
    log.error(
        "writing %s failed at %s, after the response began; the body ends with %s%s",
        type(renderer).__name__,
        at,
        reason.value,
        also,
        exc_info=exc,
    )
    out.add(last)
    await out.close()


async def _send_cached(
    request: web.Request, renderer: Renderer, cached: CachedBody
) -> web.StreamResponse:
    gzip = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    # A strong validator names the bytes on the wire, so the gzip body has an ETag of its own.
    etag = f'{cached.etag[:-1]}-gz"' if gzip else cached.etag
    if_none_match = request.headers.get("If-None-Match", "")
    if if_none_match and (etag in if_none_match or if_none_match.strip() == "*"):
        return web.Response(
            status=304,
            headers={"ETag": etag, "Cache-Control": "private, max-age=300", "Vary": VARY},
        )
    if request.method == "HEAD":
        head = web.StreamResponse()
        _headers(head, renderer, finished=True)
        head.headers["ETag"] = etag
        if gzip:
            head.headers["Content-Encoding"] = "gzip"
            head.content_length = len(cached.gzip)
        await head.prepare(request)
        return head
    if gzip:
        return await _send_whole(request, renderer, etag, cached.gzip, gzip=True)
    # Decompressed for a client without gzip, never more than ONE_WRITE_BYTES or FLUSH_BYTES at
    # a time: log text can compress a thousandfold, so the gzip size says nothing about this.
    unzip = zlib.decompressobj(_GZIP_WBITS)
    data = unzip.decompress(cached.gzip, ONE_WRITE_BYTES)
    if unzip.eof:
        return await _send_whole(request, renderer, etag, data, gzip=False)
    resp = web.StreamResponse()
    _headers(resp, renderer, finished=True)
    resp.headers["ETag"] = etag
    await resp.prepare(request)
    tally = request.app[TALLY]
    try:
        while data:
            tally.bytes_streamed += len(data)
            await resp.write(data)
            data = unzip.decompress(unzip.unconsumed_tail, FLUSH_BYTES)
        await resp.write_eof()
    except ConnectionResetError:
        pass
    return resp


async def _send_whole(
    request: web.Request, renderer: Renderer, etag: str, body: bytes, *, gzip: bool
) -> web.StreamResponse:
    """Headers and body in one write, sent here and now: inside the route's count of open
    streams, which a response returned for aiohttp to send later would already have left."""
    resp = web.Response(body=body)
    _headers(resp, renderer, finished=True)
    resp.headers["ETag"] = etag
    if gzip:
        resp.headers["Content-Encoding"] = "gzip"
    try:
        await resp.prepare(request)
        await resp.write_eof()
    except ConnectionResetError:
        pass
    request.app[TALLY].bytes_streamed += len(body)
    return resp


async def respond_current(
    request: web.Request, renderer: Renderer, query: InvocationQuery
) -> web.StreamResponse:
    """The log as it is now: from the cache when it is there, then from the run kept on disk,
    else read from gatewayd (one read shared by concurrent requests), kept in the cache (and on
    disk) when it is finished."""
    app = request.app
    cache, keeper = app[CACHE], app[KEEPER]
    invocation_id, variant = query.invocation_id, variant_of(renderer)
    cached = cache.get(invocation_id, variant)
    if cached is not None:
        return await _send_cached(request, renderer, cached)
    if (
        keeper is not None
        and keeper.has(invocation_id)
        and not keeper.due_for_recheck(invocation_id)
    ):
        kept = await respond_kept(request, renderer, keeper, invocation_id, variant)
        if kept is not None:
            return kept
    settings = app[SETTINGS]
    clients, masker = app[CLIENTS], app[MASKER]

    async def opener() -> OpenedLog:
        opened = await open_now(clients, query, masker, settings.timeouts)
        if keeper is not None and cache.admits(opened.status, settings.timeouts.finish_grace):
            return keeper.keeping(invocation_id, opened)
        return opened

    try:
        opened = await app[READS].open(invocation_id, opener)
    except (InvocationNotFound, UpstreamError):
        kept = None
        if keeper is not None and keeper.has(invocation_id):  # due for a recheck, and gone
            kept = await respond_kept(request, renderer, keeper, invocation_id, variant)
        if kept is None:
            raise
        return kept
    recorder = None
    if cache.admits(opened.status, settings.timeouts.finish_grace):
        recorder = _Recorder(cache, invocation_id, variant, keeper)
    return await respond(request, renderer, opened, recorder)


async def respond_kept(
    request: web.Request,
    renderer: Renderer,
    keeper: Keeper,
    invocation_id: InvocationId,
    variant: str,
) -> web.StreamResponse | None:
    """A kept run, without asking gatewayd: its format's kept bytes, else rendered from its
    kept lines (and those bytes kept too); None if it is gone from disk after all."""
    cache = request.app[CACHE]
    body = keeper.body(invocation_id, variant)
    opened = keeper.open(invocation_id) if body is None else None
    if body is not None:
        etag, status, packed = body
        cache.put(invocation_id, variant, status, etag, packed)
        cached = CachedBody(status, etag, packed, None)
        return await _send_cached(request, renderer, cached)
    if opened is None:
        return None
    return await respond(
        request, renderer, opened, _Recorder(cache, invocation_id, variant, keeper)
    )
