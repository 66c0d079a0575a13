"""Which (tenant, KPI) pairs a schedule tick runs: the built-in pack's KPIs of the schedule class
plus each tenant's own active contracts of that class; paused contracts are left out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from companyos.adapters.repos import Tenant
from companyos.runs import contracts

CHUNK = 400  # pairs per execution: ~25 KB of input, results well under the 256 KB payload limit


@dataclass
class Plan:
    pairs: list[dict[str, str]] = field(default_factory=list)
    paused: list[dict[str, Any]] = field(default_factory=list)

    def chunks(self, size: int = CHUNK) -> Iterator[list[dict[str, str]]]:
        for i in range(0, len(self.pairs), size):
            yield self.pairs[i : i + size]


def plan(schedule_class: str, tenants: Iterable[Tenant]) -> Plan:
    """One Query per tenant (its active pointers) plus one for the platform's."""
    platform = {a["kpi_id"]: a for a in contracts.ContractStore(None).actives()}
    out = Plan()
    for tenant in tenants:
        if not tenant.active:
            continue
        own = {a["kpi_id"]: a for a in contracts.ContractStore(tenant.id).actives()}
        kpi_ids = set(contracts.of_schedule(schedule_class)) | set(platform) | set(own)
        for kpi_id in sorted(kpi_ids):
            active = own.get(kpi_id) or platform.get(kpi_id)
            klass = active["schedule_class"] if active else contracts.CONTRACTS[kpi_id].schedule_class
            if klass != schedule_class:
                continue
            if active and active.get("paused"):
                out.paused.append(
                    {"tenant_id": tenant.id, "kpi_id": kpi_id, "reason": active.get("reason", "")}
                )
                continue
            out.pairs.append({"tenant_id": tenant.id, "kpi_id": kpi_id})
    return out
