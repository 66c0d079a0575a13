"""The domains read from the tenants' KPI snapshots (DORA delivery, incidents): one cell per metric,
the card's severity from the KPIs' scores.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from companyos.domain import verdict
from companyos.rollup.domains.cards import domain_tile, tenant_card
from companyos.rollup.domains.cells import incident_rows_cell, kpi_cell, org_metric
from companyos.rollup.domains.specs import DomainSpec, MetricSpec, Period, TenantData


def _kpi_severity(metrics: Mapping[str, Mapping[str, Any]]) -> tuple[float, ...] | None:
    scores = [
        m["score"] for m in metrics.values() if m.get("value") is not None and m.get("score") is not None
    ]
    return (round(100.0 - statistics.fmean(scores), 4),) if scores else None


def _org_band(spec: MetricSpec, cells: Sequence[Mapping[str, Any]]) -> verdict.Band | None:
    """Open incidents summed over tenants are as bad as the worst tenant; the org MTTA (a mean of
    the tenants') is judged like a tenant's. KPI metrics: the KPI's thresholds (None)."""
    if spec.incident_rows == "open":
        return verdict.worst(c["status"] for c in cells if c["value"] is not None) if cells else None
    if spec.incident_rows:
        known = [c["value"] for c in cells if c["value"] is not None]
        mean = statistics.fmean(known) if known else None
        return (
            verdict.postmortem_coverage(mean)
            if spec.incident_rows == "postmortem_pct"
            else verdict.mtta(mean)
        )
    return None


def snapshot_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {m.id: [] for m in spec.metrics}  # type: ignore[var-annotated]
    for data in rows:
        metrics = {
            m.id: incident_rows_cell(m, data) if m.incident_rows else kpi_cell(m, data, period)
            for m in spec.metrics
        }
        for m_id, c in metrics.items():
            by_metric[m_id].append(c)
        cards.append(tenant_card(data, spec, period, metrics, spec.headline, _kpi_severity(metrics)))
    org = [org_metric(m, by_metric[m.id], _org_band(m, by_metric[m.id])) for m in spec.metrics]
    return domain_tile(spec, org, cards)
