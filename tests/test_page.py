"""The log page in real headless Chromium, against the proxy in front of a real gatewayd."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from journal_proxy import localjournal as lj
from journal_proxy.gatewayd import EXPORT_MIME

from .conftest import HTML_PAYLOADS, UNIT, Corpus, CountingRelay, Live
from .conftest import live_proxy as _proxy
from .conftest import wait_for_log as _wait_for_log

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("chromium is not installed: run scripts/test.sh")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        await b.close()


async def _page(browser: Browser, **kw: Any) -> tuple[Page, list[str]]:
    ctx = await browser.new_context(viewport={"width": 1200, "height": 800}, **kw)
    page = await ctx.new_page()
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type in ("error", "warning"):
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page, problems


async def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _url(proxy: Any, path: str) -> str:
    return str(proxy.make_url(path))


async def test_colours_escaping_and_no_script_from_the_log(
    browser: Browser, proxy: Any, corpus: Corpus
) -> None:
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{corpus.tricky}"))
    await page.wait_for_selector("#L3")
    green = page.locator(".l span.b.f2")
    assert await green.first.text_content() == "green"
    texts = await page.locator(".l").all_text_contents()
    assert "<script>window.pwned=1</script>" in texts
    assert any("onerror" in t for t in texts)
    assert await page.evaluate("window.pwned") is None
    assert await page.locator("script").count() == 1  # only our own app.js
    assert await page.locator("#status").text_content() == "succeeded"
    await _shot(page, "finished-tricky")
    assert problems == []


async def test_failed_page_shows_status_and_errors_stand_out(
    browser: Browser, proxy: Any, corpus: Corpus
) -> None:
    page, problems = await _page(browser, color_scheme="dark")
    await page.goto(_url(proxy, f"/logs/{corpus.failed}"))
    assert await page.locator("#status").text_content() == "failed: exit-code, status 1"
    assert await page.locator("h1").text_content() == UNIT
    assert await page.locator(".l.p3").count() >= 1
    await _shot(page, "failed-dark")
    assert problems == []


async def test_line_anchor_and_range_highlight_and_click_updates_url(
    browser: Browser, proxy: Any, corpus: Corpus
) -> None:
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{corpus.ok}#L3"))
    await page.wait_for_selector("#L3.hl")
    assert await page.locator(".l.hl").count() == 1
    await page.goto(_url(proxy, f"/logs/{corpus.ok}#L2-L4"))
    await page.reload()
    await page.wait_for_selector("#L4.hl")
    assert await page.locator(".l.hl").count() == 3
    await page.click("#L5", position={"x": 20, "y": 8})
    assert page.url.endswith("#L5")
    await page.click("#L7", position={"x": 20, "y": 8}, modifiers=["Shift"])
    assert page.url.endswith("#L5-L7")
    assert await page.locator(".l.hl").count() == 3
    assert await page.locator("#copy").is_enabled()
    assert problems == []


async def test_lines_can_be_linked_from_the_keyboard(
    browser: Browser, proxy: Any, corpus: Corpus
) -> None:
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{corpus.ok}"))
    await page.focus("#search")
    for _ in range(10):  # Tab from the toolbar reaches the log
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.id") == "log":
            break
    assert await page.evaluate("document.activeElement.id") == "log"
    await page.keyboard.press("ArrowDown")  # the cursor appears on the first line on screen
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    assert await page.eval_on_selector_all(".l.cur", "els => els.map(e => e.id)") == ["L3"]
    await page.keyboard.press("Enter")
    assert page.url.endswith("#L3")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowUp")
    await page.keyboard.press("Shift+Enter")
    assert page.url.endswith("#L3-L4")
    assert await page.locator(".l.hl").count() == 2
    await _shot(page, "keyboard")
    await page.keyboard.press("Escape")
    assert await page.locator(".l.cur").count() == 0
    assert problems == []


async def test_search_counts_and_filters(browser: Browser, proxy: Any, corpus: Corpus) -> None:
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{corpus.ok}"))
    await page.fill("#search", "STEP")
    await expect(page.locator("#matches")).to_have_text("5 matches")
    await page.check("#filter")
    visible = await page.locator(".l:visible").count()
    assert visible == 5
    await page.click("#wrap")
    assert await page.evaluate("document.body.classList.contains('nowrap')")
    await page.click("#tz")
    assert await page.locator("#tz").text_content() == "Local"
    await _shot(page, "search")
    assert problems == []


async def test_without_javascript_the_log_is_there(
    browser: Browser, proxy: Any, corpus: Corpus
) -> None:
    page, _ = await _page(browser, java_script_enabled=False)
    await page.goto(_url(proxy, f"/logs/{corpus.ok}"))
    texts = await page.locator(".l").all_text_contents()
    assert corpus.ok_lines[0] in texts and len(texts) >= 8


async def test_live_lines_and_status_change_without_reload(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _proxy(make_proxy, live)
    live.start()
    live.line("\x1b[1mbuilding\x1b[0m")
    await _wait_for_log(proxy, live.inv, 2)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    assert await page.locator("#status").text_content() == "running"
    await expect(page.locator("#live")).to_have_text("Live")
    await _shot(page, "running")
    live.line("a brand new line")
    await page.wait_for_selector("#L3")
    assert "a brand new line" in (await page.locator("#L3").text_content() or "")
    live.fail()
    await expect(page.locator("#status")).to_have_text("failed: exit-code, status 1")
    ids = await page.eval_on_selector_all(".l", "els => els.map(e => e.id)")
    assert ids == [f"L{i}" for i in range(1, len(ids) + 1)]
    await _shot(page, "failed-live")
    assert problems == []


async def test_live_page_longer_than_one_block(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    """Lines 501 on arrive as a <noscript> block: live lines go after it, and the time zone
    switch reaches lines that are built later."""
    proxy = await _proxy(make_proxy, live)
    live.start()
    for i in range(1200):
        live.line(f"early {i}")
    await _wait_for_log(proxy, live.inv, 1201)
    page, problems = await _page(browser, timezone_id="Asia/Kolkata")  # UTC+05:30
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    assert await page.locator(".chunk.lazy").count() == 2  # lines 501-1000 and 1001-1201
    await page.click("#tz")
    live.line("late line")
    await page.wait_for_selector("#L1202")
    assert await page.locator("#L1202").text_content() == "late line"
    await page.evaluate("location.hash = '#L1100'")
    await page.wait_for_selector("#L1100.hl")
    assert await page.locator("#L1100").text_content() == "early 1098"
    local = await page.evaluate(
        "(() => { const el = document.getElementById('L1100'); const d = new Date(el.dataset.t);"
        " return [el.dataset.h.slice(0, 5), String(d.getHours()).padStart(2, '0') + ':'"
        " + String(d.getMinutes()).padStart(2, '0'), el.dataset.t.slice(11, 16)]; })()"
    )
    assert local[0] == local[1] != local[2]  # local time, not the UTC the server wrote
    # The keyboard cursor walks from the first block into the next one.
    await page.evaluate("document.getElementById('L495').scrollIntoView({block: 'start'})")
    await page.focus("#log")
    for _ in range(60):
        await page.keyboard.press("ArrowDown")
        if await page.locator("#L502.cur").count():
            break
    assert await page.locator("#L502.cur").text_content() == "early 500"
    ids = await page.eval_on_selector_all(".l", "els => els.map(e => e.id)")
    assert ids[-1] == "L1202" and len(ids) == len(set(ids))
    assert problems == []


async def test_hostile_lines_in_a_block_built_by_the_page(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    """Lines past the first 500 reach the page as <noscript> text that app.js reads: markup in
    log text, and text that looks like the page's own markup, must come out as plain text."""
    hostile = [
        *HTML_PAYLOADS,
        '</div>\n<div id="L1" class="l p0">forged line</div>\n<script>window.pwned=3</script>',
        "</noscript><img src=x onerror=window.pwned=4>",
        '<span class="f1">not a colour</span> & &amp; &lt; "quoted" \'single\'',
        "\x1b[1;32mgreen\x1b[0m then plain",
    ]
    proxy = await _proxy(make_proxy, live)
    live.start()
    for i in range(600):
        live.line(f"filler {i}")
    for i, message in enumerate(hostile):
        live.line(message, identifier=f'id"<b>{i}')
    live.succeed()
    await _wait_for_log(proxy, live.inv, 601 + len(hostile))
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}#L602"))
    await page.wait_for_selector("#L602.hl")
    first = 602  # line 1 is systemd's "Starting", then 600 fillers
    for n, message in enumerate(hostile):
        el = page.locator(f"#L{first + n}")
        assert (await el.text_content()) == message.replace("\x1b[1;32m", "").replace("\x1b[0m", "")
        assert (
            await el.get_attribute("data-h")
            == await page.evaluate(
                f"document.getElementById('L{first + n}').dataset.t.slice(11, 23)"
            )
            + f' id"<b>{n}'
        )
    assert await page.locator(f"#L{first + len(hostile) - 1} span.b.f2").text_content() == "green"
    assert await page.locator("#log script, #log img, #log b").count() == 0
    assert await page.locator("[id='L1']").count() == 1  # no forged second line 1
    assert await page.evaluate("window.pwned") is None
    assert problems == []


async def test_reconnect_resumes_without_duplicates(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _proxy(make_proxy, live)
    front = CountingRelay(proxy.server.port)  # the page talks to the proxy through a cuttable link
    await front.start()
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    page, _ = await _page(browser)
    await page.goto(f"http://127.0.0.1:{front.port}/logs/{live.inv}")
    await expect(page.locator("#live")).to_have_text("Live")
    live.line("before the cut")
    await page.wait_for_selector("#L2")
    front.cut()
    live.line("during the cut 1")
    live.line("during the cut 2")
    await page.wait_for_selector("#L4", timeout=15000)
    live.line("after the cut")
    await page.wait_for_selector("#L5", timeout=15000)
    ids = await page.eval_on_selector_all(".l", "els => els.map(e => e.id)")
    assert ids == ["L1", "L2", "L3", "L4", "L5"]
    messages = await page.locator(".l").all_text_contents()
    assert messages[1:] == [
        "before the cut",
        "during the cut 1",
        "during the cut 2",
        "after the cut",
    ]
    await front.close()


@pytest.fixture(scope="session")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[lj.Gatewayd, str]:
    directory = tmp_path_factory.mktemp("big")
    inv = lj.new_invocation_id()
    clock = lj.Clock()
    parts = [lj.starting(clock, UNIT, inv)]
    parts += [
        lj.unit_line(
            clock,
            UNIT,
            inv,
            f"line {i} \x1b[32mok\x1b[0m compiling module_{i % 977}.py",
            priority=6 if i % 50 else 4,
        )
        for i in range(100_000)
    ]
    parts.append(lj.succeeded(clock, UNIT, inv))
    lj.write_journal(directory, "big", b"".join(parts))
    gw = lj.Gatewayd(directory)
    return gw, inv


@pytest.fixture
def proxy_process(big_log: tuple[lj.Gatewayd, str]) -> Iterator[str]:
    """The proxy as its own process, as deployed: the browser test must not share its CPU."""
    proxy = lj.ProxyProcess(UNIT, big_log[0].url)
    yield proxy.url
    proxy.stop()


async def _gatewayd_export_seconds(gw: lj.Gatewayd, inv: str) -> float:
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{gw.url}/entries",
            params={"_SYSTEMD_INVOCATION_ID": inv},
            headers={"Accept": EXPORT_MIME},
        ) as resp,
    ):
        async for _ in resp.content.iter_chunked(1 << 20):
            pass
    return time.monotonic() - started


async def test_100k_lines_first_screen_at_once_and_all_in_a_few_seconds(
    browser: Browser, proxy_process: str, big_log: tuple[lj.Gatewayd, str]
) -> None:
    gw, inv = big_log
    # The floor: gatewayd alone sending the same entries, timed on this machine, now.
    floor = await _gatewayd_export_seconds(gw, inv)
    page, problems = await _page(browser)
    started = time.monotonic()
    await page.goto(f"{proxy_process}/logs/{inv}", wait_until="commit")
    await page.wait_for_selector("#L40", state="visible")
    first = time.monotonic() - started
    # Fully shown: once the page has loaded, the reader can go to any line at once, the last
    # one included (lines past the first block are built when they come near the screen).
    await page.wait_for_load_state("load", timeout=60000)
    await page.evaluate("location.hash = '#L100004'")
    await page.wait_for_selector("#L100004.hl", state="visible")
    total = time.monotonic() - started
    last_byte = await page.evaluate(
        "performance.getEntriesByType('navigation')[0].responseEnd / 1000"
    )
    print(
        f"100k lines: first screen {first:.2f}s, last byte {last_byte:.2f}s, "
        f"last line shown {total:.2f}s; gatewayd's own export {floor:.2f}s"
    )
    assert first < 2.0
    # Loosely bounded against gatewayd's own time on this machine now: 2.0-3.1x measured here,
    # on two cores shared by gatewayd, the proxy, Chromium and this test; 1.4-1.9x in
    # bench/run.py, which has the figures.
    assert total < 6.0 * floor
    # What keeps the browser's share small: the loaded page has built only the blocks near the
    # screen and the one #L100004 is in, not 100,000 elements.
    assert await page.locator(".l").count() <= 4 * 500
    assert await page.text_content("#L100004") == f"{UNIT}: Consumed 1.234s CPU time."
    # A line in the middle of the log, by its link: on screen and not under the sticky header.
    await page.goto(f"{proxy_process}/logs/{inv}#L1200", wait_until="load", timeout=60000)
    await page.wait_for_selector("#L1200.hl")
    await expect(page.locator("#L1200")).to_be_in_viewport()
    below_header = await page.evaluate(
        "document.getElementById('L1200').getBoundingClientRect().top >="
        " document.querySelector('.top').getBoundingClientRect().bottom"
    )
    assert below_header
    # A line in a block that was never near the screen, by its link.
    await page.goto(f"{proxy_process}/logs/{inv}#L99999")
    await page.wait_for_selector("#L99999.hl", timeout=60000)
    assert await page.locator("#L99999").is_visible()
    assert await page.locator("#L99999 span.f2").text_content() == "ok"
    await _shot(page, "big-end")
    # Search covers every line, built or not: module_976.py is on lines i % 977 == 976.
    await page.fill("#search", "module_976.py")
    await expect(page.locator("#matches")).to_have_text("102 matches", timeout=60000)
    assert await page.locator(".l").count() == 100_004
    assert problems == []


async def test_100k_lines_without_javascript_are_all_there(
    browser: Browser, proxy_process: str, big_log: tuple[lj.Gatewayd, str]
) -> None:
    _, inv = big_log
    page, _ = await _page(browser, java_script_enabled=False)
    await page.goto(f"{proxy_process}/logs/{inv}#L99999", timeout=60000)
    assert await page.locator(".l").count() == 100_004
    await expect(page.locator("#L99999")).to_be_in_viewport()
    assert await page.locator("#L99999 span.f2").text_content() == "ok"
