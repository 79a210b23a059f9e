"""Several gatewayds behind one link, and systemd's own central collection in front of one."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journal_proxy.local import journal as lj
from journal_proxy.local import procs

from .conftest import UNIT, closed_port, live_proxy, silent_server, wait_for_log
from .helpers import eventually, wait_until


@pytest.fixture(scope="module")
def three_hosts(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[list[procs.Gatewayd], list[str]]]:
    gateways, invocations = [], []
    for i in range(3):
        directory = tmp_path_factory.mktemp(f"host{i}")
        clock = lj.Clock()
        inv = lj.new_invocation_id()
        procs.write_journal(
            directory,
            "host",
            lj.starting(clock, UNIT, inv)
            + lj.unit_line(clock, UNIT, inv, f"deployed on host {i}")
            + lj.succeeded(clock, UNIT, inv),
        )
        gateways.append(procs.Gatewayd(directory))
        invocations.append(inv)
    yield gateways, invocations
    for gw in gateways:
        gw.stop()


def _upstreams(gateways: list[procs.Gatewayd]) -> list[str]:
    return [f"web-{i + 1}={gw.url}" for i, gw in enumerate(gateways)]


async def test_invocation_found_on_the_right_one_of_three(
    make_proxy: Any, three_hosts: Any
) -> None:
    gateways, invocations = three_hosts
    proxy = await make_proxy(upstream=_upstreams(gateways))
    for i, inv in enumerate(invocations):
        text = await (await proxy.get(f"/logs/{inv}.txt")).text()
        assert f"deployed on host {i}" in text
        assert text.splitlines()[0].endswith(f"; on web-{i + 1}")
    page = await (
        await proxy.get(f"/logs/{invocations[1]}", headers={"Accept": "text/html"})
    ).text()
    assert "<dt>Host</dt><dd>web-2</dd>" in page
    assert (await proxy.get(f"/logs/{lj.new_invocation_id()}.txt")).status == 404


async def test_one_upstream_down_while_the_others_answer(make_proxy: Any, three_hosts: Any) -> None:
    gateways, invocations = three_hosts
    upstreams = [*_upstreams(gateways[:2]), f"web-3=http://127.0.0.1:{closed_port()}"]
    proxy = await make_proxy(upstream=upstreams)
    resp = await proxy.get(f"/logs/{invocations[0]}.json")
    assert resp.status == 200
    last = json.loads((await resp.text()).splitlines()[-1])
    assert last["host"] == "web-1"
    # web-3 may or may not have answered (refused) before web-1 did; when it did, it is named.
    page = await (
        await proxy.get(f"/logs/{invocations[1]}", headers={"Accept": "text/html"})
    ).text()
    assert "deployed on host 1" in page
    missing = await proxy.get(f"/logs/{lj.new_invocation_id()}.txt")
    assert missing.status == 502  # it may be on web-3: not a 404
    assert (await proxy.get("/healthz")).status == 503


async def test_slow_upstream_does_not_hold_the_answer(make_proxy: Any, three_hosts: Any) -> None:
    gateways, invocations = three_hosts
    server, port = await silent_server()
    try:
        upstreams = [f"slow=http://127.0.0.1:{port}", *_upstreams(gateways)]
        # The answer does not wait for the silent host's 20 s header timeout...
        patient = await make_proxy(upstream=upstreams, timeouts={"upstream_headers": 20.0})
        started = time.monotonic()
        resp = await patient.get(f"/logs/{invocations[2]}.txt")
        assert resp.status == 200 and "deployed on host 2" in await resp.text()
        assert time.monotonic() - started < 10
        # ...and an ID found nowhere waits for it, and no longer (1 s here).
        proxy = await make_proxy(upstream=upstreams, timeouts={"upstream_headers": 1.0})
        started = time.monotonic()
        missing = await proxy.get(f"/logs/{lj.new_invocation_id()}.txt")
        assert missing.status == 502
        assert time.monotonic() - started < 3
    finally:
        server.close()


async def test_upload_remote_gatewayd_chain_delivers_a_live_invocation(
    make_proxy: Any, tmp_path: Path
) -> None:
    source, central = tmp_path / "source", tmp_path / "central"
    central.mkdir()
    live = procs.LiveJournal(source, "host")
    clock = lj.Clock(lj.now_usec())
    inv = lj.new_invocation_id()
    live.write(lj.starting(clock, UNIT, inv) + lj.unit_line(clock, UNIT, inv, "uploaded line 1"))
    port = procs.free_port()
    remote = subprocess.Popen(
        [
            "/lib/systemd/systemd-journal-remote",
            f"--listen-http=127.0.0.1:{port}",
            "--split-mode=none",
            "-o",
            str(central / "central.journal"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    upload = None
    gw = None
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    ["ss", "-Hltn", f"( sport = :{port} )"], capture_output=True, text=True
                ).stdout.strip()
                != ""
            )
        )
        upload = subprocess.Popen(
            [
                "/lib/systemd/systemd-journal-upload",
                f"--url=http://127.0.0.1:{port}",
                "-D",
                str(source),
                f"--save-state={tmp_path / 'state'}",
                "--follow",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        gw = procs.Gatewayd(central)
        proxy = await make_proxy(upstream=gw.url, timeouts={"finish_grace": 0.5})

        async def arrived() -> bool:
            resp = await proxy.get(f"/logs/{inv}.txt")
            return resp.status == 200 and "uploaded line 1" in await resp.text()

        await eventually(arrived, timeout=20, what="the uploaded invocation in the central journal")
        follow = await proxy.get(f"/logs/{inv}.txt?follow")
        live.write(lj.unit_line(clock, UNIT, inv, "uploaded line 2, live"))
        got = ""
        while "uploaded line 2, live" not in got:
            got += (await asyncio.wait_for(follow.content.readline(), 20)).decode()
        live.write(lj.succeeded(clock, UNIT, inv))
        rest = (await asyncio.wait_for(follow.content.read(), 30)).decode()
        assert "# end of stream: the invocation finished" in rest
    finally:
        for p in (upload, remote):
            if p is not None:
                p.terminate()
                p.wait(timeout=10)
        if gw is not None:
            gw.stop()
        live.close()


async def test_sse_resumes_on_another_proxy_instance(make_proxy: Any, live: Any) -> None:
    first, second = await live_proxy(make_proxy, live), await live_proxy(make_proxy, live)
    live.start()
    for i in range(3):
        live.line(f"line {i}")
    await wait_for_log(first, live.inv, 4)
    headers = {"Accept": "text/event-stream"}
    a = await first.get(f"/logs/{live.inv}", headers=headers)
    seen: list[str] = []
    while len(seen) < 4:
        line = (await asyncio.wait_for(a.content.readline(), 5)).decode()
        if line.startswith("id: "):
            seen.append(line[4:].strip())
    a.close()
    live.line("line 3")
    await wait_for_log(second, live.inv, 5)
    b = await second.get(f"/logs/{live.inv}", headers={**headers, "Last-Event-ID": seen[-1]})
    ids: list[str] = []
    messages: list[str] = []
    while not messages:
        line = (await asyncio.wait_for(b.content.readline(), 5)).decode()
        if line.startswith("id: "):
            ids.append(line[4:].strip())
        if line.startswith('data: {"line"'):
            messages.append(json.loads(line[6:])["message"])
    assert seen == ["1", "2", "3", "4"]
    assert ids == ["5"] and messages == ["line 3"]
    b.close()
