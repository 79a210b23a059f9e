"""``journal-proxy demo``: the proxy on a built-in journal, served by a real gatewayd.

The demo is the first thing anyone runs, so its journal is written to look like real deploys of
``deploy-website.service`` (a oneshot with ``ExecStartPre=``, ``ExecStart=`` and
``ExecStartPost=``, each its own process and identifier), at the pace real steps take:

- **succeeded**: about a minute: fetch, install dependencies, an incremental build, tests,
  publish, smoke test; two warnings on the way, URLs, colours.
- **failed**: a full rebuild of a few thousand pages with one template error in the middle, the
  build's summary and systemd's failure lines at the end: the error has to be found, which is
  what the page's triage and search are for.
- **running**: a deploy that reached a database backfill which logs progress every 1-3 s for as
  long as the demo runs (it has no end of its own), so the live tail can be watched at any time.

The URLs are printed only once the proxy has answered for each of the three runs, so the first
click works; SIGINT or SIGTERM stops everything the demo started and removes what it wrote.

Here: serving it.  The runs are written by :mod:`journal_proxy.demo.runs`, with what each step
prints in :mod:`journal_proxy.demo.steps` and one run's entries made by
:mod:`journal_proxy.demo.writer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from journal_proxy.config import settings_from_mapping
from journal_proxy.demo.runs import DemoJournal, build_demo
from journal_proxy.demo.writer import UNIT, as_pair
from journal_proxy.errors import ConfigError
from journal_proxy.journal.lifecycle import duration_words
from journal_proxy.local import procs
from journal_proxy.service.server import serve
from journal_proxy.settings import Settings

log = logging.getLogger(__name__)

#: How long the demo waits for its own pieces (gatewayd, the proxy) before calling it broken.
STARTUP_TIMEOUT = 30.0


async def _keep_running(journal: procs.LiveJournal, demo: DemoJournal) -> None:
    """The running run's backfill, live: a line every 1-3 s until the demo is stopped."""
    rng = demo.backfill.rng
    while True:
        gap = rng.uniform(1.0, 3.0)
        await asyncio.sleep(gap)
        message, priority = as_pair(demo.backfill.next_line(gap))
        try:
            journal.write(demo.running_run.line_now(message, priority))
        except OSError as exc:  # journal-remote went away (a Ctrl+C reaches it too)
            log.warning("demo: the live journal stopped taking lines: %s", exc)
            return


@dataclass(frozen=True)
class _Seen:
    """What the proxy answered for one run: its entries and its status, as JSON."""

    entries: list[dict[str, object]]
    status: dict[str, object]
    #: The error the proxy ranks as the cause (JSON Lines' last object), if any.
    cause: dict[str, object] | None = None


async def _get_json(session: aiohttp.ClientSession, url: str) -> _Seen | None:
    async with session.get(url + ".json") as resp:
        if resp.status != 200:
            return None
        objects = [json.loads(x) for x in (await resp.text()).splitlines() if x]
    status = objects[-1].get("status") if objects else None
    if not isinstance(status, dict):
        return None
    cause = objects[-1].get("cause")
    return _Seen(
        [o for o in objects if "line" in o], status, cause if isinstance(cause, dict) else None
    )


async def _wait_served(
    settings: Settings, gatewayd_url: str, base: str, demo: DemoJournal
) -> dict[str, _Seen]:
    """Ask the proxy for each run, as a visitor would, until it answers for all three.

    This is what makes the printed URLs mean "it serves": the listening socket, gatewayd and
    the live journal (written through a FIFO, so it lands a moment later) are all checked.
    """
    unix = settings.listen.unix_path
    connector = aiohttp.UnixConnector(path=unix) if unix else aiohttp.TCPConnector()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    expect = {"succeeded": demo.succeeded, "failed": demo.failed, "running": demo.running}
    seen: dict[str, _Seen] = {}
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        while len(seen) < len(expect):
            for state, inv in expect.items():
                if state in seen:
                    continue
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    got = await _get_json(session, f"{base}/{inv}")
                    if got is not None and got.status.get("state") == state:
                        seen[state] = got
            if len(seen) < len(expect):
                if time.monotonic() > deadline:
                    missing = ", ".join(s for s in expect if s not in seen)
                    raise RuntimeError(
                        f"demo: the proxy did not serve the {missing} run within "
                        f"{STARTUP_TIMEOUT:.0f} s (gatewayd {gatewayd_url})"
                    )
                await asyncio.sleep(0.05)
    return seen


def _duration(seconds: object) -> str:
    return duration_words(seconds) if isinstance(seconds, int | float) else "?"


def _banner(base: str, gatewayd_url: str, demo: DemoJournal, seen: dict[str, _Seen]) -> str:
    """What a new user reads: one link per run, each with what there is to see in it."""
    ok, bad = seen["succeeded"], seen["failed"]
    # Every line is at priority 6, as a unit's output is: what the proxy recognised counts.
    warnings = sum(1 for e in ok.entries if e.get("level") == "warning")
    first = bad.cause.get("line") if bad.cause else "?"
    total = len(bad.entries)
    where = f"line {first:,}" if isinstance(first, int) else "somewhere"
    return "\n".join(
        [
            f"journal-proxy demo: three runs of {UNIT}, in a real journal served by a real",
            f"systemd-journal-gatewayd ({gatewayd_url}). Open the links in a browser, or curl them.",
            "",
            f"  succeeded  {base}/{demo.succeeded}",
            f"             deployed in {_duration(ok.status.get('duration'))}: fetch, install, "
            f"build, tests, publish, smoke test; {warnings} warnings",
            f"  failed     {base}/{demo.failed}",
            f"             {bad.status.get('description')}, after "
            f"{_duration(bad.status.get('duration'))}: find the build error ({where} of {total:,})",
            f"  running    {base}/{demo.running}",
            "             live: a database backfill logging every 1-3 s until you stop the demo",
            "",
            f"  as text    curl {base}/{demo.failed}.txt",
            f"  as JSON    curl {base}/{demo.succeeded}.json",
            f"  live tail  curl -N '{base}/{demo.running}.txt?follow'",
            "",
            "Ctrl+C stops the demo, its gatewayd and journal-remote, and deletes the demo journal.",
        ]
    )


def _base_url(settings: Settings) -> str:
    if settings.listen.unix_path:
        return "http://localhost/logs"
    host = settings.listen.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.listen.port}/logs"


async def run_demo(listen: str) -> None:
    """Write the demo journal, serve it until SIGINT/SIGTERM, then remove every trace.

    Signals are taken over first, so a Ctrl+C during start-up also cleans up; once the proxy
    runs, its own handlers (installed by ``serve``) take them and ``serve`` returns.
    """
    if not procs.tools_available():
        raise ConfigError(
            "demo: needs systemd-journal-remote and systemd-socket-activate "
            "(apt-get install systemd-journal-remote; scripts/demo.sh does it)"
        )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="journal-proxy-demo-")))
        directory = tmp / "journal"
        demo = build_demo(directory)
        await asyncio.sleep(0)  # let a signal that came while writing set ``stop``
        if stop.is_set():
            return
        live = procs.LiveJournal(directory, "live")
        stack.callback(live.close)
        live.write(demo.running_run.take())
        gatewayd = procs.Gatewayd(directory)
        stack.callback(gatewayd.stop)
        settings = settings_from_mapping(
            {"unit": [UNIT], "upstream": gatewayd.url, "listen": listen}
        )
        await _serve(settings, listen, gatewayd.url, demo, live, stop)
    print("demo stopped: gatewayd and journal-remote ended, demo journal removed", flush=True)


async def _serve(
    settings: Settings,
    listen: str,
    gatewayd_url: str,
    demo: DemoJournal,
    live: procs.LiveJournal,
    stop: asyncio.Event,
) -> None:
    base = _base_url(settings)
    server = asyncio.create_task(serve(settings))
    writer = asyncio.create_task(_keep_running(live, demo))
    stopped = asyncio.create_task(stop.wait())
    ready = asyncio.create_task(_wait_served(settings, gatewayd_url, base, demo))
    try:
        await asyncio.wait({server, stopped, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done() and not server.done() and not stopped.done():
            print(_banner(base, gatewayd_url, demo, ready.result()), flush=True)
            await asyncio.wait({server, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if server.done() and server.exception() is not None:
            exc = server.exception()
            if isinstance(exc, OSError):
                raise ConfigError(f"demo: --listen {listen}: {exc}") from exc
            server.result()
    finally:
        for task in (ready, stopped, writer, server):
            task.cancel()
        await asyncio.gather(ready, stopped, writer, server, return_exceptions=True)
