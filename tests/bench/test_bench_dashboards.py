"""Dashboard read latency and DynamoDB requests per view, in-process against embedded AWS (moto).

Two tenants hold the same signals (SLO windows for 12 services, findings, OPA decisions, OKRs,
analytics, flags, NPS) refreshed into snapshots with the panel rows; one keeps 10x the snapshot
history of the other (end-of-day items of every period). Every persona's dashboard is requested N
times through the read_api Lambda handler (an API Gateway proxy event with the authorizer's claims,
as infra/local sends it), alternating the two tenants so machine noise hits both alike.

Reported: p50/p95 per persona and tenant, the snapshot item size, and the DynamoDB requests of each
view (pynamodb `Connection.dispatch` counted, as tests/integration/test_dashboards_* do) and which
operations they are. Judged by p95(10x history)/p95(baseline) ≤ 1.5 — a dashboard is one GetItem of
the LATEST snapshot (plus one Query of the pauses in force), so the history must not show — and by
the most DynamoDB requests of any view ≤ 2, never a Scan.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.conftest import make_tenant
from tests.integration.test_dashboards_personas import dynamodb_calls

pytestmark = pytest.mark.bench

N = 60  # requests per persona and tenant
HISTORY_DAYS = 10  # baseline end-of-day snapshot items per period (the large tenant keeps 10x)
PERSONAS = ("ceo", "cto", "ciso", "ops", "product")
NOW = clock.now().replace(microsecond=0)
DAY = timedelta(days=1)


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed_signals(tenant_id: str) -> None:
    from companyos.adapters.repos import FindingState, SignalStore, StateWrite, StoredSignal

    store = SignalStore(tenant_id)
    n = 0

    def sig(kind: str, source: str, at: datetime, entity: str | None = None, **attrs: Any) -> StoredSignal:
        nonlocal n
        n += 1
        return StoredSignal(kind, source, f"{kind}-{n}", at, entity, entity, f"{source}-{kind}", attrs)

    def put(signals: list[StoredSignal], states: list[StateWrite] | None = None) -> None:
        by: dict[tuple[str, str], list[StoredSignal]] = {}
        for s in signals:
            by.setdefault((s.source, s.delivery_id), []).append(s)
        for (source, delivery), rows in by.items():
            assert store.put_delivery_chunked(source, delivery, rows, 30, states or [])

    slos = []
    for i in range(12):
        svc = f"svc-{i:02d}"
        for d in range(1, 15):
            at = (NOW - d * DAY).replace(hour=0, minute=0, second=0)
            total = 100_000.0
            good = total - 10 * (i + 1)
            for metric, value in (("slo_good", good), ("slo_total", total)):
                slos.append(
                    sig(
                        "slo_window",
                        "prometheus",
                        at,
                        svc,
                        metric=metric,
                        value=value,
                        step_s=86400,
                        window="1d",
                    )
                )
    put(slos)
    states = [
        FindingState(
            "trivy",
            f"repo-{i % 5}",
            f"k{i}",
            "vulnerability",
            "open",
            NOW - i * DAY,
            NOW - i * DAY,
            "r",
            attributes={"severity": ("critical", "high", "medium", "low")[i % 4]},
        )
        for i in range(20)
    ]
    vulns = [
        sig("vulnerability", "trivy", NOW - i * DAY, "repo", severity="high", transition="opened")
        for i in range(40)
    ]
    put(vulns, [StateWrite(s, None) for s in states])
    other = [
        sig(
            "authz_decision",
            "opa",
            NOW - timedelta(hours=h),
            "app",
            app=f"app{h % 4}",
            path="p",
            result="deny",
        )
        for h in range(30)
    ]
    other += [
        sig("secret_finding", "gitleaks", NOW - i * DAY, "repo", rule="key", transition="opened")
        for i in range(5)
    ]
    other += [
        sig(
            "okr_progress", "okr", NOW - DAY, f"kr{i}", key_result_id=f"kr{i}", objective_id="o", progress=0.5
        )
        for i in range(8)
    ]
    other += [sig("product_session", "analytics", NOW - DAY, user_id=f"u{i}") for i in range(60)]
    other += [sig("product_active", "analytics", NOW - DAY, user_id=f"u{i}") for i in range(45)]
    other += [
        sig("feature_used", "analytics", NOW - DAY, user_id=f"u{i}", feature=f"f{i % 10}") for i in range(30)
    ]
    other += [
        sig("flag_evaluation", "feature_flags", NOW - DAY, flag=f"f{i % 10}", is_default=False)
        for i in range(100)
    ]
    other += [sig("nps_response", "nps", NOW - DAY, score=i % 11) for i in range(30)]
    put(other)


def seed_tenant(local: Running, tenant_id: str, history_days: int) -> dict[str, dict[str, str]]:
    from companyos.adapters.repos import Catalog, ScoreStore
    from companyos.views import snapshots

    make_tenant(local, tenant_id, tenant_id)
    seed_signals(tenant_id)
    tenant = Catalog().get_tenant(tenant_id)
    snaps = snapshots.build_snapshots(tenant, NOW)
    scores = ScoreStore(tenant_id)
    for d in range(history_days, 0, -1):  # end-of-day history (each write also moves LATEST)
        for period, data in snaps.items():
            scores.put_snapshot(period, data, NOW - d * DAY)
    snapshots.refresh(tenant, NOW)
    return {
        role: local.idp.claims("Bearer " + local.client.login(f"{role}@{tenant_id}.test"))
        for role in ("cto", "head_product")
    }


def snapshot_kb(tenant_id: str) -> float:
    """Size of the LATEST 28d snapshot item's data (what one dashboard GetItem reads)."""
    from companyos.adapters.repos import ScoreStore

    latest = ScoreStore(tenant_id).latest("28d")
    assert latest is not None, f"{tenant_id} has no 28d snapshot"
    return round(len(json.dumps(latest[0], default=str)) / 1024, 1)


def event(tenant_id: str, persona: str, claims: dict[str, str]) -> dict[str, Any]:
    from infra.local.http import proxy_event

    path = f"/api/dashboards/{persona}"
    return proxy_event("GET", path, f"tenant={tenant_id}&period=28d", {}, b"", claims)


def test_bench_dashboard_latency_and_requests_per_view(local, bench_report):
    tenants = {"base": "benchbase", "hist10x": "benchhist"}
    claims = {
        "base": seed_tenant(local, tenants["base"], HISTORY_DAYS),
        "hist10x": seed_tenant(local, tenants["hist10x"], 10 * HISTORY_DAYS),
    }
    invoke = local.stack.invoke
    figures: dict[str, float | int | str] = {"requests_per_persona": N, "history_days_base": HISTORY_DAYS}
    figures.update({f"snapshot_kb_{k}": snapshot_kb(t) for k, t in tenants.items()})
    samples: dict[str, list[float]] = {"base": [], "hist10x": []}
    most_requests = 0
    for persona in PERSONAS:
        role = "head_product" if persona == "product" else "cto"
        events = {k: event(tenants[k], persona, claims[k][role]) for k in tenants}
        per: dict[str, list[float]] = {"base": [], "hist10x": []}
        for k, ev in events.items():  # warm-up, and the DynamoDB requests of one view
            with dynamodb_calls(tenants[k]) as calls:
                reply = invoke("read_api", ev)
            assert reply["statusCode"] == 200, reply
            body = json.loads(reply["body"])
            assert body["snapshot"]["has_panel_rows"]
            figures[f"{persona}_dynamodb_requests_{k}"] = len(calls)
            assert "Scan" not in calls, calls
            figures[f"{persona}_dynamodb_operations_{k}"] = "+".join(calls)
            most_requests = max(most_requests, len(calls))
            figures[f"{persona}_response_kb"] = round(len(reply["body"]) / 1024, 1)
        for _ in range(N):
            for k, ev in events.items():
                start = time.perf_counter()
                invoke("read_api", ev)
                per[k].append(time.perf_counter() - start)
        for k in tenants:
            figures[f"{persona}_p50_ms_{k}"] = round(1000 * statistics.median(per[k]), 2)
            figures[f"{persona}_p95_ms_{k}"] = round(1000 * p(per[k], 0.95), 2)
            samples[k] += per[k]
    base95, big95 = p(samples["base"], 0.95), p(samples["hist10x"], 0.95)
    figures.update(p95_ms_base=round(1000 * base95, 2), p95_ms_hist10x=round(1000 * big95, 2))
    figures["max_dynamodb_requests_per_view"] = most_requests

    requests = bench_report.record(
        "dashboard_dynamodb_requests",
        figures={"max_per_view": most_requests, "views": 2 * len(PERSONAS)},
        ratio=("max DynamoDB requests per dashboard view", float(most_requests), 2.0),
    )
    latency = bench_report.record(
        "dashboard_latency",
        figures=figures,
        ratio=("p95(10x snapshot history)/p95(baseline)", big95 / base95, 1.5),
    )
    assert requests is not None and requests.ok, requests
    assert latency is not None and latency.ok, latency
