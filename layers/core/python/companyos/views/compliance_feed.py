"""The roll-up's compliance domain reads the tenant's inventory posture (adapters/inventory_repo.py);
the score refresh feeds it the framework history the delivered compliance_score run carries in its
rows (runs/rows_compliance.py `history`: per framework, [day, evaluated controls, passing] on the
days its counts changed). Stored once per delivered run: a refresh without a newer run writes
nothing, so the posture's pass rates are that run's numbers, with its id."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from companyos.adapters.inventory_repo import InventoryRepo


def record(tenant_id: str, panel: Mapping[str, Any] | None, now: datetime) -> bool:
    """Store the history of the run that delivered `panel` (the 7d snapshot's compliance rows),
    unless the stored one is that run or a run of a later as_of (refreshes may finish out of order)."""
    if not panel or not panel.get("available") or not isinstance(panel.get("history"), dict):
        return False
    evidence = panel.get("evidence") or {}
    run_id, as_of = evidence.get("run_id"), str(evidence.get("as_of") or "")
    repo = InventoryRepo(tenant_id)
    for _ in range(2):  # a concurrent refresh may store first: read again and decide again
        stored = repo.scanned() or {}
        if run_id is None or stored.get("run_id") == run_id or str(stored.get("run_as_of") or "") > as_of:
            return False
        doc = {"run_id": run_id, "run_as_of": as_of, "as_of": panel.get("as_of"),
               "kpi_id": "compliance_score", "frameworks": panel["history"]}  # fmt: skip
        if repo.put_scanned(doc, now) is not None:
            return True
    return False
