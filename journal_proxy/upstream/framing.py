"""HTTP/1.1 response framing: httptools (llhttp, Node.js's parser, as uvicorn uses) held strict.

Kept apart from the connections (``upstream/http1.py``) so every framing rule can be tested with bytes
alone, split at any point.  Strict by design: gatewayd is the only peer, and a response whose
length is ambiguous or malformed is a protocol error, never a guess.  llhttp already refuses a
bad status line, a bad header line, a duplicate ``Content-Length``, both framings at once, a bad
or overflowing chunk size and chunk data not followed by CRLF, at the byte where it goes wrong
and in linear time; on top of it this module refuses what llhttp would accept: a version other
than 1.0 and 1.1, a status outside 200-599, a repeated ``Transfer-Encoding`` or a coding other
than ``chunked``, a body on a 204 or 304, and a size line or trailer past its bound.

Why not our own parser any more: a hand-written one needed six edge-case fixes in its first day
and still had three gaps (issue 28); llhttp is the parser of Node.js, and in-process it
de-chunked gatewayd's one-chunk-per-entry bodies faster than ours did.
"""

from __future__ import annotations

from dataclasses import dataclass

import httptools

from journal_proxy.errors import UpstreamProtocolError

#: Bytes of framing with no body byte among them: a chunk size line (with extensions), or the
#: trailer.  Counted whole reads at a time, so a bound is exceeded by at most one read's tail.
_MAX_SIZE_LINE = 1024
_MAX_TRAILER = 8 * 1024
_MAX_LENGTH_DIGITS = 18
#: RFC 9112 6.3: these never have a body, whatever their headers say.
_NO_BODY = (204, 304)
_PARSER_ERRORS = (httptools.HttpParserError, httptools.HttpParserUpgrade)


@dataclass(frozen=True, slots=True)
class Head:
    """A response's status line and headers (names lower-cased; a repeated name's values joined
    with ", ", except the framing headers, which must not repeat)."""

    status: int
    version: int
    headers: dict[str, str]

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()


class _Surplus(Exception):
    """Bytes after the end of the response: the start of an answer nobody asked for."""


class ResponseParser:
    """One response: :meth:`head` with its head, then :meth:`feed` with the body's bytes.

    ``done`` is set at the end of the body; ``surplus`` when bytes came after it in the same
    read (the connection must not be reused; blank lines between responses are skipped, as
    llhttp and RFC 9112 2.2 allow).  ``until_eof`` when the body ends with the connection.
    """

    def __init__(self) -> None:
        self.done = False
        self.surplus = False
        self.until_eof = False
        self._headed = False
        self._headers: dict[str, str] = {}
        self._failure: UpstreamProtocolError | None = None
        self._out: list[bytes] = []
        self._chunk_at = -1  # len(_out) at the last chunk header in this feed, or -1
        self._in_trailer = False
        self._stuck = 0
        # Body bytes are appended by C, with no Python call per chunk (set before the parser
        # is made: httptools looks its callbacks up once).
        self.on_body = self._out.append
        self._parser = httptools.HttpResponseParser(self)

    # httptools' callbacks.
    def on_message_begin(self) -> None:
        if self.done:
            raise _Surplus

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("ascii").lower()
        text = value.strip(b" \t").decode("latin-1")
        if key in self._headers:
            if key in ("content-length", "transfer-encoding"):
                self._fail(f"gatewayd sent {key} twice")
            text = f"{self._headers[key]}, {text}"  # one list, as RFC 9110 combines them
        self._headers[key] = text

    def on_headers_complete(self) -> None:
        self._headed = True

    def on_chunk_header(self) -> None:
        self._chunk_at = len(self._out)

    def on_message_complete(self) -> None:
        self.done = True

    def _fail(self, reason: str) -> None:
        self._failure = UpstreamProtocolError(reason)
        raise self._failure

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except _PARSER_ERRORS as exc:
            if self._failure is not None:
                raise self._failure from None
            if not self.done:
                raise UpstreamProtocolError(f"gatewayd sent a malformed response: {exc}") from exc
            self.surplus = True  # after the end: _Surplus, or not even the start of a response

    def head(self, raw: bytes) -> Head:
        """The response head up to and including its blank line; strict, since framing
        depends on it."""
        self._feed(raw)
        parser = self._parser
        version, status = parser.get_http_version(), parser.get_status_code()
        if not self._headed or self.surplus:
            raise UpstreamProtocolError("gatewayd sent a malformed response head")
        if version not in ("1.0", "1.1") or not 200 <= status <= 599:
            raise UpstreamProtocolError(f"gatewayd sent HTTP/{version} {status}")
        head = Head(status, int(version[-1]), self._headers)
        self._framing(head)
        return head

    def _framing(self, head: Head) -> None:
        """How the body's end is known, checked beyond what llhttp checks."""
        headers = head.headers
        coding = headers.get("transfer-encoding")
        length = headers.get("content-length")
        if coding is not None and (length is not None or coding.lower() != "chunked"):
            raise UpstreamProtocolError("gatewayd sent an ambiguous body length")
        if length is not None and not (
            length.isascii() and length.isdigit() and len(length) <= _MAX_LENGTH_DIGITS
        ):
            raise UpstreamProtocolError("gatewayd sent a malformed Content-Length")
        if head.status in _NO_BODY:
            self.done = True  # the head is the whole response; llhttp would read a length
        elif coding is None and length is None:
            self.until_eof = True

    def feed(self, data: bytes) -> bytes:
        """The body bytes that ``data`` completes; raises on anything that is not framing."""
        out = self._out
        self._chunk_at = -1
        self._feed(data)
        if self._chunk_at >= 0:
            self._in_trailer = self._chunk_at == len(out)  # a chunk header, no data after it
        elif out:
            self._in_trailer = False
        if out or self._chunk_at >= 0 or self.done:
            self._stuck = 0
        else:
            self._stuck += len(data)
            bound = _MAX_TRAILER if self._in_trailer else _MAX_SIZE_LINE
            if self._stuck > bound:
                what = "trailer" if self._in_trailer else "chunk size line"
                raise UpstreamProtocolError(f"gatewayd sent an oversized {what}")
        body = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return body
