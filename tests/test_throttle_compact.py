"""The compact refusal throttle (one float per address, a plain dict) decides exactly as the
token bucket it replaced (``(tokens, time)`` per address in an ``OrderedDict``) did."""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal_proxy.access import limits
from journal_proxy.access.limits import RefusalThrottle


class Reference:
    """The throttle as it was before it was made compact, verbatim but for the clock."""

    def __init__(self, burst: int, per_second: float, max_clients: int) -> None:
        self._burst, self._rate, self._max = burst, per_second, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, client: str, now: float) -> float:
        tokens, last = self._buckets.get(client, (float(self._burst), now))
        return min(self._burst, tokens + (now - last) * self._rate)

    def throttled(self, client: str, now: float) -> bool:
        return client in self._buckets and self._tokens(client, now) < 1

    def allow(self, client: str, now: float) -> bool:
        tokens = self._tokens(client, now)
        self._buckets.pop(client, None)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return allowed


# Binary fractions only, so both compute exactly and a tie (tokens == 1) is decided alike.
steps = st.lists(
    st.tuples(
        st.sampled_from(["allow", "peek"]),
        st.integers(0, 9).map(lambda i: f"10.0.0.{i}"),
        st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0, 4.0]),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(
    burst=st.integers(1, 5),
    per_second=st.sampled_from([0.25, 0.5, 2.0]),
    max_clients=st.integers(1, 12),
    ops=steps,
)
def test_decides_as_the_bucket_it_replaced(
    burst: int, per_second: float, max_clients: int, ops: list[tuple[str, str, float]]
) -> None:
    now = [1000.0]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(limits, "time", SimpleNamespace(monotonic=lambda: now[0]))
        compact = RefusalThrottle(burst, per_second, max_clients)
        reference = Reference(burst, per_second, max_clients)
        for op, client, dt in ops:
            now[0] += dt
            if op == "allow":
                assert compact.allow(client) == reference.allow(client, now[0])
            else:
                assert compact.throttled(client) == reference.throttled(client, now[0])
            assert len(compact) == len(reference._buckets)


def test_eviction_keeps_the_bound_and_the_order_through_compaction() -> None:
    """Past ``_COMPACT_EVERY`` evictions the dict is rebuilt; the most recently refused stay."""
    throttle = RefusalThrottle(burst=1, per_second=0.001, max_clients=50)
    for i in range(3 * limits._COMPACT_EVERY + 7):
        throttle.allow(f"a{i}")
        assert len(throttle) == min(i + 1, 50)
    last = 3 * limits._COMPACT_EVERY + 6
    assert throttle.throttled(f"a{last}") and throttle.throttled(f"a{last - 49}")
    assert not throttle.throttled(f"a{last - 50}")  # forgotten: a full bucket again
