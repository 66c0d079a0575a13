"""Moving an environment's active version: the admin record first (under its lock), then the
runtime pointer the runner and scheduler read, when the environment is the tenant's own."""

from __future__ import annotations

from companyos.admin import catalog
from companyos.admin.catalog import ENVIRONMENTS, KpiRecord
from companyos.admin.context import runtime_env
from companyos.domain import clock


def activate(rec: KpiRecord, ver: str, env: str) -> None:
    """Make `ver` the active version of `env` (record first, under its lock; then the runtime pointer)."""
    slot = rec.envs[env]
    if slot["active"] and slot["active"] != ver:
        slot["history"] = [*slot["history"], slot["active"]]
    slot["active"] = ver
    meta = rec.version(ver)
    meta["envs_reached"] = sorted({*meta.get("envs_reached", []), env}, key=ENVIRONMENTS.index)
    meta.setdefault("activated_at", {})[env] = clock.now().isoformat()
    canary = rec.data.get("canary") or {}
    if (canary.get(env) or {}).get("version") == ver:
        canary.pop(env)
    rec.refresh_statuses()
    catalog.save(rec)
    sync_runtime(rec, env)


def sync_runtime(rec: KpiRecord, env: str) -> None:
    if env != runtime_env(rec.tenant_id):
        return
    ver = rec.active_in(env)
    if ver is not None:
        catalog.ensure_published(rec.tenant_id, rec.contract(ver))
    catalog.move_runtime_pointer(rec.tenant_id, rec.kpi_id, ver, paused=bool(rec.data.get("paused")))
