"""``journal-proxy demo``: the proxy on a built-in journal, served by a real gatewayd.

Three deployments of ``deploy-website.service``: one succeeded, one failed, one still running
(a live journal that gains a line every couple of seconds, then succeeds).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from . import localjournal as lj
from .server import serve
from .settings import settings_from_mapping

UNIT = "deploy-website.service"
G, R, Y, B, X = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"


def _script(clock: lj.Clock, inv: str, steps: list[tuple[str, int]]) -> bytes:
    return b"".join(lj.unit_line(clock, UNIT, inv, msg, priority=p) for msg, p in steps)


def build_demo(directory: Path) -> tuple[str, str, str, lj.LiveJournal, lj.Clock]:
    clock = lj.Clock()
    ok, bad, live = lj.new_invocation_id(), lj.new_invocation_id(), lj.new_invocation_id()
    steps_ok = [
        (f"{B}==> Fetching origin/main{X}", 6),
        ("From github.com:example/website", 6),
        ("   4f1c2ab..9e0d7c1  main -> origin/main", 6),
        (f"{B}==> Building site{X}", 6),
        *[(f"  built page {i:03d}/120 {G}ok{X}", 6) for i in range(1, 121)],
        (f"{Y}warning:{X} image hero.png is 2.1 MB, consider compressing it", 4),
        (f"{B}==> Publishing{X}", 6),
        (f"{G}Deployed 9e0d7c1 to production{X}", 5),
    ]
    export = (
        lj.starting(clock, UNIT, ok) + _script(clock, ok, steps_ok) + lj.succeeded(clock, UNIT, ok)
    )
    clock.tick(60 * 10**6)
    steps_bad = [
        (f"{B}==> Fetching origin/main{X}", 6),
        (f"{B}==> Running tests{X}", 6),
        ("test_homepage ... ok", 6),
        (f"test_checkout ... {R}FAILED{X}", 3),
        (
            'Traceback (most recent call last):\n  File "tests.py", line 12, in test_checkout\n'
            "    assert total == 42\nAssertionError",
            3,
        ),
        (f"{R}error:{X} tests failed, not deploying", 3),
    ]
    export += (
        lj.starting(clock, UNIT, bad) + _script(clock, bad, steps_bad) + lj.failed(clock, UNIT, bad)
    )
    lj.write_journal(directory, "history", export)
    clock.usec = max(clock.usec, lj.now_usec())
    running = lj.LiveJournal(directory, "live")
    running.write(lj.starting(clock, UNIT, live))
    running.write(lj.unit_line(clock, UNIT, live, f"{B}==> Fetching origin/main{X}"))
    return ok, bad, live, running, clock


async def _keep_deploying(running: lj.LiveJournal, clock: lj.Clock, inv: str) -> None:
    for i in range(1, 151):
        await asyncio.sleep(2)
        clock.usec = max(clock.usec + 1000, lj.now_usec())
        running.write(lj.unit_line(clock, UNIT, inv, f"  step {i:03d}/150 {G}ok{X}"))
    running.write(lj.unit_line(clock, UNIT, inv, f"{G}Deployed{X}", priority=5))
    running.write(lj.succeeded(clock, UNIT, inv))


async def run_demo(listen: str) -> None:
    with tempfile.TemporaryDirectory(prefix="journal-proxy-demo-") as tmp:
        directory = Path(tmp) / "journal"
        ok, bad, live, running, clock = build_demo(directory)
        gatewayd = lj.Gatewayd(directory)
        settings = settings_from_mapping(
            {"unit": [UNIT], "upstream": gatewayd.url, "listen": listen}
        )
        base = f"http://{settings.listen.host}:{settings.listen.port}/logs"
        print(f"gatewayd (real) serving the demo journal on {gatewayd.url}")
        print(f"succeeded: {base}/{ok}")
        print(f"failed:    {base}/{bad}")
        print(f"running:   {base}/{live}   (live for about 5 minutes)")
        print(f"as text:   curl {base}/{bad}.txt")
        print(f"as JSON:   curl {base}/{ok}.json", flush=True)
        writer = asyncio.create_task(_keep_deploying(running, clock, live))
        try:
            await serve(settings)
        finally:
            writer.cancel()
            running.close()
            gatewayd.stop()
