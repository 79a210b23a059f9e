"""The one place that decides whether a client-supplied invocation ID is acceptable.

An invocation ID in a URL is a capability: it is the only thing a reader needs.  So the check is
deliberately dull: exactly 32 characters, each one of ``0123456789abcdef``.  No regular expression
(``\\d`` and ``$`` both have surprising Unicode and newline behaviour), no case folding, no
percent-decoding: the raw request path is compared byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NewType

InvocationId = NewType("InvocationId", str)

INVOCATION_ID_LENGTH = 32
_HEX_DIGITS = frozenset("0123456789abcdef")
LOGS_PREFIX = "/logs/"


class LogFormat(Enum):
    """What the path asked for: a suffix picks a format, no suffix means negotiate."""

    NEGOTIATE = ""
    TEXT = ".txt"
    JSON = ".json"


@dataclass(frozen=True, slots=True)
class LogTarget:
    invocation_id: InvocationId
    format: LogFormat


def parse_invocation_id(text: str) -> InvocationId | None:
    """Return ``text`` as an :data:`InvocationId` if it is exactly 32 lowercase ASCII hex digits."""
    if len(text) != INVOCATION_ID_LENGTH:
        return None
    if not _HEX_DIGITS.issuperset(text):
        return None
    return InvocationId(text)


def parse_log_path(raw_path: str) -> LogTarget | None:
    """Parse the *raw* request path (as sent, before any decoding) of a ``/logs/`` request.

    Only ``/logs/<id>``, ``/logs/<id>.txt`` and ``/logs/<id>.json`` are accepted.  Anything
    percent-encoded, doubled, dotted or otherwise creative is refused, because it is not one of
    those three spellings.
    """
    path = raw_path.split("?", 1)[0]
    if not path.startswith(LOGS_PREFIX):
        return None
    rest = path[len(LOGS_PREFIX) :]
    for fmt in (LogFormat.TEXT, LogFormat.JSON):
        if rest.endswith(fmt.value):
            invocation_id = parse_invocation_id(rest[: -len(fmt.value)])
            return LogTarget(invocation_id, fmt) if invocation_id else None
    invocation_id = parse_invocation_id(rest)
    return LogTarget(invocation_id, LogFormat.NEGOTIATE) if invocation_id else None
