"""Which format a request gets: the path suffix decides, else the Accept header."""

from __future__ import annotations

from enum import Enum

from aiohttp import web

from journal_proxy.access.ids import LogFormat, LogTarget
from journal_proxy.access.signing import link_query
from journal_proxy.renderers import Renderer
from journal_proxy.renderers.html import HtmlRenderer
from journal_proxy.renderers.jsonl import JsonLinesRenderer
from journal_proxy.renderers.sse import SseRenderer
from journal_proxy.renderers.text import TextRenderer
from journal_proxy.web.state import ASSETS, MATCHERS


class Kind(Enum):
    TEXT = "text"
    JSON = "json"
    SSE = "sse"
    HTML = "html"


def negotiate(target: LogTarget, accept: str) -> Kind:
    """``.txt`` and ``.json`` decide; without a suffix, Accept picks HTML, SSE, JSON or text."""
    if target.format is LogFormat.TEXT:
        return Kind.TEXT
    if target.format is LogFormat.JSON:
        return Kind.JSON
    return accepted(accept)


def accepted(accept: str) -> Kind:
    """What the Accept header asks for, read once here for logs and error answers alike."""
    accept = accept.lower()
    if "text/event-stream" in accept:
        return Kind.SSE
    if "text/html" in accept:
        return Kind.HTML
    if "application/json" in accept or "application/x-ndjson" in accept:
        return Kind.JSON
    return Kind.TEXT


def wants_follow(request: web.Request, kind: Kind) -> bool:
    """SSE always follows; the page follows by itself (over SSE); text and JSON on ``?follow``."""
    if kind is Kind.SSE:
        return True
    if kind is Kind.HTML:
        return False
    value = request.query.get("follow")
    return value is not None and value.lower() not in ("0", "false", "no")


def wants_color(request: web.Request) -> bool:
    """``?color`` on text: keep the SGR colour codes, for a terminal.  Off by default, because
    text is what people ``grep`` and save, and a colour code inside a word breaks the match."""
    value = request.query.get("color")
    return value is not None and value.lower() not in ("0", "false", "no")


def resume_from(request: web.Request, renderer: Renderer) -> int:
    """``Last-Event-ID`` (read, never forwarded): the line a resuming reader already has."""
    if not renderer.resumes:
        return 0
    value = request.headers.get("Last-Event-ID", "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return 0


def renderer_for(kind: Kind, request: web.Request, target: LogTarget) -> Renderer:
    matchers = request.app[MATCHERS]  # the operator's problem patterns, built at start-up
    if kind is Kind.HTML:
        urls = request.app[ASSETS].urls
        state_icons = {
            state: urls[f"icon-{state}.svg"]
            for state in ("succeeded", "failed")
            if f"icon-{state}.svg" in urls
        }
        query = link_query(request.query.getall("exp", []), request.query.getall("sig", []))
        return HtmlRenderer(
            target.invocation_id,
            urls["style.css"],
            urls["app.js"],
            urls["icon.svg"],
            state_icons,
            link_query=query,
            matchers=matchers,
        )
    if kind is Kind.SSE:
        return SseRenderer(matchers)
    if kind is Kind.JSON:
        return JsonLinesRenderer(matchers)
    return TextRenderer(color=wants_color(request), matchers=matchers)
