"""The soak's own logic: it reads every gauge generically, and its traffic has the variety it claims.

The soak itself runs as ``bench/soak.py --smoke`` in CI's smoke step; these tests keep its parsing
honest without starting processes, so a new gauge in ``/metrics`` is sampled with no code change.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


soak = _load("soak")

METRICS = """\
# HELP journal_proxy_responses_total HTTP responses by status code.
# TYPE journal_proxy_responses_total counter
journal_proxy_responses_total{code="200"} 12
# HELP journal_proxy_cache_bytes Bytes held by the finished-log cache.
# TYPE journal_proxy_cache_bytes gauge
journal_proxy_cache_bytes 524288
# TYPE journal_proxy_follow_hubs gauge
journal_proxy_follow_hubs 3
# TYPE journal_proxy_some_new_thing gauge
journal_proxy_some_new_thing{kind="a"} 7
journal_proxy_some_new_thing{kind="b"} 8.5
# TYPE other_gauge gauge
other_gauge 1
"""


def test_every_journal_proxy_gauge_is_read_and_nothing_else() -> None:
    assert soak.parse_gauges(METRICS) == {
        "cache_bytes": 524288.0,
        "follow_hubs": 3.0,
        'some_new_thing{kind="a"}': 7.0,
        'some_new_thing{kind="b"}': 8.5,
    }


def test_a_malformed_value_is_skipped_not_fatal() -> None:
    text = "# TYPE journal_proxy_x gauge\njournal_proxy_x NaNa\njournal_proxy_y 1\n"
    assert soak.parse_gauges(text) == {}


def test_messages_have_colours_secrets_long_lines_and_one_off_identifiers() -> None:
    rnd = random.Random(7)
    lines = [soak._message(rnd, i) for i in range(5000)]
    messages = [m for _, m in lines]
    assert any("\x1b[38;5;" in m for m in messages)
    assert any("ghp_" in m for m in messages)
    assert any(len(m) > 1000 for m in messages)
    assert any(ident.startswith("worker-") for ident, _ in lines)


def test_a_follow_that_ends_by_shutdown_or_upstream_is_an_error_of_a_valid_request() -> None:
    tally = soak.Tally()
    fake = soak.Soak.__new__(soak.Soak)
    fake.tally = tally
    fake._end_reason("sse", b'data: {"reason":"finished","status":{}}\n')
    fake._end_reason("follow-txt", b"# end of stream: this reader fell too far behind; x\n")
    assert sum(tally.errors.values()) == 0
    fake._end_reason("follow-json", b'{"status":{},"end":"shutdown"}\n')
    fake._end_reason("follow-txt", b"# end of stream: the journal server stopped answering; x\n")
    assert tally.errors == {"follow-json": 1, "follow-txt": 1}


def test_source_addresses_are_loopback_but_never_the_trusted_proxy() -> None:
    rnd = random.Random(3)
    addresses = {soak._address(rnd) for _ in range(2000)}
    assert len(addresses) > 1900
    assert all(a.startswith("127.") and a != "127.0.0.1" for a in addresses)
    assert all(not a.startswith("127.0.") for a in addresses)


def test_json_lines_check_counts_entries_not_status_lines() -> None:
    body = b'{"status":{}}\n{"line":1,"message":"a"}\n{"line":2,"message":"b"}\n{"status":{}}\n'
    assert soak._json_lines_wrong(body, 2) is None
    assert soak._json_lines_wrong(body, 3) is not None
    gap = b'{"line":1}\n{"line":3}\n{"status":{}}\n'
    assert soak._json_lines_wrong(gap, 2) is not None
