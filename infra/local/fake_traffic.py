"""Endpoint and service-graph series for the local fake Prometheus (`fake_prometheus.DemoSeries`):
per (service, route) request and error counts and latency histogram buckets
(`http_request_duration_seconds_*` with a `route` label, or Micrometer's
`http_server_requests_seconds_*` with `uri`), and per (client, server) Tempo service-graph counts
(`traces_service_graph_request_total` / `..._request_failed_total`).

The labels of each answer are the PromQL's own `sum by (...)` labels, so a tenant's query decides
them as with a real Prometheus. Counts are a share of the service's window counts (`DemoSeries`),
latencies a log-normal per route whose p95 is the route's: deterministic per (series, time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)
SIGMA = 0.6  # spread of the log-normal latency (p95 / median = e^(1.645 sigma))
_BY = re.compile(r"sum by \(([^)]*)\)")

Labels = dict[str, str]
Counts = Callable[[str, int, int], tuple[float, float]]  # (service, window end, seconds) -> (total, bad)


@dataclass(frozen=True)
class Route:
    service: str
    route: str
    share: float  # of the service's requests
    p95_s: float
    error_weight: float = 1.0  # x the service's error share


@dataclass(frozen=True)
class Edge:
    client: str
    server: str
    share: float  # of the server's requests that come from this client
    connection_type: str = "unset"


def _by(promql: str) -> list[str]:
    found = _BY.search(promql)
    return [x.strip() for x in found.group(1).split(",")] if found else []


def _cdf(le: float, p95_s: float) -> float:
    if math.isinf(le):
        return 1.0
    median = p95_s / math.exp(1.645 * SIGMA)
    return 0.5 * (1 + math.erf(math.log(le / median) / (SIGMA * math.sqrt(2))))


def _le(v: float) -> str:
    return "+Inf" if math.isinf(v) else repr(v)


@dataclass(frozen=True)
class Traffic:
    routes: tuple[Route, ...]
    edges: tuple[Edge, ...]

    def handles(self, promql: str) -> bool:
        endpoint = "http_request_duration_seconds" in promql or "http_server_requests_seconds" in promql
        return "traces_service_graph_request" in promql or (
            endpoint and ("route" in promql or "uri" in promql)
        )

    def series(self, promql: str, t: int, window: int, counts: Counts) -> list[tuple[Labels, float]]:
        names = _by(promql)
        out: list[tuple[Labels, float]] = []
        if "traces_service_graph_request" in promql:
            failed = "failed" in promql
            for e in self.edges:
                total, bad = counts(e.server, t, window)
                if not total:  # a virtual server (a database, an external API): the client's calls
                    total, bad = counts(e.client, t, window)
                labels = dict(zip(names, (e.client, e.server, e.connection_type), strict=False))
                out.append((labels, round((bad if failed else total) * e.share)))
            return out
        svc_label, route_label = [*names, "service", "route"][:2]
        errors = '"5.."' in promql or "SERVER_ERROR" in promql
        for r in self.routes:
            total, bad = counts(r.service, t, window)
            n = total * r.share
            base = {svc_label: r.service, route_label: r.route}
            if "_bucket" in promql:
                out += [({**base, "le": _le(le)}, round(n * _cdf(le, r.p95_s))) for le in BUCKETS]
            else:
                out.append((base, round(bad * r.share * r.error_weight) if errors else round(n)))
        return out
