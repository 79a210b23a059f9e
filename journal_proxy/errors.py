"""Every error journal-proxy raises on purpose, in one hierarchy.

Lower-layer failures (HTTP, sockets, timeouts) are translated into these once, in
``upstream/gatewayd.py``; the routes map them to HTTP statuses in exactly one place (``web/responses.py``).
"""

from __future__ import annotations


class JournalProxyError(Exception):
    """Base class of every error journal-proxy raises on purpose."""


class ConfigError(JournalProxyError):
    """Settings are invalid; raised at start-up only, the message names the setting."""


class UpstreamError(JournalProxyError):
    """gatewayd could not give us what we asked for."""


class UpstreamUnavailable(UpstreamError):
    """gatewayd refused the connection, reset it, or answered with an error status."""


class UpstreamTimeout(UpstreamError):
    """gatewayd did not answer (headers or the next chunk) within the configured time."""


class UpstreamProtocolError(UpstreamError):
    """gatewayd sent bytes that are not the journal export format we asked for."""


class InvocationNotFound(JournalProxyError):
    """No verified entry of the invocation exists on any upstream."""


class TooBusy(JournalProxyError):
    """Over a concurrency limit; ``retry_after`` seconds is a fair time to come back."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many concurrent streams")
        self.retry_after = retry_after


class Throttled(JournalProxyError):
    """This client has been refused too often lately; it is answered 429 before any work."""


class NotALogLink(JournalProxyError):
    """The path is not ``/logs/<32 lowercase hex>`` (or a static file): answered as a refusal."""


class MethodNotAllowed(JournalProxyError):
    """A log link asked for with a method other than those in ``allowed``."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__("method not allowed")
        self.allowed = allowed


class LinkForbidden(JournalProxyError):
    """The link lacks a valid signature where one is needed: ``403``, before any lookup."""


class SignatureRequired(LinkForbidden):
    """``require_signed_links`` is on and the link carries no ``exp``/``sig``."""


class SignatureInvalid(LinkForbidden):
    """``exp``/``sig`` are malformed, repeated, or not made by any configured key."""


class LinkGone(JournalProxyError):
    """The link was valid once and never will be again: ``410``, before any lookup."""


class LinkExpired(LinkGone):
    """A correctly signed link whose ``exp`` (unix seconds) has passed."""

    def __init__(self, expired_at: int) -> None:
        super().__init__("link expired")
        self.expired_at = expired_at


class LinkRevoked(LinkGone):
    """The invocation is on the revocation list; ``reason`` is the operator's words (may be "")."""

    def __init__(self, reason: str) -> None:
        super().__init__("link revoked")
        self.reason = reason
