"""Abuse limits: concurrent streams in total and per client, and a slow-down for scanners.

The client address is the socket peer, or the last ``X-Forwarded-For`` hop when (and only when)
the peer is a configured trusted proxy such as the local nginx.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


def client_address(
    request: web.Request, trusted: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> str:
    peer = request.remote or ""
    if not trusted or not peer:
        return peer
    try:
        peer_ip = ipaddress.ip_address(peer)
    except ValueError:  # a unix socket peer: the trusted proxy is local by construction
        peer_ip = None
    if peer_ip is not None and not any(peer_ip in net for net in trusted):
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return peer


class TooBusy(Exception):
    """Over a concurrency limit; ``retry_after`` seconds is a fair time to come back."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent streams")
        self.retry_after = retry_after


class StreamLimiter:
    def __init__(self, total: int, per_client: int) -> None:
        self._total = total
        self._per_client = per_client
        self._by_client: Counter[str] = Counter()
        self.active = 0

    @contextmanager
    def stream(self, client: str) -> Iterator[None]:
        if self.active >= self._total:
            raise TooBusy(5)
        if self._by_client[client] >= self._per_client:
            raise TooBusy(10)
        self.active += 1
        self._by_client[client] += 1
        try:
            yield
        finally:
            self.active -= 1
            self._by_client[client] -= 1
            if self._by_client[client] <= 0:
                del self._by_client[client]


class RefusalThrottle:
    """Token bucket per address for refused requests; bounded memory (LRU of addresses)."""

    def __init__(self, burst: int = 30, per_second: float = 2.0, max_clients: int = 10000) -> None:
        self._burst = burst
        self._rate = per_second
        self._max = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.pop(client, (float(self._burst), now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return allowed
