"""A finished run's lines that journald left without an invocation ID (journal_proxy/journal/unlabelled.py).

systemd 252 labels a line from the unit's current-invocation record, which PID 1 drops when the
unit ends, so a command that ends quickly can lose the label on its last lines: measured under a
real PID 1 in tests/test_realsystemd.py.  Here the journal is built with exactly those shapes and
served by a real gatewayd.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT, Live, live_proxy, wait_for_log
from .helpers import readline


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str, str]]:
    clock, first, second = lj.Clock(), lj.new_invocation_id(), lj.new_invocation_id()
    out = lj.starting(clock, UNIT, first)
    out += lj.unit_line(clock, UNIT, first, "labelled line")
    out += lj.unit_line(clock, UNIT, None, "rsync: connection refused", pid=77, stream_id="s2")
    out += lj.unit_line(clock, "other.service", None, "another unit's line in the window")
    out += lj.unit_line(clock, "other.service", lj.new_invocation_id(), "another unit, labelled")
    out += lj.process_exited(clock, UNIT, first, 3)
    out += lj.unit_line(clock, UNIT, None, "unlabelled, before systemd's last line", pid=77)
    out += lj.pid1_line(
        clock, UNIT, first, lj.FAILURE, f"{UNIT}: Failed with result 'exit-code'.",
        extra=[("UNIT_RESULT", "exit-code")],
    )  # fmt: skip
    out += lj.unit_line(clock, UNIT, None, "after the run ended: not this run's")
    out += lj.starting(clock, UNIT, second)
    out += lj.unit_line(clock, UNIT, second, "the next run")
    directory = tmp_path_factory.mktemp("unlabelled")
    procs.write_journal(directory, "unlabelled", out)
    gw = procs.Gatewayd(directory)
    yield gw, first, second
    gw.stop()


async def test_a_finished_runs_unlabelled_lines_are_in_its_log_in_order(
    make_proxy: Any, journal: tuple[procs.Gatewayd, str, str]
) -> None:
    gw, first, _ = journal
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{gw.port}")
    text = await (await proxy.get(f"/logs/{first}.txt")).text()
    messages = [line.split(": ", 1)[-1] for line in text.splitlines() if not line.startswith("#")]
    assert messages.index("labelled line") < messages.index("rsync: connection refused")
    assert "unlabelled, before systemd's last line" in messages
    assert messages[-1] == f"{UNIT}: Failed with result 'exit-code'."
    for foreign in ("another unit's line in the window", "another unit, labelled",
                    "after the run ended: not this run's", "the next run"):  # fmt: skip
        assert foreign not in text


async def test_a_running_run_is_not_given_lines_of_the_unit_without_a_label(
    make_proxy: Any, journal: tuple[procs.Gatewayd, str, str]
) -> None:
    """Without systemd's last line there is no window: nothing unlabelled is taken."""
    gw, _, second = journal
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{gw.port}")
    text = await (await proxy.get(f"/logs/{second}.txt")).text()
    assert "the next run" in text
    assert "not this run's" not in text and "connection refused" not in text


async def test_a_follow_that_missed_unlabelled_lines_ends_asking_for_a_second_read(
    make_proxy: Any, live: Live
) -> None:
    """A follow asks by invocation ID, so it never sees the lines journald left unlabelled; when
    the run finishes with some, the stream ends with ``reread`` (the page reloads on it) instead
    of ``finished``, and the log read again holds them in their place.  A run without such lines
    still ends ``finished`` (tests/test_follow.py)."""
    proxy = await live_proxy(make_proxy, live)
    live.start()
    live.line("compiling")
    await wait_for_log(proxy, live.inv, 2)
    resp = await proxy.get(f"/logs/{live.inv}.json?follow")
    assert json.loads(await readline(resp))["line"] == 1
    live.clock.usec = max(live.clock.usec + 1, lj.now_usec())
    live.journal.write(lj.unit_line(live.clock, UNIT, None, "fatal: the error that lost its label"))
    live.fail()
    body = (await asyncio.wait_for(resp.content.read(), 10)).decode()
    assert "lost its label" not in body
    assert json.loads(body.splitlines()[-1])["end"] == "reread"
    again = await (await proxy.get(f"/logs/{live.inv}.txt")).text()
    messages = [line.split(": ", 1)[-1] for line in again.splitlines()]
    assert messages.index("compiling") < messages.index("fatal: the error that lost its label")
