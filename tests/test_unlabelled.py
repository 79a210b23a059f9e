"""A finished run's lines that journald left without an invocation ID (journal_proxy/journal/unlabelled.py).

systemd 252 labels a line from the unit's current-invocation record, which PID 1 drops when the
unit ends, so a command that ends quickly can lose the label on its last lines: measured under a
real PID 1 in tests/test_realsystemd.py.  Here the journal is built with exactly those shapes and
served by a real gatewayd.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT


def _unlabelled(clock: lj.Clock, unit: str, message: str, **kw: Any) -> bytes:
    """A unit line as journald writes it when it cannot tell the invocation."""
    labelled = lj.unit_line(clock, unit, "0" * 32, message, **kw)
    return re.sub(rb"_SYSTEMD_INVOCATION_ID=0{32}\n", b"", labelled)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str, str]]:
    clock, first, second = lj.Clock(), lj.new_invocation_id(), lj.new_invocation_id()
    out = lj.starting(clock, UNIT, first)
    out += lj.unit_line(clock, UNIT, first, "labelled line")
    out += _unlabelled(clock, UNIT, "rsync: connection refused", pid=77, stream_id="s2")
    out += _unlabelled(clock, "other.service", "another unit's line in the window")
    out += lj.unit_line(clock, "other.service", lj.new_invocation_id(), "another unit, labelled")
    out += lj.process_exited(clock, UNIT, first, 3)
    out += _unlabelled(clock, UNIT, "unlabelled, before systemd's last line", pid=77)
    out += lj.pid1_line(
        clock, UNIT, first, lj.FAILURE, f"{UNIT}: Failed with result 'exit-code'.",
        extra=[("UNIT_RESULT", "exit-code")],
    )  # fmt: skip
    out += _unlabelled(clock, UNIT, "after the run ended: not this run's")
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
