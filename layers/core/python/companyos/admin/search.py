"""Catalog browse and full-text search without a Scan per request.

Each tenant's catalog is held in memory as a search index (one entry per KPI: facets + a lower-case
text of purpose, formula, sources and rules), tagged with the catalog's search revision (ADMINREV).
A request costs one GetItem: same revision → answer from memory; newer revision → patch only the
KPIs named in the revision log (one GetItem each); log too short or cache older than `MAX_AGE_S` (1 h) → a
full rebuild (one paginated Query over ADMINKPI#). Built-in pack contracts that the tenant has not
adopted are listed as platform entries (they live in the code, so they never change under a cache).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from companyos.admin import catalog
from companyos.admin.catalog import KpiRecord
from companyos.domain import kpis as dictionary
from companyos.runs import contracts
from companyos.runs.contracts import Contract

MAX_AGE_S = 3600.0  # safety net only: the revision log keeps the index current
FACETS = ("pack", "layer", "owner", "status", "criticality", "owner_kind")


def _layer(contract: Contract) -> str:
    if any(s.source_type == "kpi" for s in contract.sources):
        return "secondary"
    return "primary"


def contract_text(contract: Contract) -> str:
    parts: list[str] = [contract.kpi_id, contract.name, contract.kpi_id.replace("_", " ")]
    f = contract.formula
    parts += [f.builtin or "", f.sql or "", f.aggregate, f.column, f.numerator or "", f.denominator or ""]
    for s in contract.sources:
        parts += [s.source_type, s.kind, s.object, s.query or ""]
    for r in (*contract.pre_rules, *contract.post_rules):
        parts += [r.id, r.type, r.severity, " ".join(f"{k} {v}" for k, v in r.params.items())]
    parts += [contract.schedule.schedule_class, contract.schedule.cron]
    return " ".join(p for p in parts if p)


def _purpose(kpi_id: str) -> str:
    try:
        return dictionary.load_dictionary().get(kpi_id).definition
    except dictionary.UnknownKpiError:
        return ""


def entry_of_record(rec: KpiRecord, runtime_env: str | None = None) -> dict[str, Any] | None:
    ver = rec.current_version(runtime_env)
    if ver is None:
        return None
    contract = rec.contract(ver)
    meta = rec.data
    purpose = str(meta.get("purpose") or _purpose(rec.kpi_id))
    entry = {
        "kpi_id": rec.kpi_id,
        "name": meta.get("name") or contract.name or rec.kpi_id,
        "purpose": purpose,
        "pack": meta.get("pack", "custom"),
        "layer": meta.get("layer") or _layer(contract),
        "owner": meta.get("owner", ""),
        "criticality": rec.criticality,
        "status": rec.version(ver)["status"],
        "version": ver,
        "versions": sorted(rec.versions, key=catalog.semver_key),
        "envs": {e: rec.envs[e]["active"] for e in catalog.ENVIRONMENTS},
        "owner_kind": "tenant",
        "revision": rec.revision,
        "sources": [f"{s.source_type}:{s.kind}" for s in contract.sources],
        "schedule_class": contract.schedule_class,
        "paused": bool(meta.get("paused")),
    }
    entry["_text"] = " ".join(
        [str(entry["name"]), purpose, str(meta.get("owner", "")), contract_text(contract)]
    ).lower()
    return entry


def entry_of_builtin(contract: Contract) -> dict[str, Any]:
    purpose = _purpose(contract.kpi_id)
    entry = {
        "kpi_id": contract.kpi_id,
        "name": contract.name or contract.kpi_id,
        "purpose": purpose,
        "pack": "health-contracts",
        "layer": _layer(contract),
        "owner": "platform",
        "criticality": "high",
        "status": "active",
        "version": contract.version,
        "versions": [contract.version],
        "envs": {e: contract.version for e in catalog.ENVIRONMENTS},
        "owner_kind": "platform",
        "revision": None,
        "sources": [f"{s.source_type}:{s.kind}" for s in contract.sources],
        "schedule_class": contract.schedule_class,
        "paused": False,
    }
    entry["_text"] = " ".join([str(entry["name"]), purpose, contract_text(contract)]).lower()
    return entry


@dataclass
class TenantIndex:
    rev: int
    built_at: float
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # tenant's own, by KPI id

    def all(self) -> list[dict[str, Any]]:
        own = self.entries
        builtins = [_BUILTINS[k] for k in sorted(_BUILTINS) if k not in own]
        return [*(own[k] for k in sorted(own)), *builtins]


_BUILTINS: dict[str, dict[str, Any]] = {c.kpi_id: entry_of_builtin(c) for c in contracts.CONTRACTS.values()}
_cache: dict[str, TenantIndex] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def rebuild(tenant_id: str, runtime_env: str | None = None) -> TenantIndex:
    rev = catalog.revision_of(tenant_id)
    index = TenantIndex(rev=rev, built_at=time.monotonic())
    for rec in catalog.records(tenant_id):
        entry = entry_of_record(rec, runtime_env)
        if entry is not None:
            index.entries[rec.kpi_id] = entry
    return index


def index_for(tenant_id: str, runtime_env: str | None = None) -> TenantIndex:
    """The tenant's index, current as of this call (one GetItem when nothing changed)."""
    with _lock:
        cached = _cache.get(tenant_id)
    if cached is None or time.monotonic() - cached.built_at > MAX_AGE_S:
        index = rebuild(tenant_id, runtime_env)
    else:
        current, changed = catalog.changes_since(tenant_id, cached.rev)
        if current == cached.rev:
            return cached
        if changed is None:
            index = rebuild(tenant_id, runtime_env)
        else:
            index = TenantIndex(rev=current, built_at=cached.built_at, entries=dict(cached.entries))
            for kpi_id in changed:
                rec = catalog.load(tenant_id, kpi_id)
                entry = entry_of_record(rec, runtime_env) if rec else None
                if entry is None:
                    index.entries.pop(kpi_id, None)
                else:
                    index.entries[kpi_id] = entry
    with _lock:
        _cache[tenant_id] = index
    return index


def search(
    tenant_id: str,
    q: str = "",
    filters: dict[str, str] | None = None,
    limit: int = 50,
    offset: int = 0,
    runtime_env: str | None = None,
) -> dict[str, Any]:
    """Entries matching every word of `q` (substring, case-insensitive) and every facet filter;
    name matches first. Facet counts are over the text matches (before the facet filters)."""
    index = index_for(tenant_id, runtime_env)
    tokens = [t for t in q.lower().split() if t]
    hits = [e for e in index.all() if all(t in e["_text"] for t in tokens)]
    facets: dict[str, dict[str, int]] = {f: {} for f in FACETS}
    for e in hits:
        for f in FACETS:
            key = str(e.get(f, ""))
            facets[f][key] = facets[f].get(key, 0) + 1
    wanted = {k: v for k, v in (filters or {}).items() if v}
    hits = [e for e in hits if all(str(e.get(k, "")) == v for k, v in wanted.items())]
    if tokens:
        hits.sort(key=lambda e: (not all(t in str(e["name"]).lower() for t in tokens), e["kpi_id"]))
    page = [{k: v for k, v in e.items() if not k.startswith("_")} for e in hits[offset : offset + limit]]
    return {"total": len(hits), "items": page, "facets": facets, "revision": index.rev}
