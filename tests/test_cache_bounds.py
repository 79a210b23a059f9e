"""The finished-log cache on its own: bound, eviction, provisional admission, honest count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from journal_proxy.access.ids import InvocationId
from journal_proxy.delivery import cache as cache_module
from journal_proxy.delivery.cache import OVERHEAD_BYTES, FinishedLogCache
from journal_proxy.journal.lifecycle import Status

LONG_AGO = Status(state="succeeded", finished_usec=1_000_000)


def _id(i: int) -> InvocationId:
    return InvocationId(f"{i:032x}")


def test_bodies_are_kept_per_format_and_counted_with_their_overhead() -> None:
    cache = FinishedLogCache(max_bytes=1 << 20)
    cache.put(_id(1), "text", LONG_AGO, '"a"', b"x" * 1000)
    cache.put(_id(1), "json", LONG_AGO, '"b"', b"y" * 2000)
    assert cache.held == 3000 + 2 * OVERHEAD_BYTES
    body = cache.get(_id(1), "json")
    assert body is not None and body.gzip == b"y" * 2000 and body.etag == '"b"'
    assert cache.get(_id(1), "html") is None
    cache.drop(_id(1))
    assert cache.held == 0 and len(cache) == 0


def test_least_recently_used_goes_first_and_the_bound_holds() -> None:
    cache = FinishedLogCache(max_bytes=4 * (1000 + OVERHEAD_BYTES))
    for i in range(4):
        cache.put(_id(i), "text", LONG_AGO, '"e"', b"z" * 1000)
    assert cache.get(_id(0), "text") is not None  # now the most recently used
    cache.put(_id(9), "text", LONG_AGO, '"e"', b"z" * 1000)
    assert cache.get(_id(1), "text") is None
    assert cache.get(_id(0), "text") is not None
    assert cache.held <= cache.max_bytes


def test_a_body_over_a_quarter_of_the_bound_is_not_kept() -> None:
    cache = FinishedLogCache(max_bytes=100_000)
    cache.put(_id(1), "text", LONG_AGO, '"e"', b"z" * 30_000)
    assert len(cache) == 0 and cache.held == 0


def test_admitted_after_the_grace_period_not_a_minute_later() -> None:
    cache = FinishedLogCache()
    now = time.time()
    just = Status(state="failed", finished_usec=int((now - 4) * 1e6))
    assert cache.admits(just, grace=3.0, now=now)
    assert not cache.admits(just, grace=5.0, now=now)
    assert not cache.admits(Status(), grace=0.0, now=now)  # running
    # A cache configured to keep nothing (cache_bytes = 1) records nothing either.
    assert not FinishedLogCache(max_bytes=1).admits(just, grace=3.0, now=now)


def test_an_early_admission_is_read_again_once_after_the_recheck_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cache_module, "RECHECK_SECONDS", 0.2)
    cache = FinishedLogCache()
    recent = Status(state="succeeded", finished_usec=int(time.time() * 1e6))
    cache.put(_id(1), "text", recent, '"e"', b"body")
    assert cache.get(_id(1), "text") is not None  # the burst is served from memory
    time.sleep(0.25)
    assert cache.get(_id(1), "text") is None  # one reader reads it again...
    cache.put(_id(1), "text", recent, '"e"', b"body")
    body = cache.get(_id(1), "text")
    assert body is not None and body.recheck_after is None  # ...and then it is final


def test_the_byte_count_matches_rss_growth() -> None:
    """The count is what the memory really holds: within 10% of the process's RSS growth."""
    script = textwrap.dedent(
        """
        import json, os, sys
        sys.path.insert(0, %r)
        from journal_proxy.delivery.cache import FinishedLogCache
        from journal_proxy.journal.lifecycle import Status

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

        cache = FinishedLogCache(max_bytes=1 << 30)
        done = Status(state="succeeded", finished_usec=1)
        before = rss()
        for i in range(400):  # bodies of the size gzip makes of a few thousand lines
            cache.put(f"{i:032x}", "text", done, '"e"', os.urandom(50_000 + i))
        print(json.dumps({"rss": rss() - before, "counted": cache.held}))
        """
    ) % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))),)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(out)
    assert 0.9 <= figures["counted"] / figures["rss"] <= 1.1, figures
