"""Where errors become statuses, and where every answer gets its security headers.

Handlers raise; :func:`map_errors` is the one place an error turns into a status, with a short
fixed body and never a traceback.  A refused request (not a log link, an unknown or unpinned
invocation) is a ``404`` that also spends one of the client's refusals, so scanners slow down to
``429``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import (
    InvocationNotFound,
    MethodNotAllowed,
    NotALogLink,
    Throttled,
    TooBusy,
    UpstreamError,
    UpstreamTimeout,
)
from ..limits import client_address
from .state import SETTINGS, TALLY, THROTTLE

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def client_of(request: web.Request) -> str:
    """Who the limits count this request against (``limits.client_address`` has the rule)."""
    return client_address(
        request.remote,
        request.headers.get("X-Forwarded-For"),
        request.app[SETTINGS].trusted_proxies,
    )


def refuse(request: web.Request) -> web.Response:
    """404 for anything that is not a readable log link; scanners get slowed down with 429."""
    request.app[TALLY].refused += 1
    if not request.app[THROTTLE].allow(client_of(request)):
        return _too_many_refusals()
    return plain(404, "404: not found")


def _too_many_refusals() -> web.Response:
    return plain(429, "429: too many refused requests", {"Retry-After": "30"})


@web.middleware
async def map_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place our errors become statuses."""
    try:
        return await handler(request)
    except (NotALogLink, InvocationNotFound):
        return refuse(request)
    except MethodNotAllowed as exc:
        return plain(405, "405: method not allowed", {"Allow": ", ".join(exc.allowed)})
    except Throttled:
        return _too_many_refusals()
    except TooBusy as exc:
        return plain(429, "429: too many streams", {"Retry-After": str(exc.retry_after)})
    except UpstreamTimeout:
        return plain(504, "504: the journal server did not answer in time")
    except UpstreamError:
        return plain(502, "502: the journal server is unavailable")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, streamed or not, error or not."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.pop("Server", None)
    request.app[TALLY].responses[str(response.status)] += 1
