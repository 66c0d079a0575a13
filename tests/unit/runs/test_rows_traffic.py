"""Endpoint metrics and service-graph edges from Prometheus answers: the API responses below are
parsed by the connector (`parse_response` → `to_signals`, the pull's own steps) and folded by the
slo_attainment run's rows (runs/rows_traffic.py). Expected numbers are computed here from the
buckets and counts written in the responses.

Real shapes:
* Micrometer's `http_server_requests_seconds` histogram (Spring Boot, labels exception, method,
  outcome, status, uri, le) with its bucket counts: the exposition in the README of
  github.com/fstab/spring-boot-2-opentelemetry-traces ("View Exemplars"):
  le=0.001747626 → 1, 0.002446676 → 2, 0.005592405 → 5, 0.006990506 → 7, 0.061516456 → 8 (the
  README elides the buckets above; the `+Inf` bucket is 8 here, the last count shown).
* Tempo's service-graph counters: grafana/tempo docs/sources/tempo/metrics-generator/
  service_graphs/_index.md — `traces_service_graph_request_total{client="app", server="db",
  connection_type="database"} 20`, labels client, server, connection_type; and
  `traces_service_graph_request_failed_total` with the same labels.
They are wrapped in the Prometheus HTTP API envelope of an instant query (`resultType: vector`),
the format of the real fixture prometheus/api-v1-query.vector.json.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from companyos.domain import histogram
from companyos.runs import rows_slo, rows_traffic
from companyos.runs.rows import RowsContext
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import PromQuerySpec

from tests.conftest import real_fixture

AS_OF = datetime(2026, 3, 10, 12, tzinfo=UTC)
T1, T2 = AS_OF - timedelta(hours=2), AS_OF - timedelta(hours=1)  # two 1h windows
SPRING = {"exception": "None", "method": "GET", "outcome": "SUCCESS", "status": "200", "uri": "/"}
# (le, cumulative count) of the README's exposition, + the +Inf bucket
README_BUCKETS = [("0.001747626", 1), ("0.002446676", 2), ("0.005592405", 5), ("0.006990506", 7),
                  ("0.061516456", 8), ("+Inf", 8)]  # fmt: skip


def vector(at: datetime, series: list[tuple[dict[str, str], float]]) -> bytes:
    result = [{"metric": labels, "value": [at.timestamp(), repr(v)]} for labels, v in series]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


def spec(qid: str, metric: str, promql: str, **kw: Any) -> PromQuerySpec:
    return PromQuerySpec.model_validate(
        {"id": qid, "metric": metric, "kind": "slo_window", "promql": promql, "step_s": 3600, **kw}
    )


BUCKETS = spec(
    "endpoint_buckets",
    "endpoint_latency_bucket",
    "sum by (application, uri, le) (increase(http_server_requests_seconds_bucket[1h]))",
    service_label="application",
    route_label="uri",
)
REQUESTS = spec(
    "endpoint_requests",
    "endpoint_requests",
    "sum by (application, uri) (increase(http_server_requests_seconds_count[1h]))",
    service_label="application",
    route_label="uri",
)
ERRORS = spec(
    "endpoint_errors",
    "endpoint_errors",
    'sum by (application, uri) (increase(http_server_requests_seconds_count{outcome="SERVER_ERROR"}[1h]))',
    service_label="application",
    route_label="uri",
)
EDGES = spec(
    "edges",
    "edge_requests",
    "sum by (client, server, connection_type) (increase(traces_service_graph_request_total[1h]))",
    service_label="server",
)
FAILED = spec(
    "edges_failed",
    "edge_failed",
    "sum by (client, server, connection_type) (increase(traces_service_graph_request_failed_total[1h]))",
    service_label="server",
)


def pulled(q: PromQuerySpec, at: datetime, body: bytes) -> list[Any]:
    return prom.to_signals("acme", q, at, prom.parse_response(body).samples, {})


def endpoint_signals() -> list[Any]:
    """Window 1: the README's buckets for GET / of `app`; window 2: the same histogram doubled."""
    out: list[Any] = []
    for at, factor in ((T1, 1), (T2, 2)):
        series = [
            ({"application": "app", "uri": "/", "le": le}, float(c * factor)) for le, c in README_BUCKETS
        ]
        out += pulled(BUCKETS, at, vector(at, series))
        out += pulled(REQUESTS, at, vector(at, [({"application": "app", "uri": "/"}, 8.0 * factor)]))
    # one server error in window 2 only (window 1's error selector matched no series: none)
    out += pulled(ERRORS, T2, vector(T2, [({"application": "app", "uri": "/"}, 1.0)]))
    return out


def interpolate(q: float, bounds: list[float], counts: list[float]) -> float:
    """histogram_quantile's arithmetic, written out for the test's own buckets."""
    rank = q * counts[-1]
    i = next(i for i, c in enumerate(counts) if c >= rank)
    lower, below = (bounds[i - 1], counts[i - 1]) if i else (0.0, 0.0)
    return lower + (bounds[i] - lower) * (rank - below) / (counts[i] - below)


def test_endpoint_rate_errors_and_latency_quantiles_from_the_buckets():
    entry = rows_traffic.endpoint_entry("acme", endpoint_signals(), 7, AS_OF)
    assert entry["available"] is True and len(entry["items"]) == 1
    row = entry["items"][0]
    assert (row["service"], row["route"]) == ("app", "/")
    # the period's buckets are the two windows' increases added: 3 x the README's counts
    bounds = [float(le) for le, _ in README_BUCKETS[:-1]]
    counts = [3.0 * c for _, c in README_BUCKETS[:-1]]
    assert row["requests"] == 8 + 16 and row["errors"] == 1
    assert row["request_rate_per_s"] == pytest.approx(24 / (2 * 3600))
    assert row["error_ratio"] == pytest.approx(1 / 24)
    # rank 0.95 x 24 = 22.8 falls in (0.006990506, 0.061516456]: 21 below, 24 at its bound
    assert row["p95_s"] == pytest.approx(0.006990506 + (0.061516456 - 0.006990506) * (22.8 - 21) / 3)
    assert row["p95_s"] == pytest.approx(interpolate(0.95, bounds, counts))
    assert row["p99_s"] == pytest.approx(interpolate(0.99, bounds, counts))
    assert row["latency_buckets"] == 6 and row["window"] == "1h"
    assert row["covered_s"] == 2 * 3600 and "cover 2 h of the 7-day period" in entry["summary"]
    # evidence: the 6 + 6 bucket signals, 2 request counts and 1 error count behind the row
    assert row["evidence"]["sources"][0]["count"] == 15
    assert row["evidence"]["sources"][0]["object"] == "prometheus.slo_window"


def test_without_an_error_query_the_error_ratio_is_unknown_not_zero():
    signals = [s for s in endpoint_signals() if s.attributes["metric"] != "endpoint_errors"]
    row = rows_traffic.endpoint_entry("acme", signals, 7, AS_OF)["items"][0]
    assert row["errors"] is None and row["error_ratio"] is None
    assert row["requests"] == 24


def test_a_day_uses_its_coarsest_window_never_both():
    day_end = datetime(2026, 3, 10, tzinfo=UTC)  # the 1d window of 9 March
    daily = spec("req_1d", "endpoint_requests", "sum by (service, route) (increase(x[1d]))", step_s=86400)
    hourly = spec(
        "req_1h", "endpoint_requests", "sum by (service, route) (increase(x[1h]))", route_label="route"
    )
    at_h = datetime(2026, 3, 9, 13, tzinfo=UTC)
    signals = pulled(daily, day_end, vector(day_end, [({"service": "api", "route": "/a"}, 86400.0)]))
    signals += pulled(hourly, at_h, vector(at_h, [({"service": "api", "route": "/a"}, 99999.0)]))
    row = rows_traffic.endpoint_entry("acme", signals, 7, AS_OF)["items"][0]
    assert row["requests"] == 86400 and row["request_rate_per_s"] == pytest.approx(1.0)
    assert row["p95_s"] is None and row["latency_buckets"] == 0  # no histogram: latency unknown


def test_service_graph_edges_with_request_rate_and_error_ratio():
    db = {"client": "app", "server": "db", "connection_type": "database"}
    shop = {"client": "shop-backend", "server": "article-service", "connection_type": "unset"}
    signals = pulled(EDGES, T1, vector(T1, [(db, 20.0), (shop, 360.0)]))
    signals += pulled(FAILED, T1, vector(T1, [(shop, 9.0)]))
    entry = rows_traffic.dependency_entry("acme", signals, 7, AS_OF)
    assert entry["available"] is True
    by_id = {e["id"]: e for e in entry["items"]}
    assert list(by_id) == ["shop-backend->article-service", "app->db"]  # busiest first
    shop_row, db_row = by_id["shop-backend->article-service"], by_id["app->db"]
    assert shop_row["request_rate_per_s"] == pytest.approx(360 / 3600)
    assert shop_row["failed"] == 9 and shop_row["error_ratio"] == pytest.approx(9 / 360)
    assert db_row["requests"] == 20 and db_row["failed"] == 0 and db_row["error_ratio"] == 0
    assert db_row["connection_type"] == "database"
    assert (
        entry["summary"] == "2 dependencies between 4 services; windows pulled cover 1 h of the 7-day period"
    )


def test_the_slo_run_delivers_endpoints_and_dependencies_beside_its_table():
    signals = endpoint_signals() + pulled(EDGES, T1, vector(T1, [({"client": "a", "server": "b"}, 5.0)]))
    rows = rows_slo._slo_rows({"slo_window": signals}, RowsContext("acme", AS_OF, {}), 7)
    assert rows["slo"]["available"] is False  # no good/total windows: the table says so
    assert rows["endpoints"]["items"][0]["requests"] == 24
    assert rows["dependencies"]["items"][0]["id"] == "a->b"


def test_series_without_a_route_label_are_no_endpoints():
    """The real fixture's `up` vector pulled as endpoint counts: no route, so no endpoint rows."""
    body = real_fixture("prometheus/api-v1-query.vector.json")
    at = datetime(2015, 7, 1, 21, tzinfo=UTC)
    signals = prom.to_signals("acme", REQUESTS, at, prom.parse_response(body).samples, {})
    entry = rows_traffic.endpoint_entry("acme", signals, 7, datetime(2015, 7, 2, tzinfo=UTC))
    assert entry["available"] is False and "route" in entry["reason"]


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        ([(0.1, 0.0), (math.inf, 0.0)], None),  # no observations
        ([(0.1, 5.0)], None),  # no +Inf bucket
        ([(0.1, 1.0), (0.2, 2.0), (math.inf, 10.0)], 0.2),  # the rank is in +Inf: the top finite bound
        ([(0.1, 10.0), (math.inf, 10.0)], 0.1 * 0.95),  # first bucket: from 0
        (
            [(0.1, 2.0), (0.1, 3.0), (0.2, 10.0), (math.inf, 10.0)],
            0.1 + 0.1 * (9.5 - 5) / 5,
        ),  # one bound twice
    ],
)
def test_histogram_quantile_edge_cases(buckets, expected):
    got = histogram.quantile(0.95, buckets)
    assert got == (None if expected is None else pytest.approx(expected))


def test_decreasing_bucket_counts_are_raised_to_the_running_maximum():
    # increase() extrapolation: le=0.2 shows 5 after le=0.1's 6 → read as 6; rank 9.5 in (0.2, 0.4]
    got = histogram.quantile(0.95, [(0.1, 6.0), (0.2, 5.0), (0.4, 10.0), (math.inf, 10.0)])
    assert got == pytest.approx(0.2 + 0.2 * (9.5 - 6) / (10 - 6))
