"""Finished logs, kept as the bytes that were sent, gzip-compressed once.

A link pasted into a busy channel, or a deployment status that just turned red, brings many
readers within seconds; after the first, they cost gatewayd nothing.  What is kept is each
rendered format that was asked for (the page, text, JSON Lines), compressed with gzip: a typical
deploy log compresses to 15-25 %, so logs of 100,000 lines fit, and a client that accepts gzip
gets the kept bytes as they are.  The bound is on those bytes plus a fixed overhead per body, so
the count is what the memory really holds.  Least recently used first out; a body over a quarter of
the bound is served but not kept, so one huge log cannot evict everything else.

systemd writes a run's closing lines in one go, so a log is admitted as soon as it has finished
and the grace period for trailing lines has passed.  Its own output can still arrive late (through
``systemd-journal-upload``, without bound), so an early admission is provisional: the first request
after :data:`RECHECK_SECONDS` reads the log again, and the new bytes replace the old (same bytes,
same ETag, so revalidating browsers still get ``304``).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from journal_proxy.access.ids import InvocationId
from journal_proxy.journal.lifecycle import Status

#: How long after its finish a provisionally admitted log is read once more.
RECHECK_SECONDS = 60.0
#: What one kept body costs besides its bytes: the record, its key, the dictionary slot.
OVERHEAD_BYTES = 512


@dataclass(frozen=True, slots=True)
class CachedBody:
    """One format of one finished log: gzip bytes, and the ETag of the uncompressed bytes."""

    status: Status
    etag: str
    gzip: bytes
    recheck_after: float | None  # time.time() after which it is read again; None: final

    @property
    def size(self) -> int:
        return len(self.gzip) + OVERHEAD_BYTES


Key = tuple[InvocationId, str]


class FinishedLogCache:
    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[Key, CachedBody] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._bodies)

    @property
    def held(self) -> int:
        """Bytes held now, as counted against ``max_bytes``."""
        return self._bytes

    @property
    def max_body(self) -> int:
        return self.max_bytes // 4

    def admits(self, status: Status, grace: float, now: float | None = None) -> bool:
        """Finished, and the grace period for systemd's trailing lines is over (and the cache
        can hold a body at all: one configured to keep nothing records nothing)."""
        finished = status.finished_usec
        now = time.time() if now is None else now
        return finished is not None and now - finished / 1e6 >= grace and self.max_body > 0

    def get(self, invocation_id: InvocationId, variant: str) -> CachedBody | None:
        key = (invocation_id, variant)
        body = self._bodies.get(key)
        if body is None:
            return None
        if body.recheck_after is not None and time.time() >= body.recheck_after:
            return None  # read it once more; the new read replaces it
        self._bodies.move_to_end(key)
        return body

    def put(
        self, invocation_id: InvocationId, variant: str, status: Status, etag: str, gzip: bytes
    ) -> None:
        finished = (status.finished_usec or 0) / 1e6
        recheck = finished + RECHECK_SECONDS
        body = CachedBody(status, etag, gzip, recheck if time.time() < recheck else None)
        if body.size > self.max_body:
            return
        key = (invocation_id, variant)
        old = self._bodies.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        self._bodies[key] = body
        self._bytes += body.size
        while self._bytes > self.max_bytes:
            _, evicted = self._bodies.popitem(last=False)
            self._bytes -= evicted.size

    def drop(self, invocation_id: InvocationId) -> None:
        """Forget every format of one log (a revoked link)."""
        for key in [k for k in self._bodies if k[0] == invocation_id]:
            self._bytes -= self._bodies.pop(key).size
