"""The page's vocabulary: the class names, ``data-*`` attributes and ``jp:*`` events that the
server's markup, the page's JavaScript (``static/app.js``, ``static/js/*.js``) and its stylesheet
(``static/style.css``) share, each written down once with what it marks and who puts it there.

Who: :data:`SERVER` (the markup of ``renderers/html.py``, the SGR runs of ``terminal/styles.py``,
the error pages of ``web/responses.py``), :data:`JS` (the page's script only) or :data:`BOTH`
(the server writes it, and the script writes it too on what it builds: live lines, chunks, the
status after a change).  The stylesheet never adds a name, it only reads them.

Names made from a number or a state (a priority, a colour, the run's state) are patterns: a
regular expression that the whole name matches.  ``tests/test_class_vocabulary.py`` holds this
module, the stylesheet, the script and the rendered pages to one another: every name used is
here, and every name here is used.  Pure data: nothing here is read at run time.
"""

from typing import NamedTuple

#: The server's markup writes it.
SERVER = "server"
#: Only the page's script writes it.
JS = "js"
#: The server writes it, and the script writes it too on what it builds.
BOTH = "both"


class Term(NamedTuple):
    """One name of the vocabulary: who puts it on the page, and what it marks."""

    side: str
    means: str


#: Class names, by name.
CLASSES: dict[str, Term] = {
    # The header.
    "skip": Term(SERVER, "the 'Skip to log' link, off screen until it has the focus"),
    "top": Term(SERVER, "the page's sticky header (the log page's and an error page's)"),
    "title": Term(SERVER, "the header's first row: the unit's name and the status badge"),
    "unit": Term(SERVER, "the unit's name (h1), which the script reads for the tab's title"),
    "badge": Term(BOTH, "the run's status badge; the script rewrites it when the state changes"),
    "meta": Term(SERVER, "the run's facts under the title (started, duration, invocation, host)"),
    "tools": Term(SERVER, "the row of tools: search, switches, copy, raw and download links"),
    "search": Term(
        SERVER, "the search box's label, which stays at the left of the tools on a phone"
    ),
    "sr": Term(SERVER, "text for screen readers only (the search label, the keys' help)"),
    "has-errors": Term(JS, "the error and warning counts when there is an error"),
    # The log.
    "chunk": Term(BOTH, "a chunk of lines (renderers/html.py's CHUNK_LINES; chunks.js builds it)"),
    "lazy": Term(JS, "a block not built yet: a placeholder of its lines' height"),
    "note": Term(SERVER, "a remark in the log: no lines yet, or why the log is incomplete"),
    "newlines": Term(SERVER, "the 'N new lines' button of a followed log"),
    "l": Term(BOTH, "one log line (number, time and identifier drawn from its data-*)"),
    "sys": Term(BOTH, "a line systemd itself wrote about the unit (lifecycle; SSE 'system')"),
    "e": Term(BOTH, "an error line (and, in the failure summary, an error's text)"),
    "ec": Term(BOTH, "a later line of a multi-line error, such as a traceback (SSE 'part')"),
    "w": Term(BOTH, "a warning line"),
    "al": Term(BOTH, "an annotation's location (file:line:col) before its message"),
    "at": Term(BOTH, "an annotation's title before its message"),
    "sh": Term(BOTH, "a step header: the command systemd ran next (not a line)"),
    "gh": Term(BOTH, "a group header line (the group's start marker, shown as its title)"),
    "gx": Term(BOTH, "an expanded group's header ('+++'): open by default"),
    "gq": Term(BOTH, "a quiet group's header: shown muted"),
    "gm": Term(BOTH, "a group's end or reopen marker: a line that is never shown"),
    "steps": Term(SERVER, "the hidden index's list of steps, which the script reads"),
    "groups": Term(SERVER, "the hidden index's list of groups, which the script reads"),
    "fold": Term(JS, "a step or group header's fold button"),
    "sm": Term(JS, "a header's line count, duration and problems, drawn from its data-meta"),
    "fo": Term(JS, "a line hidden because its step or group is folded"),
    "hl": Term(JS, "a line of the #L anchor's range"),
    "xm": Term(JS, "the line last gone to (a link, the next error, a search match)"),
    "cur": Term(JS, "the keyboard's line cursor"),
    "hit": Term(JS, "a line the search matches"),
    # The failure summary.
    "st": Term(JS, "a line's text in the failure summary"),
    "cause": Term(JS, "the failure summary's list of the cause's lines"),
    # The body, as the reader's switches set it.
    "filtering": Term(JS, "on the body: only the search's matches are shown"),
    "nowrap": Term(JS, "on the body: long lines do not wrap, the page scrolls sideways"),
    "times-off": Term(JS, "on the body: the time column is hidden"),
    # SGR attributes of a text run (terminal/styles.py).
    "b": Term(SERVER, "SGR bold"),
    "d": Term(SERVER, "SGR dim"),
    "i": Term(SERVER, "SGR italic"),
    "u": Term(SERVER, "SGR underline"),
    "s": Term(SERVER, "SGR strike-through"),
    "rf": Term(SERVER, "SGR reverse video with the default colour: text in the page's background"),
    "rg": Term(SERVER, "SGR reverse video with the default colour: background in the page's text"),
}

#: 0-255, as a regular expression.
_BYTE = r"(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])"
#: The run's states (``journal/lifecycle.py``'s State).
_STATE = r"(?:running|succeeded|failed)"

#: Class names made from a number or a state: a regular expression the whole name matches.
CLASS_PATTERNS: dict[str, Term] = {
    r"p[0-7]": Term(BOTH, "a line's syslog priority, 0 (emerg) to 7 (debug); 0-3 red, 4 amber"),
    "f" + _BYTE: Term(
        SERVER, "an SGR foreground colour: 0-15 the theme's, 16-255 xterm's (24-bit quantised)"
    ),
    "g" + _BYTE: Term(SERVER, "an SGR background colour, numbered as the foreground's"),
    "s-" + _STATE: Term(BOTH, "the status badge's colour: the run's state"),
}

#: ``data-*`` attributes, by name.
DATA: dict[str, Term] = {
    "data-state": Term(BOTH, "on the body: the run's state (an error page's: 'error')"),
    "data-n": Term(BOTH, "a line's number, drawn in its gutter"),
    "data-t": Term(BOTH, "a line's time, ISO 8601 in UTC"),
    "data-h": Term(BOTH, "a line's time column and identifier, as drawn"),
    "data-group": Term(BOTH, "a group header's or marker's group (and a group in the index)"),
    "data-step": Term(BOTH, "a step header's step (and a step or group in the index)"),
    "data-first": Term(BOTH, "a span's (step, group, block) first line"),
    "data-last": Term(BOTH, "a span's (step, group, block) last line"),
    "data-headers": Term(JS, "an unbuilt block that holds a step header"),
    "data-meta": Term(JS, "a header's line count, duration and problems, drawn by the stylesheet"),
    "data-start": Term(SERVER, "a step's or group's first time"),
    "data-end": Term(SERVER, "a step's or group's end: the time of the first line after it"),
    "data-errors": Term(SERVER, "errors in a step, a group or the whole log"),
    "data-warnings": Term(SERVER, "warnings in a step, a group or the whole log"),
    "data-style": Term(SERVER, "a group's style: collapsed, expanded or quiet"),
    "data-expanded": Term(SERVER, "a group open by default ('+++', or reopened expanded)"),
    "data-failed-step": Term(SERVER, "the index's failed step"),
    "data-error-lines": Term(SERVER, "the index's error lines"),
    "data-warning-lines": Term(SERVER, "the index's warning lines"),
    "data-cause": Term(SERVER, "the index's most likely cause of the failure: its first line"),
    "data-cause-last": Term(SERVER, "the cause's last line"),
    "data-shown": Term(SERVER, "the failure summary's lines, the cause's first"),
}

#: ``data-*`` attributes made from a state: the tab's icon for each final state (link#icon).
DATA_PATTERNS: dict[str, Term] = {
    "data-" + _STATE: Term(SERVER, "the tab's icon once the run is in that state"),
}

#: Events on the log element by which the page's modules tell each other what happened.
EVENTS: dict[str, str] = {
    "jp:fold": "lines first..last were folded or unfolded (triage.js; chunks.js resizes)",
    "jp:jump": "the page went to a line (anchors.js; tail.js stops following)",
    "jp:line": "a live line was added (live.js; search.js and tail.js follow it)",
    "jp:problems": "a live error or warning was counted (triage.js; errors.js recounts)",
    "jp:ended": "no more live lines will come (live.js; tail.js stops following)",
}
