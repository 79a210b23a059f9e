"""The log page in real headless Chromium, against the proxy in front of a real gatewayd."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from journal_proxy.local import journal as lj
from journal_proxy.local import procs
from journal_proxy.upstream.gatewayd import EXPORT_MIME

from .conftest import HTML_PAYLOADS, UNIT, Corpus, CountingRelay, Live
from .conftest import live_proxy as _proxy
from .conftest import wait_for_log as _wait_for_log
from .helpers import eventually

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "screenshots"


async def _page(
    browser: Browser, viewport_override: dict[str, int] | None = None, **kw: Any
) -> tuple[Page, list[str]]:
    viewport: Any = viewport_override or {"width": 1200, "height": 800}
    ctx = await browser.new_context(viewport=viewport, **kw)
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
    await expect(page.locator("#matches")).to_have_text("1 of 5")
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


async def test_a_live_page_reads_again_for_last_lines_journald_left_unlabelled(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    """journald can store a fast-failing command's last lines without the run's ID
    (tests/test_unlabelled.py): the live stream never sees them, so it ends asking for a second
    read, and the page reloads and shows the error in its place and in the failure's summary."""
    proxy = await _proxy(make_proxy, live)
    live.start()
    live.line("fetching origin")
    await _wait_for_log(proxy, live.inv, 2)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    live.clock.usec = max(live.clock.usec + 1, lj.now_usec())
    error = "fatal: could not read from remote repository"
    live.journal.write(lj.unit_line(live.clock, UNIT, None, error))
    live.fail()
    await expect(page.locator(".l", has_text=error)).to_have_count(1, timeout=15_000)
    await expect(page.locator("#summary")).to_contain_text(error)
    await expect(page.locator("#status")).to_have_text("failed: exit-code, status 1")
    await _shot(page, "reread-unlabelled")
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
    # Lines 501-1000 wait as a block; 1001-1201 were built, since a running log opens at its tail.
    assert await page.locator(".chunk.lazy").count() == 1
    await expect(page.locator("#L1201")).to_be_in_viewport()
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
def big_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str]]:
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
    procs.write_journal(directory, "big", b"".join(parts))
    gw = procs.Gatewayd(directory)
    yield gw, inv
    gw.stop()


@pytest.fixture
def proxy_process(big_log: tuple[procs.Gatewayd, str]) -> Iterator[str]:
    """The proxy as its own process, as deployed: the browser test must not share its CPU."""
    proxy = procs.ProxyProcess(UNIT, big_log[0].url)
    yield proxy.url
    proxy.stop()


async def _gatewayd_export_seconds(gw: procs.Gatewayd, inv: str) -> float:
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
    browser: Browser, proxy_process: str, big_log: tuple[procs.Gatewayd, str]
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
    # Search covers every line, built or not (module_976.py is on lines i % 977 == 976), without
    # building them all: only the blocks the first match is in and next to.
    await page.fill("#search", "module_976.py")
    await expect(page.locator("#matches")).to_have_text("1 of 102", timeout=60000)
    assert await page.locator(".l").count() < 10_000
    assert problems == []


async def test_100k_lines_without_javascript_are_all_there(
    browser: Browser, proxy_process: str, big_log: tuple[procs.Gatewayd, str]
) -> None:
    _, inv = big_log
    page, _ = await _page(browser, java_script_enabled=False)
    await page.goto(f"{proxy_process}/logs/{inv}#L99999", timeout=60000)
    assert await page.locator(".l").count() == 100_004
    await expect(page.locator("#L99999")).to_be_in_viewport()
    assert await page.locator("#L99999 span.f2").text_content() == "ok"


# --- a live page behaves like a terminal's tail ----------------------------------------------


async def _scroll_y(page: Page) -> float:
    y: float = await page.evaluate("window.scrollY")
    return y


async def _running_log(make_proxy: Any, live: Live, lines: int) -> Any:
    proxy = await _proxy(make_proxy, live)
    live.start()
    for i in range(1, lines):
        live.line(f"build step {i}")
    await _wait_for_log(proxy, live.inv, lines)
    return proxy


async def test_a_running_log_opens_at_its_tail_and_keeps_the_newest_line_on_screen(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _running_log(make_proxy, live, 2000)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    await expect(page.locator("#L2000")).to_be_in_viewport()
    assert await _scroll_y(page) > 20000  # the page really is long, and we are at its end
    live.line("a line written after the page opened")
    await expect(page.locator("#L2001")).to_be_in_viewport()  # without any scrolling by us
    # Elapsed time ticks in the header while the run goes on.
    duration = page.locator("#duration")
    await expect(duration).to_have_text(re.compile(r"^(\d+h )?(\d+m )?\d+s$"))
    first = await duration.text_content()
    await expect(duration).not_to_have_text(first or "", timeout=5000)
    await _shot(page, "live-tail")
    live.succeed()
    await expect(page.locator("#status")).to_have_text("succeeded")
    await expect(page.locator("#live")).to_have_text("Finished.")
    await expect(duration).to_have_text(re.compile(r"^(\d+m )?\d+\.\ds$"))
    assert (await page.title()).startswith("✓ " + UNIT)
    await expect(page.locator(f"#L{2001 + 3}")).to_be_in_viewport()  # systemd's last lines too
    assert problems == []


async def test_scrolling_up_pauses_following_and_the_new_lines_button_resumes(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _running_log(make_proxy, live, 300)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    await expect(page.locator("#L300")).to_be_in_viewport()
    button = page.locator("#newlines")
    await expect(button).to_be_hidden()
    await page.mouse.move(600, 500)
    await page.mouse.wheel(0, -1500)
    await eventually(
        lambda: page.evaluate(
            "window.scrollY + innerHeight < document.documentElement.scrollHeight - 1000"
        ),
        what="scrolled up",
    )
    y = await _scroll_y(page)
    for i in range(3):
        live.line(f"while reading {i}")
    await page.wait_for_selector("#L303", state="attached")
    await expect(button).to_have_text("↓ 3 new lines")
    assert await _scroll_y(page) == y  # the view did not move
    await expect(page.locator("#L303")).not_to_be_in_viewport()
    await _shot(page, "live-paused")
    await button.click()
    await expect(page.locator("#L303")).to_be_in_viewport()
    await expect(button).to_be_hidden()
    live.line("following again")
    await expect(page.locator("#L304")).to_be_in_viewport()
    # Scrolling up again, then the End key.
    await page.mouse.wheel(0, -1500)
    await eventually(
        lambda: page.evaluate(
            "window.scrollY + innerHeight < document.documentElement.scrollHeight - 1000"
        ),
        what="scrolled up",
    )
    live.line("one more")
    await expect(button).to_have_text("↓ 1 new line")
    await page.keyboard.press("End")
    await expect(page.locator("#L305")).to_be_in_viewport()
    await expect(button).to_be_hidden()
    assert problems == []


def _serve(port: int, upstream: str) -> subprocess.Popen[bytes]:
    """``journal-proxy serve`` as its own process on ``port`` (a restart reuses the address)."""
    return procs.ProxyProcess(UNIT, upstream, port=port).proc


async def test_a_live_page_survives_a_graceful_restart_of_the_proxy(
    browser: Browser, live: Live
) -> None:
    """SIGTERM (systemctl restart, the idle exit) ends each stream with "shutdown": the page
    reconnects to the new process on the same address, from its last line, and goes on."""
    upstream = f"http://127.0.0.1:{live.relay.port}"
    port = procs.free_port()
    proc = _serve(port, upstream)
    try:
        live.start()
        live.line("before the restart")
        page, problems = await _page(browser)
        await page.goto(f"http://127.0.0.1:{port}/logs/{live.inv}")
        await page.wait_for_selector("#L2")
        await expect(page.locator("#live")).to_have_text("Live")
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 10) == 0
        await expect(page.locator("#live")).to_have_text("Reconnecting…")
        live.line("written while the proxy was down")
        proc = _serve(port, upstream)
        live.line("written after the restart")
        await expect(page.locator("#L4")).to_have_text("written after the restart", timeout=20000)
        await expect(page.locator("#live")).to_have_text("Live")
        live.succeed()
        await expect(page.locator("#status")).to_have_text("succeeded", timeout=15000)
        await expect(page.locator("#live")).to_have_text("Finished.", timeout=15000)
        messages = await page.locator(".l").all_text_contents()
        assert messages[1:4] == [
            "before the restart",
            "written while the proxy was down",
            "written after the restart",
        ]
        ids = await page.eval_on_selector_all(".l", "els => els.map(e => e.id)")
        assert ids == [f"L{i}" for i in range(1, len(ids) + 1)]  # nothing lost or repeated
        assert (await page.title()).startswith("✓ ")
        # Refused connections while the proxy was down are the only console errors allowed.
        assert all("ERR_CONNECTION_REFUSED" in p for p in problems), problems
    finally:
        proc.terminate()
        proc.wait(10)


async def test_the_end_changes_badge_duration_title_and_icon_without_reload(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _running_log(make_proxy, live, 3)
    page, problems = await _page(browser, color_scheme="dark")
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    icon = page.locator("link[rel=icon]")
    running_icon = await icon.get_attribute("href")
    await _shot(page, "live-dark")
    live.fail()
    await expect(page.locator("#status")).to_have_text("failed: exit-code, status 1")
    await expect(page.locator("#live")).to_have_text("Finished.")
    assert (await page.title()) == f"✗ {UNIT} · failed: exit-code, status 1"
    await expect(page.locator("#duration")).to_have_text(re.compile(r"^(\d+m )?\d+\.\ds$"))
    await _shot(page, "live-failed-dark")
    failed_icon = await icon.get_attribute("data-failed")
    assert failed_icon and failed_icon.endswith(".svg")
    assert await icon.get_attribute("href") == failed_icon != running_icon
    assert problems == []


# --- a terminal's fidelity: colours, redraws, links ------------------------------------------


async def _finished_log(make_proxy: Any, live: Live, messages: list[str], filler: int = 0) -> Any:
    proxy = await _proxy(make_proxy, live)
    live.start()
    for i in range(filler):
        live.line(f"filler {i}")
    for message in messages:
        live.line(message)
    live.succeed()
    await _wait_for_log(proxy, live.inv, 1 + filler + len(messages) + 2)
    return proxy


async def _style(page: Page, selector: str, prop: str) -> str:
    value: str = await page.eval_on_selector(
        selector, "(el, p) => getComputedStyle(el).getPropertyValue(p)", prop
    )
    return value


async def test_256_colour_truecolour_and_attributes_are_shown(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    messages = [
        "\x1b[38;5;208morange\x1b[0m \x1b[48;5;21mblue bg\x1b[0m \x1b[38;5;244mgrey",
        "\x1b[38;2;255;135;0mtrue orange\x1b[0m \x1b[38;2;10;200;30mnear green",
        "\x1b[7mreversed\x1b[0m \x1b[9mstruck\x1b[0m \x1b[2mdim\x1b[0m \x1b[3mitalic",
    ]
    proxy = await _finished_log(make_proxy, live, messages)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    spans = "#L{} span:nth-of-type({})"
    assert await _style(page, spans.format(2, 1), "color") == "rgb(255, 135, 0)"  # 208
    assert await _style(page, spans.format(2, 2), "background-color") == "rgb(0, 0, 255)"  # 21
    assert await _style(page, spans.format(2, 3), "color") == "rgb(128, 128, 128)"  # 244
    # 24-bit colours: the nearest palette colour (exact for 255;135;0, which is colour 208).
    assert await _style(page, spans.format(3, 1), "color") == "rgb(255, 135, 0)"
    assert await _style(page, spans.format(3, 2), "color") == "rgb(0, 215, 0)"  # 40
    # Reverse video swaps the page's own colours; the others as named.
    assert await _style(page, spans.format(4, 1), "color") == "rgb(255, 255, 255)"
    assert await _style(page, spans.format(4, 1), "background-color") == "rgb(31, 35, 40)"
    assert "line-through" in await _style(page, spans.format(4, 2), "text-decoration-line")
    assert float(await _style(page, spans.format(4, 3), "opacity")) < 1
    assert await _style(page, spans.format(4, 4), "font-style") == "italic"
    assert await page.locator("#L4").text_content() == "reversed struck dim italic"
    await _shot(page, "colours")
    assert problems == []


async def test_a_progress_line_shows_only_its_final_state(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _finished_log(
        make_proxy, live, ["progress 10%\rprogress 50%\rprogress 100%", "abcdef\rXY"]
    )
    page, _ = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    assert await page.locator("#L2").text_content() == "progress 100%"
    assert await page.locator("#L3").text_content() == "XYcdef"


LINK_LINES = [
    "docs at https://example.com/deploy?x=1&y=2 (see http://example.org/a_(b)).",
    "javascript:window.pwned=1 data:text/html,<script>window.pwned=2</script> JAVASCRIPT://x",
    'https://x.example/"><img src=x onerror=window.pwned=3>',
    "\x1b]8;;javascript:window.pwned=4\x1b\\click me\x1b]8;;\x1b\\",
    "\x1b]8;;https://osc.example/\x1b\\label\x1b]8;;\x1b\\ \x1b[32mhttps://green.example/ok\x1b[0m",
    "ends at a BOM https://bom.example/a\ufeffb and (https://x.example/c?d=e),",
]
LINK_TEXTS = [
    LINK_LINES[0],
    LINK_LINES[1],
    LINK_LINES[2],
    "click me",
    "label https://green.example/ok",
    LINK_LINES[5],
]
LINK_TARGETS = [
    ["https://example.com/deploy?x=1&y=2", "http://example.org/a_(b)"],
    [],
    ["https://x.example/"],
    [],
    ["https://green.example/ok"],
    ["https://bom.example/a", "https://x.example/c?d=e"],
]


@pytest.mark.parametrize("where", ["first screen", "built block", "live"])
async def test_only_http_urls_become_links_and_hostile_text_stays_text(
    browser: Browser, make_proxy: Any, live: Live, where: str
) -> None:
    """The same lines through each way a line is made: the server's markup, app.js's reader
    for <noscript> blocks, and app.js's DOM calls for live lines."""
    proxy = await _proxy(make_proxy, live)
    live.start()
    filler = 600 if where == "built block" else 0
    for i in range(filler):
        live.line(f"filler {i}")
    if where != "live":
        for message in LINK_LINES:
            live.line(message)
    await _wait_for_log(proxy, live.inv, 1 + filler + (0 if where == "live" else len(LINK_LINES)))
    page, problems = await _page(browser)
    first = 2 + filler
    await page.goto(_url(proxy, f"/logs/{live.inv}#L{first}"))
    if where == "live":
        await expect(page.locator("#live")).to_have_text("Live")
        for message in LINK_LINES:
            live.line(message)
    await page.wait_for_selector(f"#L{first + len(LINK_LINES) - 1}")
    for n, (text, targets) in enumerate(zip(LINK_TEXTS, LINK_TARGETS, strict=True)):
        line = page.locator(f"#L{first + n}")
        assert await line.text_content() == text, n
        links = line.locator("a")
        assert await links.evaluate_all("els => els.map(a => a.getAttribute('href'))") == targets
        for rel in await links.evaluate_all("els => els.map(a => a.rel)"):
            assert rel == "noopener noreferrer nofollow"
    assert await page.locator("#log a:not([href^='http'])").count() == 0
    assert await page.locator("#log img, #log script").count() == 0
    assert await page.evaluate("window.pwned") is None
    assert problems == []


async def test_with_wrap_off_the_end_of_a_long_line_can_be_scrolled_into_view(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    long = "BEGIN " + "0123456789" * 999 + " THE-END"
    proxy = await _finished_log(make_proxy, live, [long, "short"], filler=0)
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await page.click("#wrap")
    await expect(page.locator("#wrap")).to_have_attribute("aria-pressed", "false")
    await page.reload()  # remembered, like the time zone
    assert await page.evaluate("document.body.classList.contains('nowrap')")
    assert await page.evaluate("document.documentElement.scrollWidth") > 60000
    await page.evaluate("window.scrollTo(document.documentElement.scrollWidth, 0)")
    end = await page.evaluate(
        """() => {
        const t = document.getElementById('L2').lastChild, r = document.createRange();
        r.setStart(t, t.length - 7); r.setEnd(t, t.length);
        const b = r.getBoundingClientRect();
        const hit = document.elementFromPoint(b.left + 3, b.top + b.height / 2);
        return [b.left, b.right, innerWidth, hit && hit.id, r.toString()];
    }"""
    )
    left, right, width, hit, text = end
    assert text == "THE-END"
    assert left >= 0 and right <= width, end  # on screen...
    assert hit == "L2", end  # ...and painted there, not clipped away
    await expect(page.locator("#search")).to_be_in_viewport()  # the header stays put
    await _shot(page, "nowrap")
    assert problems == []


async def test_timestamps_shown_relative_or_hidden_are_remembered(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    proxy = await _finished_log(make_proxy, live, ["one", "two"])
    page, problems = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    times = page.locator("#times")
    await times.click()
    await expect(times).to_have_text("+Time")
    assert re.fullmatch(
        r"\+0:00\.\d{3} deploy\.sh", await page.get_attribute("#L2", "data-h") or ""
    )
    await page.reload()
    await expect(times).to_have_text("+Time")
    assert (await page.get_attribute("#L3", "data-h") or "").startswith("+0:00.")
    await times.click()
    await expect(times).to_have_text("No time")
    assert await page.evaluate("document.body.classList.contains('times-off')")
    assert await page.get_attribute("#L2", "data-h") == " deploy.sh"
    await times.click()
    await expect(times).to_have_text("Time")
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} deploy\.sh", await page.get_attribute("#L2", "data-h") or ""
    )
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_on_a_phone_the_header_stays_reachable_and_ranges_need_no_keyboard(
    browser: Browser, make_proxy: Any, live: Live, scheme: str
) -> None:
    proxy = await _finished_log(
        make_proxy, live, [f"\x1b[3{i % 8}mstep {i}\x1b[0m of a long deploy" for i in range(300)]
    )
    page, problems = await _page(
        browser,
        color_scheme=scheme,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        viewport_override={"width": 390, "height": 844},
    )
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    header = await page.eval_on_selector(".top", "el => el.getBoundingClientRect().height")
    assert header < 844 * 0.2
    await page.evaluate("window.scrollTo(0, 3000)")
    await expect(page.locator("#search")).to_be_in_viewport()
    await page.tap("#range")
    await page.locator("#L10").tap(position={"x": 12, "y": 8})
    await page.locator("#L14").tap(position={"x": 12, "y": 8})
    assert page.url.endswith("#L10-L14")
    assert await page.locator(".l.hl").count() == 5
    await expect(page.locator("#range")).to_have_attribute("aria-pressed", "false")
    await page.fill("#search", "step 299")
    await expect(page.locator("#matches")).to_have_text("1 of 1")
    await _shot(page, f"phone-{scheme}")
    assert problems == []


async def test_a_live_page_reconnects_when_gatewayd_stops_answering(
    browser: Browser, make_proxy: Any, live: Live
) -> None:
    """The proxy's connection to gatewayd breaks: its follow ends with "upstream", and the page
    comes back for the lines after its last one instead of stopping."""
    proxy = await _running_log(make_proxy, live, 3)
    page, _ = await _page(browser)
    await page.goto(_url(proxy, f"/logs/{live.inv}"))
    await expect(page.locator("#live")).to_have_text("Live")
    live.relay.cut()
    live.line("after gatewayd came back")
    await expect(page.locator("#L4")).to_have_text("after gatewayd came back", timeout=20000)
    await expect(page.locator("#live")).to_have_text("Live")
    ids = await page.eval_on_selector_all(".l", "els => els.map(e => e.id)")
    assert ids == ["L1", "L2", "L3", "L4"]
