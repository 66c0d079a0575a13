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
    """Store the history of the run that delivered `panel` (the 7d snapshot's compliance rows)."""
    if not panel or not panel.get("available") or not isinstance(panel.get("history"), dict):
        return False
    run_id = (panel.get("evidence") or {}).get("run_id")
    repo = InventoryRepo(tenant_id)
    if run_id is None or (repo.scanned() or {}).get("run_id") == run_id:
        return False
    doc = {"run_id": run_id, "as_of": panel.get("as_of"), "kpi_id": "compliance_score",
           "frameworks": panel["history"]}  # fmt: skip
    repo.put_scanned(doc, now)
    return True
