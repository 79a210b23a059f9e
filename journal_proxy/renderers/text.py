"""Plain text for ``curl``: one entry per line, ``time identifier: message``."""

from __future__ import annotations

from ..ansi import sanitize
from ..entry import Entry
from ..lifecycle import Status
from . import END_REASONS, Source, iso_time


def _summary(status: Status) -> str:
    parts = [status.unit or "?", status.describe()]
    if status.started_usec is not None:
        parts.append(f"started {iso_time(status.started_usec)}")
    if status.duration_seconds is not None:
        parts.append(f"took {status.duration_seconds:.1f}s")
    return ", ".join(parts)


class TextRenderer:
    content_type = "text/plain; charset=utf-8"

    def start(self, status: Status, source: Source) -> bytes:
        where = source.describe()
        return f"# {_summary(status)}{'; ' + where if where else ''}\n".encode()

    def entry(self, line: int, entry: Entry) -> bytes:
        return (
            f"{iso_time(entry.realtime_usec)} {sanitize(entry.identifier)}: "
            f"{sanitize(entry.message)}\n"
        ).encode()

    def status(self, status: Status) -> bytes:
        return f"# status: {_summary(status)}\n".encode()

    def end(self, status: Status, reason: str | None) -> bytes:
        if reason is None:
            return b""
        why = END_REASONS.get(reason, reason)
        return f"# end of stream: {why}; {_summary(status)}\n".encode()
