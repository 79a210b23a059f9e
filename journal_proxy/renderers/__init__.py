"""Renderers turn verified, masked entries into bytes for one output format.

Each renderer escapes for its own destination (terminal, JSON, SSE framing, HTML) and reads only
the public attributes of an entry, so nothing internal (cursors, trusted fields) can leak through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..entry import Entry
from ..lifecycle import Status
from ..types import EndReason, Source

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Renderer(Protocol):
    """One output format.  What differs between formats beyond the bytes lives here too, so no
    route asks which renderer it holds: extra ``headers``, a ``keepalive`` for idle live streams,
    and whether the format ``resumes`` from ``Last-Event-ID``."""

    content_type: str
    headers: Mapping[str, str]
    resumes: bool

    def start(self, status: Status, source: Source) -> bytes:
        """Bytes before the first entry (a header line, the top of the page)."""

    def entry(self, line: int, entry: Entry) -> bytes: ...

    def status(self, status: Status) -> bytes:
        """The status changed while streaming."""

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        """Last bytes; ``reason`` says why a follow stream stopped (None: the log simply ended)."""

    def keepalive(self) -> bytes:
        """Bytes that tell an idle live reader the stream is alive (b"" when the format has none)."""


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


#: Why a follow stream ended, in words (kept for renderers that look reasons up by value).
END_REASONS = {reason.value: reason.words for reason in EndReason}
