"""Prometheus-fed KPIs end to end: a Prometheus HTTP API (answering in its own JSON format) → the pull
connector → slo_window / prom_sample signals → the kpi_run state machine (the built-in
slo-contracts-v1 pack) → score refresh → the CTO's SLO table and burn panel headed by their KPI
runs, the Ops capacity bars, and the per-service SLO drill-down with its multiwindow alerts.

Given two services — api meets 99.9% (0.05% errors a day, no errors today), web burns its budget
(0.4% errors) — and their CPU/memory usage over limits, the numbers below are the arithmetic of
those counts."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from companyos.domain import clock
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import PrometheusConfig, PromQuerySpec

from infra.local.fake_prometheus import FakePrometheus, error, success
from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_dashboards_personas import dynamodb_calls

TENANT = "sloco"
NOW = clock.now().replace(minute=0, second=0, microsecond=0)
Y12 = (NOW - timedelta(days=1)).replace(hour=12)  # "yesterday noon": the SLO pull's clock
_names = itertools.count()

# per-day windows (ending 00:00 of the three days before yesterday's end) and the last 6 hours
DAILY = {"api": (99950, 100000), "web": (99600, 100000)}
HOURLY = {"api": (1000, 1000), "web": (996, 1000)}
UTILISATION = {("api", "cpu"): 0.5, ("web", "cpu"): 0.7, ("api", "memory"): 0.6, ("web", "memory"): 0.95}

GOOD_1D = 'sum by (service) (increase(http_requests_total{code!~"5.."}[1d]))'
TOTAL_1D = "sum by (service) (increase(http_requests_total[1d]))"
GOOD_1H = 'sum by (service) (increase(http_requests_total{code!~"5.."}[1h]))'
TOTAL_1H = "sum by (service) (increase(http_requests_total[1h]))"
CPU = (
    'sum by (service) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
    ' / sum by (service) (kube_pod_container_resource_limits{resource="cpu"})'
)
MEMORY = (
    'sum by (service) (container_memory_working_set_bytes{container!=""})'
    ' / sum by (service) (kube_pod_container_resource_limits{resource="memory"})'
)
SERIES: dict[str, Callable[[str], float]] = {
    GOOD_1D: lambda s: DAILY[s][0],
    TOTAL_1D: lambda s: DAILY[s][1],
    GOOD_1H: lambda s: HOURLY[s][0],
    TOTAL_1H: lambda s: HOURLY[s][1],
    CPU: lambda s: UTILISATION[(s, "cpu")],
    MEMORY: lambda s: UTILISATION[(s, "memory")],
}


def answer(path: str, params: dict[str, str]) -> tuple[int, bytes, float]:
    """`/api/v1/query_range` as Prometheus answers it: a matrix, one series per service."""
    value = SERIES.get(params.get("query", ""))
    if path != "/api/v1/query_range" or value is None:
        return 400, error("bad_data", f"unexpected query {params.get('query')!r}"), 0.0
    start, end, step = int(float(params["start"])), int(float(params["end"])), int(params["step"][:-1])
    result = [
        {
            "metric": {"service": s, "namespace": "prod"},
            "values": [[t, str(value(s))] for t in range(start, end + 1, step)],
        }
        for s in ("api", "web")
    ]
    return 200, success("matrix", result), 0.0


def pull(url: str, now: datetime, *queries: tuple[str, str, str, str, int, int]) -> dict[str, Any]:
    """One pull of (id, metric, kind, PromQL, step, lookback) queries through the connector."""
    specs = tuple(
        PromQuerySpec.model_validate(
            dict(zip(("id", "metric", "kind", "promql", "step_s", "lookback_steps"), q, strict=True))
        )
        for q in queries
    )
    return prom.pull_tenant(TENANT, PrometheusConfig(base_url=url, lag_s=0, queries=specs), now=now)


def run(local: Running, kpi_ids: list[str], as_of: datetime) -> dict[str, Any]:
    return run_kpis(local, TENANT, kpi_ids, as_of, f"slo-{next(_names)}")


@pytest.fixture(scope="module")
def sloco(local: Running) -> Iterator[tuple[TenantFixture, str]]:
    from companyos.adapters.repos import Catalog

    tenant = make_tenant(local, TENANT, "SLO Co")
    catalog = Catalog()
    for service in ("api", "web"):
        catalog.tenant(TENANT).map_source_entity("prometheus", service, service, "Core")
    catalog.put_member(TENANT, f"ops@{TENANT}.test", "head_ops", "ops")
    local.idp.add_user(f"ops@{TENANT}.test", "ops of SLO Co", {TENANT: "head_ops"})
    fake = FakePrometheus(answer).start()
    try:
        slo_pull = pull(
            fake.url,
            Y12,
            ("slo_good_1d", "slo_good", "slo_window", GOOD_1D, 86400, 3),
            ("slo_total_1d", "slo_total", "slo_window", TOTAL_1D, 86400, 3),
            ("slo_good_1h", "slo_good", "slo_window", GOOD_1H, 3600, 6),
            ("slo_total_1h", "slo_total", "slo_window", TOTAL_1H, 3600, 6),
        )
        use_pull = pull(
            fake.url,
            NOW,
            ("cpu_utilisation", "cpu_utilisation", "prom_sample", CPU, 3600, 3),
            ("memory_utilisation", "memory_utilisation", "prom_sample", MEMORY, 3600, 3),
        )
    finally:
        fake.stop()
    assert slo_pull["signals"] == 36 and use_pull["signals"] == 12, (slo_pull, use_pull)
    assert slo_pull["unmapped"] == [] and all(x["status"] == "ok" for x in slo_pull["queries"])
    out = run(local, ["slo_attainment", "error_budget_burn_rate"], Y12)
    assert out["runs"]["success"] == 2, out
    out = run(local, ["infra_utilization"], NOW)
    assert out["runs"]["success"] == 1, out
    yield tenant, local.client.login(f"ops@{TENANT}.test")


def delivered(kpi_id: str) -> dict[str, Any]:
    from companyos.adapters.repos import RunLog
    from companyos.runs.steps import latest_delivered

    found = latest_delivered(TENANT, kpi_id)
    assert found is not None, kpi_id
    return {**found, "delivery": RunLog(TENANT).row(found["run_id"], "DELIVERY")}


def band(kpi_id: str, value: float) -> str:
    """The status the score refresh gives a KPI value (the health model's normalisation)."""
    from companyos.domain import kpis, normalise, scoring

    return scoring.band(normalise.normalise(kpis.load_dictionary().get(kpi_id), value)).value


# service-days over the 7 days to yesterday: api 3 x 99.95% + 100% (yesterday's hours),
# web 3 x 99.6% + 99.6%; requests: 2 x (3 x 100000 + 6 x 1000) = 612000, of which 1374 bad
ATTAINMENT = 100 * (3 * 0.9995 + 1.0 + 4 * 0.996) / 8  # 99.78125
BURN = 1374 / 612000 / 0.001  # 2.245x


def test_the_runs_deliver_slo_attainment_and_burn_from_the_pulled_windows(sloco):
    att, burn = delivered("slo_attainment"), delivered("error_budget_burn_rate")
    assert att["values"]["7d"] == pytest.approx(ATTAINMENT) and att["values"]["7d"] == pytest.approx(99.78125)
    assert burn["values"]["7d"] == pytest.approx(BURN)
    # the one verdict model: 99.78 % under the 99.9 % target: 40 + 40 * 0.28 / 0.4 = 68 (Attention);
    # 2.245x burn: 40 + 40 * (6 - 2.245) / 5 = 70 (Attention) — above 1x is never Healthy
    assert att["delivery"]["verdict"] == "Attention" and burn["delivery"]["verdict"] == "Attention"
    assert att["delivery"]["sources"] == [
        {"type": "signal", "object": "prometheus.slo_window", "count": 36, "latest_at": Y12.isoformat()}
    ]
    # the 1-day point of yesterday: api's hours 100%, web's 99.6%
    yesterday = att["delivery"]["values"]["7d"]["series"][-1]
    assert yesterday["t"] == Y12.date().isoformat() and yesterday["v"] == pytest.approx(99.8)


def test_the_run_delivers_infra_utilization_from_usage_over_limits(sloco):
    util = delivered("infra_utilization")
    assert util["values"]["7d"] == pytest.approx(100 * (0.5 + 0.7 + 0.6 + 0.95) / 4)  # 68.75%
    # 68.75 %: past the 60 % target towards the 70 % stretch: 80 + 10 * 8.75 / 10 = 88.75 (Healthy)
    assert util["delivery"]["verdict"] == "Healthy"
    sources = {s["object"]: s["count"] for s in util["delivery"]["sources"]}
    # this test pulls hourly samples only: no daily means (prom_daily) yet, the raw samples count
    assert sources == {"prometheus.prom_daily": 0, "prometheus.prom_sample": 12}


def test_the_cto_slo_and_burn_panels_are_headed_by_their_kpi_runs_within_two_requests(local, sloco):
    tenant, _ = sloco
    with dynamodb_calls(TENANT) as calls:
        resp = local.client.request(
            "GET", f"/api/dashboards/cto?tenant={TENANT}&period=7d", token=tenant.cto_token
        )
    assert resp.status == 200 and len(calls) <= 2 and "Scan" not in calls
    panels = {p["id"]: p for p in resp.body["panels"]}
    slo_panel, burn_panel = panels["slo"], panels["burn"]
    head = slo_panel["summary"]
    assert head["kpi_id"] == "slo_attainment" and head["value"] == pytest.approx(ATTAINMENT)
    assert head["display"] == "99.78%" and head["status"] == band("slo_attainment", ATTAINMENT)
    assert head["evidence"]["run_id"] == delivered("slo_attainment")["run_id"]
    assert "1 of 2 services meet the 99.9% objective" in head["detail"]
    rows = {i["id"]: i for i in slo_panel["items"]}
    assert (rows["api"]["good"], rows["api"]["total"]) == (305850, 306000)
    assert rows["web"]["cells"]["actual"] == "99.600%" and rows["web"]["status"] == "critical"
    assert burn_panel["summary"]["kpi_id"] == "error_budget_burn_rate"
    assert burn_panel["summary"]["value"] == pytest.approx(BURN)
    assert burn_panel["summary"]["evidence"]["run_id"] == delivered("error_budget_burn_rate")["run_id"]
    bars = {i["id"]: i for i in burn_panel["items"]}
    assert bars["web"]["value"] == pytest.approx(4.0) and [p["v"] for p in bars["web"]["series"]] == [4.0] * 4


def test_the_ops_capacity_panel_shows_utilisation_per_service_and_resource(local, sloco):
    _, ops_token = sloco
    with dynamodb_calls(TENANT) as calls:
        resp = local.client.request("GET", f"/api/dashboards/ops?tenant={TENANT}&period=7d", token=ops_token)
    assert resp.status == 200 and len(calls) <= 2 and "Scan" not in calls
    panels = {p["id"]: p for p in resp.body["panels"]}
    cap = panels["capacity"]
    assert cap["kind"] == "bars"
    bars = {i["id"]: i for i in cap["items"]}
    assert list(bars) == ["web:memory_utilisation", "web:cpu_utilisation", "api:memory_utilisation",
                          "api:cpu_utilisation"]  # fmt: skip
    assert bars["web:memory_utilisation"]["display"] == "95%"
    assert (
        bars["web:memory_utilisation"]["status"] == "critical"
        and "saturated" in bars["web:memory_utilisation"]["reason"]
    )
    assert bars["api:cpu_utilisation"]["value"] == 50.0 and bars["api:cpu_utilisation"]["status"] == "healthy"
    assert bars["web:cpu_utilisation"]["series"] and bars["api:cpu_utilisation"]["drill"] == {
        "kind": "service",
        "id": "api",
    }
    ev = bars["api:cpu_utilisation"]["evidence"]["sources"][0]
    assert ev["object"] == "prometheus.prom_sample" and ev["count"] == 3
    assert cap["summary"]["kpi_id"] == "infra_utilization" and cap["summary"]["value"] == pytest.approx(68.75)
    assert cap["summary"]["evidence"]["run_id"] == delivered("infra_utilization")["run_id"]
    tiles = {t["id"]: t for t in panels["operations"]["items"]}
    assert tiles["error_budget_burn_rate"]["value"] == pytest.approx(BURN)
    assert (
        tiles["infra_utilization"]["display"] != "Unknown"
        and tiles["infra_utilization"]["evidence"]["run_id"]
    )


def test_the_service_drill_down_has_its_slo_windows_and_burn_alerts(local, sloco):
    tenant, _ = sloco
    resp = local.client.request(
        "GET", f"/api/drill/service/web?tenant={TENANT}&period=7d", token=tenant.cto_token
    )
    assert resp.status == 200
    slo_ = resp.body["slo"]
    assert slo_["available"] and (slo_["good"], slo_["total"]) == (304776, 306000)
    assert slo_["attainment"] == pytest.approx(100 * 304776 / 306000) and slo_["burn_rate"] == pytest.approx(
        4.0
    )
    assert [d["burn_rate"] for d in slo_["days"]] == pytest.approx([4.0] * 4)
    windows = {w["window"]: w for w in slo_["burn_windows"]}
    assert windows["1h"]["burn_rate"] == pytest.approx(4.0) and windows["1h"]["to"] == Y12.isoformat()
    assert windows["6h"]["total"] == 6000 and windows["3d"]["total"] == 300000
    assert windows["5m"]["burn_rate"] is None and "5m" in windows["5m"]["reason"]
    # burning 4x over 1d/2h and 3d/6h: both workbook tickets (28-day factors 2.8x and 0.93x); the
    # pages need 5m/30m windows
    assert slo_["slo_period_days"] == 28 and slo_["burn_factors"]["1d/2h"] == pytest.approx(2.8)
    assert [(a["severity"], a["rule"]["long_window"]) for a in slo_["alerts"]] == [
        ("ticket", "1d"), ("ticket", "3d")
    ]  # fmt: skip
    assert slo_["alerts_not_evaluated"] == ["page 1h/5m", "page 6h/30m"]
    api = local.client.request(
        "GET", f"/api/drill/service/api?tenant={TENANT}&period=7d", token=tenant.cto_token
    )
    assert api.body["slo"]["alerts"] == [] and api.body["slo"]["burn_rate"] == pytest.approx(
        0.5 * 300000 / 306000
    )
