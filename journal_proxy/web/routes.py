"""The handlers.  ``logs`` is the request path in order: validate, check the link (throttle,
signature, revocation: all before any lookup), pick a format, open the log (from the cache, from
gatewayd, or live), write it."""

from __future__ import annotations

import asyncio

from aiohttp import web

from journal_proxy import errors
from journal_proxy.access.ids import InvocationId, parse_log_path
from journal_proxy.access.signing import LinkCheck
from journal_proxy.access.signing import check as check_signature
from journal_proxy.delivery.opening import open_follow
from journal_proxy.journal.invocation_log import InvocationQuery
from journal_proxy.web import state
from journal_proxy.web.formats import negotiate, renderer_for, resume_from, wants_follow
from journal_proxy.web.responses import client_of, plain
from journal_proxy.web.streaming import respond, respond_current

LOG_METHODS = ("GET", "HEAD")


def check_link(request: web.Request, invocation_id: InvocationId) -> None:
    """Signature first (403 unsigned or forged, 410 expired), then the revocation list (410):
    whoever lacks a good signature learns nothing, not even a revocation's reason."""
    app = request.app
    links = app[state.SETTINGS].links
    if links.keys:
        verdict, exp = check_signature(
            links.keys,
            invocation_id,
            request.query.getall("exp", []),
            request.query.getall("sig", []),
            app[state.CLOCK](),
        )
        if verdict is LinkCheck.INVALID:
            raise errors.SignatureInvalid()
        if verdict is LinkCheck.EXPIRED:
            raise errors.LinkExpired(exp)
        if verdict is LinkCheck.UNSIGNED and links.require_signed:
            raise errors.SignatureRequired()
    reason = app[state.REVOCATIONS].reason(invocation_id)
    if reason is not None:
        raise errors.LinkRevoked(reason)


async def logs(request: web.Request) -> web.StreamResponse:
    app = request.app
    target = parse_log_path(request.raw_path)
    if target is None:
        raise errors.NotALogLink()
    if request.method not in LOG_METHODS:
        raise errors.MethodNotAllowed(LOG_METHODS)
    client = client_of(request)
    if app[state.THROTTLE].throttled(client):
        raise errors.Throttled()  # before any lookup: a throttled scanner costs gatewayd nothing
    check_link(request, target.invocation_id)
    kind = negotiate(target, request.headers.get("Accept", ""))
    renderer = renderer_for(kind, request, target)
    settings = app[state.SETTINGS]
    query = InvocationQuery(
        target.invocation_id,
        settings.units,
        settings.public_fields,
        settings.limits,
        app[state.COUNTERS],
    )
    keeper = app[state.KEEPER]
    kept = keeper is not None and keeper.has(target.invocation_id)
    with app[state.STREAMS].stream(client):
        if wants_follow(request, kind) and not kept:  # a kept run has finished: all of it now
            opened = await open_follow(
                app[state.HUBS],
                query,
                app[state.MASKER],
                resume=resume_from(request, renderer),
                several_upstreams=len(settings.upstreams) > 1,
                follow_max=settings.timeouts.follow_max,
            )
            if app[state.REVOCATIONS].reason(target.invocation_id) is not None:
                await opened.aclose()  # revoked while it opened: its hub was already told
                check_link(request, target.invocation_id)
            return await respond(request, renderer, opened)
        return await respond_current(request, renderer, query)


async def static(request: web.Request) -> web.Response:
    asset = request.app[state.ASSETS].get(request.match_info["name"])
    if asset is None or request.method not in LOG_METHODS:
        raise errors.NotALogLink()
    return web.Response(
        body=asset.body,
        headers={
            "Content-Type": asset.content_type,
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


async def healthz(request: web.Request) -> web.Response:
    """200 when every gatewayd answers; says nothing about the journal either way."""
    answers = await asyncio.gather(*(c.ping() for c in request.app[state.CLIENTS]))
    ok = all(answers)
    return plain(200 if ok else 503, "ok" if ok else "upstream unavailable")


async def metrics(request: web.Request) -> web.Response:
    body = request.app[state.METRICS].render()
    return web.Response(text=body, content_type="text/plain", charset="utf-8")


async def anything_else(request: web.Request) -> web.Response:
    raise errors.NotALogLink()
