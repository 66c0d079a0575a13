"""Endpoint metrics and dependencies end to end: a Prometheus HTTP API answering endpoint histograms
and Tempo service-graph counters → the pull connector → slo_window signals → the slo_attainment run
(state machine) delivering endpoint and edge rows → score refresh → the KPI deep dive, the service
drill-down and the service map; trace / log deep links from the tenant's templates; a deployment's
code diff as the GitHub compare link of the real push payload.

Series shapes: Micrometer's `http_server_requests_seconds` buckets of the README of
github.com/fstab/spring-boot-2-opentelemetry-traces (le 0.001747626 → 1, 0.002446676 → 2,
0.005592405 → 5, 0.006990506 → 7, 0.061516456 → 8; +Inf 8) and Tempo's
`traces_service_graph_request_total{client, server, connection_type}` (grafana/tempo
docs/sources/tempo/metrics-generator/service_graphs/_index.md), in the API's matrix format."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from companyos.domain import clock
from companyos.runs.rows import window_start
from companyos.sources import deeplinks
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import PrometheusConfig, PromQuerySpec

from infra.local.fake_prometheus import FakePrometheus, error, success
from tests.conftest import Running, clock_at, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_walking_skeleton import post_github

TENANT = "trafco"
NOW = clock.now().replace(minute=0, second=0, microsecond=0)
WINDOWS = 6  # hourly windows pulled
README = [("0.001747626", 1), ("0.002446676", 2), ("0.005592405", 5), ("0.006990506", 7),
          ("0.061516456", 8), ("+Inf", 8)]  # fmt: skip
# per hourly window: (service, uri) -> requests, errors, bucket factor (x the README's counts)
ENDPOINTS = {("api", "/v1/orders"): (800, 8, 100), ("api", "/v1/orders/{id}"): (400, 0, 50),
             ("web", "/"): (1600, 0, 200)}  # fmt: skip
EDGES = {("user", "web", "virtual_node"): (1600, 0), ("web", "api", "unset"): (1200, 12)}

Q = {
    "good": 'sum by (service) (increase(http_requests_total{code!~"5.."}[1h]))',
    "total": "sum by (service) (increase(http_requests_total[1h]))",
    "requests": "sum by (application, uri) (increase(http_server_requests_seconds_count[1h]))",
    "errors": "sum by (application, uri)"
    ' (increase(http_server_requests_seconds_count{outcome="SERVER_ERROR"}[1h]))',
    "buckets": "sum by (application, uri, le) (increase(http_server_requests_seconds_bucket[1h]))",
    "edges": "sum by (client, server, connection_type) (increase(traces_service_graph_request_total[1h]))",
    "failed": "sum by (client, server, connection_type)"
    " (increase(traces_service_graph_request_failed_total[1h]))",
}


def series(query: str) -> list[tuple[dict[str, str], float]]:
    if query in (Q["good"], Q["total"]):
        return [({"service": s}, 1000.0) for s in ("api", "web")]
    if query == Q["buckets"]:
        return [
            ({"application": s, "uri": u, "le": le}, float(c * f))
            for (s, u), (_, _, f) in ENDPOINTS.items()
            for le, c in README
        ]
    if query in (Q["requests"], Q["errors"]):
        i = 0 if query == Q["requests"] else 1
        return [({"application": s, "uri": u}, float(v[i])) for (s, u), v in ENDPOINTS.items() if v[i]]
    i = 0 if query == Q["edges"] else 1
    return [({"client": c, "server": s, "connection_type": t}, float(v[i])) for (c, s, t), v in EDGES.items()]


def answer(path: str, params: dict[str, str]) -> tuple[int, bytes, float]:
    query = params.get("query", "")
    if path != "/api/v1/query_range" or query not in Q.values():
        return 400, error("bad_data", f"unexpected query {query!r}"), 0.0
    start, end, step = int(float(params["start"])), int(float(params["end"])), int(params["step"][:-1])
    result = [
        {"metric": labels, "values": [[t, repr(v)] for t in range(start, end + 1, step)]}
        for labels, v in series(query)
    ]
    return 200, success("matrix", result), 0.0


def spec(key: str, metric: str, **kw: Any) -> PromQuerySpec:
    return PromQuerySpec.model_validate(
        {"id": key, "metric": metric, "kind": "slo_window", "promql": Q[key], "step_s": 3600,
         "lookback_steps": WINDOWS, **kw}
    )  # fmt: skip


SPRING = {"service_label": "application", "route_label": "uri"}
QUERIES = (
    spec("good", "slo_good"),
    spec("total", "slo_total"),
    spec("requests", "endpoint_requests", **SPRING),
    spec("errors", "endpoint_errors", **SPRING),
    spec("buckets", "endpoint_latency_bucket", **SPRING),
    spec("edges", "edge_requests", service_label="server"),
    spec("failed", "edge_failed", service_label="server"),
)


@pytest.fixture(scope="module")
def trafco(local: Running) -> Iterator[TenantFixture]:
    from companyos.adapters.repos import Catalog

    tenant = make_tenant(local, TENANT, "Traffic Co")
    for service in ("api", "web"):
        Catalog().tenant(TENANT).map_source_entity("prometheus", service, service, "Core")
    fake = FakePrometheus(answer).start()
    try:
        report = prom.pull_tenant(
            TENANT, PrometheusConfig(base_url=fake.url, lag_s=0, queries=QUERIES), now=NOW
        )
    finally:
        fake.stop()
    assert all(q["status"] == "ok" for q in report["queries"]), report
    # 6 windows x (2 + 2 good/total, 3 endpoints' requests, 1 with errors, 3 x 6 buckets, 2 edges x 2)
    assert report["signals"] == WINDOWS * (4 + 3 + 1 + 18 + 4)
    out = run_kpis(local, TENANT, ["slo_attainment"], NOW, "traffic-1")
    assert out["runs"]["success"] == 1, out
    yield tenant


def get(local: Running, tenant: TenantFixture, path: str) -> dict[str, Any]:
    sep = "&" if "?" in path else "?"
    resp = local.client.request("GET", f"{path}{sep}tenant={TENANT}", token=tenant.cto_token)
    assert resp.status == 200, resp.body
    return dict(resp.body)


def run_id() -> str:
    from companyos.runs.steps import latest_delivered

    found = latest_delivered(TENANT, "slo_attainment")
    assert found is not None
    return str(found["run_id"])


def p95(factor: int) -> float:
    """histogram_quantile(0.95) of WINDOWS x factor x the README's buckets: the rank 0.95 x total falls
    in (0.006990506, 0.061516456], with 7 of every 8 requests below it."""
    total = 8 * factor * WINDOWS
    rank, below, inside = 0.95 * total, 7 * factor * WINDOWS, 1 * factor * WINDOWS
    return 0.006990506 + (0.061516456 - 0.006990506) * (rank - below) / inside


def test_the_kpi_deep_dive_shows_the_endpoint_rows_of_the_slo_run(local, trafco):
    body = get(local, trafco, "/api/drill/kpi/slo_attainment?period=7d")
    ep = body["endpoints"]
    assert ep["available"] is True
    rows = {(r["service"], r["route"]): r for r in ep["items"]}
    assert list(rows) == [("web", "/"), ("api", "/v1/orders"), ("api", "/v1/orders/{id}")]  # busiest first
    orders = rows[("api", "/v1/orders")]
    assert orders["requests"] == 800 * WINDOWS and orders["errors"] == 8 * WINDOWS
    assert orders["request_rate_per_s"] == pytest.approx(800 * WINDOWS / (WINDOWS * 3600))
    assert orders["error_ratio"] == pytest.approx(8 / 800)
    assert orders["p95_s"] == pytest.approx(p95(100))
    assert rows[("api", "/v1/orders/{id}")]["errors"] == 0  # errors pulled, none for it: 0, not unknown
    assert orders["evidence"]["type"] == "kpi_run" and orders["evidence"]["run_id"] == run_id()
    assert orders["evidence"]["kpi_id"] == "slo_attainment"


def test_a_kpi_not_measured_per_endpoint_says_so_plainly(local, trafco):
    ep = get(local, trafco, "/api/drill/kpi/deployment_frequency?period=7d")["endpoints"]
    assert ep["available"] is False and "SLO Attainment" in ep["reason"]
    assert "Not built yet" not in json.dumps(ep)


def test_the_service_drill_down_shows_its_own_endpoints_with_deep_links(local, trafco):
    ep = get(local, trafco, "/api/drill/service/api?period=7d")["endpoints"]
    assert [r["route"] for r in ep["items"]] == ["/v1/orders", "/v1/orders/{id}"]
    assert ep["items"][0]["links"]["traces"] == {
        "available": False, "reason": deeplinks.NO_TRACE_LINK, "items": []
    }  # fmt: skip
    deeplinks.save_config(
        TENANT,
        deeplinks.DeepLinks(
            trace_system="tempo",
            trace_url_template="https://grafana.trafco.example/explore?service={{service}}&route={{route}}"
            "&from={{start_ms}}&to={{end_ms}}",
        ),
    )
    try:
        ep = get(local, trafco, "/api/drill/service/api?period=7d")["endpoints"]
    finally:
        deeplinks.save_config(TENANT, deeplinks.DeepLinks())
    (link,) = ep["items"][0]["links"]["traces"]["items"]
    assert link["href"].startswith(
        "https://grafana.trafco.example/explore?service=api&route=%2Fv1%2Forders&from="
    )
    assert link["system"] == "tempo" and ep["items"][0]["links"]["logs"]["available"] is False
    # the link's window is the one the numbers cover: the 7 days of the run, ending at its as_of
    as_of = datetime.fromisoformat(ep["evidence"]["as_of"])
    start, end = window_start(as_of, 7), as_of
    assert link["href"].endswith(f"&from={int(start.timestamp() * 1000)}&to={int(end.timestamp() * 1000)}")


def test_the_service_map_shows_the_service_graph_edges(local, trafco):
    body = get(local, trafco, "/api/drill/services?period=7d")
    edges = {e["id"]: e for e in body["edges"]["items"]}
    assert list(edges) == ["user->web", "web->api"]
    web_api = edges["web->api"]
    assert web_api["requests"] == 1200 * WINDOWS and web_api["failed"] == 12 * WINDOWS
    assert web_api["request_rate_per_s"] == pytest.approx(1200 / 3600)
    assert web_api["error_ratio"] == pytest.approx(12 / 1200)
    assert web_api["client_drill"] == {"kind": "service", "id": "web"}
    assert edges["user->web"]["client_drill"] is None and edges["user->web"]["failed"] == 0
    assert edges["user->web"]["connection_type"] == "virtual_node"
    assert web_api["evidence"]["run_id"] == run_id()


def test_an_incident_links_to_its_traces_and_logs_when_templates_are_set(local, trafco):
    from companyos.adapters.repos import Catalog

    Catalog().tenant(TENANT).map_source_entity("pagerduty", "PA2P440", "api", "Core")
    local.stack.put_webhook_secret(TENANT, "pagerduty", "pd-secret")
    from companyos.sources.base import hmac_sha256_hex

    body = real_fixture("pagerduty/incident.triggered.json")
    triggered = datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC)
    with clock_at(triggered + timedelta(hours=2)):
        resp = local.client.request(
            "POST",
            f"/api/ingest/pagerduty?tenant={TENANT}",
            body,
            {
                "Content-Type": "application/json",
                "X-PagerDuty-Signature": "v1=" + hmac_sha256_hex("pd-secret", body),
            },
        )
        assert resp.status in (200, 202), resp.body
        plain = get(local, trafco, "/api/drill/incidents/PFQZPSY")
        deeplinks.save_config(
            TENANT,
            deeplinks.DeepLinks(
                trace_system="xray",
                trace_url_template="https://console.aws.amazon.com/xray/home#/traces?timeRange={{start}}~{{end}}"
                "&filter=service(%22{{service}}%22)",
                log_system="loki",
                log_url_template="https://grafana.trafco.example/explore?expr={{service}}&from={{start_ms}}",
            ),
        )
        try:
            linked = get(local, trafco, "/api/drill/incidents/PFQZPSY")
        finally:
            deeplinks.save_config(TENANT, deeplinks.DeepLinks())
    assert plain["traces"]["reason"] == deeplinks.NO_TRACE_LINK and plain["logs"]["available"] is False
    (trace,) = linked["traces"]["items"]
    start = triggered - timedelta(minutes=30)
    assert f"timeRange={start.isoformat().replace('+00:00', 'Z').replace(':', '%3A')}" in trace["href"]
    assert "service(%22api%22)" in trace["href"]
    (log,) = linked["logs"]["items"]
    assert (
        log["href"] == f"https://grafana.trafco.example/explore?expr=api&from={int(start.timestamp() * 1000)}"
    )


def test_a_deployment_links_its_code_diff_to_the_github_compare_view(local, trafco):
    push = json.loads(real_fixture("github/push.json"))
    before = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"  # a second push onto the branch the first created
    commit = {**push["commits"][0], "id": before, "timestamp": "2019-05-15T15:20:00Z"}
    second = {**push, "before": push["after"], "after": before, "commits": [commit]}
    with clock_at(datetime(2019, 5, 15, 16, tzinfo=UTC)):
        for i, doc in enumerate((push, second)):
            assert post_github(local, trafco, json.dumps(doc).encode(), "push", f"push-{i}").status in (
                200,
                202,
            )
        status = real_fixture("github/deployment_status.created.success.json")
        assert post_github(local, trafco, status, "deployment_status", "deploy-1").status in (200, 202)
        changes = get(local, trafco, "/api/drill/changes?period=7d")
        dep_id = changes["items"][0]["id"]
        diff = get(local, trafco, f"/api/drill/deployments/{dep_id}?period=7d")["diff"]
    assert diff["available"] is True
    links = [(d["before"], d["after"], d["href"], d["deployed_head"]) for d in diff["items"]]
    repo = "https://github.com/Codertocat/Hello-World"
    assert links == [
        (push["after"], before, f"{repo}/compare/{push['after']}...{before}", True),
        (push["before"], push["after"], f"{repo}/commit/{push['after']}", False),  # the branch's first push
    ]
