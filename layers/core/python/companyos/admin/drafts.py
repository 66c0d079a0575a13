"""Drafts: a new version (from a full contract, a copy of the newest or of the built-in one), edits
of a draft and of a KPI's metadata, and the schedule / SLA / validation edits that derive a new draft
from an existing version (versions are immutable) with the impact preview."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from companyos.admin import catalog, lineage
from companyos.admin.baseline import adopt_builtin, builtin, new_version_meta
from companyos.admin.catalog import KpiRecord
from companyos.admin.context import Ctx, audit, auth, runtime_env
from companyos.domain.errors import Conflict, InvalidPayload, NotFound
from companyos.runs.contracts import Contract, Rule, Schedule, Sla
from companyos.topology import SCHEDULES


def _validate_contract(data: dict[str, Any]) -> Contract:
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise InvalidPayload(
            f"contract.{path}: {first['msg']}", code="invalid_contract", details={"path": path}
        ) from exc


def create_draft(
    ctx: Ctx,
    kpi_id: str,
    contract: dict[str, Any] | None,
    version: str | None = None,
    meta: dict[str, Any] | None = None,
    expected_revision: int | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """A new draft version: from a full contract, or a copy of the newest version / the built-in one."""
    role = auth(ctx, "kpi:author")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    fresh = rec is None
    if rec is None and builtin(kpi_id) is not None:
        # A tenant's first change to a built-in KPI: its record starts from the platform version,
        # live everywhere, so promotions and rollbacks have that baseline to come back to.
        rec, fresh = adopt_builtin(ctx, kpi_id), False
    elif rec is None:
        rec = KpiRecord(ctx.tenant_id, kpi_id, {"pack": "custom", "criticality": "medium"})
    elif expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    rec.data.update({k: v for k, v in (meta or {}).items() if v is not None})
    known = list(rec.versions) + ([b.version] if (b := builtin(kpi_id)) else [])
    ver = version or catalog.next_version(known)
    if ver in rec.versions:
        raise Conflict(f"{kpi_id} v{ver} already exists; drafts get a new version", code="version_exists")
    if contract is None:
        base = rec.current_version() if rec.versions else None
        source = rec.contract(base) if base else builtin(kpi_id)
        if source is None:
            raise InvalidPayload(
                "a new KPI needs a contract", code="contract_required", details={"path": "contract"}
            )
        contract = source.to_state()
        based_on: str | None = base or source.version
    else:
        based_on = rec.current_version() if rec.versions else None
    draft = _validate_contract({**contract, "kpi_id": kpi_id, "version": ver, "tenant_id": ctx.tenant_id})
    rec.versions[ver] = new_version_meta(ctx, draft, based_on, "draft")
    catalog.save(rec, create=fresh)
    audit(ctx, role, "kpi.draft.create", f"{kpi_id}@{ver}", reason, based_on=based_on)
    return rec.to_dict()


def update_draft(
    ctx: Ctx, kpi_id: str, ver: str, contract: dict[str, Any], expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = auth(ctx, "kpi:author")

    def change(rec: KpiRecord) -> None:
        meta = rec.version(ver)
        if meta["status"] != "draft":
            raise Conflict(f"{kpi_id} v{ver} is {meta['status']}: only drafts are edited", code="not_a_draft")
        if meta.get("pending_request"):
            raise Conflict(f"{kpi_id} v{ver} is waiting for approval", code="approval_pending")
        draft = _validate_contract({**contract, "kpi_id": kpi_id, "version": ver, "tenant_id": ctx.tenant_id})
        meta["contract"] = draft.to_state()
        meta["edited_by"], meta["edited_at"] = ctx.actor, ctx.now.isoformat()

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    audit(ctx, role, "kpi.draft.update", f"{kpi_id}@{ver}", reason, revision=rec.revision)
    return rec.to_dict()


def update_meta(
    ctx: Ctx, kpi_id: str, meta: dict[str, Any], expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = auth(ctx, "kpi:author")
    changes = {k: v for k, v in meta.items() if v is not None}

    def change(rec: KpiRecord) -> None:
        rec.data.update(changes)

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    audit(ctx, role, "kpi.meta.update", kpi_id, reason, changes=changes)
    return rec.to_dict()


def derive(
    ctx: Ctx,
    kpi_id: str,
    base_ver: str,
    kind: str,
    patch: dict[str, Any],
    preview: bool,
    expected_revision: int | None,
    reason: str = "",
) -> dict[str, Any]:
    """A schedule / SLA / validation edit: a new draft derived from `base_ver` (versions are immutable),
    with the impact preview. `preview=True` only returns the preview and writes nothing."""
    role = auth(ctx, "kpi:author")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    base = rec.contract(base_ver) if rec and base_ver in rec.versions else builtin(kpi_id)
    if base is None or base.version != base_ver:
        raise NotFound(f"{kpi_id} has no version {base_ver}", code="version_not_found")
    update = _patch(kind, patch)
    new_schedule = update["schedule"].schedule_class if "schedule" in update else None
    preview_doc = {
        "impact": lineage.impact(ctx.tenant_id, kpi_id, kind, runtime_env(ctx.tenant_id), new_schedule),
        "before": {k: _dump(getattr(base, k)) for k in update},
        "after": {k: _dump(v) for k, v in update.items()},
    }
    if preview:
        return {"preview": preview_doc}
    contract = {**base.to_state(), **{k: _dump(v) for k, v in update.items()}}
    out = create_draft(
        ctx, kpi_id, contract, expected_revision=expected_revision, reason=reason or f"{kind} edit"
    )
    new_ver = max(out["versions"], key=catalog.semver_key)
    audit(
        ctx,
        role,
        f"kpi.{kind}.edit",
        f"{kpi_id}@{new_ver}",
        reason,
        based_on=base_ver,
        after=preview_doc["after"],
    )
    return {**out, "draft_version": new_ver, "preview": preview_doc}


def _dump(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _patch(kind: str, patch: dict[str, Any]) -> dict[str, Any]:
    try:
        if kind == "schedule":
            klass = patch.get("schedule_class")
            spec = next((s for s in SCHEDULES if s.schedule_class == klass), None)
            if spec is None:
                raise InvalidPayload(
                    f"unknown schedule class '{klass}'",
                    code="unknown_schedule",
                    details={"path": "schedule_class"},
                )
            return {"schedule": Schedule(schedule_class=spec.schedule_class, cron=spec.expression)}
        if kind == "sla":
            return {"sla": Sla.model_validate(patch)}
        if kind == "validation":
            out: dict[str, Any] = {}
            for key in ("pre_rules", "post_rules"):
                if patch.get(key) is not None:
                    out[key] = tuple(Rule.model_validate(r) for r in patch[key])
            return out
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise InvalidPayload(
            f"{kind}.{path}: {first['msg']}", code="invalid_contract", details={"path": path}
        ) from exc
    raise InvalidPayload(f"unknown edit '{kind}'", code="unknown_change")
