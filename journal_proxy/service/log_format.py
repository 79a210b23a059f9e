"""The proxy's own log: one line per event on stderr, with ``<N>`` prefixes journald understands.

Invocation IDs are capabilities, so the access log shows only their first 8 characters, and never
the query string.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from journal_proxy.access.limits import client_address

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
_LONG_HEX = re.compile(r"[0-9a-fA-F]{16,}")


_SIGNATURE = re.compile(r"sig=[A-Za-z0-9_%-]+")


def redact_ids(text: str) -> str:
    """Shorten anything that looks like an invocation ID (or longer hex) to 8 characters, and
    blank a signed link's signature (should aiohttp ever quote a request line in an error)."""
    text = _SIGNATURE.sub("sig=…", text)
    return _LONG_HEX.sub(lambda m: m.group(0)[:8] + "…", text)


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prio = _PRIORITY.get(record.levelno, 6)
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            message += f" ({type(exc).__name__}: {exc})"
        message = redact_ids(message).replace("\n", " ")
        return f"<{prio}>{record.name}: {message}"


class AcceptErrorThrottle(logging.Filter):
    """Let asyncio's "out of descriptors" error through once per ``interval`` seconds.

    When ``accept()`` fails for lack of descriptors or memory, asyncio logs an error and tries
    again a second later, for every listening socket, for as long as the shortage lasts: a flood of
    identical lines (with a traceback each) exactly when the host is struggling.  The first one is
    logged; the others within the interval are counted, and the count is added to the next one.
    """

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._next = float("-inf")
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not record.msg.startswith(self.MESSAGE):
            return True
        now = self._clock()
        if now < self._next:
            self._suppressed += 1
            return False
        self._next = now + self._interval
        if self._suppressed:
            first, sep, rest = record.getMessage().partition("\n")
            record.msg = (
                f"{first} ({self._suppressed} more since the last one shown, "
                f"at most one shown per {self._interval:.0f}s){sep}{rest}"
            )
            record.args = None
            self._suppressed = 0
        return True


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JournalFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, AcceptErrorThrottle) for f in asyncio_log.filters):
        asyncio_log.addFilter(AcceptErrorThrottle())


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = redact_ids(request.raw_path.split("?", 1)[0])[:200]
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            _client(request),
            request.method,
            path,
            response.status,
            response.body_length,
            time,
        )


def _client(request: web.BaseRequest) -> str:
    """Who asked: the TCP peer, or behind a unix socket (nginx, which is trusted by the rule in
    ``limits.client_address``) the last ``X-Forwarded-For`` hop, else ``local``."""
    if request.remote:
        return request.remote
    return client_address(None, request.headers.get("X-Forwarded-For"), ())
