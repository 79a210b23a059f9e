"""The one owner of ``/metrics``: a small registry that renders the Prometheus text format.

Components keep their own plain counters (the gatewayd client, the readers, the cache, the
limits); the app factory registers a reader for each one here, once, so ``/metrics`` is one loop
and no value is counted in two places.  Names, help text and label values are ours, never from a
request, so the exposition needs no escaping beyond what :func:`_label` does for safety.

A dependency (prometheus-client) was weighed: it would bring a global registry, process metrics
and a multiprocess mode we do not need, for the dozen lines below.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

MetricType = Literal["counter", "gauge"]  # Prometheus's "# TYPE"; not formats.Kind


@dataclass(frozen=True, slots=True)
class _Metric:
    name: str
    kind: MetricType
    help: str
    read: Callable[[], float | int]


@dataclass(frozen=True, slots=True)
class _Labelled:
    name: str
    kind: MetricType
    help: str
    label: str
    values: Counter[str]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(slots=True)
class Metrics:
    """Register readers once at start-up; :meth:`render` reads them all."""

    prefix: str = "journal_proxy_"
    _metrics: list[_Metric | _Labelled] = field(default_factory=list)

    def add(self, name: str, kind: MetricType, help_: str, read: Callable[[], float | int]) -> None:
        self._metrics.append(_Metric(self.prefix + name, kind, help_, read))

    def labelled(self, name: str, kind: MetricType, help_: str, label: str) -> Counter[str]:
        """A metric with one label; the caller counts into the returned ``Counter``."""
        values: Counter[str] = Counter()
        self._metrics.append(_Labelled(self.prefix + name, kind, help_, label, values))
        return values

    def render(self) -> str:
        lines: list[str] = []
        for m in self._metrics:
            lines += [f"# HELP {m.name} {m.help}", f"# TYPE {m.name} {m.kind}"]
            if isinstance(m, _Labelled):
                lines += [
                    f'{m.name}{{{m.label}="{_label(k)}"}} {v}' for k, v in sorted(m.values.items())
                ]
            else:
                lines.append(f"{m.name} {m.read()}")
        return "\n".join(lines) + "\n"


@dataclass(slots=True)
class Tally:
    """Counters the web layer itself keeps."""

    refused: int = 0
    bytes_streamed: int = 0
    responses: Counter[str] = field(default_factory=Counter)
