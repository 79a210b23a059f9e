"""http(s) URLs in log text, which the page shows as links; no other scheme ever is one.

The server writes each link as escaped ``<a href>`` markup (``renderers/html.py``); for lines that
arrive live, static/js/links.js finds them with the same expression (``URL_RE`` there, held
equal by tests/test_static_modules.py) and builds the links with DOM calls.
"""

from __future__ import annotations

import re

from journal_proxy.terminal.ansi import to_spans

#: An http(s) URL in log text: the scheme, ``://``, then a host character, up to a space, a
#: quote, ``<``, ``>`` or a backquote.  Nothing else ever becomes a link.  The same expression is
#: in static/js/links.js (``URL_RE``), for lines that arrive live; the whitespace that only one of Python's
#: and JavaScript's ``\s`` knows is named, so both stop at the same characters.
URL_RE = re.compile(r"[hH][tT][tT][pP][sS]?://[A-Za-z0-9\[][^\s\ufeff\x1c-\x1f\x85<>\"'`]*")
#: Punctuation that ends a sentence rather than a URL, trimmed from a match's end.
_URL_TRAILING = ".,;:!?)]}*"
#: Longer "URLs" stay text (a link's target is meant to be read by a person).
MAX_URL = 2048


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis belongs to the URL (Wikipedia links)
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int]]:
    """Where the http(s) URLs are in plain ``text``, as ``(start, end)``."""
    if "://" not in text:
        return []
    found = []
    for m in URL_RE.finditer(text):
        url = _trim_url(m.group())
        if "://" in url and len(url) <= MAX_URL and not url.endswith("://"):
            found.append((m.start(), m.start() + len(url)))
    return found


def to_parts(text: str) -> list[tuple[str, str, str | None]]:
    """:func:`to_spans` with links: ``(classes, text, href)``, where ``href`` is the run's own
    text when the run is (part of) an http(s) URL, else None.  A URL that crosses a colour
    change is cut into one link per run, each to the whole URL."""
    spans = to_spans(text)
    plain = "".join(t for _, t in spans)
    urls = find_urls(plain)
    if not urls:
        return [(c, t, None) for c, t in spans]
    parts: list[tuple[str, str, str | None]] = []
    pos = 0
    for classes, run in spans:
        start, end = pos, pos + len(run)
        pos = end
        cut = start
        for a, b in urls:
            if b <= cut or a >= end:
                continue
            if a > cut:
                parts.append((classes, plain[cut:a], None))
            stop = min(b, end)
            parts.append((classes, plain[max(a, cut) : stop], plain[a:b]))
            cut = stop
        if cut < end:
            parts.append((classes, plain[cut:end], None))
    return parts
