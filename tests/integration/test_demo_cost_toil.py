"""The demo seeds cost per active user and toil ratio through the real paths (issue #16): Northwind's
and Globex's runs of `infra_cost_per_active_unit` and `toil_ratio` are delivered, with their
sources, and their numbers are what plain sums over the seeded CUR export, analytics events and
time entries say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.integration.test_cost_contracts import cost_between
from tests.integration.test_pipeline_runs import attempts

TENANTS = ("northwind", "globex")


def _stored(tenant: str, kind: str) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    return list(
        SignalStore(tenant).query(kind, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    )


def _delivered(tenant: str, kpi_id: str) -> dict[str, Any]:
    done = [a for a in attempts(tenant, kpi_id) if a.get("delivery")]
    assert done, [a.get("end") for a in attempts(tenant, kpi_id)]
    return done[-1]


@pytest.mark.parametrize("tenant", TENANTS)
def test_cost_per_active_user_is_delivered_from_the_cur_export_and_the_analytics(demo, tenant):
    from infra.local.demo_cur import CUR_EXPORTS

    attempt = _delivered(tenant, "infra_cost_per_active_unit")
    assert attempt["end"][0]["status"] in ("success", "partial"), attempt["end"]
    v = attempt["delivery"][0]["values"]["28d"]
    assert v["value"] is not None, v["reason"]
    d = v["detail"]
    through, prev = date.fromisoformat(d["through"]), date.fromisoformat(d["previous_through"])
    glob = f"{CUR_EXPORTS[tenant]}/billing_period=*/*.parquet"
    cost = cost_between(glob, through.replace(day=1).isoformat(), through.isoformat())
    prev_cost = cost_between(glob, prev.replace(day=1).isoformat(), prev.isoformat())
    assert d["cost"] == pytest.approx(cost, rel=1e-6) and d["previous_cost"] == pytest.approx(
        prev_cost, rel=1e-6
    )
    # this month's MAU: the distinct users of the raw events since the 1st (kept 30 days)
    users = {
        s.attributes["user_id"]
        for k in ("product_active", "product_session", "feature_used")
        for s in _stored(tenant, k)
        if through.replace(day=1) <= s.occurred_at.date() <= through
    }
    assert d["mau"] == len(users) > 0
    # last month's: the rollup of its last active day up to the same day
    rolled = {s.attributes["day"]: s.attributes for s in _stored(tenant, "product_daily")}
    last = max(day for day in rolled if prev.replace(day=1).isoformat() <= day <= prev.isoformat())
    assert d["previous_mau"] == rolled[last]["mtd_users"]
    expected = 100.0 * ((cost / len(users)) / (prev_cost / d["previous_mau"]) - 1.0)
    assert v["value"] == pytest.approx(expected, rel=1e-6)
    assert {r["source_object"] for r in attempt["sourcing"]} >= {
        "cur2.amortized_cost_per_day",
        "analytics.active",
    }
    (rows,) = attempt["rows"]
    assert rows["periods"]["28d"]["unit_cost"]["available"] is True


def _interrupt_hours(tenant: str, first: date, last: date) -> float:
    acked: dict[str, datetime] = {}
    resolved: dict[str, datetime] = {}
    for s in _stored(tenant, "incident"):
        iid, at = s.attributes["incident_id"], datetime.fromisoformat(s.attributes["occurred_at"])
        if s.attributes["transition"] == "acknowledged":
            acked[iid] = min(acked.get(iid, at), at)
        if s.attributes["transition"] == "resolved":
            resolved[iid] = max(resolved.get(iid, at), at)
    return sum(
        (end - acked[i]).total_seconds() / 3600
        for i, end in resolved.items()
        if i in acked and end >= acked[i] and first <= end.date() <= last
    )


@pytest.mark.parametrize(("tenant", "pagerduty"), [("northwind", True), ("globex", False)])
def test_toil_ratio_is_delivered_from_the_time_entries(demo, tenant, pagerduty):
    attempt = _delivered(tenant, "toil_ratio")
    assert attempt["end"][0]["status"] in ("success", "partial"), attempt["end"]
    delivery = attempt["delivery"][0]
    end = datetime.fromisoformat(delivery["as_of"]).date()
    first = end - timedelta(days=27)
    entries = {s.attributes["entry_id"]: s for s in _stored(tenant, "ops_time")}.values()
    window = [s for s in entries if first <= s.occurred_at.date() <= end]
    total = sum(s.attributes["duration_s"] for s in window) / 3600
    toil_projects = {"Ops chores"} if pagerduty else set()
    toil = (
        sum(
            s.attributes["duration_s"]
            for s in window
            if {"toil", "manual", "interrupt"} & set(s.attributes["tags"])
            or s.attributes["project"] in toil_projects
        )
        / 3600
    )
    interrupts = _interrupt_hours(tenant, first, end) if pagerduty else 0.0
    v = delivery["values"]["28d"]
    assert v["value"] == pytest.approx(100.0 * (toil + interrupts) / (total + interrupts), rel=1e-6)
    assert (v["detail"]["interrupt_hours"] > 0) is pagerduty
    (rows,) = attempt["rows"]
    entry = rows["periods"]["28d"]["toil"]
    assert entry["available"] and entry["by_team"] and entry["by_category"]
    assert {s["object"] for s in entry["evidence"]["sources"]} >= {"time_tracking.ops_time"}
