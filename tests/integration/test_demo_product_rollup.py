"""The demo's product telemetry is rolled up complete at any time of day the demo starts: every
`product_daily` record counts all the users whose events the seed delivered for that UTC day (a
day's last events must not arrive after its roll-up)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Running, clock_at


@pytest.mark.parametrize("start", ["00:30", "07:10"])
def test_each_rolled_up_demo_day_counts_every_user_delivered_for_it(local: Running, start: str):
    from companyos.adapters.repos import Catalog, SignalStore

    from infra.local import demo_product
    from infra.local.demo_deliver import Deliverer
    from infra.local.demo_tenants import DEMO

    now = datetime.fromisoformat(f"2026-06-10T{start}:00+00:00")
    tenant_id = f"demo-rollup-{start.replace(':', '')}"
    demo = replace(DEMO[0], tenant=replace(DEMO[0].tenant, id=tenant_id), accounts=20)
    Catalog().put_tenant(demo.tenant)
    secrets = {"analytics": "an-secret", "feature_flags": "ff-secret"}
    for source, secret in secrets.items():
        local.stack.put_webhook_secret(tenant_id, source, secret)
    for product in demo.products:
        Catalog().tenant(tenant_id).map_source_entity("analytics", product, "api", "Product")
    out = Deliverer(local.stack, tenant_id, secrets)
    delivered: list[dict[str, Any]] = []
    send = out.send

    def capture(source: str, doc: Any, headers: dict[str, str] | None = None, **kw: Any) -> None:
        if source == "analytics":
            delivered.extend(doc["events"])
        send(source, doc, headers, **kw)

    out.send = capture  # type: ignore[method-assign]
    with clock_at(now):  # the demo seeds as of the clock
        demo_product.seed(out, demo, now, random.Random(tenant_id))

    users: dict[str, set[str]] = defaultdict(set)
    for e in delivered:
        users[e["occurred_at"][:10]].add(e["user_id"])
    rollups = {
        str(s.attributes["day"]): s.attributes
        for s in SignalStore(tenant_id).query("product_daily", now - timedelta(days=90), now)
    }
    # the 84 days delivered, rolled up week by week while their raw events were kept; today is not
    # complete, so it has none
    today, yesterday = now.date(), (now - timedelta(days=1)).date()
    assert set(rollups) == set(users) - {today.isoformat()} and len(rollups) == 83
    for day, record in rollups.items():
        assert record["users"] == len(users[day]), day
    week = set().union(*(users[(yesterday - timedelta(days=i)).isoformat()] for i in range(7)))
    assert rollups[yesterday.isoformat()]["wau"] == len(week)
    assert str(rollups[yesterday.isoformat()]["rolled_at"])[:10] == today.isoformat()
