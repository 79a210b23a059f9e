"""A failed 100,000-line log: time to the first error's text on screen, next to the first line's.

A real journal (systemd-journal-remote), a real gatewayd, the proxy as its own process and headless
Chromium (Debian's /usr/bin/chromium).  The run has two commands (``prepare.sh``, ``deploy.sh``),
a few ``::group::`` sections, and one error line deep inside (line ~71,000), then systemd's failure
lines.  Each round opens the page afresh and times, from the navigation:

- first line: line 1 visible (the page test bounds line 40 of the 100k succeeded log; here the
  first step is folded, so line 1 is the first line on screen);
- first error: the error's text in the viewport (the failure summary app.js builds at the top);
- load: the page's load event (every byte received and parsed);
- error line: after a click on the summary's link, the error line itself on screen.

Times on a shared machine: compare the columns of one run.

    .venv/bin/python bench/first_error.py [--rounds 3] [--lines 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

UNIT = "deploy-website.service"
CHROMIUM = "/usr/bin/chromium"
ERROR = 'ERROR: migration 0042_add_index failed: relation "users" does not exist'
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def build(directory: Path, lines: int) -> tuple[str, int]:
    """The failed run's journal; returns its invocation ID and the error's line number."""
    inv, clock = lj.new_invocation_id(), lj.Clock()
    parts = [lj.starting(clock, UNIT, inv)]
    prep, deploy = lj.new_stream_id(), lj.new_stream_id()
    prep_lines = lines // 5
    error_at = int(lines * 0.71)
    for i in range(lines):
        stream, ident, pid = (
            (prep, "prepare.sh", 10) if i < prep_lines else (deploy, "deploy.sh", 20)
        )
        if i % 5000 == 1:
            message = f"::group::chunk {i // 5000}"
        elif i == error_at:
            message = ERROR
        else:
            message = f"line {i} \x1b[32mok\x1b[0m compiling module_{i % 977}.py"
        parts.append(
            lj.unit_line(
                clock,
                UNIT,
                inv,
                message,
                priority=3 if i == error_at else 6,
                identifier=ident,
                pid=pid,
                stream_id=stream,
            )
        )
    parts.append(lj.failed(clock, UNIT, inv, 1))
    procs.write_journal(directory, "big", b"".join(parts))
    return inv, error_at + 2  # line 1 is systemd's "Starting"


async def measure(url: str, error_line: int, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        "first line": [],
        "first error": [],
        "load": [],
        "error line": [],
    }
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for _ in range(rounds):
            ctx = await browser.new_context(viewport={"width": 1200, "height": 800})
            page = await ctx.new_page()
            started = time.monotonic()
            await page.goto(url, wait_until="commit")
            await page.wait_for_selector("#L1", state="visible", timeout=60000)
            out["first line"].append(time.monotonic() - started)
            summary = page.locator("#summary", has_text=ERROR)
            await summary.wait_for(state="visible", timeout=60000)
            out["first error"].append(time.monotonic() - started)
            await page.wait_for_load_state("load")
            load: float = await page.evaluate(
                "performance.getEntriesByType('navigation')[0].loadEventStart / 1000"
            )
            out["load"].append(load)
            shown = time.monotonic()
            await page.click(f'#summary a[href="#L{error_line}"]')
            await page.wait_for_selector(f"#L{error_line}.hl", state="visible")
            out["error line"].append(time.monotonic() - shown)
            await ctx.close()
        await browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inv, error_line = build(Path(tmp), args.lines)
        gw = procs.Gatewayd(Path(tmp))
        proxy = procs.ProxyProcess(UNIT, gw.url)
        try:
            url = f"{proxy.url}/logs/{inv}"
            figures = asyncio.run(measure(url, error_line, args.rounds))
        finally:
            proxy.stop()
            gw.stop()
    print(f"{args.lines:,}-line failed log, error at line {error_line:,}, {args.rounds} rounds")
    for name, values in figures.items():
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"  {name:12} median {statistics.median(values):.2f} s   ({shown})")
    print("  (first line, first error, load: from navigation; error line: from the click)")


if __name__ == "__main__":
    main()
