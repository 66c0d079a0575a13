"""Deployment controls: unpublish, rollback (the one-call hotfix path), pause and resume (globally,
per entity or for a time window; a global pause flags the runtime pointer), and canaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.admin import catalog
from companyos.admin.baseline import adopt_builtin, builtin
from companyos.admin.catalog import KpiRecord, Pause
from companyos.admin.context import Ctx, audit, auth, runtime_env
from companyos.admin.guardrails import check_change_window, check_guardrails, known_env
from companyos.admin.runtime import sync_runtime
from companyos.domain.errors import Conflict, InvalidPayload, NotFound


def unpublish(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = auth(ctx, "kpi:deploy")
    env = known_env(env)
    check_change_window(ctx.tenant_id, env, ctx.now)

    def change(rec: KpiRecord) -> None:
        if rec.active_in(env) != ver:
            raise Conflict(f"{kpi_id} v{ver} is not active in {env}", code="not_active")
        rec.envs[env]["history"] = [*rec.envs[env]["history"], ver]
        rec.envs[env]["active"] = None
        rec.refresh_statuses()

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    sync_runtime(rec, env)
    audit(ctx, role, "kpi.unpublish", f"{kpi_id}@{ver}", reason, env=env)
    return rec.to_dict()


def rollback(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """One call: `env` goes back from `ver` to the version active before it (the hotfix path; allowed
    outside the change window because it restores a state that was already approved and live)."""
    role = auth(ctx, "kpi:deploy")
    env = known_env(env)

    def change(rec: KpiRecord) -> str:
        slot = rec.envs[env]
        if slot["active"] != ver:
            raise Conflict(
                f"{kpi_id} v{ver} is not active in {env}",
                code="not_active",
                details={"active": slot["active"]},
            )
        history = [v for v in slot["history"] if v != ver and rec.version(v)["status"] != "retired"]
        if not history:
            raise Conflict(f"{kpi_id} has no previous version in {env}", code="nothing_to_roll_back")
        previous = history[-1]
        slot["history"], slot["active"] = history[:-1], previous
        rec.version(ver)["rolled_back_at"] = ctx.now.isoformat()
        rec.refresh_statuses()
        return str(previous)

    rec, previous = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    sync_runtime(rec, env)
    audit(ctx, role, "kpi.rollback", f"{kpi_id}@{ver}", reason, env=env, to=previous)
    return {"env": env, "from": ver, "to": previous, "record": rec.to_dict()}


def pause(
    ctx: Ctx,
    kpi_id: str,
    ver: str | None,
    entities: list[str],
    starts_at: datetime | None,
    ends_at: datetime | None,
    eta: str | None,
    reason: str,
) -> dict[str, Any]:
    """Pause a KPI: globally, for some entities, or for a time window. A global pause also flags the
    runtime pointer (the scheduler skips paused pointers)."""
    role = auth(ctx, "kpi:deploy")
    if not reason.strip():
        raise InvalidPayload(
            "a pause needs a reason (shown on the maintenance badge)",
            code="reason_required",
            details={"path": "reason"},
        )
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidPayload(
            "ends_at must be after starts_at", code="invalid_window", details={"path": "ends_at"}
        )
    if ends_at and ends_at <= ctx.now:
        raise InvalidPayload(
            "ends_at is in the past: the pause would never apply",
            code="invalid_window",
            details={"path": "ends_at"},
        )
    require_version(ctx.tenant_id, kpi_id, ver)
    scope = "entities" if entities else ("window" if (starts_at or ends_at) else "global")
    p = Pause(
        pause_id=catalog.new_pause_id(),
        kpi_id=kpi_id,
        scope=scope,  # type: ignore[arg-type]
        reason=reason,
        created_by=ctx.actor,
        created_at=ctx.now.isoformat(),
        entities=tuple(entities),
        starts_at=starts_at.isoformat() if starts_at else None,
        ends_at=ends_at.isoformat() if ends_at else None,
        eta=eta,
    )
    if scope == "global":
        flag_paused(ctx, kpi_id, True)
    catalog.put_pause(ctx.tenant_id, p)
    audit(
        ctx,
        role,
        "kpi.pause",
        f"{kpi_id}@{ver or '*'}",
        reason,
        scope=scope,
        entities=list(entities),
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        eta=eta,
        pause_id=p.pause_id,
    )
    return {"pause": p.to_dict(), "pauses": [x.to_dict() for x in catalog.pauses(ctx.tenant_id, kpi_id)]}


def require_version(tenant_id: str, kpi_id: str, ver: str | None) -> None:
    """404 unless the KPI is in the tenant's catalog (or the built-in pack) with that version."""
    rec = catalog.load(tenant_id, kpi_id)
    if rec is not None:
        if ver is not None:
            rec.version(ver)  # raises version_not_found
        return
    base = builtin(kpi_id)
    if base is None:
        raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
    if ver is not None and ver != base.version:
        raise NotFound(
            f"{kpi_id} has no version {ver} (the built-in is {base.version})", code="version_not_found"
        )


def flag_paused(ctx: Ctx, kpi_id: str, paused: bool) -> None:
    rec = catalog.load(ctx.tenant_id, kpi_id) or adopt_builtin(ctx, kpi_id)
    rec.data["paused"] = paused
    catalog.save(rec)
    sync_runtime(rec, runtime_env(ctx.tenant_id))


def resume(ctx: Ctx, kpi_id: str, ver: str | None, pause_id: str | None, reason: str = "") -> dict[str, Any]:
    role = auth(ctx, "kpi:deploy")
    removed = catalog.delete_pauses(ctx.tenant_id, kpi_id, pause_id)
    if not removed:
        raise NotFound(f"{kpi_id} has no such pause", code="pause_not_found")
    left = catalog.pauses(ctx.tenant_id, kpi_id)
    if not any(p.scope == "global" for p in left):
        rec = catalog.load(ctx.tenant_id, kpi_id)
        if rec is not None and rec.data.get("paused"):
            flag_paused(ctx, kpi_id, False)
    audit(ctx, role, "kpi.resume", f"{kpi_id}@{ver or '*'}", reason, pause_ids=[p.pause_id for p in removed])
    return {
        "resumed": [p.to_dict() for p in removed],
        "pauses": [p.to_dict() for p in left],
        "note": "post-validation is enforced on the first run after resume",
    }


def canary(
    ctx: Ctx,
    kpi_id: str,
    ver: str,
    env: str,
    percent: int,
    entities: list[str],
    expected_revision: int | None,
    reason: str = "",
) -> dict[str, Any]:
    role = auth(ctx, "kpi:deploy")
    env = known_env(env)
    check_change_window(ctx.tenant_id, env, ctx.now)

    def change(rec: KpiRecord) -> None:
        if rec.version(ver)["status"] not in ("approved", "active"):
            raise Conflict(f"{kpi_id} v{ver} is not approved", code="invalid_transition")
        check_guardrails(rec.contract(ver))
        canaries = rec.data.setdefault("canary", {})
        if percent == 0 and not entities:
            canaries.pop(env, None)
        else:
            canaries[env] = {
                "version": ver,
                "percent": percent,
                "entities": entities,
                "since": ctx.now.isoformat(),
            }

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    audit(ctx, role, "kpi.canary", f"{kpi_id}@{ver}", reason, env=env, percent=percent, entities=entities)
    return rec.to_dict()
