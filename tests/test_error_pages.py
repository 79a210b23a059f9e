"""Dead ends a person understands: a page for browsers, JSON for programs, one line for curl.

Each status (403, 404, 410, 429, 502, 504) is produced for real: a closed port for gatewayd
down, a server that never answers for too slow, refusals until the throttle answers.  The pages
are opened in headless Chromium, which must report no console or CSP error.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage

from .conftest import Corpus, closed_port, silent_server

SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
KEY = "k" * 44


async def _refuse_until_throttled(proxy: Any) -> None:
    for _ in range(100):
        if (await proxy.get("/nothing-here")).status == 429:
            return
    raise AssertionError("the throttle never answered 429")


@pytest.fixture
async def dead_ends(
    make_proxy: Any, corpus: Corpus, tmp_path: Path
) -> AsyncIterator[dict[int, tuple[Any, str]]]:
    """A proxy and a path for each status, answered the way the status is reached in real life."""
    revoked = tmp_path / "revoked"
    revoked.write_text(f"{corpus.failed} a token leaked\n")
    keys = tmp_path / "keys"
    keys.write_text(KEY + "\n")
    server, port = await silent_server()
    main = await make_proxy(revocation_file=str(revoked))
    signed = await make_proxy(link_keys_file=str(keys), require_signed_links=True)
    down = await make_proxy(upstream=f"http://127.0.0.1:{closed_port()}")
    slow = await make_proxy(upstream=f"http://127.0.0.1:{port}", timeouts={"upstream_headers": 0.3})
    # The throttle refills at 2/s by default, so a slow browser on a busy machine would find a
    # token again: this one gets one a minute.
    throttled = await make_proxy(limits={"refusals_per_minute": 1})
    await _refuse_until_throttled(throttled)
    yield {
        403: (signed, f"/logs/{corpus.ok}"),
        404: (main, f"/logs/{corpus.unknown}"),
        410: (main, f"/logs/{corpus.failed}"),
        429: (throttled, "/nothing-here"),
        502: (down, f"/logs/{corpus.ok}"),
        504: (slow, f"/logs/{corpus.ok}"),
    }
    server.close()


async def test_every_dead_end_in_three_forms(dead_ends: dict[int, tuple[Any, str]]) -> None:
    for status, (proxy, path) in dead_ends.items():
        text = await proxy.get(path)
        assert text.status == status
        assert text.content_type == "text/plain"
        body = await text.text()
        assert body.startswith(f"{status}: ") and body.count("\n") == 1

        data = await proxy.get(path, headers=JSON)
        assert data.status == status and data.content_type == "application/json"
        obj = await data.json()
        assert obj["status"] == status and obj["error"] and obj["message"]

        page = await proxy.get(path, headers=HTML)
        assert page.status == status and page.content_type == "text/html"
        html = await page.text()
        assert "<script" not in html and "style=" not in html
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        css = re.search(r'href="(/static/[0-9a-f]+/style\.css)"', html)
        assert css and (await proxy.get(css.group(1))).status == 200
        if status == 429:
            assert text.headers["Retry-After"] == page.headers["Retry-After"] == "30"


async def test_json_suffix_gets_json_and_the_revocation_reason(
    dead_ends: dict[int, tuple[Any, str]],
) -> None:
    proxy, path = dead_ends[410]
    resp = await proxy.get(path + ".json")
    assert await resp.json() == {
        "status": 410,
        "error": "revoked",
        "message": "this link was revoked (a token leaked)",
        "reason": "a token leaked",
    }


async def test_a_well_formed_unknown_id_and_a_stray_path_say_different_things(
    dead_ends: dict[int, tuple[Any, str]],
) -> None:
    proxy, path = dead_ends[404]
    log_page = await (await proxy.get(path, headers=HTML)).text()
    stray = await (await proxy.get("/wp-login.php", headers=HTML)).text()
    assert "rotated away" in log_page and "another host" not in stray
    assert "32 hexadecimal" in stray


@pytest.mark.browser
async def test_error_pages_in_chromium_have_no_console_or_csp_errors(
    browser: Browser, dead_ends: dict[int, tuple[Any, str]]
) -> None:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 600})
    page = await ctx.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning") and "status of" not in msg.text:
            problems.append(msg.text)  # (Chromium logs every non-2xx document load: expected)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    for status, (proxy, path) in dead_ends.items():
        if status == 429:
            await _refuse_until_throttled(proxy)
        response = await page.goto(str(proxy.make_url(path)))
        assert response is not None and response.status == status
        heading = page.locator("h1")
        assert await heading.count() == 1 and (await heading.text_content() or "").strip()
        assert await page.locator(".badge").text_content() == str(status)
        # The stylesheet applied (the CSP let it in): the header bar has its padding.
        padding = await page.locator("header").evaluate("e => getComputedStyle(e).paddingTop")
        assert padding == "10px", status
        SHOTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"error-{status}.png"))
        await asyncio.sleep(0)  # let late console messages arrive before the next page
    assert problems == []
    await ctx.close()
