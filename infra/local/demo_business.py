"""Demo business sources in our own formats: one NPS survey, four years of billing events
(`demo_billing`) and this quarter's OKR updates."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from infra.local import demo_billing
from infra.local.demo_billing import BillingProfile
from infra.local.demo_deliver import Deliverer

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant


def business(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    responses = []
    for n in range(demo.nps_responses or demo.accounts * 2 // 3):
        r = rng.random()
        score = rng.randint(9, 10) if r < 0.5 else rng.randint(7, 8) if r < 0.78 else rng.randint(0, 6)
        responses.append(
            {
                "id": f"nps-{n}",
                "responded_at": (now - timedelta(days=rng.uniform(0, demo.days))).isoformat(),
                "score": score,
                "respondent_id": f"u{n:04d}",
                "account_id": f"acct-{n % demo.accounts:03d}",
                "survey_id": "relationship-q",
                "product": rng.choice(demo.products),
            }
        )
    out.send("nps", {"responses": responses})
    for batch in demo_billing.batches(
        demo_billing.billing_events(demo.tenant.id, BillingProfile(demo.accounts), now)
    ):
        out.send("billing", batch)
    quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    okrs = [
        ("o1", "Ship reliably", "kr1", "Change failure rate under 10%", 100, 100 - demo.failure_rate * 400),
        ("o1", "Ship reliably", "kr2", "Deploy every service daily", 30, 12 + demo.deploys_per_day * 2),
        ("o2", "Grow revenue", "kr3", "Net new MRR", 50000, 21000 * rng.uniform(0.8, 1.2)),
        ("o2", "Grow revenue", "kr4", "Enterprise logos", 10, 4),
        ("o3", "Delight customers", "kr5", "NPS above 40", 40, 31),
    ]
    out.send(
        "okr",
        {
            "updates": [
                {
                    "id": f"okr-{kr}-{now:%Y%m%d}",
                    "as_of": (now - timedelta(hours=6)).isoformat(),
                    "period": quarter,
                    "objective_id": oid,
                    "objective": obj,
                    "key_result_id": kr,
                    "key_result": text,
                    "owner": demo.users[0][0],
                    "start_value": 0,
                    "target_value": target,
                    "current_value": round(current, 2),
                    "confidence": 0.6,
                }
                for oid, obj, kr, text, target, current in okrs
            ]
        },
    )
