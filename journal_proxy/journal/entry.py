"""The verified entry: what is left of a journal entry once it is known to belong to the link."""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from journal_proxy.journal.lifecycle import LifecycleEvent


class Entry(NamedTuple):
    """One verified log entry.  A named tuple, not a dataclass: one is built per log line, and a
    tuple is several times cheaper to build than a frozen dataclass; it is just as immutable.

    Renderers read only the public attributes named in their own code.  ``cursor`` is internal: it
    lets the proxy resume an upstream stream, and it never leaves the process, since a journal
    cursor embeds the boot ID and the journal's sequence-number ID.

    ``stream`` is internal too: the trusted ``_STREAM_ID`` of the stdout stream that wrote the line
    ("" for systemd's own lines and for lines logged without a stream).  Every command systemd
    starts for the unit (``ExecStartPre=``, ``ExecStart=``, ...) gets its own stream, so a change
    of stream is where a new step begins (:mod:`journal_proxy.triage.steps`).  The lines of one stream
    share one string (``verify``), and no renderer ever writes it.
    """

    realtime_usec: int
    priority: int
    identifier: str
    message: str
    unit: str
    extra: tuple[tuple[str, str], ...]
    lifecycle: LifecycleEvent | None
    cursor: str
    stream: str = ""

    @property
    def order_key(self) -> tuple[int, int]:
        """How two entries from different upstream streams are put in one order: by time, then
        by the journal's sequence number (``i=`` in the cursor).  Computed only when merging."""
        seqnum = 0
        for part in self.cursor.split(";"):
            if part.startswith("i="):
                with contextlib.suppress(ValueError):
                    seqnum = int(part[2:], 16)
                break
        return (self.realtime_usec, seqnum)


def precedes(a: Entry, b: Entry) -> bool:
    """``a.order_key <= b.order_key``, reading the cursors only when the times are equal."""
    if a.realtime_usec != b.realtime_usec:
        return a.realtime_usec < b.realtime_usec
    return a.order_key <= b.order_key


#: An entry with its 1-based position in the invocation's log (``#L42``, SSE ``id: 42``).
NumberedEntry = tuple[int, Entry]
