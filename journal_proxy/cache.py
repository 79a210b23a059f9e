"""Finished invocations, kept in memory: a finished log never changes, so it is read once.

A link pasted into a busy channel brings many readers at once; after the first, they cost gatewayd
nothing.  The cache holds verified, masked entries of finished logs, bounded by what they really
cost in memory, least recently used first out; the ETag lets browsers revalidate with a ``304``.

The byte count is honest: each kept entry is counted by ``sys.getsizeof`` of every object it
holds (the tuple, its integers and strings), rounded up to CPython's 16-byte allocation unit, plus
its slot in the tuple of entries.  Before counting, an entry drops what the cache does not need
(the cursor, used only for the ETag) and shares its identifier and unit strings with the other
entries of the log, so a log of one-character lines costs about 200 bytes a line, not 600.
"""

from __future__ import annotations

import hashlib
import sys
from collections import OrderedDict
from dataclasses import dataclass

from .entry import Entry
from .ids import InvocationId
from .lifecycle import Status
from .types import Source

_POINTER = 8
_ALIGN = 16


def _size(obj: object) -> int:
    return (sys.getsizeof(obj) + _ALIGN - 1) // _ALIGN * _ALIGN


def _compact(entry: Entry, strings: dict[str, str]) -> tuple[Entry, int]:
    """The entry as the cache keeps it, and what it costs (shared strings counted once)."""
    identifier = strings.setdefault(entry.identifier, entry.identifier)
    unit = strings.setdefault(entry.unit, entry.unit)
    kept = entry._replace(identifier=identifier, unit=unit, cursor="")
    cost = _POINTER + _size(kept) + _size(kept.realtime_usec) + _size(kept.message)
    for name, value in kept.extra:
        cost += _size(name) + _size(value) + _size((name, value)) + _POINTER
    if kept.extra:
        cost += _size(kept.extra)
    if kept.lifecycle is not None:
        cost += 256  # a frozen dataclass with five short strings; only a handful per log
    return kept, cost


@dataclass(frozen=True, slots=True)
class CachedLog:
    status: Status
    entries: tuple[Entry, ...]
    etag: str
    size: int
    source: Source


class FinishedLogCache:
    """Bounded by ``max_bytes`` of honestly counted memory; a log over a quarter of it is served
    but not kept, so one huge log cannot evict everything else."""

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self.max_bytes = max_bytes
        #: Readers stop collecting a log for the cache past this many entries: an entry costs at
        #: least about 200 bytes, so a longer log could not fit in a quarter of the bound anyway.
        self.max_entries = max_bytes // 4 // 200
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
        digest = hashlib.sha256(invocation_id.encode())
        strings: dict[str, str] = {}
        kept: list[Entry] = []
        size = 1024  # the CachedLog, its status and the dictionary slot
        for e in entries:
            digest.update(e.cursor.encode())
            compact, cost = _compact(e, strings)
            kept.append(compact)
            size += cost
        size += sum(_size(s) for s in strings.values())
        log = CachedLog(status, tuple(kept), f'"{digest.hexdigest()[:20]}"', size, source)
        if size <= self.max_bytes // 4:
            self.drop(invocation_id)
            self._bytes += size
            self._logs[invocation_id] = log
            while self._bytes > self.max_bytes:
                _, evicted = self._logs.popitem(last=False)
                self._bytes -= evicted.size
        return log

    def drop(self, invocation_id: InvocationId) -> None:
        old = self._logs.pop(invocation_id, None)
        if old is not None:
            self._bytes -= old.size
