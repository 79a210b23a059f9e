"""Abuse limits: concurrent streams in total and per client, and a slow-down for scanners.

Every limit is per *real* client.  The client is the socket peer, except when the peer is the
reverse proxy in front of us: then it is the last ``X-Forwarded-For`` hop (nginx sets it to its
own ``$remote_addr``, so the last hop is the one nginx saw).  The peer is the reverse proxy when it
is a configured ``trusted_proxies`` address, or when it has no address at all: a unix socket, which
is how the shipped deployment connects nginx (``unix:/run/journal-proxy.sock``, socket-activated
or not), and whose file mode already decides who may connect.

This module takes plain values, never a request: the web layer reads the headers.
"""

from __future__ import annotations

import functools
import ipaddress
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from journal_proxy.errors import TooBusy

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What a unix-socket peer without ``X-Forwarded-For`` is counted as: one local client.
LOCAL_CLIENT = "local"


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str:
    """The address limits are counted against (see the module docstring for the rule)."""
    if peer and not _trusted(peer, trusted):
        return peer
    last = (forwarded_for or "").rsplit(",", 1)[-1].strip()
    return _canonical(last) or peer or LOCAL_CLIENT


# Both are asked on every request, mostly with the same few addresses: remembered (bounded).
@functools.lru_cache(maxsize=1024)
def _trusted(peer: str, trusted: tuple[Network, ...]) -> bool:
    try:
        peer_ip = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(peer_ip in net for net in trusted)


@functools.lru_cache(maxsize=1024)
def _canonical(address: str) -> str | None:
    """The address in its one written form, or None if it is not one."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class StreamLimiter:
    """Concurrent streams, in total and per client.

    ``_by_client`` holds an entry only while that client has a stream open (the entry is deleted
    when its count drops to zero), so it is bounded by ``total``.
    """

    def __init__(self, total: int, per_client: int) -> None:
        self._total = total
        self._per_client = per_client
        self._by_client: Counter[str] = Counter()
        self.active = 0

    @property
    def clients(self) -> int:
        return len(self._by_client)

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


#: Evictions after which the throttle's dict is built afresh (see ``_evict_oldest``).
_COMPACT_EVERY = 1024


class RefusalThrottle:
    """Token bucket per address for refused requests.

    Kept compact, as it remembers up to ``max_clients`` addresses (the README budgets for them):
    one float per address, the time its bucket was (or would have been) empty, from which the
    tokens now follow; and a plain dict, whose order is least recently refused first.  That was
    an ``OrderedDict`` of ``(tokens, time)`` tuples: 220-320 bytes of RSS per IPv4 address,
    now 100-160 (``bench/throttle_rss.py``; the higher figures once addresses churn).  An
    evicted address simply starts again with a full bucket.
    """

    def __init__(self, burst: int = 30, per_second: float = 2.0, max_clients: int = 10000) -> None:
        self._burst = float(burst)
        self._rate = per_second
        self._max = max_clients
        self._empty_at: dict[str, float] = {}
        self._evictions = 0

    def __len__(self) -> int:
        return len(self._empty_at)

    def _tokens(self, client: str, now: float) -> float:
        empty_at = self._empty_at.get(client)
        if empty_at is None:
            return self._burst
        return min(self._burst, (now - empty_at) * self._rate)

    def throttled(self, client: str) -> bool:
        """True while ``client`` has no refusal left: checked *before* any upstream work, so a
        throttled scanner costs gatewayd nothing.  Does not spend a token."""
        return client in self._empty_at and self._tokens(client, time.monotonic()) < 1

    def allow(self, client: str) -> bool:
        """Spend one refusal; False when the bucket is empty (answer 429 instead of 404)."""
        now = time.monotonic()
        tokens = self._tokens(client, now)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._empty_at.pop(client, None)  # to the end: now the most recently refused
        self._empty_at[client] = now - tokens / self._rate
        if len(self._empty_at) > self._max:
            self._evict_oldest()
        return allowed

    def _evict_oldest(self) -> None:
        """Forget the least recently refused address.

        A dict's first key is found by walking past the slots its deleted keys left, so after
        ``_COMPACT_EVERY`` evictions the dict is built afresh (0.3 ms for 10,000 addresses):
        without that, a new address cost 10 us here against 1.4 us with the ``OrderedDict``
        this replaced; with it, 1-2 us.
        """
        del self._empty_at[next(iter(self._empty_at))]
        self._evictions += 1
        if self._evictions % _COMPACT_EVERY == 0:
            self._empty_at = dict(self._empty_at)
