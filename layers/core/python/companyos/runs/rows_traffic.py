"""Endpoint and dependency rows delivered with the slo_attainment run: per endpoint (service, route)
its request rate, error ratio and p95/p99 latency, and per service-graph edge (client → server) its
request rate and error ratio, over the run's period. See runs/rows.py.

Inputs are `slo_window` signals of the Prometheus pull (windowed counts, like the SLO's good/total),
told apart by their metric (docs/sources.md "Endpoint metrics and dependencies"):

* `endpoint_requests` / `endpoint_errors` — requests and failed requests of one (service, route) in
  a window, e.g. `sum by (service, route) (increase(http_server_requests_seconds_count[1h]))`;
* `endpoint_latency_bucket` — one histogram bucket's increase in the window (label `le`), e.g.
  `sum by (service, route, le) (increase(http_request_duration_seconds_bucket[1h]))`; the period's
  p95/p99 is `histogram_quantile` over the period's summed buckets (domain/histogram.py);
* `edge_requests` / `edge_failed` — Tempo / OpenTelemetry service-graph counts of one (client,
  server) pair: `traces_service_graph_request_total` / `..._request_failed_total`.

The route is the signal's `route` attribute (the query's `route_label`, e.g. Micrometer's `uri`),
else its `route` label. Per key and day the coarsest window length with data is used (the day's 1d
window, else its 1h windows: never both, as for the SLO counts); the rate divides the requests by the
seconds those windows cover. Errors are 0 for a window without an error series only when the tenant
pulls errors at all (PromQL returns no series for a selector that matched nothing); without an error
query the ratio is unknown, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from companyos.domain import histogram
from companyos.runs.formulas_slo import window_day
from companyos.runs.rows import SLO_KIND, Signal, _ev, _in, _unavailable, window_start

REQUESTS, ERRORS, BUCKET = "endpoint_requests", "endpoint_errors", "endpoint_latency_bucket"
EDGE_REQUESTS, EDGE_FAILED = "edge_requests", "edge_failed"
ENDPOINT_METRICS = (REQUESTS, ERRORS, BUCKET)
EDGE_METRICS = (EDGE_REQUESTS, EDGE_FAILED)
TRAFFIC_ROWS = 50  # rows kept per list (a service drill-down filters them: more than the panels' 25)
QUANTILES = {"p95_s": 0.95, "p99_s": 0.99}


@dataclass
class _Window:
    """What one key's windows of one length add up to on one day."""

    counts: dict[str, float] = field(default_factory=dict)  # metric -> sum
    buckets: dict[float, float] = field(default_factory=dict)  # le -> sum
    ends: set[datetime] = field(default_factory=set)  # the request windows counted
    signals: list[Signal] = field(default_factory=list)


@dataclass
class _Total:
    counts: dict[str, float] = field(default_factory=dict)
    buckets: dict[float, float] = field(default_factory=dict)
    seconds: float = 0.0
    windows: set[str] = field(default_factory=set)
    signals: list[Signal] = field(default_factory=list)


def _value(s: Signal) -> float | None:
    raw = s.attributes.get("value")
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def _label(s: Signal, name: str) -> str | None:
    labels = s.attributes.get("labels") or {}
    found = labels.get(name) if hasattr(labels, "get") else None
    return str(found) if found not in (None, "") else None


def route_of(s: Signal) -> str | None:
    return str(s.attributes.get("route") or "") or _label(s, "route")


def _fold(rows: Iterable[Signal], key_of: Any, requests_metric: str) -> dict[Any, _Total]:
    """key -> the period's sums, each day from its coarsest window length with data."""
    days: dict[tuple[Any, date], dict[int, _Window]] = {}
    for s in rows:
        metric, value, step = str(s.attributes.get("metric")), _value(s), int(s.attributes.get("step_s") or 0)
        key = key_of(s)
        if key is None or value is None or value < 0 or step <= 0:
            continue
        w = days.setdefault((key, window_day(s.occurred_at, step)), {}).setdefault(step, _Window())
        w.signals.append(s)
        if metric == BUCKET:
            le = histogram.parse_le(_label(s, "le"))
            if le is not None:
                w.buckets[le] = w.buckets.get(le, 0.0) + value
            continue
        w.counts[metric] = w.counts.get(metric, 0.0) + value
        if metric == requests_metric:
            w.ends.add(s.occurred_at)
    out: dict[Any, _Total] = {}
    for (key, _day), per_step in days.items():
        step = max(per_step)
        w, total = per_step[step], out.setdefault(key, _Total())
        for metric, v in w.counts.items():
            total.counts[metric] = total.counts.get(metric, 0.0) + v
        for le, v in w.buckets.items():
            total.buckets[le] = total.buckets.get(le, 0.0) + v
        total.seconds += len(w.ends) * step
        total.windows.add(str(w.signals[0].attributes.get("window") or f"{step}s"))
        total.signals += w.signals
    return out


def _rates(t: _Total, requests_metric: str, errors_metric: str, errors_pulled: bool) -> dict[str, Any]:
    requests = t.counts.get(requests_metric)
    errors = t.counts.get(errors_metric, 0.0 if errors_pulled and requests is not None else None)
    return {
        "requests": requests,
        "errors": errors,
        "request_rate_per_s": requests / t.seconds if requests is not None and t.seconds else None,
        "error_ratio": errors / requests if errors is not None and requests else None,
        "window": ", ".join(sorted(t.windows)),
        "covered_s": t.seconds,  # coverage: the seconds of the period the windows pulled cover
    }


def _coverage(items: list[dict[str, Any]], days: int) -> str:
    hours = max((i["covered_s"] for i in items), default=0.0) / 3600
    return f"windows pulled cover {hours:,.0f} h of the {days}-day period"


def _entry(
    items: list[dict[str, Any]], rows: list[Signal], days: int, summary: str, **extra: Any
) -> dict[str, Any]:
    """An available entry: the busiest rows first (TRAFFIC_ROWS of them), the signals read as evidence."""
    items.sort(key=lambda i: (-(i["requests"] or 0.0), i["id"]))
    entry = {"available": True, "window_days": days, **extra, "items": items[:TRAFFIC_ROWS]}
    return entry | {"summary": summary, "evidence": _ev(SLO_KIND, rows, days)}


def endpoint_entry(tenant_id: str, signals: Sequence[Signal], days: int, now: datetime) -> dict[str, Any]:
    """The `endpoints` rows: one per (service, route), the busiest first."""
    rows = [
        s for s in _in(signals, window_start(now, days)) if s.attributes.get("metric") in ENDPOINT_METRICS
    ]

    def key_of(s: Signal) -> tuple[str, str] | None:
        route = route_of(s)
        return None if route is None else (s.service or s.entity or "unmapped", route)

    folded = _fold(rows, key_of, REQUESTS)
    if not folded:
        return _unavailable(
            f"no endpoint request counts (Prometheus slo_window {REQUESTS} by service and route) pulled in"
            f" the last {days} days: add the endpoint queries to the tenant's Prometheus connector"
        )
    errors_pulled = any(s.attributes.get("metric") == ERRORS for s in rows)
    items = []
    for (svc, route), t in folded.items():
        href = f"/api/drill/service/{svc}?tenant={tenant_id}"
        latency = {k: histogram.quantile(q, t.buckets.items()) for k, q in QUANTILES.items()}
        items.append(
            {"id": f"{svc} {route}", "service": svc, "route": route,
             **_rates(t, REQUESTS, ERRORS, errors_pulled), **latency, "latency_buckets": len(t.buckets),
             "evidence": _ev(SLO_KIND, t.signals, days, href),
             "drill": {"kind": "service", "id": svc}}
        )  # fmt: skip
    services = len({i["service"] for i in items})
    summary = f"{len(items)} endpoints of {services} services; {_coverage(items, days)}"
    return _entry(items, rows, days, summary, errors_pulled=errors_pulled)


def dependency_entry(tenant_id: str, signals: Sequence[Signal], days: int, now: datetime) -> dict[str, Any]:
    """The `dependencies` rows: one per service-graph edge (client → server), the busiest first."""
    rows = [s for s in _in(signals, window_start(now, days)) if s.attributes.get("metric") in EDGE_METRICS]

    def key_of(s: Signal) -> tuple[str, str] | None:
        client, server = _label(s, "client"), _label(s, "server")
        return None if client is None or server is None else (client, server)

    folded = _fold(rows, key_of, EDGE_REQUESTS)
    if not folded:
        return _unavailable(
            f"no service-graph edges (Prometheus slo_window {EDGE_REQUESTS} by client and server, from"
            f" traces_service_graph_request_total) pulled in the last {days} days"
        )
    failed_pulled = any(s.attributes.get("metric") == EDGE_FAILED for s in rows)
    items = []
    for (client, server), t in folded.items():
        rates = _rates(t, EDGE_REQUESTS, EDGE_FAILED, failed_pulled)
        items.append(
            {"id": f"{client}->{server}", "client": client, "server": server,
             "connection_type": _label(t.signals[0], "connection_type"),
             **{k: v for k, v in rates.items() if k != "errors"}, "failed": rates["errors"],
             "evidence": _ev(SLO_KIND, t.signals, days, f"/api/drill/services?tenant={tenant_id}")}
        )  # fmt: skip
    nodes = {i["client"] for i in items} | {i["server"] for i in items}
    summary = f"{len(items)} dependencies between {len(nodes)} services; {_coverage(items, days)}"
    return _entry(items, rows, days, summary)
