"""Precomputed score snapshots of one tenant: the latest per period and the end-of-day history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

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
        day = computed_at.date().isoformat()
        for sk in (f"SNAP#{period}#LATEST", f"SNAP#{period}#{day}"):
            ScoreItem(pk=self._pk, sk=sk, computed_at=computed_at, data=data).save()

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
