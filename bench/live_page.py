"""Live page delay: from a journal write to the line painted in the browser, next to SSE's.

A real growing journal (systemd-journal-remote fed through a FIFO), a real gatewayd, the proxy as
its own process, headless Chromium (Debian's /usr/bin/chromium) with the live page open, and an
SSE client reading the same invocation.  Each line is written, then timed twice:

- SSE: when the SSE client has received the event with that line's ID;
- page: the first animation frame after app.js inserted the line (a MutationObserver notes the
  line, a ``requestAnimationFrame`` callback stamps the time).  That frame is the one that paints
  it, so this is the delay to the paint, short of the compositor's own few milliseconds.

Both clocks are this machine's wall clock (``time.time()`` and the page's
``performance.timeOrigin + performance.now()``), so the delays compare directly.  Absolute times on
a noisy shared machine: compare the two columns of one run, not runs with each other.

    .venv/bin/python bench/live_page.py [--lines 200] [--interval 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from playwright.async_api import Page, async_playwright

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

UNIT = "deploy-website.service"
CHROMIUM = "/usr/bin/chromium"

#: Stamps each new line's paint frame into window.__painted (line number -> epoch ms).
WATCH = """() => {
  window.__painted = {};
  new MutationObserver((records) => {
    const fresh = [];
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType === 1 && n.classList.contains('l')) fresh.push(n.id);
    }
    if (fresh.length) requestAnimationFrame(() => {
      const now = performance.timeOrigin + performance.now();
      for (const id of fresh) window.__painted[id] = now;
    });
  }).observe(document.getElementById('log'), { childList: true, subtree: true });
}"""


async def until(page: Page, expression: str, timeout: float = 30.0) -> None:
    """Poll ``expression`` from here: Playwright's own wait_for_function evaluates strings inside
    the page, which the page's CSP (no 'unsafe-eval') forbids."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        await asyncio.sleep(0.01)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def sse_reader(url: str, received: dict[int, float], done: asyncio.Event) -> None:
    """Receive times of every SSE event ID, until ``done``."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(url, headers={"Accept": "text/event-stream"}) as resp,
    ):
        while not done.is_set():
            line = await resp.content.readline()
            if not line:
                return
            if line.startswith(b"id: "):
                received[int(line[4:])] = time.time() * 1000


async def measure(lines: int, interval: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "live"
        journal = procs.LiveJournal(directory)
        gw = procs.Gatewayd(directory)
        proxy = procs.ProxyProcess(UNIT, gw.url)
        try:
            clock = lj.Clock(lj.now_usec())
            inv = lj.new_invocation_id()
            journal.write(lj.starting(clock, UNIT, inv))
            url = f"{proxy.url}/logs/{inv}"
            async with aiohttp.ClientSession() as session:
                for _ in range(500):
                    async with session.get(url + ".txt") as r:
                        if r.status == 200:
                            break
                    await asyncio.sleep(0.02)
            received: dict[int, float] = {}
            done = asyncio.Event()
            reader = asyncio.create_task(sse_reader(url, received, done))
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                page = await browser.new_page(viewport={"width": 1200, "height": 800})
                await page.goto(url)
                await until(page, "document.getElementById('live').textContent === 'Live'")
                await page.evaluate(WATCH)
                while 1 not in received:
                    await asyncio.sleep(0.01)
                written: dict[int, float] = {}
                for i in range(lines):
                    line_no = i + 2  # line 1 is systemd's "Starting"
                    clock.usec = max(clock.usec + 1, lj.now_usec())
                    written[line_no] = time.time() * 1000
                    journal.write(lj.unit_line(clock, UNIT, inv, f"live line {i}"))
                    await asyncio.sleep(interval)
                last = lines + 1
                await until(page, f"window.__painted['L{last}'] !== undefined")
                painted = await page.evaluate("window.__painted")
                while last not in received:
                    await asyncio.sleep(0.01)
                await browser.close()
            done.set()
            reader.cancel()
            sse = [received[n] - t for n, t in written.items()]
            paint = [painted[f"L{n}"] - t for n, t in written.items()]
            return {
                "lines": lines,
                "sse_ms_median": statistics.median(sse),
                "sse_ms_p99": percentile(sse, 0.99),
                "paint_ms_median": statistics.median(paint),
                "paint_ms_p99": percentile(paint, 0.99),
            }
        finally:
            proxy.stop()
            gw.stop()
            journal.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between writes")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    figures = asyncio.run(measure(args.lines, args.interval))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"live delay, journal write to ..., {figures['lines']} lines, ms")
    print(f"{'':24}{'median':>8}{'p99':>8}")
    print(f"{'SSE event received':24}{figures['sse_ms_median']:8.1f}{figures['sse_ms_p99']:8.1f}")
    print(
        f"{'line painted in page':24}{figures['paint_ms_median']:8.1f}{figures['paint_ms_p99']:8.1f}"
    )


if __name__ == "__main__":
    main()
