"""The executive roll-up through the local stack: who may see it, what is in scope, where the numbers
come from, how many DynamoDB requests it costs, and the inventory API behind three of its domains."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.rollup_helpers import add_tenant, bulk_tenants, get, post, user

PREFIX = "ru"  # tenant ids of this module (other modules never use them)


@pytest.fixture(scope="module")
def platform_token(local: Running, demo: dict[str, Any]) -> str:
    return local.client.login("platform@companyos.demo")


@pytest.fixture(scope="module")
def acme(local: Running, demo: dict[str, Any]) -> dict[str, str]:
    """A tenant with an admin, a CTO and a platform admin (who also holds the two demo tenants)."""
    add_tenant(f"{PREFIX}-acme", "RU Acme")
    add_tenant(f"{PREFIX}-dormant", "RU Dormant", active=False)
    return {
        "admin": user(local, f"admin@{PREFIX}-acme.test", {f"{PREFIX}-acme": "tenant_admin"}),
        "cto": user(local, f"cto@{PREFIX}-acme.test", {f"{PREFIX}-acme": "cto"}),
        "platform": user(
            local,
            f"platform@{PREFIX}.test",
            {
                f"{PREFIX}-acme": "platform_admin",
                f"{PREFIX}-dormant": "platform_admin",
                "northwind": "platform_admin",
                "globex": "platform_admin",
            },
        ),
    }


# ------------------------------------------------------------------ who may see it


@pytest.mark.parametrize(
    "username", ["cto@northwind.demo", "admin@globex.demo", "ceo@northwind.demo", "auditor@globex.demo"]
)
def test_non_platform_admins_get_403_platform_admin_required(local, demo, username):
    token = local.client.login(username)

    reply = get(local, "/api/platform/executive", token)

    assert reply.status == 403
    assert reply.body["code"] == "platform_admin_required"


def test_no_token_is_401(local, demo):
    assert local.client.request("GET", "/api/platform/executive").status == 401


def test_unknown_period_is_422_with_code(local, platform_token):
    reply = get(local, "/api/platform/executive?period=13d", platform_token)
    assert reply.status == 422 and reply.body["code"] == "invalid_period"
    today = clock.now().date()
    start, future = (today - timedelta(days=10)).isoformat(), (today + timedelta(days=3)).isoformat()
    reply = get(local, f"/api/platform/executive?start={start}&end={future}", platform_token)
    assert reply.status == 422 and reply.body["code"] == "invalid_period"


# ------------------------------------------------------------------ scope, snapshots, audit


def test_platform_admin_sees_six_domains_for_the_demo_tenants_from_their_snapshots(local, platform_token):
    from companyos.adapters.repos import ScoreStore

    reply = get(local, "/api/platform/executive?period=28d", platform_token)

    assert reply.status == 200, reply.body
    doc = reply.body
    assert doc["scope"]["tenants"] == ["globex", "northwind"]
    assert [d["id"] for d in doc["domains"]] == [
        "dora",
        "incidents",
        "slos",
        "compliance",
        "certificates",
        "vendors",
    ]
    dora = next(d for d in doc["domains"] if d["id"] == "dora")
    latest = ScoreStore("northwind").latest("28d")
    assert latest is not None
    snapshot, computed_at = latest
    card = next(c for c in dora["tenants"] if c["tenant"]["id"] == "northwind")
    df = card["metrics"]["deployment_frequency"]
    assert df["value"] == snapshot["kpis"]["deployment_frequency"]["value"] is not None
    assert df["previous"] == snapshot["kpis"]["deployment_frequency"]["previous"]
    assert card["snapshot"]["computed_at"] == computed_at.isoformat()
    assert card["href"] == "/#/northwind/cto?period=28d"
    assert len(df["series"]) == 28
    # the org deploy frequency is the tenants' mean (the KPI's target is a tenant's)
    org_df = next(m for m in dora["metrics"] if m["id"] == "deployment_frequency")
    values = [v for c in dora["tenants"] if (v := c["metrics"]["deployment_frequency"]["value"]) is not None]
    assert org_df["value"] == pytest.approx(sum(values) / len(values), abs=1e-3)
    # a card's KPI band is the one its snapshot was judged with (the tenant's dashboard's)
    assert df["status"] == snapshot["kpis"]["deployment_frequency"]["status"]
    # SLOs: objectives in budget, counted from the snapshot's per-service rows (budget left > 0)
    slos = next(d for d in doc["domains"] if d["id"] == "slos")
    slo_card = next(c for c in slos["tenants"] if c["tenant"]["id"] == "northwind")
    rows = [r for r in snapshot["panels"]["slo"]["items"] if r["budget_left"] is not None]
    inside = [r for r in rows if r["budget_left"] > 0]
    assert rows, "the demo seeds Prometheus SLO windows for Northwind"
    assert slo_card["display"] == f"{len(inside)} of {len(rows)} in budget"
    assert slo_card["value"] == pytest.approx(100 * len(inside) / len(rows), abs=0.01)
    # in budget is never Healthy beside a spent budget: one spent budget makes it Critical
    assert len(inside) < len(rows), "the demo's Northwind overspends some error budgets"
    assert slo_card["headline_status"] == slo_card["status"] == "critical"
    assert {d["id"]: d["status"] for d in doc["domains"]}["slos"] == "critical"
    # open incidents and MTTA: the incident rows the mttr run delivered (the same snapshot's),
    # MTTA the median minutes to acknowledge, computed here from the delivered rows' durations
    incidents = next(d for d in doc["domains"] if d["id"] == "incidents")
    inc_card = next(c for c in incidents["tenants"] if c["tenant"]["id"] == "northwind")
    inc_rows = snapshot["panels"]["incidents"]
    assert inc_card["metrics"]["open"]["value"] == len(
        [i for i in inc_rows["items"] if i["status"] != "resolved"]
    )
    assert inc_card["metrics"]["open"]["run_id"] == inc_rows["evidence"]["run_id"]
    assert inc_card["metrics"]["mtta"]["value"] == inc_rows["mtta_min"] is not None
    # postmortem coverage: the share the same mttr run delivered with its incident rows (the demo
    # writes postmortems for most of Northwind's P1/P2 incidents, GitHub issues naming them)
    pm = inc_card["metrics"]["postmortem_coverage"]
    pms = inc_rows["postmortems"]
    assert pms["qualifying"] > 0 and pm["value"] == round(100 * pms["covered"] / pms["qualifying"], 1)
    assert pm["value"] == inc_rows["postmortem_pct"] and pm["run_id"] == inc_rows["evidence"]["run_id"]
    assert pm["status"] in ("healthy", "warning", "critical")
    for card in incidents["tenants"]:  # both demo tenants have one: no Unknown tile on the page
        if card["tenant"]["id"] in ("northwind", "globex"):
            assert card["metrics"]["postmortem_coverage"]["value"] is not None


def test_every_rollup_is_audited_on_the_platform_chain_with_its_purpose(local, platform_token):
    from companyos.adapters.audit import AuditTrail

    reply = get(local, "/api/platform/executive?period=7d&purpose=weekly%20ops%20review", platform_token)

    assert reply.status == 200
    trail = AuditTrail("PLATFORM")
    record_id = reply.body["audit"]["record_id"]
    local.stack.seal_audit()
    [item] = [e for e in trail.entries() if e.event["record_id"] == record_id]  # sealed into the chain
    assert item.event["action"] == "platform:rollup"
    assert item.event["reason"] == "weekly ops review"
    assert item.event["actor"] == "platform@companyos.demo"
    assert item.event["details"]["tenants"] == ["globex", "northwind"]
    assert trail.verify().ok


def test_inactive_tenants_are_skipped_and_reported(local, acme):
    reply = get(local, "/api/platform/executive", acme["platform"])

    assert reply.status == 200
    scope = reply.body["scope"]
    assert f"{PREFIX}-dormant" not in scope["tenants"]
    assert {"id": f"{PREFIX}-dormant", "name": "RU Dormant", "reason": "inactive"} in scope["skipped"]
    assert f"{PREFIX}-acme" in scope["tenants"]


@pytest.fixture
def strict_residency(local: Running) -> Iterator[None]:
    import os

    from companyos.adapters.config import settings

    os.environ["STRICT_RESIDENCY"] = "true"
    settings.cache_clear()
    yield
    os.environ["STRICT_RESIDENCY"] = "false"
    settings.cache_clear()


def test_strict_residency_skips_tenants_outside_the_home_region_and_says_so(local, acme, strict_residency):
    reply = get(local, "/api/platform/executive", acme["platform"])

    assert reply.status == 200
    scope = reply.body["scope"]
    assert scope["strict_residency"] is True and scope["home_region"] == "us-east-1"
    assert "globex" not in scope["tenants"] and "northwind" in scope["tenants"]
    skipped = next(s for s in scope["skipped"] if s["id"] == "globex")
    assert skipped["reason"] == "residency" and skipped["home_region"] == "eu-west-1"


# ------------------------------------------------------------------ inventory API


def test_inventory_writes_need_admin_and_membership_and_are_validated(local, acme, platform_token):
    tenant = f"{PREFIX}-acme"
    cert = {"cert_id": "api", "common_name": "api.acme.test", "not_after": "2030-01-01T00:00:00Z"}

    assert post(local, f"/api/inventory/certificates?tenant={tenant}", cert, acme["cto"]).body["code"] == (
        "action_forbidden"
    )
    outsider = local.client.login("cto@northwind.demo")
    reply = post(local, f"/api/inventory/certificates?tenant={tenant}", cert, outsider)
    assert reply.status == 403 and reply.body["code"] == "tenant_forbidden"
    reply = post(
        local, f"/api/inventory/certificates?tenant={tenant}", {**cert, "not_after": "soon"}, acme["admin"]
    )
    assert reply.status == 422 and reply.body["code"] == "invalid_request"
    reply = post(
        local,
        f"/api/inventory/controls/SOC2/NOPE/evidence?tenant={tenant}",
        {"result": "pass", "collected_at": "2026-01-01T00:00:00Z", "source": "s3://x"},
        acme["admin"],
    )
    assert reply.status == 404 and reply.body["code"] == "control_not_found"
    reply = get(local, f"/api/inventory/controls?tenant={tenant}&framework=PCI", acme["cto"])
    assert reply.status == 422 and reply.body["code"] == "framework_unknown"


def test_inventory_feeds_compliance_certificates_and_vendors_of_the_rollup(local, acme):
    from companyos.adapters.audit import AuditTrail

    tenant, admin = f"{PREFIX}-acme", acme["admin"]
    now = clock.now()
    long_ago = (now - timedelta(days=120)).date().isoformat()
    for control_id in ("CC6.1", "CC7.2"):
        control = {
            "framework": "SOC2",
            "control_id": control_id,
            "title": control_id,
            "in_scope_since": long_ago,
        }
        assert post(local, f"/api/inventory/controls?tenant={tenant}", control, admin).status == 201
        evidence = {
            "result": "pass",
            "collected_at": (now - timedelta(days=40)).isoformat(),
            "source": "audit",
        }
        path = f"/api/inventory/controls/SOC2/{control_id}/evidence?tenant={tenant}"
        assert post(local, path, evidence, admin).status == 201
    # today CC7.2's newest evidence fails: the SOC2 pass rate drops from 100 to 50 within the period
    failing = {"result": "fail", "collected_at": now.isoformat(), "source": "scanner"}
    assert (
        post(local, f"/api/inventory/controls/SOC2/CC7.2/evidence?tenant={tenant}", failing, admin).status
        == 201
    )
    for cert_id, days in (("api", 3), ("web", 20), ("mail", 60), ("old", -2)):
        cert = {
            "cert_id": cert_id,
            "common_name": f"{cert_id}.acme.test",
            "not_after": (now + timedelta(days=days)).isoformat(),
        }
        assert post(local, f"/api/inventory/certificates?tenant={tenant}", cert, admin).status == 201
    vendors = [
        {
            "vendor_id": "aws",
            "name": "AWS",
            "tier": 1,
            "last_review": (now - timedelta(days=400)).date().isoformat(),
        },
        {"vendor_id": "stripe", "name": "Stripe", "tier": 1, "last_review": now.date().isoformat()},
        {"vendor_id": "figma", "name": "Figma", "tier": 3},
    ]
    for v in vendors:
        assert post(local, f"/api/inventory/vendors?tenant={tenant}", v, admin).status == 201

    listed = get(
        local, f"/api/inventory/certificates?tenant={tenant}&within=7&status=expiring", acme["cto"]
    ).body
    assert [c["cert_id"] for c in listed["certificates"]] == ["api"]
    controls = get(local, f"/api/inventory/controls?tenant={tenant}", acme["cto"]).body
    assert controls["frameworks"]["SOC2"] == {"controls": 2, "passing": 1, "pass_rate": 50.0}

    doc = get(local, "/api/platform/executive?period=28d", acme["platform"]).body
    domains = {d["id"]: d for d in doc["domains"]}
    card = next(c for c in domains["compliance"]["tenants"] if c["tenant"]["id"] == tenant)
    assert card["metrics"]["SOC2"]["value"] == 50.0 and card["metrics"]["SOC2"]["previous"] == 100.0
    assert card["metrics"]["SOC2"]["delta"] == -50.0
    assert card["chevron"]["color"] == "red" and card["chevron"]["frameworks"] == ["SOC2"]
    assert domains["compliance"]["tenants"][0]["tenant"]["id"] == tenant  # the only one with controls
    certs = next(c for c in domains["certificates"]["tenants"] if c["tenant"]["id"] == tenant)
    m = certs["metrics"]
    assert (
        m["expired"]["value"],
        m["within_7"]["value"],
        m["within_30"]["value"],
        m["within_90"]["value"],
    ) == (
        1,
        1,
        2,
        3,
    )
    assert m["within_7"]["over_threshold"] is True
    assert m["within_7"]["href"] == f"/rollup.html#/certs/{tenant}?within=7&status=expiring"
    assert domains["certificates"]["tenants"][0]["tenant"]["id"] == tenant  # worst first
    vendors_card = next(c for c in domains["vendors"]["tenants"] if c["tenant"]["id"] == tenant)
    assert vendors_card["value"] == 1 and vendors_card["metrics"]["tier1_out_of_review"]["names"] == ["AWS"]
    # the demo tenants' vendor registers (imported by the demo seed) are known too
    demo_cards = [c for c in domains["vendors"]["tenants"] if c["tenant"]["id"] in ("globex", "northwind")]
    assert len(demo_cards) == 2 and all(c["status"] != "unknown" for c in demo_cards)
    # every inventory write is on the tenant's audit chain
    local.stack.seal_audit()
    assert AuditTrail(tenant).verify().events >= 11


def test_deleting_inventory_items(local, acme):
    tenant, admin = f"{PREFIX}-acme", acme["admin"]
    cert = {"cert_id": "tmp", "common_name": "tmp.acme.test", "not_after": "2031-01-01T00:00:00Z"}
    assert post(local, f"/api/inventory/certificates?tenant={tenant}", cert, admin).status == 201
    assert (
        local.client.request("DELETE", f"/api/inventory/certificates/tmp?tenant={tenant}", token=admin).status
        == 204
    )
    reply = local.client.request("DELETE", f"/api/inventory/certificates/tmp?tenant={tenant}", token=admin)
    assert reply.status == 404 and reply.body["code"] == "certificate_not_found"


# ------------------------------------------------------------------ 50 tenants, bounded requests


@pytest.fixture(scope="module")
def fifty(local: Running, demo: dict[str, Any]) -> dict[str, Any]:
    ids = bulk_tenants(f"{PREFIX}-bulk", 50, clock.now())
    token = user(local, f"bulk-platform@{PREFIX}.test", dict.fromkeys(ids, "platform_admin"))
    return {"ids": ids, "token": token}


@pytest.fixture
def dynamodb_requests() -> Iterator[Counter[str]]:
    """DynamoDB requests made by this test's thread (the shared stack runs executions of other tests
    in background threads; their requests are not this roll-up's)."""
    from pynamodb.connection.base import Connection

    counts: Counter[str] = Counter()
    original = Connection._make_api_call
    me = threading.get_ident()

    def counting(self: Any, operation_name: str, operation_kwargs: dict[str, Any], *a: Any, **k: Any) -> Any:
        if threading.get_ident() == me:
            counts[operation_name] += 1
        return original(self, operation_name, operation_kwargs, *a, **k)

    Connection._make_api_call = counting  # type: ignore[method-assign]
    yield counts
    Connection._make_api_call = original  # type: ignore[method-assign]


def test_fifty_tenants_are_answered_from_snapshots_with_a_bounded_number_of_requests(
    local, fifty, dynamodb_requests
):
    from infra.local.http import proxy_event

    # the rollup_api handler invoked in this thread with the event the front door builds
    claims = local.idp.claims(f"Bearer {fifty['token']}")
    event = proxy_event("GET", "/api/platform/executive", "period=28d", {}, b"", claims)
    result = local.stack.invoke("rollup_api", event)
    body = json.loads(result["body"])

    assert result["statusCode"] == 200, body
    assert len(body["scope"]["tenants"]) == 50
    # 1 Query of the tenant index + ceil(100 keys / 100) BatchGetItem + the audit record (one Put, no
    # head read: #17): a constant, whatever the number of tenants
    assert dynamodb_requests["BatchGetItem"] == math.ceil(2 * 50 / 100)
    assert dynamodb_requests["Query"] == 1
    assert dynamodb_requests["PutItem"] == 1
    assert set(dynamodb_requests) <= {"Query", "BatchGetItem", "PutItem"}  # no Scan, no per-tenant GetItem
    assert sum(dynamodb_requests.values()) <= 3
    dora = body["domains"][0]
    cfr = [c["metrics"]["change_failure_rate"]["value"] for c in dora["tenants"]]
    assert cfr == sorted(cfr, reverse=True)  # worst (highest CFR, lowest score) first
    assert all(c["metrics"]["change_failure_rate"]["delta"] == -1.0 for c in dora["tenants"])
