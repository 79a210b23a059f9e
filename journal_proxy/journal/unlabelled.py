"""A finished run's lines that the journal did not label with its invocation ID.

journald (systemd 252) labels a line with ``_SYSTEMD_INVOCATION_ID`` by looking up the unit's
current invocation, a record PID 1 keeps only while the unit is active.  When a command ends
quickly, journald can read its last lines after that record is gone: they keep ``_SYSTEMD_UNIT``
and their ``_STREAM_ID`` but lose the invocation ID, and a query by invocation ID never sees them.
Under a real PID 1, ``sh -c 'echo out; echo err >&2; exit 3'`` as a oneshot lost both lines in 2
of 5 runs (tests/test_realsystemd.py): exactly the error a failed deploy's link is opened for.

A unit runs one invocation at a time, so a line of the run's unit with no invocation ID, read
after the run's last labelled line and no later than systemd's last line about the run, belongs
to it.  That is the rule here: asked once per read of a finished run, from the last labelled line
on, stopping at the first entry past the window (or after ``MAX_SCANNED`` entries).  Lines
labelled with any invocation ID, or of another unit, are never taken.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from journal_proxy.access.ids import InvocationId
from journal_proxy.errors import UpstreamProtocolError
from journal_proxy.journal.entry import Entry
from journal_proxy.journal.export_format import ExportParser, RawEntry
from journal_proxy.journal.verify import verify_unlabelled_entry
from journal_proxy.settings import UnitPins
from journal_proxy.upstream.gatewayd import GatewaydClient

#: Entries of the unit looked at past the last labelled line, at most: a bound on the cost.
MAX_SCANNED = 65536


def _realtime(raw: RawEntry) -> int:
    value = raw.fields.get(b"__REALTIME_TIMESTAMP", b"")
    return int(value) if value.isdigit() else 0


async def read_unlabelled(
    client: GatewaydClient,
    run: tuple[InvocationId, UnitPins, tuple[str, ...], int],
    unit: str,
    from_cursor: str,
    window_end: int,
) -> AsyncGenerator[list[Entry], None]:
    """The run's unlabelled lines of ``unit`` from ``from_cursor`` (its last labelled line, or
    systemd's first line about it) up to ``window_end`` (systemd's last line), a batch per read.
    ``run`` is the invocation, its pins, the public fields and the entry size limit."""
    invocation_id, pins, public_fields, max_entry_bytes = run
    parser = ExportParser(max_entry_bytes)
    scanned = 0
    async with client.entries([("_SYSTEMD_UNIT", unit)], from_cursor=from_cursor) as body:
        async for chunk in body:
            batch: list[Entry] = []
            for raw in parser.feed(chunk):
                if b"__CURSOR" not in raw.fields:
                    raise UpstreamProtocolError("entry without a cursor: the stream is corrupt")
                scanned += 1
                if _realtime(raw) > window_end or scanned > MAX_SCANNED:
                    if batch:
                        yield batch
                    return
                entry = verify_unlabelled_entry(raw, invocation_id, pins, public_fields)
                if entry is not None:
                    batch.append(entry)
            if batch:
                yield batch
