"""The one merge and numbering of an invocation's two streams, on its own."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from journal_proxy.journal.entry import Entry
from journal_proxy.journal.lifecycle import Event, LifecycleEvent
from journal_proxy.journal.merge import Feed, Merge


def _entry(usec: int, seqnum: int, stream: Feed) -> Entry:
    lifecycle = LifecycleEvent(Event.UNIT_STARTING, "u.service") if stream is Feed.SYSTEM else None
    return Entry(
        usec, 6, "x", f"{stream.name}{seqnum}", "u.service", (), lifecycle, f"i={seqnum:x}"
    )


def _history(units: list[Entry], system: list[Entry]) -> list[tuple[int, str]]:
    """How an ending request merges: systemd's lines whole first, then the unit's streamed."""
    merge = Merge()
    for e in system:
        merge.push(Feed.SYSTEM, e)
    merge.end(Feed.SYSTEM)
    out = []
    for e in units:
        merge.push(Feed.UNIT, e)
        out += merge.release()
    merge.end(Feed.UNIT)
    out += merge.release()
    return [(n, e.message) for n, e in out]


def test_by_time_then_sequence_number_and_numbered_from_one() -> None:
    units = [_entry(10, 2, Feed.UNIT), _entry(20, 3, Feed.UNIT), _entry(20, 5, Feed.UNIT)]
    system = [
        _entry(5, 1, Feed.SYSTEM),
        _entry(20, 4, Feed.SYSTEM),
        _entry(30, 6, Feed.SYSTEM),
    ]
    assert _history(units, system) == [
        (1, "SYSTEM1"),
        (2, "UNIT2"),
        (3, "UNIT3"),
        (4, "SYSTEM4"),
        (5, "UNIT5"),
        (6, "SYSTEM6"),
    ]


def test_on_a_full_tie_systemds_line_comes_first() -> None:
    units = [_entry(10, 7, Feed.UNIT)]
    system = [_entry(10, 7, Feed.SYSTEM)]
    assert _history(units, system) == [(1, "SYSTEM7"), (2, "UNIT7")]


def test_an_entry_waits_for_the_other_stream_until_its_place_is_certain() -> None:
    merge = Merge(hold_back=math.inf)
    merge.push(Feed.UNIT, _entry(20, 2, Feed.UNIT))
    assert merge.release() == []  # systemd's stream may still have something earlier
    merge.push(Feed.SYSTEM, _entry(10, 1, Feed.SYSTEM))
    assert [e.message for _, e in merge.release()] == ["SYSTEM1"]
    merge.push(Feed.SYSTEM, _entry(30, 3, Feed.SYSTEM))
    assert [(n, e.message) for n, e in merge.release()] == [(2, "UNIT2")]
    merge.end(Feed.UNIT)
    assert [(n, e.message) for n, e in merge.release()] == [(3, "SYSTEM3")]


def test_live_a_quiet_stream_holds_the_other_back_only_for_hold_back() -> None:
    merge = Merge(line=41, hold_back=0.03)
    merge.push(Feed.UNIT, _entry(20, 2, Feed.UNIT), now=1.0)
    assert merge.deadline() == 1.03
    assert merge.release(now=1.02) == []
    assert [(n, e.message) for n, e in merge.release(now=1.03)] == [(42, "UNIT2")]
    assert merge.deadline() is None


def test_the_resent_resume_entry_is_dropped() -> None:
    last = _entry(20, 9, Feed.UNIT)
    merge = Merge(line=5, last_cursors=(last.cursor, None))
    merge.end(Feed.SYSTEM)
    merge.push(Feed.UNIT, last)
    merge.push(Feed.UNIT, _entry(21, 10, Feed.UNIT))
    assert [(n, e.message) for n, e in merge.release()] == [(6, "UNIT10")]
    assert merge.last_cursors == ["i=a", None]


@given(st.data())
def test_live_arrival_in_any_interleaving_numbers_lines_as_history_does(
    data: st.DataObject,
) -> None:
    """Whatever order the two live streams deliver in, with nothing held past ``hold_back``, the
    line numbers are the ones a later ending request gives: SSE resume depends on it."""
    times = data.draw(st.lists(st.integers(0, 50), min_size=1, max_size=30))
    kinds = data.draw(st.lists(st.sampled_from(Feed), min_size=len(times), max_size=len(times)))
    entries = sorted(
        (_entry(t, i, k) for i, (t, k) in enumerate(zip(sorted(times), kinds, strict=True))),
        key=lambda e: e.order_key,
    )
    units = [e for e in entries if e.lifecycle is None]
    system = [e for e in entries if e.lifecycle is not None]
    arrival = data.draw(st.permutations([Feed.UNIT] * len(units) + [Feed.SYSTEM] * len(system)))
    merge = Merge(hold_back=math.inf)
    queues = {Feed.UNIT: list(units), Feed.SYSTEM: list(system)}
    live = []
    for stream in arrival:
        merge.push(stream, queues[stream].pop(0))
        live += merge.release()
    merge.end(Feed.UNIT)
    merge.end(Feed.SYSTEM)
    live += merge.release()
    assert [(n, e.message) for n, e in live] == _history(units, system)
