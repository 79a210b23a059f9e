"""The README's first command: the demo serves a finished, a failed and a running deployment."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request

from journal_proxy import localjournal as lj


def test_demo_prints_urls_that_serve_the_three_deployments() -> None:
    port = lj.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "journal_proxy.cli", "demo", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(6)] if proc.stdout else []
        urls = {
            m.group(1): m.group(2)
            for m in (re.match(r"(\w+):\s+(http://\S+)", x) for x in lines)
            if m
        }
        lj.wait_port(port)
        expect = {
            "succeeded": "succeeded",
            "failed": "failed: exit-code, status 1",
            "running": "running",
        }
        for name, state in expect.items():
            with urllib.request.urlopen(urls[name] + ".txt", timeout=10) as resp:
                header = resp.readline().decode()
            assert state in header, (name, header)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
