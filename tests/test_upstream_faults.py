"""A real gatewayd behind a fault-injecting link: cut, stalled or corrupted mid-stream.

The bytes are gatewayd's own; the link only truncates, stalls or appends garbage, the failures a
network or a broken upstream produce.  The client must get what was valid, then a clean end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT


class FaultyLink:
    """Relays to gatewayd; after ``after`` body bytes of a response, applies ``mode``."""

    def __init__(self, target_port: int, mode: str, after: int) -> None:
        self.target_port, self.mode, self.after = target_port, mode, after
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        request = await reader.readuntil(b"\r\n\r\n")
        # HTTP/1.0 upstream: the body ends when the connection does, so faults are easy to place.
        up_w.write(request.replace(b"HTTP/1.1", b"HTTP/1.0", 1))
        await up_w.drain()
        head = await up_r.readuntil(b"\r\n\r\n")
        writer.write(head)
        sent = 0
        try:
            while data := await up_r.read(4096):
                if sent + len(data) > self.after and "mid-request" not in self.mode:
                    writer.write(data[: self.after - sent])
                    await writer.drain()
                    if self.mode == "stall":
                        await asyncio.sleep(3600)
                    if self.mode == "garbage":
                        writer.write(b"\x00\xff\x13garbage-without-structure" * 10 + b"\n\n")
                    break
                writer.write(data)
                sent += len(data)
                await writer.drain()
        finally:
            writer.close()
            up_w.close()

    async def close(self) -> None:
        if self.server:
            self.server.close()


@pytest.fixture(scope="module")
def long_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[procs.Gatewayd, str]]:
    directory = tmp_path_factory.mktemp("long")
    inv = lj.new_invocation_id()
    clock = lj.Clock()
    parts = [lj.unit_line(clock, UNIT, inv, f"line {i}") for i in range(2000)]
    parts.append(lj.unit_line(clock, UNIT, inv, "x" * 300_000))
    procs.write_journal(directory, "long", b"".join(parts))
    gw = procs.Gatewayd(directory)
    yield gw, inv
    gw.stop()


@pytest.fixture
async def link(
    long_log: tuple[procs.Gatewayd, str], request: pytest.FixtureRequest
) -> AsyncIterator[FaultyLink]:
    gw, _ = long_log
    mode, after = request.param
    fl = FaultyLink(gw.port, mode, after)
    await fl.start()
    yield fl
    await fl.close()


async def _lines(make_proxy: Any, link: FaultyLink, inv: str, **kw: Any) -> list[dict[str, Any]]:
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{link.port}", **kw)
    resp = await proxy.get(f"/logs/{inv}.json")
    assert resp.status == 200
    return [json.loads(x) for x in (await asyncio.wait_for(resp.text(), 10)).splitlines()]


@pytest.mark.parametrize("link", [("truncate", 200_000)], indirect=True)
async def test_truncated_stream_gives_valid_lines_then_a_note(
    make_proxy: Any, link: FaultyLink, long_log: Any
) -> None:
    objs = await _lines(make_proxy, link, long_log[1])
    entries = [o for o in objs if "line" in o]
    assert 100 < len(entries) < 2000
    assert [e["line"] for e in entries] == list(range(1, len(entries) + 1))
    assert objs[-1]["end"] == "truncated"


@pytest.mark.parametrize("link", [("garbage", 150_000)], indirect=True)
async def test_garbage_mid_stream_is_not_shown(
    make_proxy: Any, link: FaultyLink, long_log: Any
) -> None:
    objs = await _lines(make_proxy, link, long_log[1])
    assert not any("garbage" in json.dumps(o) for o in objs)
    entries = [o for o in objs if "line" in o]
    assert [e["message"] for e in entries] == [f"line {i}" for i in range(len(entries))]
    # Over HTTP/1.0 the end of the body is the end of the connection, so garbage that happens to
    # parse as an entry which then fails verification looks like a normal end; it is dropped.
    assert "status" in objs[-1]


@pytest.mark.parametrize("link", [("stall", 100_000)], indirect=True)
async def test_stalled_upstream_ends_cleanly_after_the_read_timeout(
    make_proxy: Any, link: FaultyLink, long_log: Any
) -> None:
    objs = await _lines(make_proxy, link, long_log[1], timeouts={"upstream_read": 1.0})
    assert len([o for o in objs if "line" in o]) > 50
    assert objs[-1]["end"] == "upstream"


@pytest.mark.parametrize("link", [("none", 10**12)], indirect=True)
async def test_entry_over_the_size_limit_ends_the_stream_with_a_note(
    make_proxy: Any, link: FaultyLink, long_log: Any
) -> None:
    objs = await _lines(make_proxy, link, long_log[1], limits={"max_entry_bytes": 100_000})
    assert len([o for o in objs if "line" in o]) == 2000
    assert objs[-1]["end"] == "truncated"


@pytest.mark.parametrize("link", [("none", 10**12)], indirect=True)
async def test_long_message_is_truncated_with_a_marker(
    make_proxy: Any, link: FaultyLink, long_log: Any
) -> None:
    objs = await _lines(make_proxy, link, long_log[1], limits={"max_message_chars": 1000})
    last = [o for o in objs if "line" in o][-1]
    assert last["message"].startswith("x" * 1000)
    assert last["message"].endswith("[299000 more characters truncated]")
