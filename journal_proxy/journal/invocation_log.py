"""Reads one invocation's verified log from gatewayd, in order, with line numbers.

Two upstream queries make one log, because gatewayd ANDs matches on different fields and has no
OR across fields:

* the unit's own lines: ``_SYSTEMD_INVOCATION_ID=<id>`` (and ``_SYSTEMD_UNIT=`` when no glob);
* systemd's lines about it: ``INVOCATION_ID=<id>&_PID=1`` (and ``UNIT=``).

The second is small (a handful of lines) and is read first, whole, so the status is known before
the first byte is sent; the first is streamed and the two are merged by time.  For a finished
run, a third read takes the lines journald left without an invocation ID (:mod:`unlabelled`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from journal_proxy.access.ids import InvocationId
from journal_proxy.errors import InvocationNotFound, UpstreamProtocolError
from journal_proxy.journal.entry import Entry, NumberedEntry
from journal_proxy.journal.export_format import ExportParser, RawEntry
from journal_proxy.journal.lifecycle import Status, StatusTracker
from journal_proxy.journal.merge import Feed, Merge
from journal_proxy.journal.unlabelled import read_unlabelled
from journal_proxy.journal.verify import verify_lifecycle_entry, verify_unit_entry
from journal_proxy.settings import Limits, UnitPins
from journal_proxy.upstream.gatewayd import GatewaydClient, Match

Verifier = Callable[[RawEntry, InvocationId, UnitPins, tuple[str, ...]], Entry | None]


@dataclass(slots=True)
class Counters:
    """What the readers dropped or passed, for /metrics."""

    dropped: int = 0
    entries: int = 0


@dataclass(frozen=True, slots=True)
class InvocationQuery:
    """Everything needed to ask for one invocation; built from validated input only."""

    invocation_id: InvocationId
    pins: UnitPins
    public_fields: tuple[str, ...]
    limits: Limits
    counters: Counters = field(default_factory=Counters, compare=False)

    def unit_matches(self) -> list[Match]:
        matches = [("_SYSTEMD_INVOCATION_ID", str(self.invocation_id))]
        matches += [("_SYSTEMD_UNIT", u) for u in self.pins.exact_names or ()]
        return matches

    def lifecycle_matches(self) -> list[Match]:
        matches = [("INVOCATION_ID", str(self.invocation_id)), ("_PID", "1")]
        matches += [("UNIT", u) for u in self.pins.exact_names or ()]
        return matches


async def verified_batches(
    client: GatewaydClient,
    query: InvocationQuery,
    matches: Sequence[Match],
    verifier: Verifier,
    *,
    follow: bool = False,
    after_cursor: str | None = None,
) -> AsyncGenerator[list[Entry], None]:
    """Stream entries from gatewayd, parsed incrementally and each one verified; one list per
    chunk read (never empty), so the layers above pay their per-step cost once per chunk, not
    once per line (a big log's first read is bound by that cost, issue 17).

    With ``after_cursor``, gatewayd is asked to skip the cursor's entry, but when that entry is
    the newest one it still sends it (its skip moves as far as it can); :class:`Merge` drops it.
    """
    parser = ExportParser(query.limits.max_entry_bytes)
    counters = query.counters
    invocation_id, pins, public = query.invocation_id, query.pins, query.public_fields
    async with client.entries(matches, follow=follow, after_cursor=after_cursor) as body:
        async for chunk in body:
            batch: list[Entry] = []
            corrupt = False
            for raw in parser.feed(chunk):
                if b"__CURSOR" not in raw.fields:  # gatewayd writes a cursor first in every entry
                    corrupt = True
                    break
                entry = verifier(raw, invocation_id, pins, public)
                if entry is None:
                    counters.dropped += 1
                else:
                    batch.append(entry)
            if batch:  # what was valid before a corrupt entry still reaches the reader
                counters.entries += len(batch)
                yield batch
            if corrupt:
                raise UpstreamProtocolError("entry without a cursor: the stream is corrupt")
        parser.finish()


async def one_by_one(batches: AsyncGenerator[list[Entry], None]) -> AsyncGenerator[Entry, None]:
    """:func:`verified_batches` one entry at a time, for the live and the short reads."""
    async with aclosing(batches):
        async for batch in batches:
            for entry in batch:
                yield entry


async def read_lifecycle(
    client: GatewaydClient, query: InvocationQuery, after_cursor: str | None = None
) -> list[Entry]:
    """systemd's lines about the invocation; bounded, since PID 1 writes only a few per run."""
    out: list[Entry] = []
    batches = verified_batches(
        client, query, query.lifecycle_matches(), verify_lifecycle_entry, after_cursor=after_cursor
    )
    stream = one_by_one(batches)
    async with aclosing(stream):
        async for entry in stream:
            out.append(entry)
            if len(out) >= query.limits.lifecycle_entries:
                break
    return out


def initial_status(lifecycle: Sequence[Entry], first: Entry | None) -> Status:
    tracker = StatusTracker()
    merged = sorted([*lifecycle, *([first] if first else [])], key=lambda e: e.order_key)
    for entry in merged:
        tracker.observe(entry.realtime_usec, entry.unit, entry.lifecycle)
    return tracker.status


class InvocationLog:
    """An open, ordered log.  ``status`` is known before iterating; iterate once, a batch of
    numbered entries at a time.

    ``merge`` holds the numbering; once the log is read, its line count and last cursors are
    where a live follow carries on.
    """

    def __init__(
        self, status: Status, merge: Merge, numbered: AsyncGenerator[list[NumberedEntry], None]
    ) -> None:
        self.status = status
        self.merge = merge
        self._numbered = numbered

    def __aiter__(self) -> AsyncIterator[list[NumberedEntry]]:
        return self._numbered

    async def aclose(self) -> None:
        await self._numbered.aclose()


async def open_log(client: GatewaydClient, query: InvocationQuery) -> InvocationLog:
    """Read the lifecycle lines, peek the first unit lines, and return the merged log.

    Raises :class:`InvocationNotFound` when neither query has a verified entry, so the route can
    still answer 404 before sending anything.  Call ``aclose()`` on the result when done.
    """
    lifecycle = await read_lifecycle(client, query)
    units = verified_batches(client, query, query.unit_matches(), verify_unit_entry)
    try:
        first = await anext(units, None)
    except BaseException:
        await units.aclose()
        raise
    if first is None and not lifecycle:
        await units.aclose()
        raise InvocationNotFound(query.invocation_id)
    merge = Merge()
    merge.push_all(Feed.SYSTEM, lifecycle)
    merge.end(Feed.SYSTEM)
    status = initial_status(lifecycle, first[0] if first else None)
    tail = _Tail(client, query, lifecycle) if status.finished and lifecycle else None
    return InvocationLog(status, merge, _numbered(first, units, merge, tail))


@dataclass(frozen=True, slots=True)
class _Tail:
    """What reading a finished run's unlabelled lines needs, once its labelled ones are read."""

    client: GatewaydClient
    query: InvocationQuery
    lifecycle: Sequence[Entry]

    def read(self, last_unit_entry: Entry | None) -> AsyncGenerator[list[Entry], None]:
        """From the last labelled line (else systemd's first line about the run) to systemd's
        last line about it."""
        q = self.query
        start = last_unit_entry or self.lifecycle[0]
        return read_unlabelled(
            self.client,
            (q.invocation_id, q.pins, q.public_fields, q.limits.max_entry_bytes),
            self.lifecycle[0].unit,
            start.cursor,
            max(e.realtime_usec for e in self.lifecycle),
        )


async def _numbered(
    first: list[Entry] | None,
    units: AsyncGenerator[list[Entry], None],
    merge: Merge,
    tail: _Tail | None,
) -> AsyncGenerator[list[NumberedEntry], None]:
    last: Entry | None = None
    async with aclosing(units):
        batch = first
        while batch is not None:
            merge.push_all(Feed.UNIT, batch)
            last = batch[-1]
            released = merge.release()
            if released:
                yield released
            batch = await anext(units, None)
    if tail is not None:
        async with aclosing(tail.read(last)) as unlabelled:
            async for batch in unlabelled:
                merge.push_all(Feed.UNIT, batch)
                released = merge.release()
                if released:
                    yield released
    merge.end(Feed.UNIT)
    released = merge.release()
    if released:
        yield released
