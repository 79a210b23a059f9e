"""What ``/metrics`` shows of the app's state: one row a metric, read when it is scraped.

The rows are a table on purpose (one line each, columns aligned, so ``ruff format`` is told to
leave them): a reviewer reads name, kind, where the value comes from and its help text across,
and adding a metric is adding a row.  The values themselves stay where they are counted
(:mod:`journal_proxy.web.metrics` says why).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiohttp import web

from journal_proxy.delivery.keep import Keeper
from journal_proxy.web.metrics import MetricType
from journal_proxy.web.state import (
    CACHE,
    CLIENTS,
    COUNTERS,
    HUBS,
    KEEPER,
    METRICS,
    READS,
    STREAMS,
    TALLY,
    THROTTLE,
)

#: Reads one value from the app's state.
Reader = Callable[[web.Application], float | int]
#: (name without the ``journal_proxy_`` prefix, Prometheus type, reader, help text).
Row = tuple[str, MetricType, Reader, str]


def register(app: web.Application, table: tuple[Row, ...]) -> None:
    """Add each row's reader, bound to ``app``, to the app's :class:`Metrics`."""
    metrics = app[METRICS]
    for name, kind, read, help_ in table:
        metrics.add(name, kind, help_, functools.partial(read, app))


def _kept(read: Callable[[Keeper], int]) -> Reader:
    """A reader of the kept runs; 0 where nothing is kept."""

    def metric(app: web.Application) -> int:
        keeper = app[KEEPER]
        return 0 if keeper is None else read(keeper)

    return metric


# fmt: off
#: Registered when the app is built.
APP: tuple[Row, ...] = (
    ("refused_requests_total", "counter", lambda a: a[TALLY].refused,        "Requests refused before reaching gatewayd."),
    ("active_streams",         "gauge",   lambda a: a[STREAMS].active,       "Responses being streamed now."),
    ("stream_clients",         "gauge",   lambda a: a[STREAMS].clients,      "Clients with a stream open now."),
    ("throttle_clients",       "gauge",   lambda a: len(a[THROTTLE]),        "Addresses the refusal throttle remembers."),
    ("cache_bytes",            "gauge",   lambda a: a[CACHE].held,           "Bytes the finished-log cache holds (counted honestly)."),
    ("cache_logs",             "gauge",   lambda a: len(a[CACHE]),           "Finished log bodies (one per format) held."),
    ("shared_reads",           "gauge",   lambda a: len(a[READS]),           "Young gatewayd reads a request may join."),
    ("entries_streamed_total", "counter", lambda a: a[COUNTERS].entries,     "Verified entries read from gatewayd."),
    ("entries_dropped_total",  "counter", lambda a: a[COUNTERS].dropped,     "Entries gatewayd sent that failed verification."),
    ("bytes_streamed_total",   "counter", lambda a: a[TALLY].bytes_streamed, "Body bytes written to clients."),
)

#: Registered once the gatewayd clients and the hubs exist.
UPSTREAM: tuple[Row, ...] = (
    ("follow_hubs",                   "gauge",   lambda a: len(a[HUBS]),                             "Invocations followed upstream now."),
    ("follow_viewers",                "gauge",   lambda a: a[HUBS].viewers,                          "Viewers of followed invocations."),
    ("follow_history_lines",          "gauge",   lambda a: a[HUBS].history_lines,                    "Lines the followed invocations hold in memory for joining viewers."),
    ("follow_history_overflowed",     "gauge",   lambda a: a[HUBS].history_overflowed,               "Followed invocations grown past the lines they may hold in memory."),
    ("follow_history_reads_total",    "counter", lambda a: a[HUBS].history_reads,                    "Viewers whose earlier lines were read from gatewayd again (past the memory)."),
    ("upstream_requests_total",       "counter", lambda a: sum(c.requests for c in a[CLIENTS]),      "Requests made to gatewayd."),
    ("upstream_errors_total",         "counter", lambda a: sum(c.errors for c in a[CLIENTS]),        "gatewayd requests that failed."),
    ("upstream_header_seconds_total", "counter", lambda a: sum(c.latency_total for c in a[CLIENTS]), "Time waiting for gatewayd headers."),
)

#: Registered when finished runs are kept (``keep_dir``).
KEPT: tuple[Row, ...] = (
    ("kept_runs",           "gauge",   _kept(len),                        "Finished runs kept on disk."),
    ("kept_bytes",          "gauge",   _kept(lambda k: k.held),           "Bytes of kept runs on disk."),
    ("kept_reads_total",    "counter", _kept(lambda k: k.stats.reads),    "Reads answered from kept runs."),
    ("kept_writes_total",   "counter", _kept(lambda k: k.stats.writes),   "Files written for kept runs."),
    ("kept_failures_total", "counter", _kept(lambda k: k.stats.failures), "Reads or writes of kept runs that failed (disk full, unwritable)."),
    ("kept_removed_total",  "counter", _kept(lambda k: k.stats.removed),  "Kept runs removed."),
)
# fmt: on
