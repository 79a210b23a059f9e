"""The README's first command, run as a new user runs it: ``journal-proxy demo`` as a process.

What a new user judges: the printed links work at once (no "connection refused"), the three runs
look like real deploys (a success that took tens of seconds, a failure with an error to find deep
in its output, a live run that keeps going), and Ctrl+C leaves nothing behind.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from journal_proxy.local import procs

from .helpers import wait_until

LINK = re.compile(r"^\s+(succeeded|failed|running)\s+(http://\S+)$")


class DemoProcess:
    """``journal-proxy demo`` with its own TMPDIR, so what it leaves behind can be seen."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = procs.free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "journal_proxy.cli",
                "demo",
                "--listen",
                f"127.0.0.1:{self.port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TMPDIR": str(tmp)},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put("")  # end of output

    def banner(self, timeout: float = 60.0) -> tuple[dict[str, str], list[str]]:
        """The printed links by run state, and every banner line (up to the Ctrl+C hint)."""
        lines: list[str] = []
        while not lines or not lines[-1].startswith("Ctrl+C"):
            line = self._lines.get(timeout=timeout)
            assert line or self.proc.poll() is None, f"demo ended early: {lines}"
            lines.append(line)
        links = {m.group(1): m.group(2) for m in map(LINK.match, lines) if m}
        return links, lines

    def descendants(self) -> dict[int, str]:
        """Every process the demo started (children, grandchildren), with its command line."""
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        found: dict[int, str] = {}
        frontier = [self.proc.pid]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in found:
                    try:
                        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                    except OSError:
                        continue
                    found[pid] = raw.replace(b"\0", b" ").decode(errors="replace")
                    frontier.append(pid)
        return found

    def stop(self, sig: signal.Signals, within: float = 5.0) -> int:
        """Send ``sig``; the exit status, once the demo has ended ``within`` seconds."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=within)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def fetch_json(url: str) -> tuple[list[dict[str, object]], dict[str, object]]:
    """A run's entries and its status, as a program reads them."""
    with urllib.request.urlopen(url + ".json", timeout=10) as resp:
        objects = [json.loads(line) for line in resp.read().decode().splitlines()]
    status = objects[-1]["status"]
    assert isinstance(status, dict)
    return [o for o in objects if "line" in o], status


def fetch_cause(url: str) -> dict[str, object]:
    """The cause the proxy names in JSON Lines' last object (the one the page shows first)."""
    with urllib.request.urlopen(url + ".json", timeout=10) as resp:
        last = json.loads(resp.read().decode().splitlines()[-1])
    cause = last.get("cause")
    assert isinstance(cause, dict), last
    return cause


def seconds(entry: dict[str, object]) -> float:
    return datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00")).timestamp()


def processes_using(path: Path) -> list[str]:
    """Command lines of any process on the machine that names ``path`` (gatewayd's ``-D``,
    journal-remote's ``-o``): catches children started after anyone looked."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()
        except OSError:
            continue
        if str(path).encode() in raw:
            found.append(raw.replace(b"\0", b" ").decode(errors="replace"))
    return found


def assert_left_nothing(demo: DemoProcess, children: dict[int, str]) -> None:
    alive = {pid: cmd for pid, cmd in children.items() if Path(f"/proc/{pid}").exists()}
    assert not alive, f"still running after the demo ended: {alive}"
    assert processes_using(demo.tmp) == []
    assert list(demo.tmp.iterdir()) == [], "the demo left files behind"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoProcess]:
    process = DemoProcess(tmp_path)
    yield process
    process.kill()


def test_printed_links_serve_three_believable_runs_and_ctrl_c_leaves_nothing(
    demo: DemoProcess,
) -> None:
    links, lines = demo.banner()
    assert set(links) == {"succeeded", "failed", "running"}, lines
    # No wait and no retry: the links being printed means the proxy serves them.
    ok, ok_status = fetch_json(links["succeeded"])
    bad, bad_status = fetch_json(links["failed"])
    live, live_status = fetch_json(links["running"])

    # A success that took what a deploy takes, with its steps' times spread accordingly.
    assert ok_status["state"] == "succeeded"
    assert isinstance(ok_status["duration"], float) and 40 <= ok_status["duration"] <= 90
    own = [e for e in ok if e["identifier"] != "systemd"]
    assert seconds(own[-1]) - seconds(own[0]) > 40
    assert len({int(seconds(e)) for e in own}) > 30, "lines bunched into a few seconds"
    assert all(seconds(a) < seconds(b) for a, b in itertools.pairwise(own))
    steps = [e["identifier"] for e in own]
    assert sorted(set(steps), key=steps.index) == ["journal-proxy", "deploy.sh", "smoke-test"]
    # Each command writes through its own stream, as systemd runs them: three steps (where the
    # JSON says which step a line is in).
    if any("step" in e for e in own):
        assert len({e.get("step") for e in own}) == 3
    # Every line of the unit's own output is at priority 6, as systemd logs it; the warnings are
    # what the tools print, found by the proxy.
    assert {e["priority"] for e in own} == {6}
    assert any(e.get("level") == "warning" for e in ok), "no warning to show"
    assert any("\x1b[" in str(e["message"]) for e in ok), "no colours to show"
    assert any("https://" in str(e["message"]) for e in ok), "no URL to show"

    # A failure with its exit status, and an error deep inside thousands of lines of output.
    assert bad_status["state"] == "failed"
    assert bad_status["result"] == "exit-code"
    assert str(bad_status["exit_status"]) == "1"
    assert isinstance(bad_status["duration"], float) and 30 <= bad_status["duration"] <= 90
    assert len(bad) > 2000
    assert {e["priority"] for e in bad if e["identifier"] != "systemd"} == {6}
    cause = fetch_cause(links["failed"])
    assert cause["recognizer"] == "python-traceback", cause
    assert "UndefinedError" in str(cause["message"]), cause
    line = cause["line"]
    assert isinstance(line, int) and 500 < line < len(bad) - 1000, "the error is not deep inside"
    assert bad[-1]["identifier"] == "systemd"
    assert any("Failed with result 'exit-code'" in str(e["message"]) for e in bad[-5:])
    banner = "\n".join(lines)
    assert f"line {line:,} of {len(bad):,}" in banner

    # The running run is running, and goes on gaining lines while one watches.
    assert live_status["state"] == "running"
    before = len(live)
    wait_until(lambda: len(fetch_json(links["running"])[0]) >= before + 3, what="3 new lines")
    live, live_status = fetch_json(links["running"])
    assert live_status["state"] == "running"
    times = [seconds(e) for e in live[before:]]
    # A line every 1-3 s (a little more when this machine is busy), not a burst.
    assert all(0.9 <= b - a <= 5 for a, b in itertools.pairwise(times)), times

    children = demo.descendants()
    commands = " ".join(children.values())
    assert "systemd-journal-gatewayd" in commands and "systemd-journal-remote" in commands
    assert demo.stop(signal.SIGINT) == 0
    assert_left_nothing(demo, children)


def test_sigterm_stops_everything_it_started(demo: DemoProcess) -> None:
    demo.banner()
    children = demo.descendants()
    assert children
    assert demo.stop(signal.SIGTERM) == 0
    assert_left_nothing(demo, children)


def test_ctrl_c_while_starting_still_cleans_up(demo: DemoProcess) -> None:
    """A Ctrl+C before the links are printed (while the journal is written) cleans up too."""
    wait_until(lambda: any(demo.tmp.iterdir()), what="the demo's temporary directory")
    children = demo.descendants()
    assert demo.stop(signal.SIGINT) == 0
    assert_left_nothing(demo, children)
