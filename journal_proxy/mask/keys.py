"""Private keys: a key's body from its header to its END line, within a field and across entries.

The ``private-key`` shape (:mod:`journal_proxy.mask.shapes`) matches only the header, which stays
readable.  What is masked is from its end to the END line, or to the end of the text; then the
key goes on in the next entries, which :class:`journal_proxy.mask.masker.MaskSession` follows with
:func:`continue_key` (the rule is in its docstring).
"""

from __future__ import annotations

import re

from journal_proxy.mask.shapes import HEADER_TAIL, MAX_SPANS, TooManySpans

_KEY_HEADER_TAIL = re.compile(HEADER_TAIL, re.ASCII)
_KEY_HEADER_MIDDLE = re.compile(r"[A-Z0-9 +%]{0,40}", re.ASCII)
# A PEM or PGP END line, also URL-encoded (``-----END``, SSH2's ``---- END``).
# Found from the literal END (a fast search even in a line of dashes), checked backwards.
_KEY_END = re.compile(
    r"END(?:(?<=----END)|(?<=---- END)|(?<=%2[Dd]END)|(?<=%2[Dd]%20END))", re.ASCII
)
# Key material in the entries after a BEGIN line (see MaskSession).
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]+", re.ASCII)  # base64, and PGP's =XXXX checksum
_KEY_HEADER = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}:(?:[ \t].*)?", re.ASCII)  # Proc-Type: ...

#: The state carried from one entry to the next: no key open (0), in its armor headers, in its
#: base64 body.
IN_HEADERS, IN_BODY = 1, 2


def key_spans(text: str, spans: list[tuple[int, int]]) -> bool:
    """Append each private key's body (from its header to its END line, or to the end of
    ``text``); True if the last key has no END line (it goes on in the next entries).

    Same headers as the ``private-key`` pattern, found from their ``PRIVATE KEY`` (a literal
    search, fast) rather than from ``BEGIN`` (a line of ``BEGIN BEGIN ...`` would try the
    40-character middle at every one).  The search for the next header starts after the
    previous key's END, so a line of headers without END lines is one scan, not one per header.
    """
    pos = 0
    candidates = 0
    while True:
        m = _KEY_HEADER_TAIL.search(text, pos)
        if m is None:
            return False
        candidates += 1
        if candidates > MAX_SPANS:
            raise TooManySpans
        start = m.start()
        begin = text.rfind("BEGIN", max(0, start - 45), start)
        if begin == -1 or _KEY_HEADER_MIDDLE.fullmatch(text, begin + 5, start) is None:
            pos = m.end()
            continue
        end = _KEY_END.search(text, m.end())
        stop = len(text) if end is None else _before_dashes(text, end.start(), m.end())
        if stop > m.end():
            spans.append((m.end(), stop))
            if len(spans) > MAX_SPANS:
                raise TooManySpans
        if end is None:
            return True
        pos = end.end()


def _before_dashes(text: str, i: int, lo: int) -> int:
    """Where the dashes (``-----``, ``%2D%2D...``, ``---- ``) before an END at ``i`` start."""
    for _ in range(8):
        if i - 1 >= lo and text[i - 1] in "- ":
            i -= 1
        elif i - 3 >= lo and text[i - 3 : i] in ("%2D", "%2d", "%20"):
            i -= 3
        else:
            break
    return i


def continue_key(plain: str, state: int) -> tuple[int, int]:
    """How much of ``plain`` (from its start) is key material, and the state after it."""
    pos = 0
    for line in plain.split("\n"):
        end = _KEY_END.search(line)
        if end is not None:
            return pos + _before_dashes(line, end.start(), 0), 0
        bare = line.strip()
        if not bare:
            pass
        elif _KEY_BODY.fullmatch(bare):
            state = IN_BODY
        elif state == IN_HEADERS and (_KEY_HEADER.fullmatch(bare) or line[0] in " \t"):
            pass
        else:
            return max(pos - 1, 0), 0  # the line break before a shown line stays shown
        pos += len(line) + 1
    return len(plain), state
