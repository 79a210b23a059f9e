"""Per-client limits: who a request is counted against, the stream limiter and the throttle."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from journal_proxy.access.limits import LOCAL_CLIENT, RefusalThrottle, StreamLimiter, client_address
from journal_proxy.errors import TooBusy

from .conftest import Corpus

NGINX = (ipaddress.ip_network("127.0.0.1/32"),)


def test_a_direct_client_is_its_peer_and_cannot_forge_x_forwarded_for() -> None:
    assert client_address("203.0.113.7", "198.51.100.1", NGINX) == "203.0.113.7"
    assert client_address("203.0.113.7", "198.51.100.1", ()) == "203.0.113.7"


def test_behind_a_trusted_tcp_proxy_the_last_forwarded_hop_counts() -> None:
    assert client_address("127.0.0.1", "10.0.0.9, 198.51.100.1", NGINX) == "198.51.100.1"
    assert client_address("127.0.0.1", "not an address", NGINX) == "127.0.0.1"


@pytest.mark.parametrize("peer", ["", None])
def test_behind_nginx_on_a_unix_socket_each_real_client_counts_apart(peer: str | None) -> None:
    """The shipped deployment: nginx -> unix socket, where the peer has no address at all."""
    assert client_address(peer, "198.51.100.1", ()) == "198.51.100.1"
    assert client_address(peer, "198.51.100.2", ()) == "198.51.100.2"
    assert client_address(peer, "2001:db8::1", ()) == "2001:db8::1"
    assert client_address(peer, None, ()) == LOCAL_CLIENT
    assert client_address(peer, "<script>", ()) == LOCAL_CLIENT


def test_stream_limiter_counts_per_client_and_forgets_idle_clients() -> None:
    limiter = StreamLimiter(total=3, per_client=2)
    with limiter.stream("a"), limiter.stream("a"):
        with pytest.raises(TooBusy), limiter.stream("a"):
            pass
        with limiter.stream("b"):
            assert limiter.clients == 2
            with pytest.raises(TooBusy), limiter.stream("c"):
                pass
    assert limiter.clients == 0
    assert limiter.active == 0


def test_throttle_peek_spends_nothing_and_memory_is_bounded() -> None:
    throttle = RefusalThrottle(burst=3, per_second=0.001, max_clients=100)
    assert not throttle.throttled("a")
    assert [throttle.allow("a") for _ in range(4)] == [True, True, True, False]
    assert throttle.throttled("a")
    assert not throttle.throttled("b")
    for i in range(1000):
        throttle.allow(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle) == 100


async def test_a_throttled_scanner_costs_gatewayd_nothing(
    make_proxy: Any, relay: Any, corpus: Corpus
) -> None:
    """Well-formed random IDs are 404s that each cost a lookup, until the client is throttled;
    from then on, not even a link that exists reaches gatewayd."""
    # One refusal a minute after the burst: no token comes back while the test runs.
    proxy = await make_proxy(trusted_proxies=["127.0.0.1/32"], limits={"refusals_per_minute": 1})
    scanner = {"X-Forwarded-For": "198.51.100.3"}
    codes = []
    for i in range(80):
        resp = await proxy.get(f"/logs/{i:032x}.txt", headers=scanner)
        codes.append(resp.status)
    assert codes[:30] == [404] * 30  # the burst
    assert set(codes[30:]) == {429}
    asked = len(relay.request_lines)
    assert asked <= 2 * 31, asked  # two queries per lookup, for the burst only
    resp = await proxy.get(f"/logs/{corpus.ok}.txt", headers=scanner)
    assert resp.status == 429
    assert len(relay.request_lines) == asked
    # Another client behind the same proxy is not affected.
    resp = await proxy.get(f"/logs/{corpus.ok}.txt", headers={"X-Forwarded-For": "198.51.100.4"})
    assert resp.status == 200
