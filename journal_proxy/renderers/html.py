"""The log page, streamed: the header first, then the lines as they arrive.

Every piece of log text goes through :func:`html.escape`; ANSI colours become classes from a fixed
vocabulary (no inline ``style``, which the Content-Security-Policy forbids anyway: 256-colour and
24-bit colours are classes too, see :func:`journal_proxy.terminal.styles.nearest_palette_index`).  An
http(s) URL in a message becomes ``<a href>`` with ``rel="noopener noreferrer nofollow"``; its
``href`` is the escaped URL text itself, which :data:`journal_proxy.renderers.urls.URL_RE` only matches
when it starts with ``http://`` or ``https://``, so no other scheme can become a link.  The page
works without JavaScript; ``app.js`` adds live lines, search, anchors and the view switches.

Big logs: the first :data:`CHUNK_LINES` lines are ordinary elements, so the first screen shows at
once.  Every later block of lines is written inside ``<noscript class="chunk">``.  Without
JavaScript that is ordinary markup and the whole log shows; with JavaScript the browser keeps it as
one inert text node instead of building elements, and ``app.js`` turns a block into elements only
when it comes near the screen.  Measured on a 100,000-line page in Chromium: about 0.9 s to load
instead of 2.0-2.4 s.  Log text cannot end a ``<noscript>`` early: its ``<`` is always escaped.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from html import escape
from types import MappingProxyType

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.items import EndReason, Source
from journal_proxy.journal.lifecycle import Status, duration_words
from journal_proxy.renderers import HTML_HEAD_START, iso_time
from journal_proxy.renderers.urls import to_parts
from journal_proxy.terminal.ansi import sanitize, to_spans
from journal_proxy.terminal.styles import resolve_redraws, strip_sgr
from journal_proxy.triage.combined import LineInfo, Summary, Triage
from journal_proxy.triage.problems import NO_MATCHERS, ProblemMatchers
from journal_proxy.triage.steps import GroupSpan, StepSpan

#: Lines per block; each block is skipped by layout while off screen (``content-visibility``).
CHUNK_LINES = 500
_FIRST_TO_LAZY = '</div>\n<noscript class="chunk">\n'
_LAZY_TO_LAZY = '</noscript>\n<noscript class="chunk">\n'
#: A link's ``rel``: the target learns nothing of the page (the URL is the capability).
LINK_REL = "noopener noreferrer nofollow"
_NO_ICONS: Mapping[str, str] = MappingProxyType({})


def _badge(status: Status) -> str:
    return escape(status.describe())


def _duration(status: Status) -> str:
    d = status.duration_seconds
    if d is None:
        return "running" if status.state == "running" else "unknown"
    return duration_words(d)


def _part_html(classes: str, text: str, href: str | None) -> str:
    if href is not None:
        # One fixed shape, which app.js's block reader matches exactly (PART_RE).
        return f'<a class="{classes}" href="{escape(href)}" rel="{LINK_REL}">{escape(text)}</a>'
    if classes:
        return f'<span class="{classes}">{escape(text)}</span>'
    return escape(text)


def _message_html(message: str) -> str:
    if "://" not in message:  # no URL: the common case, without the link search
        return "".join(
            f'<span class="{c}">{escape(t)}</span>' if c else escape(t)
            for c, t in to_spans(message)
        )
    return "".join(_part_html(c, t, h) for c, t, h in to_parts(message))


def _plain_identifier(identifier: str) -> str:
    """An identifier as a label: no colours, no redraws (it is drawn by the stylesheet)."""
    return strip_sgr(resolve_redraws(sanitize(identifier)))


@functools.lru_cache(maxsize=256)
def _short_identifier_html(identifier: str) -> str:
    return escape(_plain_identifier(identifier))


def _identifier_html(identifier: str) -> str:
    """A log has a few identifiers, repeated on every line: a short one is escaped once and
    remembered; a long one (log text, so possibly huge) is escaped every time, never kept."""
    if len(identifier) <= 64:
        return _short_identifier_html(identifier)
    return escape(_plain_identifier(identifier))


def _triaged(entry: Entry, info: LineInfo) -> tuple[str, str, str]:
    """Classes, extra attributes and content of a group marker or a problem line."""
    classes = f"l p{entry.priority}" + (" sys" if entry.lifecycle is not None else "")
    level = info.level
    if level is not None:
        annotation = info.annotation
        if annotation is not None and annotation.part and level == "error":
            classes += " ec"  # a later line of a multi-line error: part of it, not another
        else:
            classes += " e" if level == "error" else " w"
    marker = info.marker
    if marker is not None:
        if marker.kind == "start":
            style = {"expanded": " gx", "quiet": " gq"}.get(marker.style, "")
            classes += " gh" + style
            return classes, f' data-group="{info.group}"', _message_html(marker.title)
        return classes + " gm", f' data-group="{info.group}"', ""
    annotation = info.annotation
    if annotation is None or annotation.message is None:
        return classes, "", _message_html(entry.message)
    head = ""
    if annotation.location:
        head += f'<span class="al">{_identifier_html(annotation.location)}</span> '
    title = annotation.param("title")
    if title:
        head += f'<span class="at">{_identifier_html(title)}</span> '
    return classes, "", head + _message_html(annotation.message)


def _span_attrs(span: StepSpan | GroupSpan) -> str:
    start, end = iso_time(span.first_usec) or "", iso_time(span.end_usec) or ""
    return (
        f'data-first="{span.first_line}" data-last="{span.last_line}" data-start="{start}" '
        f'data-end="{end}" data-errors="{span.errors}" data-warnings="{span.warnings}"'
    )


def _index(summary: Summary) -> str:
    """The steps, groups and problems of the whole page, which app.js reads (hidden)."""
    failed = "" if summary.failed_step is None else str(summary.failed_step)
    errors = " ".join(map(str, summary.error_lines))
    warnings = " ".join(map(str, summary.warning_lines))
    steps = "".join(
        f'<li data-step="{s.number}" {_span_attrs(s)}>{_identifier_html(s.name)}</li>'
        for s in summary.steps
    )
    groups = "".join(
        f'<li data-group="{g.number}" data-step="{g.step}" {_span_attrs(g)} '
        f'data-style="{g.style}" data-expanded="{"true" if g.expanded else "false"}">'
        f"{_identifier_html(g.title)}</li>"
        for g in summary.groups
    )
    cause = last = ""
    if summary.cause is not None:
        cause, last = str(summary.cause.first), str(summary.cause.last)
    shown = " ".join(map(str, summary.shown))
    return (
        f'<nav id="triage" aria-label="Steps and problems" hidden data-errors="{summary.errors}" '
        f'data-warnings="{summary.warnings}" data-failed-step="{failed}" '
        f'data-error-lines="{errors}" data-warning-lines="{warnings}" '
        f'data-cause="{cause}" data-cause-last="{last}" data-shown="{shown}">\n'
        f'<ol class="steps">{steps}</ol>\n<ol class="groups">{groups}</ol>\n</nav>\n'
    )


#: The page's tools; ``{raw}`` is the text view's name.  Phones: see style.css (one row that
#: scrolls sideways under the search box; "Range" stands in for Shift-click).
_TOOLS = """<nav class="tools" aria-label="Log tools">
<label class="search"><span class="sr">Search the log</span><input id="search" type="search" placeholder="Search" autocomplete="off"></label>
<span id="matches" aria-live="polite"></span>
<label><input id="filter" type="checkbox"> Only matches</label> <label><input id="regex" type="checkbox"> Regex</label> <label><input id="case" type="checkbox"> Case</label>
<button id="wrap" type="button" aria-pressed="true">Wrap</button>
<button id="times" type="button" title="Timestamps: clock time, time since the start, or none">Time</button>
<button id="tz" type="button" aria-pressed="false" title="Switch between UTC and local time">UTC</button>
<button id="range" type="button" aria-pressed="false" title="Tap a first and a last line number to link to a range">Range</button>
<button id="copy" type="button" disabled>Copy link to line</button>
<span id="counts" role="status"></span>
<a href="{raw}{query}">Raw</a>
<a href="{raw}{query}" download="{raw}">Download</a>
</nav>
</header>
"""
_LOG_OPEN = """<main id="log" aria-label="Log output" aria-describedby="keys" tabindex="0">
<p id="keys" class="sr">Keys: / or Ctrl+F search, Enter and Shift+Enter go to the next and previous match; e and Shift+E go to the next and previous error. In the log, the arrow keys move between lines, Enter links to a line and Shift+Enter to a range; on a group header line, Left folds and Right unfolds it. Each step and group header has a fold button.</p>
<div class="chunk">
"""


class HtmlRenderer:
    content_type = "text/html; charset=utf-8"
    headers: Mapping[str, str] = {}
    resumes = False

    def __init__(
        self,
        invocation_id: str,
        css_url: str,
        js_url: str,
        icon_url: str,
        state_icons: Mapping[str, str] = _NO_ICONS,
        link_query: str = "",
        matchers: ProblemMatchers = NO_MATCHERS,
    ) -> None:
        """``state_icons``: favicon URLs by final state (``succeeded``, ``failed``), which app.js
        switches to when a live run ends, so a background tab shows the outcome.  ``link_query``:
        a signed link's checked ``?exp=...&sig=...`` (:func:`journal_proxy.access.signing.link_query`),
        carried on to the Raw and Download links."""
        self._id = invocation_id
        self._icon = icon_url
        self._state_icons = state_icons
        self._css = css_url
        self._js = js_url
        self._query = link_query
        self._lines = 0
        #: Observes every line from line 1 (the page never resumes), so its steps are exact.
        self.triage = Triage(matchers)

    def start(self, status: Status, source: Source) -> bytes:
        tools = _TOOLS.format(
            raw=f"{self._id}.txt", query=escape(self._query)
        )  # the ID is 32 checked hex digits
        return (self._head(status) + self._header(status, source) + tools + _LOG_OPEN).encode()

    def _head(self, status: Status) -> str:
        icons = "".join(
            f' data-{escape(state)}="{escape(url)}"' for state, url in self._state_icons.items()
        )
        return f"""{HTML_HEAD_START}<title>{escape(status.unit or "unknown unit")} · {_badge(status)}</title>
<link id="icon" rel="icon" href="{self._icon}" type="image/svg+xml"{icons}>
<link rel="stylesheet" href="{self._css}">
<script type="module" src="{self._js}"></script>
</head>
"""

    def _header(self, status: Status, source: Source) -> str:
        unit = escape(status.unit or "unknown unit")
        started = iso_time(status.started_usec) or ""
        state = escape(status.state)
        host = f"<div><dt>Host</dt><dd>{escape(source.host)}</dd></div>" if source.host else ""
        unreachable = ", ".join(source.unreachable)
        note = (
            f'<p class="note" role="status">Could not ask: {escape(unreachable)}.</p>\n'
            if unreachable
            else ""
        )
        return f"""<body data-state="{state}">
<a class="skip" href="#log">Skip to log</a>
<header class="top">
<div class="title">
<h1 class="unit">{unit}</h1>
<span id="status" class="badge s-{state}" role="status" aria-live="polite">{_badge(status)}</span>
</div>
<dl class="meta">
<div><dt>Started</dt><dd><time id="started" datetime="{started}">{started.replace("T", " ")[:19]}</time></dd></div>
<div><dt>Duration</dt><dd id="duration" aria-live="off">{_duration(status)}</dd></div>
<div><dt>Invocation</dt><dd><code>{self._id}</code></dd></div>
{host}
</dl>
{note}"""

    def entry(self, line: int, entry: Entry) -> bytes:
        # One element per line, with the message as its content: the line number, time and
        # identifier are attributes the stylesheet shows (::before, ::after).  A 100,000-line page
        # is a million fewer nodes for the browser to build than with an element per column.
        info = self.triage.observe(line, entry)
        iso = iso_time(entry.realtime_usec) or ""
        sep = ""
        if self._lines and self._lines % CHUNK_LINES == 0:
            sep = _FIRST_TO_LAZY if self._lines == CHUNK_LINES else _LAZY_TO_LAZY
        self._lines += 1
        if info.step_start:
            sep += (
                f'<div class="sh" id="S{info.step}" data-step="{info.step}" data-first="{line}">'
                f"{_identifier_html(info.step_name)}</div>\n"
            )
        ident = _identifier_html(entry.identifier)
        if info.marker is None and info.annotation is None:
            kind = " sys" if entry.lifecycle is not None else ""
            return (
                f'{sep}<div id="L{line}" class="l p{entry.priority}{kind}" data-n="{line}" '
                f'data-t="{iso}" data-h="{iso[11:23]} {ident}">{_message_html(entry.message)}</div>\n'
            ).encode()
        classes, extra, content = _triaged(entry, info)
        return (
            f'{sep}<div id="L{line}" class="{classes}" data-n="{line}" data-t="{iso}" '
            f'data-h="{iso[11:23]} {ident}"{extra}>{content}</div>\n'
        ).encode()

    def seen(self, line: int, entry: Entry) -> None:
        """Never called: this format does not resume."""

    def status(self, status: Status) -> bytes:
        return b""

    def end(self, status: Status, reason: EndReason | None) -> bytes:
        note = ""
        if reason is not None and reason != "finished":
            note = f'<p class="note">Log incomplete: {escape(reason.words)}.</p>'
        empty = '<p class="note">No lines yet.</p>' if self._lines == 0 else ""
        close = "</noscript>" if self._lines > CHUNK_LINES else "</div>"
        return (
            f"{close}\n{empty}{note}</main>\n{_index(self.triage.summary())}"
            '<button id="newlines" class="newlines" type="button" hidden></button>\n'
            '<footer><span id="live" aria-live="polite"></span></footer>'
            "\n</body>\n</html>\n"
        ).encode()

    def keepalive(self) -> bytes:
        return b""
