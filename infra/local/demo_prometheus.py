"""Demo Prometheus: a fake Prometheus per tenant (`fake_prometheus`, the real response format, kept
running for later pulls) serving the tenant's services, and the tenant's pull configuration — the
queries the SLO, latency, capacity and API-volume KPIs read — pulled once through the real connector."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from companyos.sources import deeplinks, prometheus

from infra.local import demo_product
from infra.local.fake_prometheus import DemoSeries, FakePrometheus, ServiceProfile
from infra.local.fake_traffic import Edge, Route, Traffic

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

FAKE_PROMETHEUS: dict[str, FakePrometheus] = {}  # per tenant; kept running for later pulls

DEMO_QUERIES = (
    demo_product.API_REQUESTS_QUERY,
    (
        "slo_good_1d",
        "slo_good",
        "slo_window",
        'sum by (service) (increase(http_requests_total{code!~"5.."}[1d]))',
        86400,
        28,
    ),
    (
        "slo_total_1d",
        "slo_total",
        "slo_window",
        "sum by (service) (increase(http_requests_total[1d]))",
        86400,
        28,
    ),
    (
        "slo_good_1h",
        "slo_good",
        "slo_window",
        'sum by (service) (increase(http_requests_total{code!~"5.."}[1h]))',
        3600,
        12,
    ),
    (
        "slo_total_1h",
        "slo_total",
        "slo_window",
        "sum by (service) (increase(http_requests_total[1h]))",
        3600,
        12,
    ),
    (
        "availability_1d",
        "availability",
        "slo_window",
        'avg by (service) (avg_over_time(up{job="app"}[1d]))',
        86400,
        14,
    ),
    (
        "latency_p95",
        "latency_p95_s",
        "prom_sample",
        "histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))",
        3600,
        12,
    ),
    (
        "latency_p99",
        "latency_p99_s",
        "prom_sample",
        "histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))",
        3600,
        12,
    ),
    (  # used share of the provisioned CPU / memory (container limits): infra_utilization, capacity
        "cpu_utilisation",
        "cpu_utilisation",
        "prom_sample",
        'sum by (service) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="cpu"})',
        3600,
        24,
    ),
    (
        "memory_utilisation",
        "memory_utilisation",
        "prom_sample",
        'sum by (service) (container_memory_working_set_bytes{container!=""})'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="memory"})',
        3600,
        24,
    ),
    (  # their daily means (prom_daily, kept 2 years): what 28/90/365-day utilisation windows read
        "cpu_utilisation_1d",
        "cpu_utilisation",
        "prom_daily",
        "avg by (service) (avg_over_time(("
        'sum by (service) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="cpu"}))[1d:5m]))',
        86400,
        28,
    ),
    (
        "memory_utilisation_1d",
        "memory_utilisation",
        "prom_daily",
        "avg by (service) (avg_over_time(("
        'sum by (service) (container_memory_working_set_bytes{container!=""})'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="memory"}))[1d:5m]))',
        86400,
        28,
    ),
)


# Endpoint metrics (runs/rows_traffic.py): the Prometheus Python client's histogram with a `route`
# label for one tenant, Spring Boot / Micrometer's (`application`, `uri`) for the other; 1h windows.
ENDPOINT_QUERIES = {
    "prometheus_client": ("service", "route", "http_request_duration_seconds", '{code=~"5.."}'),
    "micrometer": ("application", "uri", "http_server_requests_seconds", '{outcome="SERVER_ERROR"}'),
}
SERVICE_GRAPH = "sum by (client, server, connection_type) (increase(traces_service_graph_request{}[1h]))"
TRAFFIC_LOOKBACK = 24  # hourly windows pulled: the last day


def traffic_queries(flavour: str) -> tuple[prometheus.PromQuerySpec, ...]:
    svc, route, metric, errors = ENDPOINT_QUERIES[flavour]
    spec = prometheus.PromQuerySpec
    common = {"kind": "slo_window", "step_s": 3600, "lookback_steps": TRAFFIC_LOOKBACK}
    by, labels = f"sum by ({svc}, {route})", {"service_label": svc, "route_label": route}
    return (
        spec(id="endpoint_requests", metric="endpoint_requests", **common, **labels,
             promql=f"{by} (increase({metric}_count[1h]))"),
        spec(id="endpoint_errors", metric="endpoint_errors", **common, **labels,
             promql=f"{by} (increase({metric}_count{errors}[1h]))"),
        spec(id="endpoint_latency_buckets", metric="endpoint_latency_bucket", **common, **labels,
             promql=f"sum by ({svc}, {route}, le) (increase({metric}_bucket[1h]))"),
        spec(id="service_graph_requests", metric="edge_requests", **common, service_label="server",
             promql=SERVICE_GRAPH.format("_total")),
        spec(id="service_graph_failed", metric="edge_failed", **common, service_label="server",
             promql=SERVICE_GRAPH.format("_failed_total")),
    )  # fmt: skip


def demo_prometheus_config(base_url: str, flavour: str = "prometheus_client") -> prometheus.PrometheusConfig:
    return prometheus.PrometheusConfig(
        base_url=base_url,
        queries=tuple(
            prometheus.PromQuerySpec(id=i, metric=m, kind=k, promql=q, step_s=step, lookback_steps=lb)
            for i, m, k, q, step, lb in DEMO_QUERIES
        )
        + traffic_queries(flavour),
    )


# Each demo service's routes and calls (Tempo names an uninstrumented caller `user` and a database
# by its peer attributes: virtual nodes).
ROUTES = {
    "api": ("/v1/orders", "/v1/orders/{id}", "/v1/auth/token"),
    "web": ("/", "/dashboard", "/static/{path}"),
    "ingest": ("/ingest/batch", "/ingest/stream"),
    "gateway": ("/graphql", "/healthz"),
    "portal": ("/login", "/billing", "/reports/{id}"),
}
EDGES = {
    "northwind": (("user", "web", 1.0, "virtual_node"), ("web", "gateway", 0.7, "unset"),
                  ("gateway", "api", 0.9, "unset"), ("api", "ingest", 0.3, "unset"),
                  ("ingest", "postgres", 0.5, "database")),
    "globex": (("user", "portal", 1.0, "virtual_node"), ("portal", "postgres", 0.6, "database"),
               ("portal", "stripe-api", 0.05, "virtual_node")),
}  # fmt: skip
DEEP_LINKS = {  # Grafana (Tempo + Loki) for one tenant, AWS (X-Ray + CloudWatch Logs Insights) for the other
    "northwind": deeplinks.DeepLinks(
        trace_system="tempo",
        trace_url_template="https://grafana.northwind.example/explore?schemaVersion=1&panes="
        '{"t":{"datasource":"tempo","queries":[{"queryType":"traceql","query":"{resource.service.name=\\"'
        '{{service}}\\"}"}],"range":{"from":"{{start_ms}}","to":"{{end_ms}}"}}}',
        log_system="loki",
        log_url_template="https://grafana.northwind.example/explore?schemaVersion=1&panes="
        '{"l":{"datasource":"loki","queries":[{"expr":"{service=\\"{{service}}\\"}"}],'
        '"range":{"from":"{{start_ms}}","to":"{{end_ms}}"}}}',
    ),
    "globex": deeplinks.DeepLinks(
        trace_system="xray",
        trace_url_template="https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#xray:traces/query?timeRange={{start}}~{{end}}&filter=service(%22{{service}}%22)",
        log_system="cloudwatch",
        log_url_template="https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
        "#logsV2:logs-insights$3FqueryDetail$3D~(end~'{{end}}~start~'{{start}}~timeType~'ABSOLUTE"
        "~editorString~'fields*20*40timestamp*2c*20*40message*0a*7c*20filter*20service*3d*27{{service}}*27"
        "~source~(~'/ecs/{{service}}))",
    ),
}


def demo_traffic(demo: DemoTenant, rng: random.Random) -> Traffic:
    services = [service for _, service, _ in demo.repos]
    routes = tuple(
        Route(svc, route, share, rng.uniform(0.06, 0.6), rng.uniform(0.3, 2.0))
        for svc in services
        for route, share in zip(
            ROUTES.get(svc, ("/",)),
            (0.6, 0.3, 0.1) if len(ROUTES.get(svc, ())) == 3 else (0.7, 0.3, 0.0),
            strict=False,
        )
    )
    edges = tuple(Edge(*e) for e in EDGES.get(demo.tenant.id, ()) if e[0] in services or e[1] in services)
    return Traffic(routes, edges)


def seed_prometheus(demo: DemoTenant, now: datetime) -> int:
    rng = random.Random(f"{demo.tenant.id}-prom")
    profiles = [
        ServiceProfile(
            service,
            demo.requests_per_s * rng.uniform(0.4, 1.6),
            rng.uniform(0.0003, 0.004),
            rng.uniform(80, 450),
            rng.uniform(0.25, 0.75),
            random.Random(f"{demo.tenant.id}-{service}-memory").uniform(0.3, 0.93),
        )
        for _, service, _ in demo.repos
    ]
    if demo.tenant.id in FAKE_PROMETHEUS:
        FAKE_PROMETHEUS.pop(demo.tenant.id).stop()
    series = DemoSeries(profiles, demo_traffic(demo, random.Random(f"{demo.tenant.id}-traffic")))
    fake = FAKE_PROMETHEUS[demo.tenant.id] = FakePrometheus(series).start()
    config = demo_prometheus_config(
        fake.url, "micrometer" if demo.tenant.id == "globex" else "prometheus_client"
    )
    prometheus.save_config(demo.tenant.id, config)  # the deep links: demo_integrations (admin API)
    return int(prometheus.pull_tenant(demo.tenant.id, config, now=now)["signals"])
