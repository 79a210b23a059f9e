"""Renderers turn verified, masked entries into bytes for one output format.

Each renderer escapes for its own destination (terminal, JSON, SSE framing, HTML) and reads only
the public attributes of an entry, so nothing internal (cursors, trusted fields) can leak through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..entry import Entry
from ..lifecycle import Status

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


class Renderer(Protocol):
    content_type: str

    def start(self, status: Status, source: Source) -> bytes:
        """Bytes before the first entry (a header line, the top of the page)."""

    def entry(self, line: int, entry: Entry) -> bytes: ...

    def status(self, status: Status) -> bytes:
        """The status changed while streaming."""

    def end(self, status: Status, reason: str | None) -> bytes:
        """Last bytes; ``reason`` says why a follow stream stopped (None: the log simply ended)."""


_last_second: list[object] = [None, ""]


def iso_time(usec: int | None) -> str | None:
    """ISO 8601 UTC with microseconds: ``2026-11-25T21:30:13.123456Z``.

    Consecutive entries mostly share their second, so the formatted second is reused.
    """
    if usec is None:
        return None
    seconds, micro = divmod(usec, 1_000_000)
    if _last_second[0] != seconds:
        text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second[:] = [seconds, text]
    return f"{_last_second[1]}.{micro:06d}Z"


def status_dict(status: Status) -> dict[str, object]:
    return {
        "unit": status.unit,
        "state": status.state,
        "result": status.result or None,
        "exit_code": status.exit_code or None,
        "exit_status": status.exit_status or None,
        "started": iso_time(status.started_usec),
        "finished": iso_time(status.finished_usec),
        "duration": status.duration_seconds,
        "description": status.describe(),
    }


END_REASONS = {
    "finished": "the invocation finished",
    "idle": "no new lines for too long",
    "max-duration": "the stream reached its maximum duration",
    "too-slow": "this reader fell too far behind",
    "shutdown": "the server is shutting down",
    "upstream": "the journal server stopped answering",
    "truncated": "the journal server sent a malformed entry",
}
