"""Live follow against a live journal: systemd-journal-remote writing while gatewayd serves it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from typing import Any

from journal_proxy.local import journal as lj
from journal_proxy.web.state import HUBS, STREAMS

from .conftest import UNIT, Live, app_of
from .conftest import live_proxy as _proxy
from .conftest import wait_for_log as _wait_for_log
from .helpers import eventually, readline, sse_events


async def test_follow_streams_new_lines_then_ends_after_the_finish(
    make_proxy: Any, live: Live
) -> None:
    proxy = await _proxy(make_proxy, live)
    live.start()
    live.line("first")
    await _wait_for_log(proxy, live.inv, 2)
    resp = await proxy.get(f"/logs/{live.inv}.txt?follow")
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "running" in await readline(resp)
    assert "Starting" in await readline(resp)
    assert "first" in await readline(resp)
    live.line("second, written while following")
    assert "second, written while following" in await readline(resp)
    live.succeed()
    rest = (await asyncio.wait_for(resp.content.read(), 5)).decode().splitlines()
    assert "Deactivated successfully" in rest[0]
    assert rest[-1].startswith("# end of stream: the invocation finished")
    assert "succeeded" in rest[-1]


async def test_json_follow_ends_with_status_object(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live)
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    resp = await proxy.get(f"/logs/{live.inv}.json?follow")
    first = json.loads(await readline(resp))
    assert first["line"] == 1
    live.line("boom", priority=3)
    live.fail()
    objs = [
        json.loads(x)
        for x in (await asyncio.wait_for(resp.content.read(), 5)).decode().splitlines()
    ]
    assert [o["line"] for o in objs if "line" in o] == [2, 3, 4, 5]
    statuses = [o for o in objs if "status" in o]
    assert statuses[-1]["end"] == "finished"
    assert statuses[-1]["status"]["state"] == "failed"
    assert statuses[-1]["status"]["result"] == "exit-code"
    assert statuses[-1]["status"]["exit_status"] == 1


async def test_lifecycle_lines_only_from_pid1(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live)
    live.start()
    live.line("work")
    # Another unit's process writes the user fields PID 1 uses: it must not count.
    live.clock.usec += 1
    live.journal.write(
        lj.pid1_line(
            live.clock, UNIT, live.inv, lj.SUCCESS, "FAKE: Deactivated successfully.", pid=31337
        )
    )
    live.line("more work")
    await _wait_for_log(proxy, live.inv, 3)
    resp = await proxy.get(f"/logs/{live.inv}.json")
    objs = [json.loads(x) for x in (await resp.text()).splitlines()]
    assert [o.get("message") for o in objs[:-1]] == [
        f"Starting {UNIT} - Deploy the website...",
        "work",
        "more work",
    ]
    assert objs[-1]["status"]["state"] == "running"


async def test_sse_resumes_with_last_event_id_without_loss_or_repeat(
    make_proxy: Any, live: Live
) -> None:
    proxy = await _proxy(make_proxy, live)
    live.start()
    for i in range(5):
        live.line(f"line {i}")
    await _wait_for_log(proxy, live.inv, 6)
    headers = {"Accept": "text/event-stream"}
    first = await proxy.get(f"/logs/{live.inv}", headers=headers)
    assert first.headers["Content-Type"].startswith("text/event-stream")
    events = await sse_events(first, 1 + 6)  # status event, then six lines
    ids = [int(e["id"]) for e in events if "id" in e]
    assert ids == [1, 2, 3, 4, 5, 6]
    first.close()
    for i in range(5, 9):
        live.line(f"line {i}")
    await _wait_for_log(proxy, live.inv, 10)
    again = await proxy.get(f"/logs/{live.inv}", headers={**headers, "Last-Event-ID": "4"})
    events = await sse_events(again, 1 + 6)
    entries = [e for e in events if "id" in e]
    assert [int(e["id"]) for e in entries] == [5, 6, 7, 8, 9, 10]
    assert [json.loads(e["data"])["message"] for e in entries] == [f"line {i}" for i in range(3, 9)]
    live.line("line 9")
    [event] = await sse_events(again, 1)
    assert event["id"] == "11" and json.loads(event["data"])["message"] == "line 9"
    again.close()


async def test_fifty_viewers_share_one_upstream_follow(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live, limits={"max_streams_per_client": 100})
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    live.relay.request_lines.clear()
    viewers = await asyncio.gather(
        *[
            proxy.get(f"/logs/{live.inv}", headers={"Accept": "text/event-stream"})
            for _ in range(50)
        ]
    )
    for v in viewers:
        await sse_events(v, 2)  # status + line 1
    live.line("broadcast")
    for v in viewers:
        [event] = await sse_events(v, 1)
        assert json.loads(event["data"])["message"] == "broadcast"
    follows = [r for r in live.relay.request_lines if b"follow" in r]
    assert len(follows) == 2, follows  # the unit's lines and systemd's lines, once each
    assert len(app_of(proxy)[HUBS]) == 1
    for v in viewers:
        v.close()


async def test_no_leak_over_many_connects_and_disconnects(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live)
    app = app_of(proxy)
    live.start()
    await _wait_for_log(proxy, live.inv, 1)

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def cycle() -> None:
        resp = await proxy.get(f"/logs/{live.inv}", headers={"Accept": "text/event-stream"})
        await sse_events(resp, 2)
        resp.close()

    for _ in range(10):  # warm up pools
        await cycle()
    await asyncio.sleep(0.3)
    before = fds()
    for _ in range(300):
        await cycle()
    await eventually(
        lambda: len(app[HUBS]) == 0 and app[STREAMS].active == 0, what="every hub and stream gone"
    )
    await eventually(lambda: fds() - before < 20, what="descriptors back near their level")


async def test_idle_follow_ends_with_a_reason(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live, timeouts={"follow_idle": 0.5, "finish_grace": 0.5})
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    resp = await proxy.get(f"/logs/{live.inv}.txt?follow")
    body = (await asyncio.wait_for(resp.content.read(), 5)).decode()
    assert body.splitlines()[-1].startswith("# end of stream: no new lines for too long")


async def test_follow_max_duration_ends_stream(make_proxy: Any, live: Live) -> None:
    proxy = await _proxy(make_proxy, live, timeouts={"follow_max": 0.7, "follow_idle": 30})
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    resp = await proxy.get(f"/logs/{live.inv}.txt?follow")
    body = (await asyncio.wait_for(resp.content.read(), 5)).decode()
    assert "maximum duration" in body.splitlines()[-1]


async def test_slow_viewer_is_dropped_without_holding_others(make_proxy: Any, live: Live) -> None:
    # The fast reader shares the event loop with the proxy and may briefly lag: its margin (400
    # lines) is wide, while the slow one, which never reads, falls 1,200 lines behind.
    proxy = await _proxy(make_proxy, live, limits={"viewer_buffer": 400})
    app = app_of(proxy)
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    # A reader that never reads, with a tiny receive buffer: its socket fills up at once.
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((proxy.server.host, proxy.server.port))
    slow.sendall(f"GET /logs/{live.inv}.txt?follow HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    fast = await proxy.get(f"/logs/{live.inv}.txt?follow")
    await readline(fast)
    await readline(fast)
    hub = next(iter(app[HUBS]._hubs.values()))
    assert hub.viewers == 2
    big = "x" * 20000
    for i in range(1200):
        live.line(f"{i} {big}")
    received = b""
    while received.count(b" " + b"x" * 100) < 1200:  # read in large chunks to keep up
        chunk = await asyncio.wait_for(fast.content.read(1 << 20), 10)
        assert chunk, received[-200:]
        received += chunk
    assert hub.viewers == 1  # the slow one was dropped, the fast one got every line
    slow.close()
    fast.close()


async def test_a_viewer_arriving_as_the_last_one_leaves_gets_a_live_hub(
    make_proxy: Any, live: Live
) -> None:
    """The last viewer leaving stops the hub; one who comes while it winds down must get a new
    hub and a live stream, not the old hub's "shutdown"."""
    proxy = await _proxy(make_proxy, live)
    live.start()
    await _wait_for_log(proxy, live.inv, 1)
    hubs = app_of(proxy)[HUBS]
    for _ in range(5):
        first = await proxy.get(f"/logs/{live.inv}.txt?follow")
        await readline(first)  # the header: the hub is ready
        first.close()
        second = await proxy.get(f"/logs/{live.inv}.txt?follow")
        await readline(second)
        await readline(second)  # systemd's Starting line
        live.line("still live")
        assert "still live" in await readline(second)
        second.close()
        await eventually(lambda: len(hubs) == 0, what="the hub gone")


async def test_a_follow_survives_gatewayd_breaking_its_connection(
    make_proxy: Any, live: Live
) -> None:
    """gatewayd sometimes breaks a follow mid-answer (the soak saw it every few minutes): the hub
    opens it again after the last entry it had, and the reader sees nothing lost or repeated."""
    proxy = await _proxy(make_proxy, live)
    live.start()
    live.line("before")
    await _wait_for_log(proxy, live.inv, 2)
    follow = await proxy.get(f"/logs/{live.inv}.json?follow")
    lines = [json.loads(await readline(follow)) for _ in range(2)]
    live.relay.cut()
    live.line("after the break")
    line = json.loads(await readline(follow, timeout=10))
    assert line.get("message") == "after the break", line
    assert [x["line"] for x in [*lines, line] if "line" in x] == [1, 2, 3]
    follow.close()
