"""Corrections of delivered runs in the run log: a restatement is a new run linked to the original by
lineage (kpi-observability-admin.md, "Logging": the log is append-only). The API's checks, audit and
permissions are `corrections.submit`."""

from __future__ import annotations

from typing import Any

from companyos.adapters.repos import RunLog
from companyos.domain.errors import DomainError, NotFound
from companyos.runs.attempts import finish
from companyos.runs.contracts import PERIODS
from companyos.runs.run_state import now


def correct_run(
    tenant_id: str, original_run_id: str, *, values: dict[str, float | None], reason: str, by: str
) -> dict[str, Any]:
    """Restate a delivered run without touching it: append a correction run (run id
    `<original>-c<n>`) whose lineage_ref points to the original and whose delivery carries the
    corrected values (scd_view `restated`). The original's rows stay exactly as they were."""
    log = RunLog(tenant_id)
    header = log.row(original_run_id, "RUN")
    delivery = log.row(original_run_id, "DELIVERY")
    if header is None or delivery is None:
        raise NotFound(f"run '{original_run_id}' has no delivery to correct", code="run_not_found")
    unknown = set(values) - set(PERIODS)
    if unknown:
        raise DomainError(f"unknown periods {sorted(unknown)}", code="invalid_period")
    n = 1
    while True:
        run_id = f"{original_run_id}-c{n}"
        corrected = {
            "run_id": run_id,
            "base_run_id": run_id,
            **{
                k: header.get(k)
                for k in ("tenant_id", "environment", "kpi_id", "contract_version", "variant_label")
            },
            "trigger_type": "manual",
            "triggered_by": by,
            "schedule_cron": None,
            "started_at": now().isoformat(),
            "as_of": header.get("as_of"),
            "retry_seq": 0,
            "lineage_ref": f"correction-of:{original_run_id}",
            "correction_reason": reason,
        }
        # The by_kpi key sorts the correction right after the original: it supersedes the
        # original's values, not those of runs that came later.
        gsi_started_at = f"{header['started_at']}#c{n}"
        # A concurrent correction that took this number wins it (the write is conditional): next.
        if log.row(run_id, "RUN") is None and log.append(
            run_id, "RUN", "run", corrected, kpi_id=header["kpi_id"], started_at=gsi_started_at
        ):
            break
        n += 1
    new_values = {
        p: {**v, **({"value": values[p]} if p in values else {})} for p, v in delivery["values"].items()
    }
    restated = {
        **delivery,
        "run_id": run_id,
        "values": new_values,
        "scd_view": "restated",
        "output_sample": {"7d": new_values["7d"]["value"]},
        "corrects": original_run_id,
    }
    state = {
        "tenant_id": tenant_id,
        "kpi_id": header["kpi_id"],
        "run": corrected,
        "delivery": {"verdict": delivery.get("verdict"), "time_range": delivery.get("time_range")},
    }
    return finish(state, "success", delivery=restated)
