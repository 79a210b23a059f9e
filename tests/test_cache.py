"""The finished-log cache: bounded by what its entries really cost, least recently used out."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from journal_proxy.cache import FinishedLogCache
from journal_proxy.entry import Entry
from journal_proxy.ids import InvocationId
from journal_proxy.lifecycle import Status
from journal_proxy.types import Source

STATUS = Status(state="succeeded", finished_usec=1)


def _entries(n: int, message: str = "x") -> list[Entry]:
    # Each entry gets its own string objects, as the export parser makes them.
    return [
        Entry(
            1_700_000_000_000_000 + i,
            6,
            "deploy" + str(i)[:0],
            message + str(i)[:0],
            "deploy-website.service" + str(i)[:0],
            (),
            None,
            f"s=abc;i={i:x};b=def;m=1;t=2;x=3",
        )
        for i in range(n)
    ]


def _id(i: int) -> InvocationId:
    return InvocationId(f"{i:032x}")


def test_cached_entries_keep_no_cursor_and_share_strings() -> None:
    cache = FinishedLogCache(max_bytes=1 << 30)
    log = cache.put(_id(1), STATUS, _entries(3), Source())
    assert {e.cursor for e in log.entries} == {""}
    assert log.entries[0].identifier is log.entries[2].identifier
    assert [e.realtime_usec for e in log.entries] == [1_700_000_000_000_000 + i for i in range(3)]


def test_least_recently_used_is_evicted_and_the_count_follows() -> None:
    one = FinishedLogCache(max_bytes=1 << 30).put(_id(0), STATUS, _entries(100), Source()).size
    cache = FinishedLogCache(max_bytes=one * 4)
    for i in range(4):
        cache.put(_id(i), STATUS, _entries(100), Source())
    assert cache.get(_id(0)) is not None  # now the most recently used
    cache.put(_id(9), STATUS, _entries(100), Source())
    assert cache.get(_id(1)) is None
    assert cache.get(_id(0)) is not None
    assert cache.bytes <= cache.max_bytes
    kept = [cache.get(_id(i)) for i in (0, 2, 3, 9)]
    assert cache.bytes == sum(log.size for log in kept if log is not None)
    cache.drop(_id(0))
    assert cache.get(_id(0)) is None


def test_a_log_over_a_quarter_of_the_bound_is_not_kept() -> None:
    cache = FinishedLogCache(max_bytes=100_000)
    cache.put(_id(1), STATUS, _entries(2_000), Source())
    assert len(cache) == 0 and cache.bytes == 0


def test_the_byte_count_matches_rss_growth() -> None:
    """Five logs of 15,000 one-character lines (the shape that once cost 4x the count): the
    count must be within 25% of what the process really grew by."""
    script = textwrap.dedent(
        """
        import gc, json, sys
        sys.path.insert(0, %r)
        from tests.test_cache import _entries, _id, STATUS
        from journal_proxy.cache import FinishedLogCache
        from journal_proxy.types import Source

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

        cache = FinishedLogCache(max_bytes=1 << 30)
        for i in range(2):  # warm up the allocator with a log that is freed again
            cache.put(_id(100 + i), STATUS, _entries(15_000), Source())
            cache.drop(_id(100 + i))
        gc.collect()
        before = rss()
        for i in range(5):
            cache.put(_id(i), STATUS, _entries(15_000), Source())
        gc.collect()
        print(json.dumps({"rss": rss() - before, "counted": cache.bytes}))
        """
    ) % (str(__import__("pathlib").Path(__file__).resolve().parent.parent),)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(out)
    ratio = figures["counted"] / figures["rss"]
    assert 0.75 <= ratio <= 1.25, figures
