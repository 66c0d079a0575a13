"""Demo Prometheus: a fake Prometheus per tenant (`fake_prometheus`, the real response format, kept
running for later pulls) serving the tenant's services, and the tenant's pull configuration — the
queries the SLO, latency, capacity and API-volume KPIs read — pulled once through the real connector."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from companyos.sources import prometheus

from infra.local import demo_product
from infra.local.fake_prometheus import DemoSeries, FakePrometheus, ServiceProfile

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


def demo_prometheus_config(base_url: str) -> prometheus.PrometheusConfig:
    return prometheus.PrometheusConfig(
        base_url=base_url,
        queries=tuple(
            prometheus.PromQuerySpec(id=i, metric=m, kind=k, promql=q, step_s=step, lookback_steps=lb)
            for i, m, k, q, step, lb in DEMO_QUERIES
        ),
    )


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
    fake = FAKE_PROMETHEUS[demo.tenant.id] = FakePrometheus(DemoSeries(profiles)).start()
    config = demo_prometheus_config(fake.url)
    prometheus.save_config(demo.tenant.id, config)
    return int(prometheus.pull_tenant(demo.tenant.id, config, now=now)["signals"])
