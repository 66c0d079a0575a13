"""Precomputed score snapshots of one tenant: the latest per period and the end-of-day history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.transactions import TransactWrite

from companyos.adapters.models import ScoreItem
from companyos.domain import clock


def _now() -> datetime:
    return clock.now()


class ScoreStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._pk = f"TENANT#{tenant_id}"

    def put_snapshot(self, period: str, data: dict[str, Any], computed_at: datetime) -> None:
        """Latest snapshot (what dashboards read) + the end-of-day history item of that day."""
        self.put_snapshots({period: data}, computed_at)

    def put_snapshots(self, snapshots: dict[str, dict[str, Any]], computed_at: datetime) -> None:
        """Every period's latest and end-of-day items of one refresh in one transaction: the
        dashboards never read a 7d snapshot from this refresh next to a 28d one from the last."""
        day = computed_at.date().isoformat()
        with TransactWrite(connection=ScoreItem._get_connection().connection) as tx:
            for period, data in snapshots.items():
                for sk in (f"SNAP#{period}#LATEST", f"SNAP#{period}#{day}"):
                    tx.save(ScoreItem(pk=self._pk, sk=sk, computed_at=computed_at, data=data))

    def latest(self, period: str) -> tuple[dict[str, Any], datetime] | None:
        """One GetItem: the precomputed snapshot for a period."""
        try:
            item = ScoreItem.get(self._pk, f"SNAP#{period}#LATEST")
        except ScoreItem.DoesNotExist:
            return None
        return item.data, item.computed_at

    def history(self, period: str, days: int) -> list[tuple[str, dict[str, Any]]]:
        start = (_now() - timedelta(days=days)).date().isoformat()
        cond = ScoreItem.sk.between(f"SNAP#{period}#{start}", f"SNAP#{period}#9999")
        return [(i.sk.rsplit("#", 1)[1], i.data) for i in ScoreItem.query(self._pk, cond)]
