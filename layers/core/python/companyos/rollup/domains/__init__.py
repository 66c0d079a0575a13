"""The six roll-up domains, assembled from end-of-day snapshots: pure functions, no I/O.

Per domain: the org value of each metric (with its delta against the previous period and an org
sparkline), one card per tenant sorted worst-first, each card with its own values, sparkline, delta,
snapshot timestamp and deep links. Unknown stays Unknown, with the reason, and sorts after every
known card (it is never green and never "best").

Every status comes from the verdict model (companyos.domain.verdict), never from a rule of its own:
a tenant's KPI value carries the band its snapshot was judged with; an org value is judged with the
KPI's thresholds (`verdict.kpi_band`); SLO, certificate and vendor rows with their row rules. A card
(one tenant in one domain) and a tile (the org in one domain) are as bad as their worst metric,
capped by coverage (`verdict.capped`: measured on part of its metrics, a result says so and is at
most Attention; under half, Unknown), and name the metric that decides them.

The package by responsibility: domains/specs.py (the period, the inputs, the six domains), cells.py
(a tenant's metric, the org value), cards.py (verdicts, cards worst first, tiles, links), one module
per domain family (kpi_domains.py: DORA and incidents; slos.py; compliance.py; certificates.py;
vendors.py) and appendix.py (the raw rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from companyos.rollup.domains.appendix import appendix_rows, rows_per_tenant
from companyos.rollup.domains.cards import worst_first
from companyos.rollup.domains.cells import display
from companyos.rollup.domains.certificates import certificates_domain
from companyos.rollup.domains.compliance import COMPLIANCE_DROP_POINTS, compliance_domain
from companyos.rollup.domains.kpi_domains import snapshot_domain
from companyos.rollup.domains.slos import slos_domain
from companyos.rollup.domains.specs import DOMAIN_IDS, DOMAINS, DomainSpec, Period, TenantData
from companyos.rollup.domains.vendors import vendors_domain

__all__ = [
    "COMPLIANCE_DROP_POINTS",
    "DOMAINS",
    "DOMAIN_IDS",
    "Period",
    "TenantData",
    "appendix_rows",
    "build_domains",
    "display",
    "rows_per_tenant",
    "worst_first",
]


_BUILDERS: dict[str, Callable[[DomainSpec, Sequence[TenantData], Period], dict[str, Any]]] = {
    "slos": slos_domain,
    "compliance": compliance_domain,
    "certificates": certificates_domain,
    "vendors": vendors_domain,
}


def build_domains(rows: Sequence[TenantData], period: Period) -> list[dict[str, Any]]:
    return [_BUILDERS.get(spec.id, snapshot_domain)(spec, rows, period) for spec in DOMAINS]
