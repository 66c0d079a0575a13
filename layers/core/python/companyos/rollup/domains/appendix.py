"""The appendix (PDF and API): the raw numbers per tenant, and how many rows one tenant adds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from companyos.domain import inventory as inv
from companyos.rollup.domains.cells import display
from companyos.rollup.domains.certificates import CERT_METRICS
from companyos.rollup.domains.specs import DOMAIN_IDS, DOMAINS


def appendix_rows(domains: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Raw numbers per tenant: one row per (tenant, domain, metric), in tenant-name order."""
    rows = []
    for d in domains:
        for card in d["tenants"]:
            for m_id, m in card["metrics"].items():
                rows.append(
                    {
                        "tenant": card["tenant"]["name"],
                        "tenant_id": card["tenant"]["id"],
                        "domain": d["name"],
                        "metric": m.get("label") or _framework(m) or _metric_name(d, m_id),
                        "value": m["value"],
                        "display": m["display"],
                        "previous": m["previous"],
                        "previous_display": _previous(d, m_id, m["previous"]),
                        "delta": m["delta"],
                        "status": m["status"],
                        "snapshot_at": card["snapshot"]["computed_at"],
                    }
                )
    rows.sort(key=lambda r: (r["tenant"], DOMAIN_IDS.index(_domain_id(domains, r["domain"])), r["metric"]))
    return rows


def _framework(cell: Mapping[str, Any]) -> str | None:
    return inv.framework_label(str(cell["framework"])) if cell.get("framework") else None


def _previous(domain: Mapping[str, Any], metric_id: str, previous: float | None) -> str:
    """The previous value formatted like the value (its domain metric's unit), "n/a" without one."""
    if previous is None:
        return "n/a"
    unit = next((m.get("unit") for m in domain["metrics"] if m["id"] == metric_id), None)
    return display(previous, unit) if unit else f"{previous:g}"


def _metric_name(domain: Mapping[str, Any], metric_id: str) -> str:
    return next((m["name"] for m in domain["metrics"] if m["id"] == metric_id), metric_id)


def _domain_id(domains: Sequence[Mapping[str, Any]], name: str) -> str:
    return next(d["id"] for d in domains if d["name"] == name)


def rows_per_tenant() -> int:
    """Appendix rows one tenant contributes at most (the sync/async threshold's unit)."""
    kpi_rows = sum(len(d.metrics) for d in DOMAINS)
    return kpi_rows + (len(inv.FRAMEWORKS) + inv.SCANNED_FRAMEWORKS_MAX + 1) + len(CERT_METRICS) + 1
