"""The daily rollup of product telemetry: `product_daily`, one signal per tenant and UTC day.

Analytics events are raw (business class: 30 days). Before they leave, each complete day is rolled
up into one `product_daily` record (business class, aggregated tier: 5 years) by
`runs.formulas_product.day_rollups` — the same function the KPI formulas apply to raw days, so a
day has the same numbers whether it is read raw or rolled up. The 7-day distinct counts of day D
need the raw events of D-6..D, so a day can be rolled up while D-6 is still kept: up to 23 days
after it. Its month-to-date distinct users (`mtd_users`) need the raw events since the 1st of D's
month: complete when D is rolled up within 30 days of that 1st (the roll-up runs daily; a day rolled
later counts only the users whose events are still kept).

`roll_up(tenant, now)` runs at most once per UTC day per tenant (the ingest of the first analytics
delivery of the day triggers it; `force=True` for backfills and tests). It recomputes every
complete day of the rollable range that has raw events and either has no rollup yet or is within
`GRACE_DAYS` of today (events that arrive a little late are still counted); older rollups are final.
Reads: one Query per raw kind over the range, one Query of the existing rollups. Writes: one item
per rolled day (overwritten on a re-roll: derived data, same key).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from companyos.adapters.models import SignalItem
from companyos.adapters.repos import SignalStore, StoredSignal
from companyos.domain import clock, retention
from companyos.runs.formulas_product import ACTIVITY_KINDS, ROLLUP_KIND, WAU_DAYS, day_rollups

GRACE_DAYS = 3  # the last 3 complete days are re-rolled (late events); older rollups are final
SOURCE = "analytics"
FALLBACK_DAYS = 1825


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def rollable_days(now: datetime) -> tuple[date, date]:
    """The complete days whose 7-day window is still within the raw retention (first, last)."""
    raw_days = min(k.days for k in map(retention.of_kind, ACTIVITY_KINDS) if k is not None)
    last = now.date() - timedelta(days=1)
    first = now.date() - timedelta(days=raw_days - WAU_DAYS)
    return first, last


def existing(tenant_id: str, first: date, last: date) -> dict[date, StoredSignal]:
    rows = SignalStore(tenant_id).query(ROLLUP_KIND, _midnight(first), _midnight(last))
    return {date.fromisoformat(str(s.attributes.get("day"))): s for s in rows}


def roll_up(tenant_id: str, now: datetime | None = None, *, force: bool = False) -> dict[str, Any]:
    """Write the `product_daily` rollups that are due; returns what was done (for logs and tests)."""
    now = now or clock.now()
    first, last = rollable_days(now)
    have = existing(tenant_id, first, last)
    stamps = [str(s.attributes.get("rolled_at") or "") for s in have.values()]
    if not force and any(t[:10] == now.date().isoformat() for t in stamps):
        return {"rolled": [], "reason": "already rolled up today"}
    # the 6 days before the first day (7-day counts) and the days since its month's 1st (mtd_users)
    since = _midnight(min(first - timedelta(days=WAU_DAYS - 1), first.replace(day=1)))
    until = _midnight(last + timedelta(days=1)) - timedelta(microseconds=1)
    store = SignalStore(tenant_id)
    raw = {k: [s for s in store.query(k, since, until)] for k in ACTIVITY_KINDS}
    final_before = last - timedelta(days=GRACE_DAYS - 1)
    days = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)) not in have or (first + timedelta(days=i)) >= final_before
    ]
    records = day_rollups(raw, days)
    with SignalItem.batch_write() as batch:
        for day, record in sorted(records.items()):
            at = _midnight(day)
            batch.save(
                SignalItem(
                    pk=f"{tenant_id}#{ROLLUP_KIND}",
                    sk=f"{at.isoformat()}#rollup",
                    tenant_id=tenant_id,
                    kind=ROLLUP_KIND,
                    source=SOURCE,
                    signal_id=f"{ROLLUP_KIND}-{day.isoformat()}",
                    occurred_at=at,
                    received_at=now,
                    delivery_id=f"rollup:{now.date().isoformat()}",
                    attributes={**record, "day": day.isoformat(), "rolled_at": now.isoformat()},
                    expires_at=retention.expires_at(ROLLUP_KIND, at, now, FALLBACK_DAYS),
                )
            )
    rolled = [d.isoformat() for d in sorted(records)]
    return {"rolled": rolled, "range": [first.isoformat(), last.isoformat()]}
