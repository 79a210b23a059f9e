"""What a log carries on its way to the web layer, for every layer that hands it on.

A log, however it is read (from the cache, from gatewayd now, or followed live), reaches the web
layer as one stream of :data:`Item`: numbered entries (one by one, or :data:`Lines` in batches),
status changes, and one :class:`Ended`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from journal_proxy.journal.entry import NumberedEntry
from journal_proxy.journal.lifecycle import Status


class EndReason(StrEnum):
    """Why a log stream stopped; the value is what JSON, SSE and metrics carry."""

    FINISHED = "finished"
    IDLE = "idle"
    MAX_DURATION = "max-duration"
    TOO_SLOW = "too-slow"
    SHUTDOWN = "shutdown"
    UPSTREAM = "upstream"
    TRUNCATED = "truncated"
    NO_VIEWERS = "no-viewers"
    REVOKED = "revoked"
    #: The proxy failed while writing the body (a bug, or a value no renderer can show): the
    #: headers were out, so the body ends with this rather than being cut (issue 26).
    INTERNAL = "internal-error"
    #: The run finished, and journald stored some of its last lines without the run's ID
    #: (:mod:`journal_proxy.journal.unlabelled`): a follow, asking by ID, never saw them, and they
    #: sit among systemd's last lines, so only the finished log, read again, shows them in place.
    REREAD = "reread"

    @property
    def words(self) -> str:
        """The reason for a person, in the text and the page."""
        return _END_WORDS[self]


_END_WORDS = {
    EndReason.FINISHED: "the invocation finished",
    EndReason.IDLE: "no new lines for too long",
    EndReason.MAX_DURATION: "the stream reached its maximum duration",
    EndReason.TOO_SLOW: "this reader fell too far behind",
    EndReason.SHUTDOWN: "the server is shutting down",
    EndReason.UPSTREAM: "the journal server stopped answering",
    EndReason.TRUNCATED: "the journal server sent a malformed entry",
    EndReason.NO_VIEWERS: "nobody was watching",
    EndReason.REVOKED: "this link was revoked",
    EndReason.INTERNAL: "the proxy failed to show the rest (an error on the server, logged there)",
    EndReason.REREAD: "the invocation finished; read the log again for its last lines",
}


@dataclass(frozen=True, slots=True)
class Source:
    """Which host served the log, and which could not be asked (only shown with several)."""

    host: str = ""
    unreachable: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"on {self.host}"] if self.host else []
        if self.unreachable:
            parts.append(f"could not ask {', '.join(self.unreachable)}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """systemd reported something new about the run while it was streamed."""

    status: Status


@dataclass(frozen=True, slots=True)
class Ended:
    """The last item of a stream; ``reason`` None means the log simply ended."""

    reason: EndReason | None
    status: Status


class Marker(StrEnum):
    """Signals for the writer that carry no log text."""

    FLUSH = "flush"  # send what is buffered now: a live reader is waiting for it
    KEEPALIVE = "keepalive"  # nothing new for a while: tell the connection we are here


@dataclass(frozen=True, slots=True)
class Seen:
    """Lines the reader already has (up to its ``Last-Event-ID``): not written, but observed by
    renderers that keep per-log state (steps), so the lines after them are numbered alike."""

    entries: Sequence[NumberedEntry]


#: Several numbered entries in a row, as one upstream read gave them: a big log's first read
#: passes each layer once per batch, not once per line.
Lines = list[NumberedEntry]

Item = NumberedEntry | Lines | StatusChanged | Ended | Marker | Seen
