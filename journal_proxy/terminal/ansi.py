"""Terminal escape sequences in log text: keep colours, remove everything else.

A deploy script's output goes to three places: a ``curl`` user's terminal, JSON consumers and the
page.  Only SGR (colour and weight, ``ESC [ ... m``) is kept, without code 8 (concealed text would
hide log text from the reader); cursor movement, OSC (window titles, hyperlinks, clipboard), DCS
and bare control characters are removed so log text can never drive the reader's terminal.  Every
pattern here is a plain alternation of character classes: linear time.

:func:`to_spans` gives the page's view of a message: sanitised, redraws resolved, colours as
classes (:mod:`journal_proxy.terminal.styles`); :mod:`journal_proxy.renderers.urls` finds the links in it.
"""

from __future__ import annotations

import re

from journal_proxy.terminal.styles import COLOUR_INTRODUCERS, SGR, resolve_redraws, spans

_SEQUENCES = (
    r"\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI (SGR included)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences
)
#: Any terminal escape sequence, colours included.
ESCAPE_SEQUENCE = re.compile(_SEQUENCES)
_SGR_PATTERN = SGR.pattern  # one SGR pattern for the whole package: styles.SGR
#: What the second step of :func:`sanitize` looks at, one token per match: an SGR sequence
#: (group 1, kept without code 8), any other escape sequence, or a run of BEL (removed).  Public
#: for the masker, which walks the same tokens to know where each shown character came from.
ESCAPES = re.compile(rf"({_SGR_PATTERN})|{_SEQUENCES}|\x07+")
#: Everything ``ESCAPES`` matches but SGR: removed by one substitution, no Python call per match.
_REMOVED = re.compile(rf"(?!{_SGR_PATTERN})(?:{_SEQUENCES})|\x07+")
#: Something the second step would remove (or, for an SGR holding an 8, change).
_UNSAFE = re.compile(r"\x07|\x1b(?![\[][0-79;]{0,64}m)")
#: An SGR sequence that may hold code 8 (concealed): only these need their parameters parsed.
_MAYBE_CONCEALED_SGR = re.compile(r"\x1b\[(?=[0-79;]{0,63}8)[0-9;]{0,64}m")

_C0 = [*range(0x00, 0x09), *range(0x0B, 0x20)]  # C0 but TAB and LF
_C1 = [*range(0x7F, 0xA0)]  # DEL and C1 (U+0085 NEL, U+009B CSI, ...)
_INERT = [c for c in _C0 if c not in (0x07, 0x1B)]  # C0 without meaning inside a sequence
#: Deletion tables for ``str.translate`` (fast for ASCII text) and ``bytes.translate``.
_DELETE_ALL = dict.fromkeys(_C0 + _C1)
_DELETE_INERT = dict.fromkeys(_INERT + _C1)
_DELETE_ALL_BYTES = bytes([*_C0, 0x7F])
_DELETE_INERT_BYTES = bytes([*_INERT, 0x7F])
_C1_UTF8 = [chr(c).encode() for c in range(0x80, 0xA0)]
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_BUT_ESC = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]")


def is_sanitized(text: str) -> bool:
    """Whether :func:`sanitize` would return ``text`` unchanged: no control character but TAB,
    LF and the ESC of SGR sequences without code 8.  Most log lines, coloured or not; two
    searches, against a translate and a substitution for the full path."""
    return _CONTROL_BUT_ESC.search(text) is None and (
        "\x1b" not in text or _UNSAFE.search(text) is None
    )


def _delete(text: str, table: dict[int, None], table_bytes: bytes) -> str:
    """``text`` without the characters of ``table``; as fast for 80 Ki characters holding 40 Ki
    control characters as for a plain line (a regular expression costs a step per match)."""
    if text.isascii():
        return text.translate(table)
    if _ANY_CONTROL.search(text) is None:
        return text
    data = text.encode("utf-8", "surrogatepass").translate(None, table_bytes)
    if b"\xc2" in data:  # U+0080-U+009F are C2 80 - C2 9F in UTF-8, and C2 always leads
        for c1 in _C1_UTF8:
            data = data.replace(c1, b"")
    return data.decode("utf-8", "surrogatepass")


def drop_controls(text: str) -> str:
    """The first step of :func:`sanitize`: every control character but TAB and LF is deleted,
    except ESC and BEL when the text has an ESC (they start and end escape sequences).

    A control character inside an escape sequence is thus ignored, as a terminal's parser
    ignores NUL there: ``ESC [ 3 NUL 1 m`` is SGR 31.
    """
    if "\x1b" in text:
        return _delete(text, _DELETE_INERT, _DELETE_INERT_BYTES)
    return _delete(text, _DELETE_ALL, _DELETE_ALL_BYTES)


def drop_all_controls(text: str) -> str:
    """Every control character but TAB and LF deleted, ESC and BEL included."""
    return _delete(text, _DELETE_ALL, _DELETE_ALL_BYTES)


def drop_sequences(text: str) -> str:
    """The second step of :func:`sanitize`, on :func:`drop_controls`' output: escape sequences
    other than SGR and BEL removed, and code 8 removed from SGR (see :func:`filter_sgr`)."""
    if "\x1b" not in text or _UNSAFE.search(text) is None:
        return text
    text = _REMOVED.sub("", text)
    if "8" in text and "\x1b" in text:
        text = _drop_concealed(text)
    return text


#: SGR sequences holding an 8 parsed per line; any after these are dropped whole (colours lost
#: on a hostile line, never a concealed one): parsing is Python work per sequence.
MAX_PARSED_SGR = 256


def _drop_concealed(text: str) -> str:
    cut = None
    for count, m in enumerate(_MAYBE_CONCEALED_SGR.finditer(text)):
        if count == MAX_PARSED_SGR:
            cut = m.start()
            break
    if cut is None:
        return _MAYBE_CONCEALED_SGR.sub(_filter_match, text)
    head = _MAYBE_CONCEALED_SGR.sub(_filter_match, text[:cut])
    return head + _MAYBE_CONCEALED_SGR.sub("", text[cut:])


def filter_sgr(sequence: str) -> str:
    """An SGR sequence without code 8 (concealed text), or ``""`` if nothing else is left.

    Concealed text is invisible on a terminal but present in the bytes: log text must not hide
    from the reader.  Parameters are parsed, so ``38;5;8`` (colour index 8) and ``38;2;8;8;8``
    keep their 8s; ``1;8;31`` becomes ``1;31``; ``8`` alone is dropped, since ``ESC [ m`` would
    mean "reset" instead.
    """
    params = sequence[2:-1]
    if "8" not in params:
        return sequence
    codes = params.split(";")
    kept: list[str] = []
    i = 0
    while i < len(codes):
        code = int(codes[i]) if codes[i] else 0
        if code in COLOUR_INTRODUCERS and i + 1 < len(codes) and codes[i + 1] in ("5", "2"):
            take = 3 if codes[i + 1] == "5" else 5
            kept += codes[i : i + take]
            i += take
            continue
        if code != 8:
            kept.append(codes[i])
        i += 1
    if not kept:
        return ""
    return f"\x1b[{';'.join(kept)}m"


def _filter_match(match: re.Match[str]) -> str:
    return filter_sgr(match.group())


def sanitize(text: str) -> str:
    """Remove every control sequence except SGR colour codes (without code 8); keep TAB and LF.

    Two steps, :func:`drop_controls` then :func:`drop_sequences`, both without a Python call per
    removed character, so the cost stays near that of a plain line whatever the text holds.
    Idempotent: what it leaves is plain text, TAB, LF and SGR sequences without code 8.
    """
    if is_sanitized(text):
        return text  # renderers see the masker's output, which is sanitised already
    return drop_sequences(drop_controls(text))


def to_spans(text: str) -> list[tuple[str, str]]:
    """Split text into ``(css classes, plain text)`` runs; the text holds no escapes.

    The text is sanitised and its carriage-return redraws resolved
    (:func:`~journal_proxy.terminal.styles.resolve_redraws`).  The classes come from a fixed vocabulary
    (``b d i u s rf rg f0..f255 g0..g255``, see :mod:`journal_proxy.terminal.styles`), never from log text.
    """
    return spans(resolve_redraws(sanitize(text)))
