"""Signal-fed panel rows (views/panels_data.py) from synthetic signals stored through `SignalStore`.

Given one tenant's SLO windows, vulnerability finding states, secret findings, OPA decisions, OKR
updates, product analytics, flag evaluations, NPS responses and a CUR 2.0 export, when the score
refresh builds the panel rows, then every row is the number folded from those signals with its
evidence (kind, count, newest), the dashboards serve them from one GetItem, and a tenant without
data gets each panel as `not_built` with the reason — never a made-up number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.test_dashboards_personas import dynamodb_calls

NOW = clock.now().replace(microsecond=0)
DAY = timedelta(days=1)


def sig(
    kind: str,
    source: str,
    at: datetime,
    n: int,
    entity: str | None = None,
    service: str | None = None,
    **attrs: Any,
) -> Any:
    from companyos.adapters.repos import StoredSignal

    return StoredSignal(kind, source, f"{kind}-{n}", at, entity, service, f"d-{kind}-{n}", attrs)


def store(tenant_id: str, source: str, signals: list[Any], states: Sequence[Any] = ()) -> None:
    from companyos.adapters.repos import SignalStore, StateWrite

    SignalStore(tenant_id).put_delivery_chunked(
        source, f"{source}-{len(signals)}-{len(states)}", signals, 30, [StateWrite(s, None) for s in states]
    )


def slo(n: int, service: str, at: datetime, metric: str, value: float, step: int = 86400) -> Any:
    window = "1d" if step == 86400 else "1h"
    return sig(
        "slo_window",
        "prometheus",
        at,
        n,
        service,
        service,
        metric=metric,
        value=value,
        step_s=step,
        window=window,
        query_id=f"{metric}_{window}",
    )


@pytest.fixture(scope="module")
def seeded(local: Running, tmp_path_factory: pytest.TempPathFactory) -> TenantFixture:
    from companyos.adapters import lake
    from companyos.adapters.repos import Catalog, FindingState
    from companyos.sources import cur
    from companyos.views import snapshots

    from infra.local.demo_cur import DemoAccount, write_demo_cur

    t = make_tenant(local, "panelco", "Panel Co")
    tid = t.id
    # SLOs: api meets 99.9% (0.05% errors), web burns 10x; an hourly api window of a day that api's
    # daily window covers must not be added in
    slos = []
    for d in range(1, 4):
        at = (NOW - d * DAY).replace(hour=0, minute=0, second=0)
        slos += [
            slo(len(slos), "api", at, "slo_good", 9995),
            slo(len(slos) + 1, "api", at, "slo_total", 10000),
        ]
        slos += [
            slo(len(slos), "web", at, "slo_good", 9900),
            slo(len(slos) + 1, "web", at, "slo_total", 10000),
        ]
    covered = (NOW - DAY).replace(hour=0, minute=0, second=0) - timedelta(hours=12)  # day NOW - 2d
    slos += [slo(100, "api", covered, "slo_good", 0, 3600)]
    slos += [slo(101, "api", covered, "slo_total", 500, 3600)]
    store(tid, "prometheus", slos)
    # vulnerabilities: a critical open 10 days (> 7-day SLA), a high open 5 days, a fixed medium
    states = [
        FindingState(
            "trivy",
            "repo-a",
            "k1",
            "vulnerability",
            "open",
            NOW - 10 * DAY,
            NOW - 10 * DAY,
            "r1",
            attributes={"severity": "critical", "vuln_id": "CVE-1"},
        ),
        FindingState(
            "trivy",
            "repo-a",
            "k2",
            "vulnerability",
            "open",
            NOW - 5 * DAY,
            NOW - 5 * DAY,
            "r2",
            attributes={"severity": "high", "vuln_id": "CVE-2"},
        ),
        FindingState(
            "snyk",
            "repo-b",
            "k3",
            "vulnerability",
            "fixed",
            NOW - 40 * DAY,
            NOW - 2 * DAY,
            "r3",
            fixed_at=NOW - 2 * DAY,
            attributes={"severity": "medium", "vuln_id": "CVE-3"},
        ),
    ]
    vulns = [
        sig("vulnerability", "trivy", NOW - 10 * DAY, 1, "repo-a", severity="critical", transition="opened"),
        sig("vulnerability", "trivy", NOW - 5 * DAY, 2, "repo-a", severity="high", transition="opened"),
    ]
    store(tid, "trivy", vulns, states)
    # security events: one secret detected 2 days ago; 3 denies on one app/path, 2 allows
    store(
        tid,
        "gitleaks",
        [
            sig(
                "secret_finding",
                "gitleaks",
                NOW - 2 * DAY,
                1,
                "repo-a",
                rule="aws-key",
                scope="repo-a",
                file="cfg.py",
                transition="opened",
            )
        ],
    )
    yesterday_noon = (NOW - DAY).replace(hour=12, minute=0, second=0)  # one UTC day at any hour
    authz = [
        sig(
            "authz_decision",
            "opa",
            yesterday_noon - timedelta(hours=h),
            h,
            "billing",
            app="billing",
            path="data/authz/allow",
            result="deny" if h < 3 else "allow",
            allowed=h >= 3,
        )
        for h in range(5)
    ]
    store(tid, "opa", authz)
    # OKRs: kr1 updated twice (the newest counts), kr2 once
    okr = [
        sig(
            "okr_progress",
            "okr",
            NOW - 20 * DAY,
            1,
            "kr1",
            objective_id="o1",
            objective="Grow",
            key_result_id="kr1",
            key_result="ARR",
            progress=0.2,
            period="2020",
            current_value=20,
            target_value=100,
        ),
        sig(
            "okr_progress",
            "okr",
            NOW - 1 * DAY,
            2,
            "kr1",
            objective_id="o1",
            objective="Grow",
            key_result_id="kr1",
            key_result="ARR",
            progress=0.6,
            period="2020",
            current_value=60,
            target_value=100,
        ),
        sig(
            "okr_progress",
            "okr",
            NOW - 2 * DAY,
            3,
            "kr2",
            objective_id="o1",
            objective="Grow",
            key_result_id="kr2",
            key_result="Churn",
            progress=1.0,
            period="2020",
            current_value=5,
            target_value=5,
        ),
    ]
    store(tid, "okr", okr)
    # product: sessions u1-u4, active u1-u3 (+u9 without a session), features by u1, u2
    events = [
        sig("product_session", "analytics", NOW - DAY, i, user_id=f"u{i}", duration_s=60) for i in range(1, 5)
    ]
    events += [sig("product_active", "analytics", NOW - DAY, i, user_id=f"u{i}") for i in (1, 2, 3, 9)]
    events += [
        sig("feature_used", "analytics", NOW - DAY, 1, user_id="u1", feature="search"),
        sig("feature_used", "analytics", NOW - DAY, 2, user_id="u2", feature="search"),
        sig("feature_used", "analytics", NOW - DAY, 3, user_id="u1", feature="export"),
    ]
    store(tid, "analytics", events)
    flags = [
        sig(
            "flag_evaluation",
            "feature_flags",
            NOW - DAY,
            i,
            "search",
            flag="search",
            is_default=i == 0,
            context_hash=f"c{i % 2}",
        )
        for i in range(4)
    ]
    store(tid, "feature_flags", flags)
    nps = [
        sig("nps_response", "nps", NOW - DAY, i, score=s, category=c)
        for i, (s, c) in enumerate([(10, "promoter"), (9, "promoter"), (8, "passive"), (3, "detractor")])
    ]
    store(tid, "nps", nps)
    # CUR 2.0: 40 days of demo line items for one account, in the tenant's lake
    folder = tmp_path_factory.mktemp("cur")
    start = (NOW - 40 * DAY).date()
    write_demo_cur(folder, [DemoAccount("111122223333", "prod", ("core",), 100.0)], start, 41)
    lake.register(f"cur_{tid}", lake.DuckDbLake({"cur2": cur.parquet_glob(folder)}))
    # the snapshot's KPI-backed panels are delivered with their KPI runs (runs/rows*.py): run them
    from tests.integration.conftest import run_kpis

    kpis = ["slo_attainment", "error_budget_burn_rate", "feature_adoption_rate", "nps_score"]
    run_kpis(local, tid, kpis, NOW, f"panels-{NOW:%H%M%S}")
    snapshots.refresh(Catalog().get_tenant(tid), NOW)
    return t


@pytest.fixture(scope="module")
def rows(seeded: TenantFixture) -> dict[str, dict[str, Any]]:
    from companyos.views import panels_data

    return panels_data.build(seeded.id, NOW)


def sources(entry: dict[str, Any]) -> dict[str, int]:
    return {s["object"]: s["count"] for s in entry["evidence"]["sources"]}


def test_slo_table_and_burn_from_prometheus_windows(rows):
    from companyos.domain import slo

    table, burn = rows["7d"]["slo"], rows["7d"]["burn"]
    assert table["available"] and table["objective"] == pytest.approx(0.999)
    api, web = (next(i for i in table["items"] if i["id"] == s) for s in ("api", "web"))
    # three daily windows each; the hourly api window (all errors) is not added to the daily sums
    assert (api["good"], api["total"]) == (3 * 9995, 3 * 10000)
    assert api["value"] == pytest.approx(99.95) and api["cells"]["actual"] == "99.950%"
    assert api["budget_left"] == pytest.approx(slo.error_budget_remaining(29985, 30000, 0.999))
    assert api["cells"]["budget_left"] == "50.0%" and api["status"] in ("healthy", "excellent")
    assert web["burn_rate"] == pytest.approx(10.0) and web["status"] == "critical"
    assert web["cells"]["budget_left"] == "-900.0%"
    assert sources(api) == {"prometheus.slo_window": 6}
    assert api["evidence"]["sources"][0]["latest_at"]
    bars = {i["id"]: i for i in burn["items"]}
    assert bars["api"]["value"] == pytest.approx(0.5) and bars["web"]["value"] == pytest.approx(10.0)
    assert bars["web"]["status"] == "critical" and len(bars["web"]["series"]) == 3
    assert all(p["v"] == pytest.approx(10.0) for p in bars["web"]["series"])


def test_vulnerability_summary_by_severity_with_sla_status(rows):
    v = rows["28d"]["vulns"]
    by = {i["id"]: i for i in v["items"]}
    assert list(by) == ["critical", "high", "medium", "low"]
    assert by["critical"]["open"] == 1 and by["critical"]["overdue"] == 1
    assert by["critical"]["sla_days"] == 7 and by["critical"]["sla_status"] == "breached"
    assert by["critical"]["status"] == "critical" and by["critical"]["oldest_age_days"] == pytest.approx(
        10, 0.01
    )
    assert by["high"]["open"] == 1 and by["high"]["overdue"] == 0 and by["high"]["status"] == "healthy"
    assert by["medium"]["open"] == 0  # the fixed finding is not open
    assert by["critical"]["new_in_period"] == 1 and by["high"]["new_in_period"] == 1
    assert sources(by["critical"]) == {"trivy.vulnerability": 1, "trivy.vulnerability (new)": 1}
    assert rows["7d"]["vulns"]["items"][0]["new_in_period"] == 0  # opened 10 days ago
    assert v["summary"] == "2 open vulnerabilities, 1 past their SLA"


def test_security_events_secrets_and_denied_decisions(rows):
    ev = rows["28d"]["security_events"]
    assert ev["secrets_detected"] == 1 and ev["denied_decisions"] == 3
    deny = next(i for i in ev["items"] if i["id"].startswith("deny:"))
    assert deny["count"] == 3 and sources(deny) == {"opa.authz_decision": 3}
    secret = next(i for i in ev["items"] if i["state"] == "open")
    assert secret["status"] == "critical" and "aws-key" in secret["title"]
    assert sources(ev) == {"gitleaks.secret_finding": 1, "opa.authz_decision": 3}


def test_cost_panels_wait_for_the_cost_kpi_run(rows):
    # A CUR export alone shows no number: cost comes from a delivered infra_cost_mtd run (its
    # evidence), which tests/integration/test_cost_contracts.py runs through the pipeline.
    for key in ("cost", "infra_cost"):
        assert rows["7d"][key]["available"] is False
        assert rows["7d"][key]["reason"].startswith("infra_cost_mtd (AWS CUR 2.0 cost): no KPI run")


def test_okr_progress_uses_the_newest_update_per_key_result(rows):
    okrs = {i["id"]: i for i in rows["7d"]["okrs"]["items"]}
    assert okrs["kr1"]["value"] == pytest.approx(60.0) and okrs["kr1"]["display"] == "60%"
    assert okrs["kr1"]["expected"] == 100.0 and okrs["kr1"]["status"] == "warning"  # 2020 is over
    assert okrs["kr2"]["status"] == "healthy" and sources(okrs["kr1"]) == {"okr.okr_progress": 2}


def test_feature_adoption_funnel_and_nps(rows):
    r = rows["7d"]
    feats = {i["id"]: i for i in r["features"]["items"]}
    # active users: u1, u2, u3, u4 (sessions), u9 → 5; search used by 2 of them
    assert r["features"]["active_users"] == 5
    assert feats["search"]["users"] == 2 and feats["search"]["value"] == pytest.approx(40.0)
    assert feats["search"]["flag_evaluations"] == 4 and feats["search"]["flag_non_default_share"] == 75.0
    assert feats["export"]["flag_evaluations"] == 0 and feats["export"]["cells"]["evaluations"] == "—"
    assert sources(feats["search"])["feature_flags.flag_evaluation"] == 4
    funnel = [(i["id"], i["value"]) for i in r["funnel"]["items"]]
    assert funnel == [("sessions", 4), ("active", 3), ("feature_used", 2)]  # u9 had no session
    nps = {i["id"]: i for i in r["nps"]["items"]}
    assert [nps[c]["value"] for c in ("detractor", "passive", "promoter")] == [1, 1, 2]
    assert nps["promoter"]["share"] == 50.0 and r["nps"]["nps"] == 25.0
    assert sources(nps["promoter"]) == {"nps.nps_response": 2}


def test_dashboards_serve_the_rows_from_the_snapshot_and_the_pauses(local, seeded):
    with dynamodb_calls("panelco") as calls:
        cto = local.client.request(
            "GET", "/api/dashboards/cto?tenant=panelco&period=7d", token=seeded.cto_token
        )
    assert cto.status == 200 and calls == ["GetItem", "Query"]  # snapshot + pauses in force
    panels = {p["id"]: p for p in cto.body["panels"]}
    assert panels["slo"]["kind"] == "table" and {i["id"] for i in panels["slo"]["items"]} == {"api", "web"}
    assert panels["burn"]["kind"] == "bars"
    with dynamodb_calls("panelco") as calls:
        product = local.client.request(
            "GET", "/api/dashboards/product?tenant=panelco&period=7d", token=seeded.product_token
        )
    assert product.status == 200 and calls == ["GetItem", "Query"]
    kinds = {p["id"]: p["kind"] for p in product.body["panels"]}
    assert kinds["features"] == "table" and kinds["funnel"] == "funnel" and kinds["nps"] == "distribution"
    for body in (cto.body, product.body):
        for p in body["panels"]:
            for item in p["items"]:
                if isinstance(item.get("value"), int | float):
                    assert item.get("evidence"), (p["id"], item["id"])


def test_a_tenant_without_these_sources_gets_the_reason(local):
    from companyos.views import panels_data

    make_tenant(local, "emptyco", "Empty Co")
    r = panels_data.build("emptyco", NOW)["28d"]
    keys = ("slo", "burn", "capacity", "vulns", "security_events", "cost", "okrs", "features", "funnel")
    for key in (*keys, "nps"):
        assert r[key]["available"] is False and r[key]["reason"], key
    assert "CUR" in r["cost"]["reason"] and "slo_window" in r["slo"]["reason"]


def test_snapshot_panels_are_the_rows_delivered_with_their_kpi_runs(local, seeded):
    # The refresh copies rows delivered with KPI runs: every SLO row and NPS bucket carries the run
    # that computed the KPI beside it, and the NPS panel agrees with the nps_score tile
    product = local.client.request(
        "GET", "/api/dashboards/product?tenant=panelco&period=7d", token=seeded.product_token
    ).body
    cto = local.client.request(
        "GET", "/api/dashboards/cto?tenant=panelco&period=7d", token=seeded.cto_token
    ).body
    panels = {p["id"]: p for p in cto["panels"]} | {p["id"]: p for p in product["panels"]}
    from companyos.adapters.repos import RunLog

    log = RunLog("panelco")
    slo_run = log.recent_runs("slo_attainment", limit=1)[0]["run_id"]
    nps_run = log.recent_runs("nps_score", limit=1)[0]["run_id"]
    assert {i["evidence"]["run_id"] for i in panels["slo"]["items"]} == {slo_run}
    assert all(i["evidence"]["type"] == "kpi_run" for i in panels["slo"]["items"])
    assert {i["evidence"]["run_id"] for i in panels["nps"]["items"]} == {nps_run}
    # 2 promoters, 1 passive, 1 detractor: NPS = 100 * (2 - 1) / 4 = +25, as the tile says
    counts = {i["id"]: i["value"] for i in panels["nps"]["items"]}
    assert counts == {"detractor": 1, "passive": 1, "promoter": 2}
    tiles = {t["id"]: t for t in panels["adoption"]["items"]}
    assert tiles["nps_score"]["value"] == pytest.approx(25.0)
    assert tiles["nps_score"]["evidence"]["run_id"] == nps_run
