"""JSON Lines and SSE carry the triage (steps, levels, annotations, the summary), end to end:
real journal files with several streams per run, a real gatewayd, the app the CLI runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import FAST, Live, live_proxy, wait_for_log
from .helpers import sse_events
from .helpers_triage import UNIT, Run

ENTRY_KEYS = {"line", "time", "priority", "identifier", "message"}
OPTIONAL_KEYS = {"step", "level", "annotation"}
HOSTILE_TITLE = "<script>window.pwned=1</script>\x1b]0;owned\x07 deps"


@dataclass
class Runs:
    failed: Run
    prepare_failed: Run
    running: Run


@pytest.fixture(scope="module")
def runs_gatewayd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Runs]]:
    directory: Path = tmp_path_factory.mktemp("triage-journal")
    failed = (
        Run()
        .command("prepare.sh", 31337)
        .lines("checking out v1.2.3", "ok")
        .command("deploy.sh", 31338)
        .lines(f"::group::{HOSTILE_TITLE}", "added 300 packages", "::endgroup::")
        .line("npm WARN deprecated left-pad", priority=4)
        .line("::error file=src/app.py,line=12,title=Import error::No module named 'x'")
        .line("rsync: connection refused", priority=3)
        .main_failed(23)
    )
    prepare_failed = (
        Run().command("prepare.sh", 4000).line("disk full", priority=3).control_failed(1)
    )
    running = Run().command("deploy.sh", 5000).lines("still going")
    out = failed.out + prepare_failed.out + running.out
    procs.write_journal(directory, "triage", bytes(out))
    gw = procs.Gatewayd(directory)
    yield gw.url, Runs(failed, prepare_failed, running)
    gw.stop()


async def _json(proxy: Any, inv: str) -> list[dict[str, Any]]:
    resp = await proxy.get(f"/logs/{inv}.json")
    assert resp.status == 200
    return [json.loads(line) for line in (await resp.text()).splitlines()]


async def test_json_lines_carry_steps_levels_and_annotations_and_no_trusted_field(
    make_proxy: Any, runs_gatewayd: tuple[str, Runs]
) -> None:
    url, runs = runs_gatewayd
    proxy = await make_proxy(upstream=url)
    resp = await proxy.get(f"/logs/{runs.failed.inv}.json")
    body = await resp.text()
    objs = [json.loads(line) for line in body.splitlines()]
    first, entries, last = objs[0], objs[1:-1], objs[-1]
    # a finished log: the status comes first too, so a program can stop reading there
    assert first == {"status": last["status"]}
    assert first["status"]["exit_status"] == 23 and first["status"]["exit_code"] == "exited"
    assert [e["line"] for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        assert ENTRY_KEYS <= set(e) <= ENTRY_KEYS | OPTIONAL_KEYS
    by_message = {e["message"]: e for e in entries}
    assert "step" not in by_message[f"Starting {UNIT} - Deploy the website..."]
    assert by_message["checking out v1.2.3"]["step"] == 1
    assert by_message["added 300 packages"]["step"] == 2
    assert by_message["npm WARN deprecated left-pad"]["level"] == "warning"
    annotated = next(e for e in entries if e["message"].startswith("::error"))
    assert annotated["level"] == "error"
    assert annotated["annotation"] == {"file": "src/app.py", "line": "12", "title": "Import error"}
    assert "annotation" not in by_message["rsync: connection refused"]
    assert by_message["rsync: connection refused"]["level"] == "error"
    assert by_message[f"{UNIT}: Main process exited, code=exited, status=23/FAILURE"] == {
        **by_message[f"{UNIT}: Main process exited, code=exited, status=23/FAILURE"],
        "step": 2,
        "level": "error",
    }
    # errors: ::error, rsync, Main process exited, Failed with result, Failed to start
    assert last["summary"] == {
        "errors": 5,
        "warnings": 1,
        "failed_step": {"step": 2, "name": "deploy.sh"},
    }
    stream_ids = {e.stream for _, e in runs.failed.read() if e.stream}
    assert len(stream_ids) == 2
    for secret in (*stream_ids, "31337", "31338"):
        assert secret not in body


async def test_a_failed_exec_start_pre_is_the_failed_step(
    make_proxy: Any, runs_gatewayd: tuple[str, Runs]
) -> None:
    url, runs = runs_gatewayd
    proxy = await make_proxy(upstream=url)
    objs = await _json(proxy, runs.prepare_failed.inv)
    assert objs[-1]["summary"]["failed_step"] == {"step": 1, "name": "prepare.sh"}
    assert objs[-1]["status"]["exit_status"] == 1
    control = [o for o in objs if "Control process exited" in o.get("message", "")]
    assert [(o["step"], o["level"]) for o in control] == [(1, "error")]


async def test_a_running_log_starts_with_its_first_line_not_a_status(
    make_proxy: Any, runs_gatewayd: tuple[str, Runs]
) -> None:
    url, runs = runs_gatewayd
    proxy = await make_proxy(upstream=url)
    objs = await _json(proxy, runs.running.inv)
    assert objs[0]["line"] == 1
    assert objs[-1]["status"]["state"] == "running"
    assert objs[-1]["status"]["exit_status"] is None
    assert objs[-1]["summary"] == {"errors": 0, "warnings": 0, "failed_step": None}


async def test_sse_gives_the_page_step_headers_group_titles_and_annotation_text(
    make_proxy: Any, runs_gatewayd: tuple[str, Runs]
) -> None:
    url, runs = runs_gatewayd
    proxy = await make_proxy(upstream=url, **FAST)
    resp = await proxy.get(f"/logs/{runs.failed.inv}", headers={"Accept": "text/event-stream"})
    events = await sse_events(resp, 1 + 12 + 1)  # status, 12 lines, end
    resp.close()
    lines = {e["id"]: json.loads(e["data"]) for e in events if "id" in e}
    assert lines["2"]["step_name"] == "prepare.sh" and "step_name" not in lines["3"]
    assert lines["4"]["step_name"] == "deploy.sh"
    start, inside, end = lines["4"], lines["5"], lines["6"]
    # the marker's title is what is shown, as text: JSON-encoded, without terminal controls
    assert start["marker"] == {
        "kind": "start",
        "title": "<script>window.pwned=1</script> deps",
        "style": "collapsed",
    }
    assert "".join(text for _, text in start["spans"]) == "<script>window.pwned=1</script> deps"
    assert start["group"] == inside["group"] == end["group"] == 1
    assert end["marker"]["kind"] == "end" and end["spans"] == []
    assert "group" not in lines["7"]
    annotation = lines["8"]
    assert "".join(text for _, text in annotation["spans"]) == "No module named 'x'"
    assert annotation["annotation"]["file"] == "src/app.py"
    [end_event] = [e for e in events if e.get("event") == "end"]
    summary = json.loads(end_event["data"])["summary"]
    assert summary["errors"] == 5 and summary["failed_step"]["name"] == "deploy.sh"


async def test_a_live_follow_numbers_steps_as_the_finished_log_does(
    make_proxy: Any, live: Live
) -> None:
    """The hub's live lines and a later history read agree on every line's step."""
    proxy = await live_proxy(make_proxy, live)
    prepare = {"identifier": "prepare.sh", "pid": 100, "stream_id": lj.new_stream_id()}
    deploy = {"identifier": "deploy.sh", "pid": 200, "stream_id": lj.new_stream_id()}
    live.start()
    live.line("fetching", **prepare)
    await wait_for_log(proxy, live.inv, 2)
    follow = await proxy.get(f"/logs/{live.inv}.json?follow")
    live.line("fetched", **prepare)
    live.line("copying", **deploy)
    live.line("--- upload", **deploy)
    live.line("uploaded", **deploy)
    live.succeed()
    followed = [json.loads(x) for x in (await follow.text()).splitlines()]
    read = await _json(proxy, live.inv)

    def steps(objs: list[dict[str, Any]]) -> list[tuple[int, int | None]]:
        return [(o["line"], o.get("step")) for o in objs if "line" in o]

    assert steps(followed) == steps(read)
    assert steps(read)[:6] == [(1, None), (2, 1), (3, 1), (4, 2), (5, 2), (6, 2)]


async def test_a_resumed_sse_stream_numbers_steps_as_from_the_start(
    make_proxy: Any, runs_gatewayd: tuple[str, Runs]
) -> None:
    url, runs = runs_gatewayd
    proxy = await make_proxy(upstream=url, **FAST)
    headers = {"Accept": "text/event-stream", "Last-Event-ID": "5"}
    resp = await proxy.get(f"/logs/{runs.failed.inv}", headers=headers)
    events = await sse_events(resp, 1 + 7 + 1)  # status, lines 6-12, end
    resp.close()
    first = json.loads(next(e for e in events if "id" in e)["data"])
    assert (first["line"], first.get("step"), first.get("group")) == (6, 2, 1)
