"""Every route and status of the secure core, against a real gatewayd."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .conftest import UNIT, Corpus, CountingRelay, closed_port, silent_server
from .helpers import eventually


async def test_text_log_has_header_then_one_line_per_entry(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.ok}.txt")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = (await resp.text()).splitlines()
    assert lines[0].startswith(f"# {UNIT}, succeeded")
    messages = [line.split(": ", 1)[1] for line in lines[1:]]
    assert messages[0].startswith("Starting deploy-website.service")
    assert messages[1:6] == corpus.ok_lines
    assert messages[6] == "deploy-website.service: Deactivated successfully."
    assert lines[1].split(" ")[0].endswith("Z")


async def test_json_lines_have_exactly_the_public_fields(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.ok}.json")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    objs = [json.loads(line) for line in (await resp.text()).splitlines()]
    first, entries, final = objs[0], objs[1:-1], objs[-1]
    assert first == {"status": final["status"]}  # finished: the status comes first as well
    assert [e["line"] for e in entries] == list(range(1, len(entries) + 1))
    for e in entries:
        # "step" is the only optional field these lines can have (no error or warning here)
        assert set(e) - {"step"} == {"line", "time", "priority", "identifier", "message"}
        assert e["time"].endswith("Z") and len(e["time"]) == len("2026-01-01T00:00:00.000000Z")
    assert [e["message"] for e in entries[1:6]] == corpus.ok_lines
    assert [e.get("step") for e in entries[:2]] == [None, 1]
    assert final["status"]["state"] == "succeeded"
    assert final["summary"] == {"errors": 0, "warnings": 0, "failed_step": None}


async def test_failed_invocation_reports_result_and_exit_status(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.failed}.json")
    final = json.loads((await resp.text()).splitlines()[-1])["status"]
    assert final["state"] == "failed"
    assert final["result"] == "exit-code"
    assert final["exit_status"] == 1
    assert final["description"] == "failed: exit-code, status 1"
    assert final["duration"] is not None


async def test_running_invocation_is_running_and_not_cached(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.running}.txt")
    assert "running" in (await resp.text()).splitlines()[0]
    assert resp.headers["Cache-Control"] == "no-store"
    done = await proxy.get(f"/logs/{corpus.ok}.txt")
    assert done.headers["Cache-Control"].startswith("private")


async def test_negotiation_picks_html_for_browsers_and_text_for_curl(
    proxy: Any, corpus: Corpus
) -> None:
    browser = await proxy.get(
        f"/logs/{corpus.ok}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert browser.headers["Content-Type"].startswith("text/html")
    assert "<!doctype html>" in await browser.text()
    curl = await proxy.get(f"/logs/{corpus.ok}", headers={"Accept": "*/*"})
    assert curl.headers["Content-Type"].startswith("text/plain")
    program = await proxy.get(f"/logs/{corpus.ok}", headers={"Accept": "application/json"})
    assert program.headers["Content-Type"].startswith("application/x-ndjson")


async def test_unknown_invocation_is_404(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.unknown}.txt")
    assert resp.status == 404
    assert len(await resp.read()) < 100


async def test_unpinned_unit_is_404(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.get(f"/logs/{corpus.other_unit}")
    assert resp.status == 404


async def test_glob_pin_serves_template_instances(make_proxy: Any, corpus: Corpus) -> None:
    proxy = await make_proxy(unit=["deploy@*.service"])
    resp = await proxy.get(f"/logs/{corpus.glob_unit}.txt")
    assert resp.status == 200
    assert "blue deploy" in await resp.text()
    assert (await proxy.get(f"/logs/{corpus.ok}.txt")).status == 404


async def test_head_sends_headers_only(proxy: Any, corpus: Corpus) -> None:
    resp = await proxy.head(f"/logs/{corpus.ok}.txt")
    assert resp.status == 200
    assert await resp.read() == b""
    assert (await proxy.head(f"/logs/{corpus.unknown}.txt")).status == 404


async def test_other_methods_are_405(proxy: Any, corpus: Corpus, relay: CountingRelay) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        resp = await proxy.request(method, f"/logs/{corpus.ok}")
        assert resp.status == 405, method
        assert resp.headers["Allow"] == "GET, HEAD"
    assert relay.connections == 0


async def test_upstream_down_is_502_quickly(make_proxy: Any, corpus: Corpus) -> None:
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    resp = await proxy.get(f"/logs/{corpus.ok}.txt")
    assert resp.status == 502
    assert time.monotonic() - started < 3
    body = await resp.text()
    assert "Traceback" not in body and len(body) < 100


async def test_upstream_silent_is_504_within_the_header_timeout(
    make_proxy: Any, corpus: Corpus
) -> None:
    server, port = await silent_server()
    try:
        proxy = await make_proxy(
            upstream=f"http://127.0.0.1:{port}", timeouts={"upstream_headers": 1.0}
        )
        started = time.monotonic()
        resp = await proxy.get(f"/logs/{corpus.ok}.txt")
        assert resp.status == 504
        assert time.monotonic() - started < 3
    finally:
        server.close()


async def test_upstream_is_asked_for_this_invocation_and_pinned_unit_only(
    proxy: Any, corpus: Corpus, relay: CountingRelay
) -> None:
    await proxy.get(
        f"/logs/{corpus.ok}.txt?_SYSTEMD_INVOCATION_ID={corpus.failed}&follow=0&boot",
        headers={"Range": "entries=:-5:10", "Cookie": "a=b", "Accept": "application/json"},
    )
    assert relay.request_lines, "the proxy should have asked gatewayd"
    unit = f"UNIT={UNIT}".replace("@", "%40")
    for line in relay.request_lines:
        target = line.split(b" ")[1].decode()
        assert target.startswith("/entries?")
        assert corpus.failed not in target and "boot" not in target
        if target == f"/entries?_SYSTEMD_{unit}":
            continue  # the finished run's unlabelled lines, from its own cursor (journal/unlabelled.py)
        assert f"={corpus.ok}" in target
        assert unit in target.replace("_SYSTEMD_UNIT", "UNIT")


async def test_many_requests_at_once_are_all_served(make_proxy: Any, corpus: Corpus) -> None:
    proxy = await make_proxy(limits={"max_streams_per_client": 40})
    results = await asyncio.gather(*[proxy.get(f"/logs/{corpus.ok}.json") for _ in range(30)])
    assert [r.status for r in results] == [200] * 30


async def test_streams_over_the_per_client_limit_get_429_with_retry_after(
    make_proxy: Any, corpus: Corpus
) -> None:
    proxy = await make_proxy(limits={"max_streams_per_client": 2})
    follows = [await proxy.get(f"/logs/{corpus.running}.txt?follow") for _ in range(2)]
    assert [r.status for r in follows] == [200, 200]
    third = await proxy.get(f"/logs/{corpus.ok}.txt")
    assert third.status == 429
    assert int(third.headers["Retry-After"]) > 0
    for r in follows:
        r.close()

    async def served() -> bool:
        resp = await proxy.get(f"/logs/{corpus.ok}.txt")
        return bool(resp.status == 200)

    await eventually(served, what="slots released after the follows closed")


async def test_healthz_reflects_upstream(make_proxy: Any) -> None:
    ok = await make_proxy()
    assert (await ok.get("/healthz")).status == 200
    down = await make_proxy(upstream=f"http://127.0.0.1:{closed_port()}")
    resp = await down.get("/healthz")
    assert resp.status == 503
    assert "journal" not in (await resp.text()).lower()


async def test_metrics_are_off_unless_enabled(make_proxy: Any, corpus: Corpus) -> None:
    off = await make_proxy()
    assert (await off.get("/metrics")).status == 404
    on = await make_proxy(metrics=True)
    await on.get(f"/logs/{corpus.ok}.txt")
    await on.get("/logs/nope")
    text = await (await on.get("/metrics")).text()
    assert 'journal_proxy_responses_total{code="200"} 1' in text
    assert "journal_proxy_refused_requests_total 1" in text
    assert "journal_proxy_entries_streamed_total" in text
    for held in ("lines", "overflowed"):  # the hubs' memory of a followed log
        assert f"# TYPE journal_proxy_follow_history_{held} gauge" in text
    assert "journal_proxy_follow_history_reads_total 0" in text


async def test_finished_log_is_served_from_memory_with_etag(
    proxy: Any, corpus: Corpus, relay: CountingRelay
) -> None:
    first = await proxy.get(f"/logs/{corpus.failed}.txt")
    body = await first.text()
    first_json = await (await proxy.get(f"/logs/{corpus.failed}.json")).text()
    asked = len(relay.request_lines)
    second = await proxy.get(f"/logs/{corpus.failed}.json")
    assert await second.text() == first_json and "exit-code" in first_json
    third = await proxy.get(f"/logs/{corpus.failed}.txt")
    assert await third.text() == body
    assert len(relay.request_lines) == asked  # gatewayd was not asked again, in either format
    etag = third.headers["ETag"]
    cached = await proxy.get(f"/logs/{corpus.failed}.txt", headers={"If-None-Match": etag})
    assert cached.status == 304
    running = await proxy.get(f"/logs/{corpus.running}.txt")
    assert "ETag" not in running.headers
    await (await proxy.get(f"/logs/{corpus.running}.txt")).read()
    await running.read()
    # A running log is always read afresh: two requests a read (the relay notes them as it
    # forwards them, so a moment after the proxy sent them).
    await eventually(lambda: len(relay.request_lines) == asked + 4, what="four upstream requests")


async def test_an_operator_problem_pattern_marks_lines_in_json(
    make_proxy: Any, corpus: Corpus
) -> None:
    """[problems] patterns reach every renderer: a line of the ok run becomes an error."""
    proxy = await make_proxy(problems={"errors": {"step-three": "^step 3$"}})
    text = await (await proxy.get(f"/logs/{corpus.ok}.json")).text()
    objs = [json.loads(line) for line in text.splitlines()]
    flagged = [o["message"] for o in objs if o.get("level") == "error"]
    assert flagged == ["step 3"]
    assert objs[-1]["summary"]["errors"] == 1
