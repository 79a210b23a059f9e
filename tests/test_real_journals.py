"""Runs recorded from a real systemd 252 as PID 1 (tests/fixtures/realsystemd, from
../shared/realsystemd/journals): each run's own lines and PID 1's lines about it, as
``journalctl -o export`` wrote them, into a real journal served by a real gatewayd.

Hand-made entries say what we believe systemd writes; these say what it wrote: status and exit
status from PID 1's real lines, steps from real ``_STREAM_ID``s, the ``Consumed ... CPU time``
line that comes after the end, a run stopped with ``systemctl stop``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.local import procs

FIXTURES = Path(__file__).parent / "fixtures" / "realsystemd"
UNIT = "deploy-website.service"

#: Each recorded run and what its status must be.
EXPECTED = {
    "ok": ("succeeded", "succeeded"),
    "ok-bothhooks": ("succeeded", "succeeded"),
    "slow-ok": ("succeeded", "succeeded"),
    "cgv2-ok": ("succeeded", "succeeded"),
    "cgv2-ok-consumed": ("succeeded", "succeeded"),
    "fail": ("failed", "failed: exit-code, status 1"),
    "fail-bothhooks": ("failed", "failed: exit-code, status 1"),
    "cgv2-fail": ("failed", "failed: exit-code, status 1"),
    "cgv2-fail-consumed": ("failed", "failed: exit-code, status 1"),
    "cgv2-stopped": ("failed", "failed: signal, status TERM"),
}


def _runs() -> dict[str, str]:
    """Recorded run name -> invocation ID, from the file names."""
    runs = {}
    for path in FIXTURES.glob("*.unit.export"):
        name, _, invocation_id = path.name.removesuffix(".unit.export").rpartition("-")
        runs[name] = invocation_id
    return runs


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[procs.Gatewayd]:
    directory = tmp_path_factory.mktemp("realsystemd")
    export = b"".join(p.read_bytes().rstrip(b"\n") + b"\n\n" for p in sorted(FIXTURES.iterdir()))
    procs.write_journal(directory, "recorded", export)
    gw = procs.Gatewayd(directory)
    yield gw
    gw.stop()


def test_every_recorded_run_has_an_expectation() -> None:
    assert set(_runs()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_a_recorded_run_reads_with_systemds_status_and_two_steps(
    make_proxy: Any, recorded: procs.Gatewayd, name: str
) -> None:
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{recorded.port}")
    resp = await proxy.get(f"/logs/{_runs()[name]}.json")
    assert resp.status == 200
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    status = lines[0]["status"]
    assert (status["state"], status["description"]) == EXPECTED[name]
    assert lines[-1]["status"] == status  # and again last, with the summary
    own = [x for x in lines if "line" in x and x["identifier"] != "systemd"]
    assert own[0]["step"] == 1 and {x["step"] for x in own} == {1, 2}
    assert own[0]["message"].startswith("posted in_progress")  # ExecStartPre=, then ExecStart=
    if status["state"] == "failed":
        assert lines[-1]["summary"]["failed_step"]["step"] == 2


async def test_the_consumed_line_after_the_end_is_in_the_log_and_changes_nothing(
    make_proxy: Any, recorded: procs.Gatewayd
) -> None:
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{recorded.port}")
    text = await (await proxy.get(f"/logs/{_runs()['cgv2-ok-consumed']}.txt")).text()
    entries = [line for line in text.splitlines() if not line.startswith("#")]
    assert any("CPU time" in line for line in entries[-3:])
    assert text.splitlines()[0].startswith(f"# {UNIT}, succeeded")
