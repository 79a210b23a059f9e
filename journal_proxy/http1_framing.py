"""HTTP/1.1 response framing, as pure functions of bytes: the head, and a chunked body.

Kept apart from the connections (``http1.py``) so every framing rule can be tested with bytes
alone, split at any point.  Strict by design: gatewayd is the only peer, and a response whose
length is ambiguous or malformed is a protocol error, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UpstreamProtocolError

_MAX_TRAILER = 8 * 1024
_MAX_SIZE_LINE = 1024

_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: [^\r\n]*)?")
#: A header line; the value's surrounding blanks are stripped afterwards (a lazy pattern with
#: blanks on both sides backtracks quadratically on a long inner run of blanks).
_HEADER = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):([^\r\n]*)")
#: A chunk's size line, after the CRLF that ends the previous chunk's data (none before the
#: first).  At most 16 hex digits; extensions are allowed and ignored, as RFC 9112 says.
_FIRST_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")
_NEXT_SIZE = re.compile(rb"\r\n([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")


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


def parse_head(raw: bytes) -> Head:
    """The response head up to and including its blank line; strict, since framing depends on it."""
    lines = raw[:-4].split(b"\r\n")
    status = _STATUS_LINE.fullmatch(lines[0])
    if status is None:
        raise UpstreamProtocolError("gatewayd sent a malformed status line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        header = _HEADER.fullmatch(line)
        if header is None:
            raise UpstreamProtocolError("gatewayd sent a malformed header")
        name = header[1].decode("ascii").lower()
        value = header[2].strip(b" \t").decode("latin-1")
        if name in headers:
            if name in ("content-length", "transfer-encoding"):
                raise UpstreamProtocolError(f"gatewayd sent {name} twice")
            value = f"{headers[name]}, {value}"  # one list, as RFC 9110 combines them
        headers[name] = value
    return Head(int(status[2]), int(status[1]), headers)


class ChunkedDecoder:
    """De-chunks a ``Transfer-Encoding: chunked`` body fed in arbitrary pieces.

    Chunk data is passed on as it arrives (a chunk bigger than a read is not held whole); only a
    size line split across two reads is kept back.  ``done`` is set at the last chunk, and
    ``surplus`` says whether bytes followed it (then the connection is not reused).
    """

    def __init__(self) -> None:
        self._rest = b""
        self._left = 0  # data bytes of the current chunk still to come
        self._first = True
        self._trailer = False
        self.done = False
        self.surplus = False

    def feed(self, data: bytes) -> bytes:
        """The body bytes that ``data`` completes; raises on anything that is not chunked framing."""
        buf = self._rest + data if self._rest else data
        self._rest = b""
        out: list[bytes] = []
        pos, end = 0, len(buf)
        if self._left:
            take = min(self._left, end)
            out.append(buf[:take])
            self._left -= take
            pos = take
        if not self._left and not self.done:
            pos = self._sizes(buf, pos, out) if not self._trailer else self._trailers(buf, pos)
        if self.done and pos < end:
            self.surplus = True
        return b"".join(out)

    def _sizes(self, buf: bytes, pos: int, out: list[bytes]) -> int:
        end = len(buf)
        size_line = _FIRST_SIZE if self._first else _NEXT_SIZE
        match = size_line.match
        while True:
            m = match(buf, pos)
            if m is None:
                self._keep(buf, pos)
                return end
            self._first = False
            size_line, match = _NEXT_SIZE, _NEXT_SIZE.match
            size = int(m[1], 16)
            pos = m.end()
            if size == 0:
                self._trailer = True
                return self._trailers(buf, pos)
            stop = pos + size
            out.append(buf[pos:stop])
            if stop > end:
                self._left = stop - end
                return end
            pos = stop

    def _keep(self, buf: bytes, pos: int) -> None:
        """Keep an unfinished size line for the next read; a finished one that did not match is
        malformed."""
        rest = buf[pos:]
        if len(rest) > _MAX_SIZE_LINE or b"\n" in rest[2 if not self._first else 0 :]:
            raise UpstreamProtocolError("gatewayd sent a malformed chunk")
        self._rest = rest

    def _trailers(self, buf: bytes, pos: int) -> int:
        """After the last chunk: optional trailer fields (ignored), then an empty line."""
        if buf.startswith(b"\r\n", pos):
            self.done = True
            return pos + 2
        stop = buf.find(b"\r\n\r\n", pos)
        if stop == -1:
            if len(buf) - pos > _MAX_TRAILER:
                raise UpstreamProtocolError("gatewayd sent an oversized trailer")
            self._rest = buf[pos:]
            return len(buf)
        self.done = True
        return stop + 4


def body_length(head: Head) -> tuple[ChunkedDecoder | None, int | None]:
    """How the body's end is known: a chunked decoder, a byte count, or neither (the body ends
    with the connection).  Both framings at once, or an unknown coding, is refused."""
    headers = head.headers
    coding = headers.get("transfer-encoding")
    if coding is not None:
        if "content-length" in headers or coding.strip().lower() != "chunked":
            raise UpstreamProtocolError("gatewayd sent an ambiguous body length")
        return ChunkedDecoder(), None
    length = headers.get("content-length")
    if length is None:
        return None, None
    if not length.isascii() or not length.isdigit() or len(length) > 18:
        raise UpstreamProtocolError("gatewayd sent a malformed Content-Length")
    return None, int(length)
