"""Finished invocations, kept in memory: a finished log never changes, so it is read once.

A link pasted into a busy channel brings many readers at once; after the first, they cost gatewayd
nothing.  The cache holds verified, masked entries of small finished logs only, bounded by total
message size, least recently used first out; the ETag lets browsers revalidate with a ``304``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from .entry import Entry
from .ids import InvocationId
from .lifecycle import Status
from .renderers import Source


@dataclass(frozen=True, slots=True)
class CachedLog:
    status: Status
    entries: tuple[Entry, ...]
    etag: str
    size: int
    source: Source


class FinishedLogCache:
    def __init__(self, max_bytes: int = 64 << 20, max_entries: int = 20_000) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._logs: OrderedDict[InvocationId, CachedLog] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._logs)

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, invocation_id: InvocationId) -> CachedLog | None:
        log = self._logs.get(invocation_id)
        if log is not None:
            self._logs.move_to_end(invocation_id)
        return log

    def put(
        self, invocation_id: InvocationId, status: Status, entries: list[Entry], source: Source
    ) -> CachedLog:
        size = sum(len(e.message) + 64 for e in entries)
        digest = hashlib.sha256(invocation_id.encode())
        for e in entries:
            digest.update(e.cursor.encode())
        log = CachedLog(status, tuple(entries), f'"{digest.hexdigest()[:20]}"', size, source)
        if size <= self.max_bytes // 4:
            old = self._logs.pop(invocation_id, None)
            self._bytes += size - (old.size if old else 0)
            self._logs[invocation_id] = log
            while self._bytes > self.max_bytes:
                _, evicted = self._logs.popitem(last=False)
                self._bytes -= evicted.size
        return log
