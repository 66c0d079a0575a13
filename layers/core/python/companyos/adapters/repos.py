"""Tenant-scoped repositories. Every repository is constructed for one tenant, so a handler cannot
read another tenant's data by accident; SDK errors become domain exceptions here.

One module per table and responsibility; this module gathers the names the use cases import:
`catalog_repo` (tenants, memberships, source maps), `signals_repo` (deliveries, finding state),
`runlog_repo` (the append-only KPI run log), `scores_repo` (score snapshots). `Tenant` is a domain
value (`domain.tenant`)."""

from __future__ import annotations

from companyos.adapters.catalog_repo import Catalog, TenantCatalog
from companyos.adapters.runlog_repo import RunLog
from companyos.adapters.scores_repo import ScoreStore
from companyos.adapters.signals_repo import FindingState, SignalStore, StateWrite, StoredSignal
from companyos.domain.errors import Conflict
from companyos.domain.tenant import Tenant

__all__ = [
    "Catalog",
    "Conflict",
    "FindingState",
    "RunLog",
    "ScoreStore",
    "SignalStore",
    "StateWrite",
    "StoredSignal",
    "Tenant",
    "TenantCatalog",
]
