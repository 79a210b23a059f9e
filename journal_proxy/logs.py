"""The proxy's own log: one line per event on stderr, with ``<N>`` prefixes journald understands.

Invocation IDs are capabilities, so the access log shows only their first 8 characters, and never
the query string.
"""

from __future__ import annotations

import logging
import re
import sys

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
_LONG_HEX = re.compile(r"[0-9a-fA-F]{16,}")


def redact_ids(text: str) -> str:
    """Shorten anything that looks like an invocation ID (or longer hex) to 8 characters."""
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


def setup_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JournalFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class AccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = redact_ids(request.raw_path.split("?", 1)[0])[:200]
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            request.remote,
            request.method,
            path,
            response.status,
            response.body_length,
            time,
        )
