"""Corrections over the API (kpi-observability-admin.md, "Logging": the log is append-only;
a correction is a new run-log entry linked to the original by lineage).

`POST /api/runs/{run_id}/corrections` → `submit`: an admin restates some period values of a
delivered run. The original's rows are never touched: `restatement.correct_run` appends a run
`<original>-c<n>` (`lineage_ref = correction-of:<original>`, delivery `scd_view = restated`), and
the request is appended to the tenant's audit chain with the values before and after.
"""

from __future__ import annotations

import math
from typing import Any

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import RunLog
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import Conflict, InvalidPayload, NotFound
from companyos.runs.contracts import PERIODS

CORRECTION_PREFIX = "correction-of:"


def corrected_run_of(header: dict[str, Any]) -> str | None:
    """The run a correction restates, from its lineage_ref; None for an ordinary run."""
    ref = str(header.get("lineage_ref") or "")
    return ref.removeprefix(CORRECTION_PREFIX) if ref.startswith(CORRECTION_PREFIX) else None


def _periods_within(values: dict[str, float], allowed: Any, code: str, hint: str) -> None:
    outside = sorted(set(values) - set(allowed))
    if outside:
        raise InvalidPayload(
            f"periods {outside}: {hint}", code=code, details={"path": "values", "periods": outside}
        )


def submit(
    principal: Principal,
    tenant_id: str,
    run_id: str,
    values: dict[str, float],
    reason: str,
    request_id: str = "",
) -> dict[str, Any]:
    role = authorize(principal, "runs:correct", tenant_id)
    if not values:
        raise InvalidPayload(
            "give at least one period value to restate", code="no_values", details={"path": "values"}
        )
    _periods_within(values, PERIODS, "invalid_period", f"periods are {', '.join(PERIODS)}")
    bad = sorted(p for p, v in values.items() if not math.isfinite(v))
    if bad:
        raise InvalidPayload(
            f"values of {bad} are not finite numbers", code="invalid_value", details={"path": "values"}
        )
    if not reason.strip():
        raise InvalidPayload(
            "a correction needs a reason", code="reason_required", details={"path": "reason"}
        )

    log = RunLog(tenant_id)
    header = log.row(run_id, "RUN")
    if header is None:
        raise NotFound(f"run '{run_id}' does not exist for this tenant", code="run_not_found")
    original = corrected_run_of(header)
    if original:
        raise Conflict(
            f"run '{run_id}' is a correction of '{original}': correct the original run instead",
            code="run_is_correction",
            details={"original_run_id": original},
        )
    delivery = log.row(run_id, "DELIVERY")
    if delivery is None:
        status = (log.row(run_id, "END") or {}).get("status") or "not ended"
        raise Conflict(
            f"run '{run_id}' delivered nothing (status {status}): no value to correct",
            code="run_not_delivered",
        )
    delivered = delivery.get("values") or {}
    _periods_within(values, delivered, "period_not_delivered", f"run '{run_id}' delivered no value for them")

    from companyos.runs.restatement import correct_run  # the write path's imports stay off the read path

    actor = principal.email or principal.sub
    result = correct_run(tenant_id, run_id, values=dict(values), reason=reason.strip(), by=actor)
    changes = {p: {"from": (delivered[p] or {}).get("value"), "to": v} for p, v in sorted(values.items())}
    event = AuditTrail(tenant_id).append(
        AuditEvent(
            actor=actor,
            role=role,
            action="run.correct",
            target=run_id,
            reason=reason.strip(),
            request_id=request_id,
            details={"correction_run_id": result["run_id"], "kpi_id": header["kpi_id"], "values": changes},
        )
    )
    return {
        "tenant_id": tenant_id,
        "run_id": result["run_id"],
        "corrects": run_id,
        "kpi_id": header["kpi_id"],
        "status": result["status"],
        "values": changes,
        "reason": reason.strip(),
        "corrected_by": actor,
        "audit_record": event["record_id"],
        "href": f"/api/runs/{result['run_id']}?tenant={tenant_id}",
    }
