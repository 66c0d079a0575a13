"""Evidence of a KPI run: the header, sourcing, validations, delivery and terminal status."""

from __future__ import annotations

from typing import Any

from companyos.adapters.repos import RunLog
from companyos.domain.auth import Principal, authorize
from companyos.runs.corrections import corrected_run_of


def run_evidence(principal: Principal, tenant_id: str, run_id: str) -> dict[str, Any]:
    authorize(principal, "runs:view", tenant_id)
    rows = RunLog(tenant_id).rows(run_id)
    by_record: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_record.setdefault(row.record, []).append(row.data)
    header = (by_record.get("run") or [{}])[0]
    end = (by_record.get("end") or [{}])[0]
    deliveries = by_record.get("delivery") or []
    delivery = deliveries[0] if deliveries else None
    corrects = corrected_run_of(header)
    # Corrections restate a delivered run as new runs linked by lineage (one Query on the KPI's
    # run headers, only for delivered originals).
    corrections = (
        [
            {
                **{k: c.get(k) for k in ("run_id", "started_at", "triggered_by", "correction_reason")},
                "href": f"/api/runs/{c['run_id']}?tenant={tenant_id}",
            }
            for c in RunLog(tenant_id).corrections_of(header["kpi_id"], header["started_at"], run_id)
        ]
        if delivery is not None and corrects is None and header.get("kpi_id") and header.get("started_at")
        else []
    )
    return {
        "run": {
            **header,
            **{
                k: end.get(k)
                for k in (
                    "status",
                    "finished_at",
                    "rows_processed",
                    "sla_breached",
                    "error_code",
                    "error_message",
                    "duration_s",
                )
            },
        },
        "sourcing": by_record.get("sourcing", []),
        "pre_validation": by_record.get("pre_validation", []),
        "post_validation": by_record.get("post_validation", []),
        "delivery": delivery,
        "corrects": (
            {"run_id": corrects, "href": f"/api/runs/{corrects}?tenant={tenant_id}"} if corrects else None
        ),
        "corrections": corrections,
    }
