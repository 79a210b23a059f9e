"""Counters for ``/metrics`` (Prometheus text format), kept as plain integers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Metrics:
    responses: Counter[int] = field(default_factory=Counter)
    refused: int = 0
    active_streams: int = 0
    bytes_streamed: int = 0

    def render(
        self,
        *,
        entries: int,
        dropped: int,
        upstream_requests: int,
        upstream_errors: int,
        upstream_latency: float,
        hubs: int,
        viewers: int,
        cache_bytes: int = 0,
        cache_logs: int = 0,
        stream_clients: int = 0,
        throttle_clients: int = 0,
    ) -> str:
        lines = [
            "# HELP journal_proxy_responses_total HTTP responses by status code.",
            "# TYPE journal_proxy_responses_total counter",
        ]
        lines += [
            f'journal_proxy_responses_total{{code="{code}"}} {n}'
            for code, n in sorted(self.responses.items())
        ]
        simple = [
            (
                "refused_requests_total",
                "counter",
                "Requests refused before reaching gatewayd.",
                self.refused,
            ),
            ("active_streams", "gauge", "Responses being streamed now.", self.active_streams),
            ("follow_hubs", "gauge", "Invocations followed upstream now.", hubs),
            ("follow_viewers", "gauge", "Viewers of followed invocations.", viewers),
            ("cache_bytes", "gauge", "Bytes the finished-log cache counts.", cache_bytes),
            ("cache_logs", "gauge", "Finished logs in the cache.", cache_logs),
            ("stream_clients", "gauge", "Clients with a stream open now.", stream_clients),
            (
                "throttle_clients",
                "gauge",
                "Addresses the refusal throttle remembers.",
                throttle_clients,
            ),
            ("entries_streamed_total", "counter", "Verified entries read from gatewayd.", entries),
            (
                "entries_dropped_total",
                "counter",
                "Entries gatewayd sent that failed verification.",
                dropped,
            ),
            (
                "bytes_streamed_total",
                "counter",
                "Body bytes written to clients.",
                self.bytes_streamed,
            ),
            ("upstream_requests_total", "counter", "Requests made to gatewayd.", upstream_requests),
            ("upstream_errors_total", "counter", "gatewayd requests that failed.", upstream_errors),
            (
                "upstream_header_seconds_total",
                "counter",
                "Time waiting for gatewayd headers.",
                upstream_latency,
            ),
        ]
        for name, kind, help_, value in simple:
            lines += [
                f"# HELP journal_proxy_{name} {help_}",
                f"# TYPE journal_proxy_{name} {kind}",
                f"journal_proxy_{name} {value}",
            ]
        return "\n".join(lines) + "\n"
