"""Vendor risk (inventory): tier-1 vendors whose review is overdue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any
from urllib.parse import quote

from companyos.domain import inventory as inv
from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains.cards import domain_tile, tenant_card
from companyos.rollup.domains.cells import inventory_evidence, make_cell, org_metric, points_series
from companyos.rollup.domains.specs import DomainSpec, MetricSpec, Period, TenantData


def _vendor_count(doc: Mapping[str, Any] | None, day: date) -> float | None:
    """Overdue tier-1 vendors on `day`; None before the register held any vendor (no data, not 0)."""
    if not inv.has_vendors(doc, day):
        return None
    return float(inv.vendors_out_of_review(doc, day)["out_of_review"])


def vendors_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, cells = [], []
    name = "Tier-1 vendors out of review"
    for data in rows:
        if not inv.has_vendors(data.posture):
            why = "no inventory snapshot yet" if data.posture is None else "no vendor in the inventory yet"
            cell = make_cell(None, None, [], "count", Band.UNKNOWN, why)
            severity = None
        else:
            now_v = inv.vendors_out_of_review(data.posture, period.end)
            cell = make_cell(
                float(now_v["out_of_review"]),
                _vendor_count(data.posture, period.previous_end),
                points_series(period, partial(_vendor_count, data.posture)),
                "count",
                verdict.vendors_out_of_review(now_v["out_of_review"]),
                tier1=now_v["tier1"],
                names=now_v["names"],
                evidence=inventory_evidence(
                    data, "vendors", f"/api/inventory/vendors?tenant={quote(data.tenant.id, safe='')}"
                ),
            )
            severity = (float(now_v["out_of_review"]), float(now_v["tier1"]))
        cells.append(cell)
        metrics = {"tier1_out_of_review": cell}
        cards.append(
            tenant_card(data, spec, period, metrics, spec.headline, severity, {"tier1_out_of_review": name})
        )
    org = org_metric(MetricSpec("tier1_out_of_review", name, "count", "lower", "sum"), cells)
    reason = (
        None
        if any(inv.has_vendors(d.posture) for d in rows)
        else "no tenant in scope has a vendor inventory yet"
    )
    return domain_tile(spec, [org], cards, reason)
