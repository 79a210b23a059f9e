"""Where errors become statuses, and where every answer gets its security headers.

Handlers raise; :func:`map_errors` is the one place an error turns into a status, never with a
traceback.  Each dead end is answered in the reader's terms: a browser (``Accept: text/html``) gets
a small page saying what happened and what to try (no script, the page's own stylesheet, the same
CSP), a program (``.json`` or ``Accept: application/json``) a small JSON object, and ``curl`` one
short line.  A refused request (not a log link, an unknown or unpinned invocation, a link without a
valid signature) also spends one of the client's refusals, so scanners slow down to ``429``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape

from aiohttp import web

from journal_proxy.access.limits import client_address
from journal_proxy.errors import (
    InvocationNotFound,
    LinkExpired,
    LinkRevoked,
    MethodNotAllowed,
    NotALogLink,
    SignatureInvalid,
    SignatureRequired,
    Throttled,
    TooBusy,
    UpstreamError,
    UpstreamTimeout,
)
from journal_proxy.renderers import HTML_HEAD_START
from journal_proxy.web.formats import Kind, accepted
from journal_proxy.web.state import ASSETS, SETTINGS, TALLY, THROTTLE

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


@dataclass(frozen=True, slots=True)
class Problem:
    """One dead end, in the words each kind of reader gets."""

    status: int
    code: str  # JSON ``error``: stable, for programs
    line: str  # after ``<status>: `` in the plain answer, for curl
    title: str  # the page's heading
    advice: str  # the page's one or two sentences: what it means, what to try
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # more JSON members


NOT_FOUND = Problem(
    404,
    "not-found",
    "not found",
    "Nothing here",
    "This address is not a log link. Log links look like /logs/ followed by 32 hexadecimal "
    "characters; check that the whole link was copied.",
)
NO_SUCH_LOG = Problem(
    404,
    "not-found",
    "not found",
    "No log for this link",
    "The link may be mistyped or cut short, the run may have happened on a host this server "
    "does not read, or the journal may no longer hold it (old entries are rotated away). "
    "Check the link against where you found it.",
)
SIGNATURE_REQUIRED = Problem(
    403,
    "signature-required",
    "this link needs a valid signature",
    "This link is incomplete",
    "This server only opens signed links, and this one lacks its signature or it was altered. "
    "Copy the whole link again from where you found it, including everything after the ?.",
)
SIGNATURE_INVALID = Problem(
    403,
    "signature-invalid",
    "this link's signature is not valid",
    SIGNATURE_REQUIRED.title,
    SIGNATURE_REQUIRED.advice,
)
REFUSED_TOO_OFTEN = Problem(
    429,
    "too-many-refused",
    "too many refused requests",
    "Too many requests",
    "Too many requests from your address were refused lately. Wait half a minute, then try "
    "the link again.",
    {"Retry-After": "30"},
)
UNAVAILABLE = Problem(
    502,
    "upstream-unavailable",
    "the journal server is unavailable",
    "The log cannot be read right now",
    "The journal server behind this page is not answering. This is usually brief: try again "
    "in a minute, and tell the operator if it lasts.",
)
TIMED_OUT = Problem(
    504,
    "upstream-timeout",
    "the journal server did not answer in time",
    "The log took too long to read",
    "The journal server did not answer in time. Try again in a minute, and tell the operator "
    "if it keeps happening.",
)


def _too_busy(retry_after: int) -> Problem:
    return Problem(
        429,
        "too-many-streams",
        "too many streams",
        "Too many logs open",
        "Too many logs are being read at once, from your address or in all. Close other log "
        f"tabs or wait {retry_after} seconds, then reload.",
        {"Retry-After": str(retry_after)},
    )


def _revoked(reason: str) -> Problem:
    said = f" The reason given: {reason}." if reason else ""
    return Problem(
        410,
        "revoked",
        "this link was revoked" + (f" ({reason})" if reason else ""),
        "This log was taken offline",
        f"The operator revoked this link, and it will not work again.{said} Ask whoever shared "
        "it if you still need the log.",
        extra={"reason": reason},
    )


def _expired(expired_at: int) -> Problem:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expired_at))
    return Problem(
        410,
        "expired",
        f"this link expired at {when}",
        "This link has expired",
        f"This link was made to work until {when}. Ask whoever shared it for a new link.",
        extra={"expired_at": str(expired_at)},
    )


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers)


def _wants(request: web.Request) -> str:
    """``html``, ``json`` or ``text``: the path suffix decides, else Accept (as for logs)."""
    path = request.raw_path.split("?", 1)[0]
    if path.endswith(".json"):
        return "json"
    if path.endswith(".txt"):
        return "text"
    kind = accepted(request.headers.get("Accept", ""))
    if kind is Kind.HTML:
        return "html"
    return "json" if kind is Kind.JSON else "text"  # an event stream gets the text line


def _page(request: web.Request, p: Problem) -> str:
    urls = request.app[ASSETS].urls
    title = escape(p.title)
    return f"""{HTML_HEAD_START}<title>{title} · {p.status}</title>
<link rel="icon" href="{urls["icon.svg"]}" type="image/svg+xml">
<link rel="stylesheet" href="{urls["style.css"]}">
</head>
<body data-state="error">
<header class="top">
<div class="title">
<h1>{title}</h1>
<span class="badge s-failed">{p.status}</span>
</div>
<p>{escape(p.advice)}</p>
</header>
</body>
</html>
"""


def problem(request: web.Request, p: Problem) -> web.Response:
    """``p`` as a page, a JSON object or one line, whichever the request asked for."""
    wants = _wants(request)
    if wants == "html":
        body, ctype = _page(request, p), "text/html"
    elif wants == "json":
        obj = {"status": p.status, "error": p.code, "message": p.line, **p.extra}
        body, ctype = json.dumps(obj, ensure_ascii=False) + "\n", "application/json"
    else:
        body, ctype = f"{p.status}: {p.line}\n", "text/plain"
    return web.Response(
        status=p.status, text=body, content_type=ctype, charset="utf-8", headers=p.headers
    )


def client_of(request: web.Request) -> str:
    """Who the limits count this request against (``limits.client_address`` has the rule)."""
    return client_address(
        request.remote,
        request.headers.get("X-Forwarded-For"),
        request.app[SETTINGS].trusted_proxies,
    )


def refuse(request: web.Request, p: Problem = NOT_FOUND) -> web.Response:
    """``p`` for a request that reads nothing; scanners get slowed down with 429."""
    request.app[TALLY].refused += 1
    if not request.app[THROTTLE].allow(client_of(request)):
        return problem(request, REFUSED_TOO_OFTEN)
    return problem(request, p)


@web.middleware
async def map_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place our errors become statuses."""
    try:
        return await handler(request)
    except NotALogLink:
        return refuse(request)
    except InvocationNotFound:
        return refuse(request, NO_SUCH_LOG)
    except SignatureRequired:
        return refuse(request, SIGNATURE_REQUIRED)
    except SignatureInvalid:
        return refuse(request, SIGNATURE_INVALID)
    except LinkExpired as exc:
        return problem(request, _expired(exc.expired_at))
    except LinkRevoked as exc:
        return problem(request, _revoked(exc.reason))
    except MethodNotAllowed as exc:
        return plain(405, "405: method not allowed", {"Allow": ", ".join(exc.allowed)})
    except Throttled:
        return problem(request, REFUSED_TOO_OFTEN)
    except TooBusy as exc:
        return problem(request, _too_busy(exc.retry_after))
    except UpstreamTimeout:
        return problem(request, TIMED_OUT)
    except UpstreamError:
        return problem(request, UNAVAILABLE)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, streamed or not, error or not."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.pop("Server", None)
    request.app[TALLY].responses[str(response.status)] += 1
