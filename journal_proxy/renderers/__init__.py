"""Renderers turn verified, masked entries into bytes for one output format.

Each renderer escapes for its own destination (terminal, JSON, SSE framing, HTML) and reads only
the public attributes of an entry, so nothing internal (cursors, trusted fields) can leak through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Protocol

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.items import EndReason, Source
from journal_proxy.journal.lifecycle import Status
from journal_proxy.terminal.ansi import sanitize
from journal_proxy.triage.combined import Summary

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

    def seen(self, line: int, entry: Entry) -> None:
        """A line the reader already has (before ``Last-Event-ID``): write nothing, but keep
        per-log state (steps, groups) right for the lines that follow."""

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


def exit_status_value(text: str) -> int | str | None:
    """``EXIT_STATUS`` as JSON: a number.  systemd writes it as a number for exits and signals
    alike (``code=killed`` with ``15``, never ``TERM``), so a string appears only if a journal
    ever holds something else, and is then passed on as written rather than guessed at."""
    if not text:
        return None
    digits = text[1:] if text[0] == "-" else text
    if digits.isascii() and digits.isdigit() and len(digits) <= 10:
        return int(text)
    return text


def status_dict(status: Status) -> dict[str, object]:
    """The status as JSON and SSE carry it.  ``exit_status`` is a number (see
    :func:`exit_status_value`); ``exit_code`` (``exited``, ``killed``, ``dumped``) and ``result``
    (``exit-code``, ``signal``, ``timeout``, ...) are systemd's words."""
    return {
        "unit": status.unit,
        "state": status.state,
        "result": status.result or None,
        "exit_code": status.exit_code or None,
        "exit_status": exit_status_value(status.exit_status),
        "started": iso_time(status.started_usec),
        "finished": iso_time(status.finished_usec),
        "duration": status.duration_seconds,
        "description": status.describe(),
    }


def summary_dict(summary: Summary) -> dict[str, object]:
    """The triage of the lines sent, for the last line of JSON Lines and SSE's ``end`` event.
    ``failed_step`` is ``{"step": 2, "name": "deploy.sh"}`` or None; never a PID or stream ID."""
    failed: dict[str, object] | None = None
    if summary.failed_step is not None:
        failed = {"step": summary.failed_step, "name": sanitize(summary.failed_step_name)}
    return {"errors": summary.errors, "warnings": summary.warnings, "failed_step": failed}


#: JSON as JSON Lines and SSE write it: compact, non-ASCII log text kept as UTF-8 (``\uXXXX``
#: would grow it up to sixfold).  One encoder for every JSON the renderers write, so the formats'
#: bytes cannot drift apart.
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def last_resort_end(content_type: str, reason: EndReason) -> bytes:
    """The end of a body whose renderer failed even at its own ``end``: a last line in the
    format's own syntax, as its end lines look, that needs nothing of the log or its status (both
    may be what failed).  Chosen by content type, so every format has one without a method more."""
    kind = content_type.partition(";")[0].strip()
    if kind == "text/event-stream":
        return f"event: end\ndata: {compact_json({'reason': reason.value})}\n\n".encode()
    if kind == "application/x-ndjson":
        return (compact_json({"end": reason.value}) + "\n").encode()
    if kind == "text/html":
        return f'<p class="note">Log incomplete: {escape(reason.words)}.</p>\n'.encode()
    return f"# end of stream: {reason.words}\n".encode()


#: The start of every HTML document the proxy sends (log pages and error pages): the referrer
#: policy and robots rules repeat the headers', for copies saved to disk.
HTML_HEAD_START = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
"""
