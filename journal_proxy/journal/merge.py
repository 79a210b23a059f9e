"""One order and one numbering for an invocation's log, whether it is read whole or followed live.

An invocation's log comes from two upstream feeds (``invocation_log`` says why): the unit's own
lines and systemd's lines about the run.  Each feed is in order on its own; :class:`Merge` puts
the two in one order, by time and then by the journal's sequence number, and numbers the result
from 1.  Line numbers are the ``#L`` anchors and the SSE event IDs a browser resumes from, so the
history read and the live hub must agree on every one of them: both use this class.

An entry is released once its place is certain: the other feed has shown an entry at or after
it, or has ended.  Live, a quiet feed must not hold the other back for ever, so an entry also
goes after ``hold_back`` seconds; reading history, ``hold_back`` is infinite and the order depends
only on the entries.  On a tie, systemd's line comes first.

gatewayd re-sends the entry a ``Range: entries=CURSOR:1:`` request starts from when it is the
newest one; an entry whose cursor is the last one seen from its feed is dropped here.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from enum import IntEnum

from journal_proxy.journal.entry import Entry, NumberedEntry, precedes


class Feed(IntEnum):
    """The two gatewayd reads of one invocation merged into one log: not a stdout stream
    (``Entry.stream``) nor a streamed response (``web.streaming``)."""

    UNIT = 0
    SYSTEM = 1


class Merge:
    """Merges the two feeds in order and numbers the lines; push entries, then ``release``."""

    def __init__(
        self,
        *,
        line: int = 0,
        hold_back: float = math.inf,
        last_cursors: tuple[str | None, str | None] = (None, None),
    ) -> None:
        #: The number of the last line released.
        self.line = line
        self._hold_back = hold_back
        self._queues: tuple[deque[tuple[Entry, float]], deque[tuple[Entry, float]]] = (
            deque(),
            deque(),
        )
        self._newest: list[Entry | None] = [None, None]
        self._ended = [False, False]
        #: Whether each feed's times never went back: then a whole queue's place is known from
        #: its last entry.  (A journal's time can go back; one such entry turns this off.)
        self._monotone = [True, True]
        self.last_cursors: list[str | None] = list(last_cursors)

    def push(self, feed: Feed, entry: Entry, now: float = 0.0) -> None:
        """Take the next entry of ``feed`` (arrived at ``now``)."""
        self.push_all(feed, (entry,), now)

    def push_all(self, feed: Feed, entries: Iterable[Entry], now: float = 0.0) -> None:
        """Take the next entries of ``feed`` (one upstream read's, arrived at ``now``).  The feed's
        state is read and written once for them all: a big log's first read pushes every line,
        and a call and five lookups of the feed's state a line were a tenth of a microsecond."""
        last_cursor = self.last_cursors[feed]
        newest = self._newest[feed]
        monotone = self._monotone[feed]
        append = self._queues[feed].append
        for entry in entries:
            cursor = entry.cursor
            if cursor and cursor == last_cursor:
                continue  # gatewayd's re-sent resume point
            last_cursor = cursor
            if newest is not None and entry.realtime_usec < newest.realtime_usec:
                monotone = False
            append((entry, now))
            newest = entry
        self.last_cursors[feed] = last_cursor
        self._newest[feed] = newest
        self._monotone[feed] = monotone

    def end(self, feed: Feed) -> None:
        """``feed`` has no more entries: nothing from it can come before the other's."""
        self._ended[feed] = True

    @property
    def ended(self) -> bool:
        return all(self._ended)

    def deadline(self) -> float | None:
        """When the oldest held entry must go anyway (None: nothing is held)."""
        arrived = [q[0][1] for q in self._queues if q]
        return min(arrived) + self._hold_back if arrived else None

    def release(self, now: float = 0.0) -> list[NumberedEntry]:
        """Every entry whose place is now certain, numbered, in order."""
        out: list[NumberedEntry] = []
        units, system = self._queues
        while units or system:
            if units and system:
                if (
                    self._ended[Feed.SYSTEM]
                    and self._monotone[Feed.UNIT]
                    and units[-1][0].realtime_usec < system[0][0].realtime_usec
                ):
                    # Reading history, systemd's closing lines wait while the unit's lines
                    # feed past them: every queued unit line is before them, in one go.
                    out.extend(self._drain(units))
                    continue
                feed = Feed.SYSTEM if precedes(system[0][0], units[0][0]) else Feed.UNIT
            else:
                feed = Feed.UNIT if units else Feed.SYSTEM
                other = 1 - feed
                if self._ended[other]:
                    # Nothing can come before these any more: the whole queue, in one go (most
                    # of a log once systemd's few lines are out).
                    out.extend(self._drain(self._queues[feed]))
                    break
                entry, arrived = self._queues[feed][0]
                newest = self._newest[other]
                if not (
                    (newest is not None and precedes(entry, newest))
                    or now - arrived >= self._hold_back
                ):
                    break
            entry, _ = self._queues[feed].popleft()
            self.line += 1
            out.append((self.line, entry))
        return out

    def _drain(self, queue: deque[tuple[Entry, float]]) -> list[NumberedEntry]:
        first = self.line + 1
        self.line += len(queue)
        out = [(line, entry) for line, (entry, _) in enumerate(queue, first)]
        queue.clear()
        return out
