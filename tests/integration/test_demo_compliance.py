"""The demo's Prowler / Security Hub reports reach the cockpit: both tenants' compliance_score is
delivered from them, the CISO panel shows framework rows with control chips, and Northwind's S3
regression of 3 days ago puts the roll-up's red chevron on its compliance card."""

from __future__ import annotations

from datetime import timedelta

from companyos.adapters.repos import RunLog, ScoreStore
from companyos.views.deliveries import latest_delivery


def test_both_tenants_have_a_delivered_compliance_score_from_their_reports(local, demo):
    for tenant in ("northwind", "globex"):
        d, reason = latest_delivery(RunLog(tenant), "compliance_score")
        assert d is not None, (tenant, reason)
        week = d.delivery["values"]["7d"]
        assert week["value"] is not None, (tenant, week)
        panel = ScoreStore(tenant).latest("7d")[0]["panels"]["compliance"]
        assert panel["available"] and {"SOC2", "CIS-3.0"} <= {f["id"] for f in panel["items"]}
        assert panel["evidence"]["run_id"] == d.run["run_id"]
        if tenant == "northwind":
            assert week["previous"] - week["value"] > 5  # the new unprotected buckets
        else:
            assert week["value"] > week["previous"]  # Globex fixes its findings


def test_northwinds_drop_gets_the_rollups_red_chevron(local, demo):
    from companyos.adapters.inventory_repo import read_snapshots
    from companyos.domain import clock
    from companyos.rollup.domains import build_domains
    from companyos.rollup.domains.specs import Period, TenantData

    from tests.unit.rollup.conftest import tenant as make_tenant

    today = clock.now().date()
    _, postures = read_snapshots(["northwind"], "7d", today, today)
    period = Period("7d", "7d", 7, today - timedelta(days=6), today)
    data = TenantData(make_tenant("northwind"), posture=postures["northwind"].data)
    (card,) = next(d for d in build_domains([data], period) if d["id"] == "compliance")["tenants"]
    assert card["chevron"] and card["chevron"]["color"] == "red" and "SOC2" in card["chevron"]["frameworks"]
