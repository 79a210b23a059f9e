"""The gatewayd client: the only code that talks to systemd-journal-gatewayd.

It builds every request itself from an already-validated invocation ID and the configured units;
nothing from the client's request (headers, query, body) is an input here.  aiohttp and socket
errors are translated into :mod:`journal_proxy.errors` once, in this file.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import aiohttp

from .errors import UpstreamProtocolError, UpstreamTimeout, UpstreamUnavailable
from .settings import Timeouts, Upstream

EXPORT_MIME = "application/vnd.fdo.journal"
_CHUNK = 256 * 1024
# gatewayd's Range takes a count; "everything after the cursor" is a count no journal reaches.
_ALL_ENTRIES = 1 << 62

Match = tuple[str, str]


def _connector(upstream: Upstream) -> aiohttp.BaseConnector:
    if upstream.unix_path:
        return aiohttp.UnixConnector(path=upstream.unix_path, limit=0)
    ssl_ctx: ssl.SSLContext | bool = True
    if upstream.url.startswith("https://"):
        ssl_ctx = ssl.create_default_context(cafile=upstream.trust)
        if upstream.client_cert:
            ssl_ctx.load_cert_chain(upstream.client_cert, upstream.client_key)
    return aiohttp.TCPConnector(limit=0, ssl=ssl_ctx, keepalive_timeout=30)


class GatewaydClient:
    """One upstream gatewayd, with a keep-alive connection pool."""

    def __init__(self, upstream: Upstream, timeouts: Timeouts) -> None:
        self.upstream = upstream
        self._timeouts = timeouts
        self._session = aiohttp.ClientSession(
            connector=_connector(upstream),
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=timeouts.upstream_connect,
                sock_connect=timeouts.upstream_connect,
            ),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
        # Counters for /metrics: requests made, requests failed, seconds spent waiting for headers.
        self.requests = 0
        self.errors = 0
        self.latency_total = 0.0

    async def close(self) -> None:
        await self._session.close()

    @asynccontextmanager
    async def entries(
        self, matches: Sequence[Match], *, follow: bool = False, after_cursor: str | None = None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open ``/entries`` in export format and yield an iterator over its body chunks.

        Leaving the context closes the connection (not returned to the pool) unless the body was
        read to its end, so abandoning a big or endless stream costs gatewayd nothing further.
        """
        query = list(matches) + ([("follow", "")] if follow else [])
        url = f"{self.upstream.base_url}/entries?{urlencode(query)}"
        headers = {"Accept": EXPORT_MIME}
        if after_cursor is not None:
            if any(c in after_cursor for c in "\r\n\0"):
                raise UpstreamProtocolError("cursor from gatewayd is malformed")
            headers["Range"] = f"entries={after_cursor}:1:{_ALL_ENTRIES}"
        self.requests += 1
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeouts.upstream_headers):
                resp = await self._session.get(url, headers=headers, allow_redirects=False)
        except TimeoutError as exc:
            self.errors += 1
            raise UpstreamTimeout("gatewayd did not answer in time") from exc
        except (aiohttp.ClientError, OSError) as exc:
            self.errors += 1
            raise UpstreamUnavailable("gatewayd is not reachable") from exc
        self.latency_total += time.monotonic() - started
        try:
            if resp.status != 200:
                self.errors += 1
                raise UpstreamUnavailable(f"gatewayd answered {resp.status}")
            if resp.content_type != EXPORT_MIME:
                self.errors += 1
                raise UpstreamProtocolError(f"gatewayd sent {resp.content_type!r}")
            yield self._body(resp, follow)
        finally:
            if resp.content.at_eof():
                resp.release()
            else:
                resp.close()

    async def _body(self, resp: aiohttp.ClientResponse, follow: bool) -> AsyncIterator[bytes]:
        read_timeout = None if follow else self._timeouts.upstream_read
        while True:
            try:
                async with asyncio.timeout(read_timeout):
                    chunk = await resp.content.read(_CHUNK)
            except TimeoutError as exc:
                raise UpstreamTimeout("gatewayd stalled mid-stream") from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise UpstreamUnavailable("gatewayd connection broke mid-stream") from exc
            if not chunk:
                return
            yield chunk

    async def ping(self) -> bool:
        """True when gatewayd answers a request that returns no journal data at all."""
        matches = [("_SYSTEMD_INVOCATION_ID", "0" * 32)]
        try:
            async with self.entries(matches) as body:
                async for _ in body:
                    pass
        except (UpstreamUnavailable, UpstreamTimeout, UpstreamProtocolError):
            return False
        return True
