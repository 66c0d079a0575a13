"""The demo's fake Prometheus serves endpoint histograms and service-graph counters for both demo
tenants, pulled through the real connector: the slo_attainment run delivers their endpoint and edge
rows, which the KPI deep dive and the service map show (Northwind in the Prometheus client's shape
with a `route` label, Globex in Micrometer's `application` / `uri` shape)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from companyos.adapters.repos import SignalStore
from companyos.runs.rows import window_start
from companyos.runs.sourcing import latest_delivered


def drill(local: Any, tenant: str, email: str, path: str) -> dict[str, Any]:
    token = local.client.login(email)
    resp = local.client.request("GET", f"{path}?tenant={tenant}&period=28d", token=token)
    assert resp.status == 200, resp.body
    return dict(resp.body)


@pytest.mark.parametrize(
    ("tenant", "email"), [("northwind", "cto@northwind.demo"), ("globex", "cto@globex.demo")]
)
def test_the_demo_deep_dive_and_service_map_show_endpoints_and_edges(local, demo, tenant, email):
    run = latest_delivered(tenant, "slo_attainment")
    assert run is not None
    ep = drill(local, tenant, email, "/api/drill/kpi/slo_attainment")["endpoints"]
    assert ep["available"] is True and len(ep["items"]) >= 3, ep
    top = ep["items"][0]
    assert top["evidence"]["run_id"] == run["run_id"]
    assert top["request_rate_per_s"] > 0 and top["p95_s"] > 0 and top["p99_s"] >= top["p95_s"]
    # the row's requests are the sum of the endpoint_requests windows the run read for it
    as_of = datetime.fromisoformat(str(run["as_of"]))
    stored = SignalStore(tenant).query("slo_window", window_start(as_of, 28), as_of + timedelta(days=1))
    mine = [s for s in stored if s.attributes.get("metric") == "endpoint_requests"
            and s.attributes.get("route") == top["route"] and s.service == top["service"]
            and s.occurred_at <= as_of]  # fmt: skip
    assert mine and top["requests"] == sum(s.attributes["value"] for s in mine)
    edges = drill(local, tenant, email, "/api/drill/services")["edges"]
    assert edges["available"] is True and edges["items"], edges
    assert all(
        e["request_rate_per_s"] > 0 and e["evidence"]["run_id"] == run["run_id"] for e in edges["items"]
    )
    assert any(e["client"] == "user" for e in edges["items"])  # Tempo's virtual node for the callers
