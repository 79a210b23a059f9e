"""Every error journal-proxy raises on purpose, in one hierarchy.

Lower-layer failures (HTTP, sockets, timeouts) are translated into these once, in
``upstream/gatewayd.py``; the routes map them to HTTP statuses in exactly one place (``web/responses.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

# -- Every error's base, and the one raised at start-up.


class JournalProxyError(Exception):
    """Base class of every error journal-proxy raises on purpose."""


class ConfigError(JournalProxyError):
    """Settings are invalid; raised at start-up only, the message names the setting."""


# -- The request: what is not a log link is refused before anything else.


class NotALogLink(JournalProxyError):
    """The path is not ``/logs/<32 lowercase hex>`` (or a static file): answered as a refusal."""


@dataclass(eq=False)
class MethodNotAllowed(JournalProxyError):
    """A log link asked for with a method other than those in ``allowed``."""

    allowed: tuple[str, ...]


# -- Access checks, before any lookup: the client's limits, then the link itself.


class Throttled(JournalProxyError):
    """This client has been refused too often lately; it is answered 429 before any work."""


@dataclass(eq=False)
class TooBusy(JournalProxyError):
    """Over a concurrency limit; ``retry_after`` seconds is a fair time to come back."""

    retry_after: int


class LinkForbidden(JournalProxyError):
    """The link lacks a valid signature where one is needed: ``403``, before any lookup."""


class SignatureRequired(LinkForbidden):
    """``require_signed_links`` is on and the link carries no ``exp``/``sig``."""


class SignatureInvalid(LinkForbidden):
    """``exp``/``sig`` are malformed, repeated, or not made by any configured key."""


class LinkGone(JournalProxyError):
    """The link was valid once and never will be again: ``410``, before any lookup."""


@dataclass(eq=False)
class LinkExpired(LinkGone):
    """A correctly signed link whose ``exp`` (unix seconds) has passed."""

    expired_at: int


@dataclass(eq=False)
class LinkRevoked(LinkGone):
    """The invocation is on the revocation list; ``reason`` is the operator's words (may be "")."""

    reason: str


# -- The upstream: gatewayd's failures, translated once in ``upstream/gatewayd.py``.


class UpstreamError(JournalProxyError):
    """gatewayd could not give us what we asked for."""


class UpstreamUnavailable(UpstreamError):
    """gatewayd refused the connection, reset it, or answered with an error status."""


class UpstreamTimeout(UpstreamError):
    """gatewayd did not answer (headers or the next chunk) within the configured time."""


class UpstreamProtocolError(UpstreamError):
    """gatewayd sent bytes that are not the journal export format we asked for."""


# -- The journal: nothing verified for the invocation.


class InvocationNotFound(JournalProxyError):
    """No verified entry of the invocation exists on any upstream."""
