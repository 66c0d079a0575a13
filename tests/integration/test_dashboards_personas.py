"""Persona dashboards and drill-downs against the seeded demo tenants (embedded AWS, real handlers).

Given the demo tenants seeded through ingest → KPI runs → score refresh,
when each persona's dashboard is read, then every panel of the seed's wireframe is there, every
number carries its evidence, Unknown is never coloured, and the read costs ≤ 2 DynamoDB requests.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running

PERSONAS = ("ceo", "cto", "ciso", "ops", "product")
KINDS = {
    "kpi_tiles",
    "score",
    "status",
    "table",
    "bars",
    "timeline",
    "dimensions",
    "list",
    "funnel",
    "distribution",
    "links",
    "not_built",
}
STATUSES = {"excellent", "healthy", "attention", "warning", "critical", "unknown"}


def get(local: Running, path: str, user: str = "platform@companyos.demo") -> Any:
    reply = local.client.request("GET", path, token=local.client.login(user))
    assert reply.status == 200, (path, reply.body)
    return reply.body


@contextlib.contextmanager
def dynamodb_calls(tenant: str) -> Iterator[list[str]]:
    """DynamoDB operations touching `tenant` (background runs of other tests touch other keys)."""
    """Every DynamoDB operation pynamodb sends (the only DynamoDB client of the read API)."""
    from pynamodb.connection.base import Connection

    calls: list[str] = []
    lock = threading.Lock()
    original = Connection.dispatch

    def counting(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
        if tenant in json.dumps(operation_kwargs, default=str):
            with lock:
                calls.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    Connection.dispatch = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        Connection.dispatch = original  # type: ignore[method-assign]


def numbers_have_evidence(panel: dict[str, Any]) -> list[str]:
    missing = []
    for item in panel["items"]:
        if isinstance(item.get("value"), int | float) and not item.get("evidence"):
            missing.append(f"{panel['id']}:{item.get('id')}")
    return missing


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_wireframe_panel_is_served_with_evidence_and_unknowns(local, demo, persona):
    from companyos.domain.layouts import LAYOUTS

    dash = get(local, f"/api/dashboards/{persona}?tenant=northwind&period=28d")

    assert [p["id"] for p in dash["panels"]] == [p.id for p in LAYOUTS[persona].panels]
    assert dash["snapshot"]["computed_at"] and dash["snapshot"]["has_panel_rows"]
    assert dash["snapshot"]["persona_staleness_s"] == LAYOUTS[persona].max_staleness_s
    for panel in dash["panels"]:
        assert panel["kind"] in KINDS, panel
        # #16: every panel of the wireframe has a source, and the demo's Northwind sends them all
        assert panel["kind"] != "not_built", panel
        for item in panel["items"]:
            if "status" in item:
                assert item["status"] in STATUSES, item
            if item.get("value") is None and "value" in item and panel["kind"] != "timeline":
                assert item["status"] == "unknown" and item.get("reason"), item  # never green
    assert [m for p in dash["panels"] for m in numbers_have_evidence(p)] == []


def test_delivered_kpis_show_value_delta_series_and_run_evidence(local, demo):
    dash = get(local, "/api/dashboards/cto?tenant=northwind&period=7d", "cto@northwind.demo")
    dora = next(p for p in dash["panels"] if p["id"] == "dora")
    freq = next(i for i in dora["items"] if i["kpi_id"] == "deployment_frequency")
    assert freq["value"] is not None and freq["status"] != "unknown" and freq["level"]
    assert freq["series"] and freq["delta"] is not None
    assert freq["delta"]["change"] == pytest.approx(freq["value"] - freq["delta"]["previous"])
    assert freq["evidence"]["run_id"] and freq["evidence"]["href"].startswith("/api/runs/")
    assert freq["drill"] == {"kind": "kpi", "id": "deployment_frequency"}


def test_panel_rows_come_from_the_ingested_signals(local, demo):
    dash = get(local, "/api/dashboards/ops?tenant=northwind&period=7d", "ops@northwind.demo")
    panels = {p["id"]: p for p in dash["panels"]}
    deploys = next(i for i in panels["ops_headline"]["items"] if i["id"] == "deploys_today")
    # delivered with the deployment_frequency run (its rows), from the signals that run read
    assert isinstance(deploys["value"], int) and deploys["evidence"]["type"] == "kpi_run"
    assert deploys["evidence"]["kpi_id"] == "deployment_frequency" and deploys["evidence"]["run_id"]
    assert deploys["evidence"]["sources"][0]["object"] == "github.deployment_status"
    services = {i["id"]: i for i in panels["service_map"]["items"]}
    assert set(services) == {"api", "web", "ingest", "gateway"}
    assert all("production deploys failed" in s["detail"] for s in services.values())
    # the demo's PagerDuty v3 events: recent incidents with their priority, state and evidence
    assert panels["incidents"]["kind"] == "timeline" and panels["incidents"]["items"]
    for inc in panels["incidents"]["items"]:
        assert inc["severity"] in ("P1", "P2", "P3")
        assert inc["state"] in ("triggered", "acknowledged", "resolved")
        assert inc["evidence"]["sources"][0]["object"] == "pagerduty.incident"
    active = next(i for i in panels["ops_headline"]["items"] if i["id"] == "active_incidents")
    assert isinstance(active["value"], int)
    assert active["evidence"]["sources"][0]["object"] == "pagerduty.incident"
    assert (active["status"] == "healthy") == (active["value"] == 0)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("period", ["7d", "365d"])
def test_a_dashboard_costs_at_most_two_dynamodb_requests_and_no_scan(local, demo, persona, period):
    token = local.client.login("platform@companyos.demo")
    with dynamodb_calls("northwind") as calls:
        reply = local.client.request(
            "GET", f"/api/dashboards/{persona}?tenant=northwind&period={period}", token=token
        )
    assert reply.status == 200
    assert len(calls) <= 2, calls
    assert "Scan" not in calls and calls == ["GetItem", "Query"]  # the snapshot + the pauses in force


def test_a_tenant_without_snapshot_costs_two_requests(local, umbrella):
    with dynamodb_calls("umbrella") as calls:
        reply = local.client.request("GET", "/api/dashboards/cto?tenant=umbrella", token=umbrella.cto_token)
    assert reply.status == 200 and calls == ["GetItem", "GetItem"]
    assert all(p["kind"] in ("not_built", "kpi_tiles", "links") or p["items"] for p in reply.body["panels"])


# ------------------------------------------------------------------------------ drill-downs


def test_score_breakdown_is_the_snapshot_tree_with_kpi_evidence(local, demo):
    body = get(local, "/api/scores/breakdown?tenant=northwind&period=7d", "ceo@northwind.demo")
    assert body["available"] is True and body["computed_at"]
    dims = body["breakdown"]["composite"]["dimensions"]
    assert [d["dimension"] for d in dims] == [
        "reliability",
        "security",
        "product",
        "financials",
        "efficiency",
    ]
    assert body["evidence"]["deployment_frequency"]["run_id"]
    run = get(local, body["evidence"]["deployment_frequency"]["href"], "ceo@northwind.demo")
    assert run["run"]["kpi_id"] == "deployment_frequency" and run["sourcing"]


def test_kpi_drill_goes_to_services_and_endpoints_come_with_the_slo_run(local, demo):
    body = get(local, "/api/drill/kpi/change_failure_rate?tenant=northwind&period=28d", "cto@northwind.demo")
    assert body["kpi"]["kpi_id"] == "change_failure_rate" and body["kpi"]["evidence"]["run_id"]
    services = {r["id"]: r for r in body["services"]["items"]}
    assert {"api", "web", "ingest", "gateway"} <= set(services)
    assert all(r["deploys"] >= r["failed"] >= 0 and r["evidence"]["href"] for r in services.values())
    assert body["endpoints"]["available"] is False and "Prometheus" in body["endpoints"]["reason"]
    svc = get(local, "/api/drill/service/api?tenant=northwind&period=28d", "cto@northwind.demo")
    assert svc["deployments"]["total"] == services["api"]["deploys"]
    # the service's endpoints: the rows the slo_attainment run delivered from the demo's Prometheus
    assert svc["endpoints"]["available"] and {r["service"] for r in svc["endpoints"]["items"]} == {"api"}
    # the demo pulls api's SLO windows from its (fake) Prometheus: the service's SLO and burn windows
    assert svc["slo"]["available"] and svc["slo"]["total"] > 0 and svc["slo"]["days"]
    assert {w["window"] for w in svc["slo"]["burn_windows"] if w["burn_rate"] is not None} >= {"1h", "1d"}


def test_change_correlation_reaches_a_deployment_and_its_commits_level(local, demo):
    changes = get(local, "/api/drill/changes?tenant=northwind&period=7d", "cto@northwind.demo")
    # the demo sends PagerDuty incidents: every deployment lists the incidents of the next 24 h
    assert changes["available"] and changes["items"] and changes["incidents_correlated"] is True
    assert all(isinstance(c["incidents_within_24h"], list) for c in changes["items"])
    assert changes["failed"] == sum(1 for c in changes["items"] if not c["succeeded"])
    # deploy -> incidents as the change_failure_rate run counts them (#14): the run's own pairs
    cfr = get(local, "/api/dashboards/cto?tenant=northwind&period=365d", "cto@northwind.demo")
    tile = next(
        i
        for p in cfr["panels"]
        if p["id"] == "dora"
        for i in p["items"]
        if i["kpi_id"] == "change_failure_rate"
    )
    run_links = tile["evidence"]["detail"]["links"]
    assert run_links and changes["links_evidence"]["run_id"] == tile["evidence"]["run_id"]
    shown = {(lk["deployment_id"], lk["by"]) for c in changes["items"] for lk in c["failed_change_links"]}
    listed = {c["id"] for c in changes["items"]}
    assert shown == {(lk["deployment_id"], lk["by"]) for lk in run_links if lk["deployment_id"] in listed}
    first = changes["items"][0]
    dep = get(local, f"/api/drill/deployments/{first['id']}?tenant=northwind", "cto@northwind.demo")
    assert dep["deployment"]["sha"] == first["sha"]
    # the demo pushes the commits behind its deployments: most deployments reach their commits
    with_commits = []
    for change in changes["items"][:10]:
        drill = get(local, f"/api/drill/deployments/{change['id']}?tenant=northwind", "cto@northwind.demo")
        if drill["commits"]["available"]:
            with_commits.append(drill)
        else:
            assert drill["commits"]["reason"]
    assert with_commits
    commit = with_commits[0]["commits"]["items"][0]
    # the code diff: GitHub's compare view of each push's before...after (the demo's pushes carry them)
    diff = with_commits[0]["diff"]
    repo = f"https://github.com/{with_commits[0]['deployment']['repository']}"
    assert diff["available"] and diff["items"]
    for push in diff["items"]:
        new_branch = push["before"] == "0" * 40
        want = (
            f"{repo}/commit/{push['after']}"
            if new_branch
            else f"{repo}/compare/{push['before']}...{push['after']}"
        )
        assert push["href"] == want and push["commits"] >= 1
    assert commit["sha"] and commit["author"] and commit["evidence"]["delivery_id"]


def test_incident_and_service_map_drills(local, demo):
    incidents = get(local, "/api/drill/incidents?tenant=northwind&period=28d", "ops@northwind.demo")
    assert incidents["available"] and incidents["items"]
    resolved = next(i for i in incidents["items"] if i["status"] == "resolved")
    one = get(local, f"/api/drill/incidents/{resolved['id']}?tenant=northwind", "ops@northwind.demo")
    transitions = [t["transition"] for t in one["timeline"]]
    # incident -> causing deploy from the change_failure_rate run's pairs (#14), with that run
    assert one["caused_by"]["available"] and one["caused_by"]["evidence"]["run_id"]
    assert all(lk["by"] == resolved["id"] and lk["cause"] == "incident" for lk in one["caused_by"]["items"])
    assert transitions[0] == "triggered" and transitions[-1] == "resolved"
    assert all(t["evidence"]["source"] == "pagerduty" for t in one["timeline"])
    assert one["incident"]["duration_s"] == pytest.approx(
        (
            datetime.fromisoformat(resolved["resolved_at"]) - datetime.fromisoformat(resolved["triggered_at"])
        ).total_seconds()
    )
    # Northwind's Tempo / Loki templates: links over the incident's window, never a stub
    assert one["traces"]["items"][0]["href"].startswith("https://grafana.northwind.example/explore")
    assert one["logs"]["items"][0]["system"] == "loki"
    services = get(local, "/api/drill/services?tenant=northwind", "ops@northwind.demo")
    assert {n["id"] for n in services["items"]} == {"api", "web", "ingest", "gateway"}
    edges = {e["id"] for e in services["edges"]["items"]}
    assert {"user->web", "web->gateway", "gateway->api", "api->ingest", "ingest->postgres"} == edges


@pytest.mark.parametrize(
    "path,code",
    [
        ("/api/drill/kpi/not_a_kpi?tenant=northwind", "kpi_not_found"),
        ("/api/drill/service/nope?tenant=northwind", "service_not_found"),
        ("/api/drill/incidents/PX123?tenant=northwind", "incident_not_found"),
        ("/api/drill/deployments/1?tenant=northwind", "deployment_not_found"),
    ],
)
def test_unknown_ids_are_404(local, demo, path, code):
    reply = local.client.request("GET", path, token=local.client.login("cto@northwind.demo"))
    assert reply.status == 404 and reply.body["code"] == code


def test_another_tenants_ids_are_not_found_in_your_scope(local, demo):
    """A globex CTO asking its own tenant for a northwind deployment or service gets 404."""
    changes = get(local, "/api/drill/changes?tenant=northwind&period=7d", "cto@northwind.demo")
    token = local.client.login("cto@globex.demo")
    dep = local.client.request(
        "GET", f"/api/drill/deployments/{changes['items'][0]['id']}?tenant=globex", token=token
    )
    assert dep.status == 404 and dep.body["code"] == "deployment_not_found"
    svc = local.client.request("GET", "/api/drill/service/api?tenant=globex", token=token)
    assert svc.status == 404 and svc.body["code"] == "service_not_found"


DRILLS = [
    "/api/scores/breakdown",
    "/api/drill/kpi/mttr",
    "/api/drill/service/api",
    "/api/drill/incidents",
    "/api/drill/incidents/X",
    "/api/drill/changes",
    "/api/drill/deployments/1",
    "/api/drill/services",
]


@pytest.mark.parametrize("path", DRILLS)
def test_every_drill_refuses_other_tenants_and_bad_periods(local, demo, path):
    token = local.client.login("cto@globex.demo")
    other = local.client.request("GET", f"{path}?tenant=northwind", token=token)
    assert other.status == 403 and other.body["code"] == "tenant_forbidden"
    assert local.client.request("GET", f"{path}?tenant=northwind").status == 401
    if "incidents/" not in path:
        bad = local.client.request("GET", f"{path}?tenant=globex&period=2d", token=token)
        assert bad.status == 422 and bad.body["code"] == "invalid_period"


@contextlib.contextmanager
def paused(tenant: str, kpi_id: str, reason: str, eta: str) -> Iterator[None]:
    """An admin's global pause of one KPI (as POST .../pause stores it), removed afterwards."""

    from companyos.admin.catalog import Pause, delete_pauses, new_pause_id, put_pause

    now = clock.now().isoformat()
    put_pause(tenant, Pause(new_pause_id(), kpi_id, "global", reason, "ops@northwind.demo", now, eta=eta))
    try:
        yield
    finally:
        delete_pauses(tenant, kpi_id)


def test_a_paused_kpi_carries_its_maintenance_badge_within_two_requests(local, demo):
    token = local.client.login("cto@northwind.demo")
    with paused("northwind", "deployment_frequency", "GitHub source migration", "2026-12-01T09:00Z"):
        with dynamodb_calls("northwind") as calls:
            dash = local.client.request("GET", "/api/dashboards/cto?tenant=northwind", token=token).body
        assert calls == ["GetItem", "Query"]
        assert dash["maintenance"] == [
            {
                "kpi_id": "deployment_frequency",
                "name": "Deployment Frequency",  # the banner names the KPI, not its id
                "reason": "GitHub source migration",
                "eta": "2026-12-01T09:00Z",
                "scope": "global",
                "entities": [],
            }
        ]
        items = [i for p in dash["panels"] for i in p["items"] if i.get("kpi_id") == "deployment_frequency"]
        assert items and all(i["maintenance"]["reason"] == "GitHub source migration" for i in items)
        others = [i for p in dash["panels"] for i in p["items"] if i.get("kpi_id") == "change_failure_rate"]
        assert others and not any("maintenance" in i for i in others)
    after = local.client.request("GET", "/api/dashboards/cto?tenant=northwind", token=token).body
    assert after["maintenance"] == []


def test_a_findings_kpi_drills_to_the_open_findings_per_service(local, demo):
    """critical_cve_age reads scanner findings, not signals: its deep dive lists per service the open
    findings, and they add up to what the CISO's vulnerability summary (the run's rows) shows."""
    body = get(local, "/api/drill/kpi/critical_cve_age?tenant=northwind&period=7d", "ciso@northwind.demo")
    services = body["services"]
    assert services["available"] and services["kind"] == "findings", services
    ciso = get(local, "/api/dashboards/ciso?tenant=northwind&period=7d", "ciso@northwind.demo")
    vulns = {i["severity"]: i for i in next(p for p in ciso["panels"] if p["id"] == "vulns")["items"]}
    assert sum(r["open"] for r in services["items"]) == sum(v["open"] for v in vulns.values())
    assert sum(r["open_critical"] for r in services["items"]) == vulns["critical"]["open"]
    assert all(r["evidence"]["href"].startswith("/api/drill/service/") for r in services["items"])
