"""Plain text for ``curl``: one entry per line, ``time identifier: message``.

Every line of the output is one of three kinds, told apart by how it starts, and log text can
only ever produce the third:

- ``# `` : the proxy's own lines (the ``# unit, status`` header, status changes, the end note);
- an ISO timestamp (``2026-11-25T21:30:13.123456Z``): the first line of an entry;
- ``  | `` (two spaces, a bar, a space): a continuation line of a multi-line message.

So a message cannot forge the header or another entry (systemd's ``Finished ...`` lines, say):
each of its line breaks is followed by the continuation marker.  Line breaks are LF and the
Unicode line and paragraph separators (U+2028, U+2029, which ``str.splitlines`` and some viewers
break on); every other control character is already gone (:func:`~journal_proxy.terminal.ansi.sanitize`).
An identifier is a label and always stays on its line: its line breaks become spaces.

Plain by default, because people ``grep`` this (``curl URL.txt | grep 'error: tests failed'``
must match a line that the script coloured): colour codes are removed.  A terminal user asks for
them with ``?color`` (:func:`journal_proxy.web.formats.wants_color`).  Either way a line that
redraws itself with carriage returns is written as its final state
(:func:`~journal_proxy.terminal.ansi.resolve_redraws`): a raw CR would send the reader's cursor back over
our timestamp, and ``grep`` would see every intermediate state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.items import EndReason, Source
from journal_proxy.journal.lifecycle import Status
from journal_proxy.renderers import iso_time
from journal_proxy.terminal.ansi import sanitize
from journal_proxy.terminal.styles import resolve_redraws, strip_sgr
from journal_proxy.triage.combined import Triage
from journal_proxy.triage.problems import NO_MATCHERS, ProblemMatchers

#: What each line break inside a message becomes: a continuation line starts with "  | ".
CONTINUATION = "\n  | "
_BREAK = re.compile("[\n\u2028\u2029]")
#: Everything :meth:`TextRenderer._shown` or a line break would change: control characters (ESC,
#: CR and TAB included) and the line separators.  Most lines hold none and are written as they
#: are, after one search instead of the five steps (issue 17: the first read of a big log).
_SHAPED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _summary(status: Status) -> str:
    parts = [status.unit or "?", status.describe()]
    if status.started_usec is not None:
        parts.append(f"started {iso_time(status.started_usec)}")
    if status.duration_seconds is not None:
        parts.append(f"took {status.duration_seconds:.1f}s")
    return ", ".join(parts)


class TextRenderer:
    content_type = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = {}
    resumes = False

    def __init__(self, *, color: bool = False, matchers: ProblemMatchers = NO_MATCHERS) -> None:
        self._color = color
        #: Counts errors and finds the failed step for the closing line; the header is written
        #: before any line is read (and kept as bytes in the cache), so it cannot say them.
        self._triage = Triage(matchers)
        #: Identifiers as shown: a log has a handful, repeated on every line.
        self._labels: dict[str, str] = {}

    def _shown(self, text: str) -> str:
        text = resolve_redraws(sanitize(text))
        return text if self._color else strip_sgr(text)

    def start(self, status: Status, source: Source) -> bytes:
        where = source.describe()
        return f"# {_summary(status)}{'; ' + where if where else ''}\n".encode()

    def entry(self, line: int, entry: Entry) -> bytes:
        self._triage.observe(line, entry)
        identifier = self._labels.get(entry.identifier)
        if identifier is None:
            identifier = self._label(entry.identifier)
        message = entry.message
        if _SHAPED.search(message) is not None:
            message = _BREAK.sub(CONTINUATION, self._shown(message))
        return f"{iso_time(entry.realtime_usec)} {identifier}: {message}\n".encode()

    def _label(self, raw: str) -> str:
        """An identifier as shown, on one line (remembered for the next lines)."""
        label = _BREAK.sub(" ", self._shown(raw))
        if len(raw) <= 256 and len(self._labels) < 64:
            self._labels[raw] = label
        return label

    def seen(self, line: int, entry: Entry) -> None:
        """Never called: this format does not resume."""

    def status(self, status: Status) -> bytes:
        return f"# status: {_summary(status)}\n".encode()

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        out = ""
        summary = self._triage.summary()
        found = summary.errors or summary.warnings or summary.failed_step is not None
        if found and status.finished and reason in (None, EndReason.FINISHED):
            # "# 2 errors, 1 warning; failed step 2: deploy.sh; cause: line 12: fatal: ...":
            # the step name and the cause are log text, on this one line
            words = summary.describe()
            if summary.cause is not None:
                words += "; " + summary.describe_cause()
            out = f"# {_BREAK.sub(' ', self._shown(words))}\n"
        if reason is not None:
            out += f"# end of stream: {reason.words}; {_summary(status)}\n"
        return out.encode()

    def keepalive(self) -> bytes:
        return b""
