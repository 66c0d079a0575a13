"""The delivered KPI runs the read side shows: the latest delivery of a KPI and the evidence its
numbers carry (the run, its contract version, sources and timestamps).

The score refresh (views/snapshots.py) and the panel rows read from a run's own delivery (the cost
tile and breakdown, views/panels_data.py) both read deliveries this way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from companyos.adapters.repos import RunLog


@dataclass(frozen=True)
class Delivered:
    run: dict[str, Any]
    end: dict[str, Any]
    delivery: dict[str, Any]


def _moment(raw: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def latest_delivery(log: RunLog, kpi_id: str) -> tuple[Delivered | None, str | None]:
    """The delivered run with the newest `as_of` (the data's point in time) — not simply the last one
    started: a backfill of a past day started after today's run must not put old values on the
    cockpit, while a correction (same as_of, started later) does replace its run. None with the
    reason of the newest attempt when nothing among the recent runs was delivered.

    Runs come newest-started first; a run's as_of is never after its start, so once the best as_of
    found is at or after the next run's start nothing older can beat it (usually: the first run)."""
    reason, best, best_at = None, None, None
    for run in log.recent_runs(kpi_id, limit=10):
        started = _moment(run.get("started_at"))
        if best_at is not None and started is not None and best_at >= started:
            break
        end = log.row(run["run_id"], "END")
        if end is None:
            continue
        if end["status"] in ("success", "partial"):
            delivery = log.row(run["run_id"], "DELIVERY")
            at = _moment(run.get("as_of")) or started
            if delivery and (best is None or (at is not None and best_at is not None and at > best_at)):
                best, best_at = Delivered(run, end, delivery), at
            continue
        if best is None:
            reason = reason or (
                f"latest run {run['run_id']} ended {end['status']}: {end.get('error_message') or ''}"
            )
    if best is not None:
        return best, None
    return None, reason or "no KPI run has delivered this KPI yet"


def delivery_evidence(d: Delivered, tenant_id: str) -> dict[str, Any]:
    """The run a delivered number carries as its evidence (KPI tiles, panel rows, the cost tile)."""
    return {
        "run_id": d.run["run_id"],
        "contract_version": d.run["contract_version"],
        "status": d.end["status"],
        "computed_at": d.end["finished_at"],
        "as_of": d.delivery.get("as_of"),
        "trigger": d.run.get("trigger_type"),
        "sources": d.delivery.get("sources", []),
        "href": f"/api/runs/{d.run['run_id']}?tenant={tenant_id}",
    }
