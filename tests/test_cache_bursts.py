"""The moments that matter: the burst of clicks right after a run ends, and the second read.

Behaviour, not timing (figures are in bench/): what reaches gatewayd is counted by the relay.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
from typing import Any

import pytest

from journal_proxy.delivery import cache as cache_module
from journal_proxy.delivery import shared_read
from journal_proxy.web.state import READS

from .conftest import Live, app_of, live_proxy, wait_for_log
from .helpers import eventually, sse_events


async def _finished_run(make_proxy: Any, live: Live, lines: int = 5) -> Any:
    """A run that finished just now (FAST: finish_grace 0.5 s), once the grace period is over."""
    proxy = await live_proxy(make_proxy, live)
    live.start()
    for i in range(lines):
        live.line(f"step {i}")
    live.succeed()
    await wait_for_log(proxy, live.inv, lines + 3)
    finished = live.clock.usec / 1e6
    await eventually(lambda: time.time() > finished + 0.6, what="the grace period over")
    live.relay.request_lines.clear()
    return proxy


async def test_a_log_that_finished_grace_ago_is_served_from_the_cache(
    make_proxy: Any, live: Live
) -> None:
    proxy = await _finished_run(make_proxy, live)
    first = await (await proxy.get(f"/logs/{live.inv}.txt")).text()
    asked = len(live.relay.request_lines)
    assert asked == 3  # systemd's lines, the unit's lines, and its unlabelled lines after them
    for _ in range(20):  # the burst
        assert await (await proxy.get(f"/logs/{live.inv}.txt")).text() == first
    assert len(live.relay.request_lines) == asked


async def test_a_gzip_client_gets_gzip_and_a_plain_client_identical_bytes(
    make_proxy: Any, live: Live
) -> None:
    proxy = await _finished_run(make_proxy, live, lines=300)
    plain_first = await (await proxy.get(f"/logs/{live.inv}.json")).read()
    zipped = await proxy.get(
        f"/logs/{live.inv}.json", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    packed = await zipped.read()
    assert len(packed) < len(plain_first) / 3
    assert gzip.decompress(packed) == plain_first
    plain = await proxy.get(f"/logs/{live.inv}.json", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert await plain.read() == plain_first
    # Each representation has its own validator, and both revalidate.
    for resp in (zipped, plain):
        again = await proxy.get(
            f"/logs/{live.inv}.json",
            headers={
                "If-None-Match": resp.headers["ETag"],
                "Accept-Encoding": "gzip" if resp is zipped else "identity",
            },
        )
        assert again.status == 304
    assert zipped.headers["ETag"] != plain.headers["ETag"]


async def test_concurrent_requests_for_one_uncached_log_share_one_read(
    make_proxy: Any, live: Live
) -> None:
    proxy = await _finished_run(make_proxy, live, lines=50)
    paths = [f"/logs/{live.inv}.txt", f"/logs/{live.inv}.json", f"/logs/{live.inv}"] * 4
    bodies = await asyncio.gather(*[_read(proxy, p) for p in paths])
    assert all(b"step 49" in body for body in bodies)
    assert len(live.relay.request_lines) == 3, live.relay.request_lines


async def _read(proxy: Any, path: str) -> bytes:
    resp = await proxy.get(path)
    assert resp.status == 200
    body: bytes = await resp.read()
    return body


async def test_an_early_admission_is_read_once_more_and_keeps_its_etag(
    make_proxy: Any, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RECHECK_SECONDS", 1.0)
    proxy = await _finished_run(make_proxy, live)
    first = await proxy.get(f"/logs/{live.inv}.txt")
    await first.read()
    second = await proxy.get(f"/logs/{live.inv}.txt")
    etag = second.headers["ETag"]
    assert (
        len(live.relay.request_lines) == 3
    )  # one read: systemd's lines, the unit's, its unlabelled ones
    finished = live.clock.usec / 1e6
    await eventually(lambda: time.time() > finished + 1.05, what="the recheck time")
    await (await proxy.get(f"/logs/{live.inv}.txt")).read()
    assert len(live.relay.request_lines) == 6  # read once more...
    after = await proxy.get(f"/logs/{live.inv}.txt")
    assert after.headers["ETag"] == etag  # ...nothing changed, so browsers still get 304
    await (await proxy.get(f"/logs/{live.inv}.txt")).read()
    assert len(live.relay.request_lines) == 6  # and it is final now


async def test_fifty_viewers_joining_a_live_run_cost_at_most_three_gatewayd_connections(
    make_proxy: Any, live: Live
) -> None:
    """Counted at the TCP level: the hub's first read and its two follows; every joining viewer
    (and every SSE reconnect) reads its history from the hub's memory."""
    proxy = await live_proxy(make_proxy, live, limits={"max_streams_per_client": 200})
    live.start()
    for i in range(30):
        live.line(f"before {i}")
    await wait_for_log(proxy, live.inv, 31)
    live.relay.connections = 0
    live.relay.request_lines.clear()
    viewers = [
        await proxy.get(f"/logs/{live.inv}", headers={"Accept": "text/event-stream"})
        for _ in range(50)
    ]
    for v in viewers:
        events = await sse_events(v, 32)  # status + 31 lines of history
        assert json.loads(events[-1]["data"])["line"] == 31
    resumed = await proxy.get(
        f"/logs/{live.inv}", headers={"Accept": "text/event-stream", "Last-Event-ID": "20"}
    )
    events = await sse_events(resumed, 12)
    assert [e.get("id") for e in events[1:]] == [str(n) for n in range(21, 32)]
    live.line("after")
    for v in [*viewers, resumed]:
        [event] = await sse_events(v, 1)
        assert json.loads(event["data"])["message"] == "after"
    assert live.relay.connections <= 3, live.relay.connections
    assert len(live.relay.request_lines) == 4, live.relay.request_lines  # read, read, 2 follows
    for v in [*viewers, resumed]:
        v.close()


def test_a_cached_body_is_named_by_the_renderers_class_and_options() -> None:
    from journal_proxy.renderers.jsonl import JsonLinesRenderer
    from journal_proxy.renderers.text import TextRenderer
    from journal_proxy.web.streaming import variant_of

    assert variant_of(TextRenderer()) == variant_of(TextRenderer())
    assert variant_of(JsonLinesRenderer()) == variant_of(JsonLinesRenderer())
    assert variant_of(TextRenderer()) != variant_of(JsonLinesRenderer())


async def test_a_head_request_does_not_leave_a_shared_read_behind(
    make_proxy: Any, live: Live
) -> None:
    """A reader that never reads (HEAD, or gone before the first byte) must still leave the
    shared read: once held, the read stalled for ever and every later request of it hung."""
    proxy = await _finished_run(make_proxy, live, lines=3000)
    head = await proxy.head(f"/logs/{live.inv}.txt")
    assert head.status == 200
    reads = app_of(proxy)[READS]
    await eventually(lambda: len(reads) == 0, what="the shared read gone")
    body = await asyncio.wait_for(_read(proxy, f"/logs/{live.inv}.txt"), 20)
    assert b"step 2999" in body


async def test_a_reader_that_stalls_is_dropped_and_the_others_finish(
    make_proxy: Any, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_read, "STALL_SECONDS", 2.0)
    # The stalled reader's socket buffers take a good part of the log before it stalls: the read
    # must still be joinable when the second reader comes, however far it got by then.
    monkeypatch.setattr(shared_read, "JOIN_WINDOW", 10_000)
    proxy = await _finished_run(make_proxy, live, lines=3000)
    # A reader that never reads, with a tiny receive buffer, joins first...
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect((proxy.server.host, proxy.server.port))
    stalled.sendall(f"GET /logs/{live.inv}.json HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await eventually(lambda: len(app_of(proxy)[READS]) == 1, what="the stalled reader's read")
    # ...and one that reads joins the same read and gets all of it.
    body = await asyncio.wait_for(_read(proxy, f"/logs/{live.inv}.txt"), 20)
    assert b"step 2999" in body
    assert len(live.relay.request_lines) == 3  # one read (three requests)
    stalled.close()
