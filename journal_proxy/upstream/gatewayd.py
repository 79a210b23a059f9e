"""The gatewayd client: the only code that talks to systemd-journal-gatewayd.

It builds every request itself from an already-validated invocation ID and the configured units;
nothing from the client's request (headers, query, body) is an input here.  HTTP and socket
errors are translated into :mod:`journal_proxy.errors` once, in this file.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from urllib.parse import urlencode, urlsplit

from journal_proxy.errors import UpstreamProtocolError, UpstreamTimeout, UpstreamUnavailable
from journal_proxy.settings import Timeouts, Upstream
from journal_proxy.upstream import http1, pool

EXPORT_MIME = "application/vnd.fdo.journal"
# gatewayd's Range takes a count; "everything after the cursor" is a count no journal reaches.
_ALL_ENTRIES = 1 << 62

Match = tuple[str, str]

log = logging.getLogger(__name__)

#: At most one warning per upstream in this many seconds that gatewayd cannot be reached.
_UNREACHABLE_WARNING_SECONDS = 60.0

#: How long a read with an end waits for a small arrival to grow (http1's ``_gather``).
_GATHER_SECONDS = 0.002


def _target(upstream: Upstream) -> pool.Target:
    if upstream.unix_path:
        return pool.Target("", 0, upstream.unix_path, None, "localhost")
    parts = urlsplit(upstream.url)
    tls = None
    if parts.scheme == "https":  # as urlsplit reads it: "HTTPS://" too
        tls = ssl.create_default_context(cafile=upstream.trust)
        if upstream.client_cert:
            tls.load_cert_chain(upstream.client_cert, upstream.client_key)
    host = parts.hostname or ""
    # The Host header in ASCII: an IPv6 literal in brackets, a name in IDNA (the request is
    # encoded as ASCII, and a name such as bücher.example goes on the wire as xn--bcher-kva).
    shown = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    return pool.Target(
        host,
        parts.port or (443 if tls else 80),
        None,
        tls,
        f"{shown}:{parts.port}" if parts.port else shown,
    )


def _range(after_cursor: str | None, from_cursor: str | None) -> dict[str, str]:
    """The Range header for a read from a cursor gatewayd gave us.  ``after_cursor`` skips the
    cursor's own entry; ``from_cursor`` starts at it, or at the first match after it when it does
    not match (a skip would then pass over a real match)."""
    cursor, skip = (after_cursor, 1) if after_cursor is not None else (from_cursor, 0)
    if cursor is None:
        return {}
    if not (cursor.isascii() and cursor.isprintable()):
        raise UpstreamProtocolError("cursor from gatewayd is malformed")
    return {"Range": f"entries={cursor}:{skip}:{_ALL_ENTRIES}"}


class GatewaydClient:
    """One upstream gatewayd, with a keep-alive connection pool.

    ``transport`` replaces the pool of sockets (tests: a pool over an in-memory upstream).
    """

    def __init__(
        self,
        upstream: Upstream,
        timeouts: Timeouts,
        transport: pool.Transport | None = None,
    ) -> None:
        self.upstream = upstream
        self._timeouts = timeouts
        self._pool = transport or pool.Pool(_target(upstream))
        # Counters for /metrics: requests made, requests failed, seconds spent waiting for headers.
        self.requests = 0
        self.errors = 0
        self.latency_total = 0.0
        self._warned_at = float("-inf")

    async def close(self) -> None:
        self._pool.close()

    def _warn_unreachable(self, exc: OSError) -> None:
        """Say why every uncached log is 502 where an operator looks (a warning, once a minute):
        after a reboot with gatewayd's socket not enabled, the access log shows only 502s."""
        now = time.monotonic()
        if now - self._warned_at < _UNREACHABLE_WARNING_SECONDS:
            return
        self._warned_at = now
        log.warning(
            "gatewayd at %s is not reachable (%s); is systemd-journal-gatewayd.socket enabled "
            "and started?",
            self.upstream.label,
            exc.strerror or type(exc).__name__,
        )

    @asynccontextmanager
    async def entries(
        self,
        matches: Sequence[Match],
        *,
        follow: bool = False,
        after_cursor: str | None = None,
        from_cursor: str | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open ``/entries`` in export format and yield an iterator over its body chunks.

        Leaving the context closes the connection (not returned to the pool) unless the body was
        read to its end, so abandoning a big or endless stream costs gatewayd nothing further.
        """
        query = list(matches) + ([("follow", "")] if follow else [])
        headers = {"Accept": EXPORT_MIME, **_range(after_cursor, from_cursor)}
        self.requests += 1
        started = time.monotonic()
        try:
            async with asyncio.timeout(self._timeouts.upstream_headers):
                resp = await self._pool.get(
                    f"/entries?{urlencode(query)}", headers, self._timeouts.upstream_connect
                )
        except TimeoutError as exc:
            self.errors += 1
            raise UpstreamTimeout("gatewayd did not answer in time") from exc
        except OSError as exc:
            self.errors += 1
            self._warn_unreachable(exc)
            raise UpstreamUnavailable("gatewayd is not reachable") from exc
        except UpstreamProtocolError:
            self.errors += 1
            raise
        self.latency_total += time.monotonic() - started
        try:
            if resp.head.status != 200:
                self.errors += 1
                raise UpstreamUnavailable(f"gatewayd answered {resp.head.status}")
            if resp.head.content_type != EXPORT_MIME:
                self.errors += 1
                raise UpstreamProtocolError(f"gatewayd sent {resp.head.content_type!r}")
            yield self._body(resp, follow)
        finally:
            self._pool.release(resp)

    async def _body(self, resp: http1.Response, follow: bool) -> AsyncIterator[bytes]:
        read_timeout = None if follow else self._timeouts.upstream_read
        async with aclosing(resp.body(0.0 if follow else _GATHER_SECONDS)) as body:
            while True:
                try:
                    async with asyncio.timeout(read_timeout):
                        chunk = await anext(body, b"")
                except TimeoutError as exc:
                    raise UpstreamTimeout("gatewayd stalled mid-stream") from exc
                except OSError as exc:
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
