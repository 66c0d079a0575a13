"""The append-only KPI run log of one tenant and its per-tenant run index."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import KpiLogItem
from companyos.domain import clock
from companyos.domain.errors import NotFound


def _now() -> datetime:
    return clock.now()


class RunLog:
    """Append-only KPI run log of one tenant. A row, once written, is never overwritten."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def _pk(self, run_id: str) -> str:
        return f"{self.tenant_id}#RUN#{run_id}"

    def append(
        self,
        run_id: str,
        sk: str,
        record: str,
        data: dict[str, Any],
        *,
        kpi_id: str | None = None,
        started_at: str | None = None,
    ) -> bool:
        """Write one row; False when that exact row already exists (a retried step), never overwrite."""
        item = KpiLogItem(pk=self._pk(run_id), sk=sk, record=record, data=data, written_at=_now())
        if kpi_id and started_at:
            item.tenant_kpi = f"{self.tenant_id}#{kpi_id}"
            item.started_at = f"{started_at}#{run_id}"
        try:
            item.save(condition=KpiLogItem.pk.does_not_exist())
        except PutError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def end(
        self,
        run_id: str,
        end: dict[str, Any],
        index: tuple[str, dict[str, Any]],
        delivery: dict[str, Any] | None = None,
    ) -> bool:
        """End an attempt in one transaction: its END row, its run-index row (`index`: started_at,
        overview) and, for a delivered attempt, its DELIVERY row — so a delivery never exists without
        its successful END (nor an END without its index row), whatever fails half-way. False when the
        attempt had ended already (a retried terminal step): nothing is written."""
        now, absent = _now(), KpiLogItem.pk.does_not_exist()
        started_at, overview = index
        rows = [(self._pk(run_id), "DELIVERY", "delivery", delivery)] if delivery is not None else []
        rows += [
            (self._pk(run_id), "END", "end", end),
            (self._index_pk, f"{started_at}#{run_id}", "run_index", overview),
        ]
        try:
            with TransactWrite(connection=KpiLogItem._get_connection().connection) as tx:
                for pk, sk, record, data in rows:
                    item = KpiLogItem(pk=pk, sk=sk, record=record, data=data, written_at=now)
                    tx.save(item, condition=absent)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def rows(self, run_id: str) -> list[KpiLogItem]:
        rows = list(KpiLogItem.query(self._pk(run_id)))
        if not rows:
            raise NotFound(f"run '{run_id}' does not exist for this tenant", code="run_not_found")
        return rows

    def row(self, run_id: str, sk: str) -> dict[str, Any] | None:
        try:
            return KpiLogItem.get(self._pk(run_id), sk).data
        except KpiLogItem.DoesNotExist:
            return None

    def recent_runs(self, kpi_id: str, limit: int = 20) -> list[dict[str, Any]]:
        items = KpiLogItem.by_kpi.query(f"{self.tenant_id}#{kpi_id}", scan_index_forward=False, limit=limit)
        return [i.data for i in items]

    def corrections_of(self, kpi_id: str, started_at: str, run_id: str) -> list[dict[str, Any]]:
        """Correction runs of one run (`<run_id>-c<n>`, by_kpi key `<started_at>#c<n>#...`), oldest
        first: one Query on the KPI's run headers."""
        cond = KpiLogItem.started_at.startswith(f"{started_at}#c")
        items = KpiLogItem.by_kpi.query(f"{self.tenant_id}#{kpi_id}", cond)
        found = [i.data for i in items if str(i.data.get("run_id", "")).startswith(f"{run_id}-c")]
        return sorted(found, key=lambda r: int(str(r["run_id"]).rsplit("-c", 1)[1]))

    # The per-tenant run index: one row per ended attempt, pk `<tenant>#RUNS`, sk
    # `<started_at>#<run_id>`, carrying the pre-joined overview the monitoring views read.

    @property
    def _index_pk(self) -> str:
        return f"{self.tenant_id}#RUNS"

    def index(
        self, since: datetime, until: datetime | None = None, *, limit: int = 5000, newest_first: bool = True
    ) -> tuple[list[dict[str, Any]], bool]:
        """Ended attempts started in [since, until], one Query; (rows, truncated)."""
        upper = (until or _now() + timedelta(days=1)).isoformat() + "~"
        cond = KpiLogItem.sk.between(since.isoformat(), upper)
        rows: list[dict[str, Any]] = []
        for item in KpiLogItem.query(self._index_pk, cond, scan_index_forward=not newest_first):
            if len(rows) >= limit:
                return rows, True
            rows.append(item.data)
        return rows, False
