"""Demo product telemetry: analytics batches, LaunchDarkly feature events, and the daily rollup.

`ANALYTICS_DAYS` of analytics batches (one delivery per UTC day, with that day's events, our
`analytics` format; today's up to now) with a user
base that grows (or shrinks) by the tenant's `growth` per month, so the month-over-month KPIs have
a trend to show; 5 days of a LaunchDarkly rollout of `new-routing-engine`. Raw telemetry is kept
30 days, so — as the daily roll-up would have done at the time — the days are rolled up into
`product_daily` as of each week's end while their raw events are complete
(`product_rollup.roll_up(..., now=<that day>)`), and then the raw events older than 30 days are
deleted, as DynamoDB's TTL would have done (moto does not expire items). A delivery holds one
calendar day, so a day is complete when it is rolled up at any time of day the demo starts (a
delivery spanning the 24 hours before `now - day` would bring a day's last events after its roll-up).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from companyos.adapters.models import SignalItem
from companyos.runs import product_rollup
from companyos.runs.formulas_product import ACTIVITY_KINDS

if TYPE_CHECKING:
    from infra.local.demo_deliver import Deliverer
    from infra.local.demo_tenants import DemoTenant

# 90-day windows need telemetry on half the days of the same window a month earlier: 28 + 45 days
ANALYTICS_DAYS = 84
FEATURES = ("route-optimizer", "bulk-export", "live-map", "sso")
FLAG = "new-routing-engine"
GROWTH_PER_MONTH = {"ops-heavy": 0.05, "admin-heavy": -0.03}

# Prometheus: requests per service and day, the input of api_call_volume (metric `api_requests`)
API_REQUESTS_QUERY = (
    "api_requests_1d",
    "api_requests",
    "slo_window",
    "sum by (service) (increase(http_requests_total[1d]))",
    86400,
    63,  # the 28-day window and the same window a month earlier
)


def seed(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> dict[str, Any]:
    users = [f"u{n:04d}" for n in range(demo.accounts * 3)]
    growth = GROWTH_PER_MONTH.get(demo.tenant.profile, 0.0)
    base = max(5, len(users) // 10)
    rolled: list[str] = []
    for day in range(ANALYTICS_DAYS - 1, -1, -1):
        months_from_now = day / 30
        k = min(len(users), round(base * (1 + growth) ** -months_from_now))
        events: list[dict[str, Any]] = []
        midnight = datetime.combine((now - timedelta(days=day)).date(), time(0), UTC)
        for n, user in enumerate(rng.sample(users, k=k)):
            at = midnight + timedelta(seconds=rng.randint(0, 86399))
            if at > now:
                continue
            product = rng.choice(demo.products)
            account = f"acct-{int(user[1:]) % demo.accounts:03d}"
            common = {"user_id": user, "account_id": account, "product": product,
                      "occurred_at": at.isoformat()}  # fmt: skip
            events.append({"id": f"a-{day}-{n}-active", "type": "active", **common})
            events.append({"id": f"a-{day}-{n}-session", "type": "session", "session_id": f"s-{day}-{n}",
                           "duration_s": round(rng.lognormvariate(6.3, 0.7), 1), **common})  # fmt: skip
            if rng.random() < 0.4:
                events.append(
                    {"id": f"a-{day}-{n}-feature", "type": "feature_used", "feature": rng.choice(FEATURES),
                     **common}
                )  # fmt: skip
        if events:
            out.send("analytics", {"events": events}, {"X-CompanyOS-Delivery": f"analytics-{day}"})
        if day % 7 == 1:  # the roll-up of that time, the morning after the day ended
            morning = datetime.combine((now - timedelta(days=day - 1)).date(), time(0, 30), UTC)
            rolled += product_rollup.roll_up(demo.tenant.id, morning, force=True)["rolled"]
    _flags(out, users, now, rng)
    expired = expire_raw(demo.tenant.id, now)
    return {"analytics_days": ANALYTICS_DAYS, "rolled_up_days": len(set(rolled)), "raw_expired": expired}


def expire_raw(tenant_id: str, now: datetime) -> int:
    """Delete the raw analytics events past their TTL (`expires_at`), as DynamoDB would."""
    gone = 0
    for kind in ACTIVITY_KINDS:
        with SignalItem.batch_write() as batch:
            for item in SignalItem.query(f"{tenant_id}#{kind}"):
                if item.expires_at is not None and item.expires_at <= now:
                    batch.delete(item)
                    gone += 1
    return gone


def _flags(out: Deliverer, users: list[str], now: datetime, rng: random.Random) -> None:
    for day in range(4, -1, -1):
        flags = []
        for _ in range(30):
            at = now - timedelta(days=day, seconds=rng.randint(0, 80000))
            if at > now:
                continue
            on = rng.random() < (0.6 - day * 0.08)  # the rollout grows day by day
            flags.append(
                {
                    "kind": "feature",
                    "creationDate": int(at.timestamp() * 1000),
                    "key": FLAG,
                    "version": 12,
                    "context": {"kind": "user", "key": rng.choice(users)},
                    "value": on,
                    "variation": 0 if on else 1,
                    "default": False,
                    "reason": {"kind": "RULE_MATCH" if on else "FALLTHROUGH"},
                }
            )
        out.send("feature_flags", flags)
