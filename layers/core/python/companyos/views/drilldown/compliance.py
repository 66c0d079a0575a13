"""Control drill-down (CISO "Compliance controls" → one control): its status in the reports the
delivered compliance_score run evaluated, every check mapped to it, the failing ones with their
resources and since when they fail. Read live from the stored check results up to that run's
as_of, by the run's own rule (runs/formulas_compliance.py), so the drill agrees with the panel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import RunLog, SignalStore, StoredSignal
from companyos.domain import verdict
from companyos.domain.auth import Principal
from companyos.domain.errors import NotFound
from companyos.runs import contracts
from companyos.runs.formula_base import SignalRow
from companyos.runs.formulas_compliance import KIND, controls_of, current_reports, max_age, reports_by_scope
from companyos.runs.rows_compliance import failing_checks, first_failed
from companyos.views.deliveries import delivery_evidence, latest_delivery
from companyos.views.drilldown.base import authorized, unavailable

KPI = "compliance_score"


def control(
    principal: Principal, tenant_id: str, framework: str, control_id: str, period: str
) -> dict[str, Any]:
    authorized(principal, tenant_id, period)
    head = {"tenant_id": tenant_id, "framework": framework, "control_id": control_id}
    d, reason = latest_delivery(RunLog(tenant_id), KPI)
    if d is None:
        return {**head, **unavailable(f"no delivered compliance_score run: {reason or 'none yet'}")}
    as_of = datetime.fromisoformat(str(d.run["as_of"]))
    contract = contracts.CONTRACTS[KPI]
    params = contract.params
    since = as_of - timedelta(days=contract.history_days or 100)
    by_scope = reports_by_scope(_rows(SignalStore(tenant_id).query(KIND, since, as_of)))
    reports = current_reports(by_scope, as_of.date(), max_age(params))
    found = controls_of(reports).get((framework, control_id))
    if found is None:
        raise NotFound(
            f"no control {framework} {control_id} in the reports in force on {as_of.date().isoformat()}",
            code="control_not_found",
        )
    checks = [
        {
            "check_id": r.attributes.get("check_id"),
            "title": r.attributes.get("title"),
            "status": r.attributes.get("status"),
            "muted": bool(r.attributes.get("muted")),
            "resource": r.attributes.get("resource"),
            "scope": r.attributes.get("scope"),
            "checked_at": r.attributes.get("checked_at"),
            "evidence": {"type": "signal", "signal_id": r.signal_id, "delivery_id": r.delivery_id},
        }
        for r in sorted(
            found.checks, key=lambda r: (str(r.attributes.get("status")), str(r.attributes.get("check_id")))
        )
    ]
    failing = failing_checks(found, first_failed(by_scope, as_of.date()))
    return {
        **head,
        "available": True,
        "reason": None,
        "status": found.status,
        "band": verdict.control(found.status).value,
        "as_of": as_of.isoformat(),
        "checks": checks,
        "failing": failing,
        "resources_failing": sorted({str(c["resource"]) for c in failing}),
        "reports": [
            {
                "scope": r.results[0].attributes.get("scope"),
                "delivery_id": r.delivery_id,
                "taken_at": r.taken_at.isoformat(),
                "scanner": r.scanner,
            }
            for r in reports
        ],
        "evidence": delivery_evidence(d, tenant_id),
    }


def _rows(stored: Iterable[StoredSignal]) -> list[SignalRow]:
    """Stored signals as the formula's rows (what the run's source step hands it)."""
    return [
        SignalRow(
            s.kind, s.signal_id, s.occurred_at, s.attributes, s.entity, s.service, s.source, s.delivery_id
        )
        for s in stored
    ]
