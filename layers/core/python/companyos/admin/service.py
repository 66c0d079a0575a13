"""Admin use cases: every call authorizes, validates, changes the catalog under its lock, and appends
one audit event (actor, role, tenant, action, reason, approver, request id).

Lifecycle of a version: draft → approved (change request, 1 approver; 2 distinct for high
criticality; never the author) → active (published to dev directly, to stg/prod through a change
request; prod only inside the tenant's change window; promotion order dev → stg → prod) →
deprecated → retired (after the grace period, when active nowhere). Rollback moves an environment
back to its previous version in one call. Guardrails: nothing is submitted or published without an
active SLA (max duration > 0) and pre- and post-validation rules.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from pydantic import ValidationError

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.repos import Catalog
from companyos.admin import catalog, lineage, search
from companyos.admin.catalog import ENVIRONMENTS, ChangeWindow, KpiRecord, Pause
from companyos.domain import clock
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import Conflict, DomainError, Forbidden, InvalidPayload, NotFound
from companyos.runs import contracts
from companyos.runs.contracts import Contract, Rule, Schedule, Sla
from companyos.topology import SCHEDULES


class GuardrailViolation(DomainError):
    status = 422
    code = "guardrail_violation"


class ChangeWindowClosed(DomainError):
    status = 409
    code = "change_window_closed"


@dataclass(frozen=True)
class Ctx:
    """Who is calling, on which tenant, in which request; `now` is injectable for tests."""

    principal: Principal
    tenant_id: str
    request_id: str = ""
    approval_state_machine_arn: str = ""
    now: datetime = field(default_factory=lambda: clock.now())

    @property
    def actor(self) -> str:
        return self.principal.email or self.principal.sub


def _auth(ctx: Ctx, action: str) -> str:
    return authorize(ctx.principal, action, ctx.tenant_id)


def audit(
    ctx: Ctx, role: str, action: str, target: str, reason: str = "", approver: str = "", **details: Any
) -> dict[str, Any]:
    return AuditTrail(ctx.tenant_id).append(
        AuditEvent(
            actor=ctx.actor,
            role=role,
            action=action,
            target=target,
            reason=reason,
            request_id=ctx.request_id,
            approver=approver,
            details=details or None,
        )
    )


def runtime_env(tenant_id: str) -> str:
    """The promotion environment whose pointer the tenant's runs use (the tenant's `environment`)."""
    env = Catalog().get_tenant(tenant_id).environment
    return env if env in ENVIRONMENTS else "prod"


def required_approvals(criticality: str) -> int:
    return 2 if criticality == "high" else 1


# ---------------------------------------------------------------------------- guardrails


def check_guardrails(contract: Contract) -> None:
    if contract.sla.max_duration_s <= 0:
        raise GuardrailViolation(
            f"{contract.kpi_id} v{contract.version} has no active SLA (max_duration_s must be > 0)",
            code="guardrail_sla_missing",
        )
    if not contract.pre_rules or not contract.post_rules:
        raise GuardrailViolation(
            f"{contract.kpi_id} v{contract.version} needs pre- and post-validation rules before it ships",
            code="guardrail_validation_missing",
            details={"pre_rules": len(contract.pre_rules), "post_rules": len(contract.post_rules)},
        )


def check_change_window(tenant_id: str, env: str, now: datetime) -> None:
    if env != "prod":
        return
    window = catalog.change_window(tenant_id)
    if not window.is_open(now):
        raise ChangeWindowClosed(
            f"production changes are only allowed inside the change window of '{tenant_id}'",
            details={"window": window.to_dict(), "now": now.isoformat(), "next_open": window.next_open(now)},
        )


def _validate_contract(data: dict[str, Any]) -> Contract:
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise InvalidPayload(
            f"contract.{path}: {first['msg']}", code="invalid_contract", details={"path": path}
        ) from exc


def _env(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise InvalidPayload(
            f"unknown environment '{env}'", code="unknown_environment", details={"path": "env"}
        )
    return env


# ---------------------------------------------------------------------------- reads


def browse(ctx: Ctx, q: str, filters: dict[str, str], limit: int, offset: int) -> dict[str, Any]:
    _auth(ctx, "catalog:view")
    return search.search(ctx.tenant_id, q, filters, limit, offset, runtime_env(ctx.tenant_id))


def detail(ctx: Ctx, kpi_id: str) -> dict[str, Any]:
    _auth(ctx, "catalog:view")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    pauses = [p.to_dict() for p in catalog.pauses(ctx.tenant_id, kpi_id)]
    if rec is None:
        if kpi_id not in contracts.CONTRACTS:
            raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
        c = contracts.CONTRACTS[kpi_id]
        entry = search.entry_of_builtin(c)
        return {
            **{k: v for k, v in entry.items() if not k.startswith("_")},
            "revision": None,
            "contracts": {c.version: c.to_state()},
            "pauses": pauses,
            "runtime_env": runtime_env(ctx.tenant_id),
        }
    out = rec.to_dict()
    out.update(
        owner_kind="tenant",
        pauses=pauses,
        runtime_env=runtime_env(ctx.tenant_id),
        required_approvals=required_approvals(rec.criticality),
    )
    return out


def kpi_lineage(ctx: Ctx, kpi_id: str) -> dict[str, Any]:
    _auth(ctx, "catalog:view")
    return lineage.lineage(ctx.tenant_id, kpi_id, runtime_env(ctx.tenant_id))


def kpi_impact(ctx: Ctx, kpi_id: str, change: str, schedule_class: str | None = None) -> dict[str, Any]:
    _auth(ctx, "catalog:view")
    return lineage.impact(ctx.tenant_id, kpi_id, change, runtime_env(ctx.tenant_id), schedule_class)


# ---------------------------------------------------------------------------- drafts


def _builtin(kpi_id: str) -> Contract | None:
    return contracts.CONTRACTS.get(kpi_id)


def _new_version_meta(ctx: Ctx, contract: Contract, based_on: str | None, change: str) -> dict[str, Any]:
    return {
        "status": "draft",
        "author": ctx.actor,
        "created_at": ctx.now.isoformat(),
        "based_on": based_on,
        "change": change,
        "envs_reached": [],
        "approved_by": [],
        "contract": contract.to_state(),
    }


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
    role = _auth(ctx, "kpi:author")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    fresh = rec is None
    if rec is None and _builtin(kpi_id) is not None:
        # A tenant's first change to a built-in KPI: its record starts from the platform version,
        # live everywhere, so promotions and rollbacks have that baseline to come back to.
        rec, fresh = _adopt_builtin(ctx, kpi_id), False
    elif rec is None:
        rec = KpiRecord(ctx.tenant_id, kpi_id, {"pack": "custom", "criticality": "medium"})
    elif expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    rec.data.update({k: v for k, v in (meta or {}).items() if v is not None})
    known = list(rec.versions) + ([b.version] if (b := _builtin(kpi_id)) else [])
    ver = version or catalog.next_version(known)
    if ver in rec.versions:
        raise Conflict(f"{kpi_id} v{ver} already exists; drafts get a new version", code="version_exists")
    if contract is None:
        base = rec.current_version() if rec.versions else None
        source = rec.contract(base) if base else _builtin(kpi_id)
        if source is None:
            raise InvalidPayload(
                "a new KPI needs a contract", code="contract_required", details={"path": "contract"}
            )
        contract = source.to_state()
        based_on: str | None = base or source.version
    else:
        based_on = rec.current_version() if rec.versions else None
    draft = _validate_contract({**contract, "kpi_id": kpi_id, "version": ver, "tenant_id": ctx.tenant_id})
    rec.versions[ver] = _new_version_meta(ctx, draft, based_on, "draft")
    catalog.save(rec, create=fresh)
    audit(ctx, role, "kpi.draft.create", f"{kpi_id}@{ver}", reason, based_on=based_on)
    return rec.to_dict()


def update_draft(
    ctx: Ctx, kpi_id: str, ver: str, contract: dict[str, Any], expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = _auth(ctx, "kpi:author")

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
    role = _auth(ctx, "kpi:author")
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
    role = _auth(ctx, "kpi:author")
    rec = catalog.load(ctx.tenant_id, kpi_id)
    base = rec.contract(base_ver) if rec and base_ver in rec.versions else _builtin(kpi_id)
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


# ---------------------------------------------------------------------------- change requests


@cache
def _sfn() -> Any:
    return boto3.client("stepfunctions")


def _start_request(
    ctx: Ctx, role: str, rec: KpiRecord, ver: str, kind: str, env: str | None, reason: str
) -> dict[str, Any]:
    meta = rec.version(ver)
    if meta.get("pending_request"):
        raise Conflict(
            f"{rec.kpi_id} v{ver} already has a pending change request",
            code="approval_pending",
            details={"request_id": meta["pending_request"]},
        )
    if not ctx.approval_state_machine_arn:
        raise DomainError("the approval workflow is not configured", code="approvals_unavailable")
    request_id = f"cr-{uuid.uuid4().hex[:16]}"
    request = {
        "tenant_id": ctx.tenant_id,
        "request_id": request_id,
        "kind": kind,
        "kpi_id": rec.kpi_id,
        "version": ver,
        "env": env,
        "requested_by": ctx.actor,
        "role": role,
        "author": meta.get("author", ""),
        "criticality": rec.criticality,
        "required_approvals": required_approvals(rec.criticality),
        "reason": reason,
        "api_request_id": ctx.request_id,
    }
    meta["pending_request"] = request_id
    catalog.save(rec)
    arn = _sfn().start_execution(
        stateMachineArn=ctx.approval_state_machine_arn, name=request_id, input=json.dumps(request)
    )["executionArn"]
    audit(
        ctx, role, f"change.{kind}.submit", f"{rec.kpi_id}@{ver}", reason, change_request=request_id, env=env
    )
    return {"request_id": request_id, "status": "submitted", "execution_arn": arn, "request": request}


def submit(
    ctx: Ctx, kpi_id: str, ver: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """Ask for approval of a draft (Draft → Approved once approvers agree)."""
    role = _auth(ctx, "kpi:author")
    rec = catalog.require(ctx.tenant_id, kpi_id)
    if expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    if rec.version(ver)["status"] != "draft":
        raise Conflict(f"{kpi_id} v{ver} is not a draft", code="invalid_transition")
    check_guardrails(rec.contract(ver))
    return _start_request(ctx, role, rec, ver, "approve", None, reason)


def _check_promotion(rec: KpiRecord, ver: str, env: str) -> None:
    meta = rec.version(ver)
    if meta["status"] not in ("approved", "active"):
        raise Conflict(
            f"{rec.kpi_id} v{ver} is {meta['status']}: only approved versions ship", code="invalid_transition"
        )
    if rec.active_in(env) == ver:
        raise Conflict(f"{rec.kpi_id} v{ver} is already active in {env}", code="already_active")
    i = ENVIRONMENTS.index(env)
    if i and ENVIRONMENTS[i - 1] not in meta.get("envs_reached", []):
        raise Conflict(
            f"promote {rec.kpi_id} v{ver} to {ENVIRONMENTS[i - 1]} before {env} (dev → stg → prod)",
            code="promotion_out_of_order",
        )
    check_guardrails(rec.contract(ver))


def publish(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """Publish a version to an environment: dev at once, stg/prod through a change request."""
    role = _auth(ctx, "kpi:deploy")
    env = _env(env)
    rec = catalog.require(ctx.tenant_id, kpi_id)
    if expected_revision is not None and rec.revision != expected_revision:
        raise catalog.conflict(rec, ctx.tenant_id, kpi_id)
    _check_promotion(rec, ver, env)
    if env != "dev":
        return _start_request(ctx, role, rec, ver, "promote", env, reason)
    activate(rec, ver, env)
    audit(ctx, role, "kpi.publish", f"{kpi_id}@{ver}", reason, env=env)
    return {"status": "active", "env": env, "record": rec.to_dict()}


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
    _sync_runtime(rec, env)


def _sync_runtime(rec: KpiRecord, env: str) -> None:
    if env != runtime_env(rec.tenant_id):
        return
    ver = rec.active_in(env)
    if ver is not None:
        catalog.ensure_published(rec.tenant_id, rec.contract(ver))
    catalog.move_runtime_pointer(rec.tenant_id, rec.kpi_id, ver, paused=bool(rec.data.get("paused")))


def apply_request(request: dict[str, Any]) -> dict[str, Any]:
    """The approved change (the approval state machine's Apply step)."""
    rec = catalog.require(request["tenant_id"], request["kpi_id"])
    ver, meta = request["version"], rec.version(request["version"])
    approvers = [a["approver"] for a in (request.get("decision") or {}).get("approvals", [])]
    meta.pop("pending_request", None)
    if request["kind"] == "approve":
        meta.update(status="approved", approved_by=approvers, approved_at=clock.now().isoformat())
        catalog.ensure_published(rec.tenant_id, rec.contract(ver))
        catalog.save(rec)
    else:
        activate(rec, ver, request["env"])
    return {
        "kpi_id": rec.kpi_id,
        "version": ver,
        "status": rec.version(ver)["status"],
        "approvers": approvers,
    }


def release_request(request: dict[str, Any]) -> None:
    """A rejected or expired request frees its version for a new one."""
    rec = catalog.load(request["tenant_id"], request["kpi_id"])
    if rec is None or request["version"] not in rec.versions:
        return
    if rec.version(request["version"]).pop("pending_request", None):
        catalog.save(rec)


# ---------------------------------------------------------------------------- deployment controls


def unpublish(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    role = _auth(ctx, "kpi:deploy")
    env = _env(env)
    check_change_window(ctx.tenant_id, env, ctx.now)

    def change(rec: KpiRecord) -> None:
        if rec.active_in(env) != ver:
            raise Conflict(f"{kpi_id} v{ver} is not active in {env}", code="not_active")
        rec.envs[env]["history"] = [*rec.envs[env]["history"], ver]
        rec.envs[env]["active"] = None
        rec.refresh_statuses()

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    _sync_runtime(rec, env)
    audit(ctx, role, "kpi.unpublish", f"{kpi_id}@{ver}", reason, env=env)
    return rec.to_dict()


def rollback(
    ctx: Ctx, kpi_id: str, ver: str, env: str, expected_revision: int | None, reason: str = ""
) -> dict[str, Any]:
    """One call: `env` goes back from `ver` to the version active before it (the hotfix path; allowed
    outside the change window because it restores a state that was already approved and live)."""
    role = _auth(ctx, "kpi:deploy")
    env = _env(env)

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
    _sync_runtime(rec, env)
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
    role = _auth(ctx, "kpi:deploy")
    if not reason:
        raise InvalidPayload(
            "a pause needs a reason (shown on the maintenance badge)",
            code="reason_required",
            details={"path": "reason"},
        )
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidPayload(
            "ends_at must be after starts_at", code="invalid_window", details={"path": "ends_at"}
        )
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
        _flag_paused(ctx, kpi_id, True)
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


def _adopt_builtin(ctx: Ctx, kpi_id: str) -> KpiRecord:
    """Give the tenant its own record of a built-in KPI (its version, approved and live everywhere),
    so tenant-level controls (pause) have a pointer to act on."""
    builtin = _builtin(kpi_id)
    if builtin is None:
        raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
    copy = builtin.model_copy(update={"tenant_id": ctx.tenant_id})
    rec = KpiRecord(
        ctx.tenant_id,
        kpi_id,
        {"pack": "health-contracts", "owner": "platform", "criticality": "high", "name": builtin.name},
    )
    meta = _new_version_meta(ctx, copy, None, "adopted from the built-in pack")
    meta.update(status="active", approved_by=["platform"], envs_reached=list(ENVIRONMENTS))
    rec.versions[copy.version] = meta
    for env in ENVIRONMENTS:
        rec.envs[env]["active"] = copy.version
    catalog.save(rec, create=True)
    audit(
        ctx,
        authorize(ctx.principal, "kpi:author", ctx.tenant_id),
        "kpi.adopt",
        f"{kpi_id}@{copy.version}",
        "tenant copy of the built-in contract",
    )
    return rec


def _flag_paused(ctx: Ctx, kpi_id: str, paused: bool) -> None:
    rec = catalog.load(ctx.tenant_id, kpi_id) or _adopt_builtin(ctx, kpi_id)
    rec.data["paused"] = paused
    catalog.save(rec)
    _sync_runtime(rec, runtime_env(ctx.tenant_id))


def resume(ctx: Ctx, kpi_id: str, ver: str | None, pause_id: str | None, reason: str = "") -> dict[str, Any]:
    role = _auth(ctx, "kpi:deploy")
    removed = catalog.delete_pauses(ctx.tenant_id, kpi_id, pause_id)
    if not removed:
        raise NotFound(f"{kpi_id} has no such pause", code="pause_not_found")
    left = catalog.pauses(ctx.tenant_id, kpi_id)
    if not any(p.scope == "global" for p in left):
        rec = catalog.load(ctx.tenant_id, kpi_id)
        if rec is not None and rec.data.get("paused"):
            _flag_paused(ctx, kpi_id, False)
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
    role = _auth(ctx, "kpi:deploy")
    env = _env(env)
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


def deprecate(
    ctx: Ctx, kpi_id: str, ver: str, grace_days: int, expected_revision: int | None, reason: str
) -> dict[str, Any]:
    role = _auth(ctx, "kpi:deploy")

    def change(rec: KpiRecord) -> None:
        meta = rec.version(ver)
        if meta["status"] not in ("approved", "active"):
            raise Conflict(f"{kpi_id} v{ver} is {meta['status']}", code="invalid_transition")
        meta.update(
            status="deprecated",
            deprecated_at=ctx.now.isoformat(),
            retire_after=(ctx.now + timedelta(days=grace_days)).isoformat(),
        )

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    warned = lineage.impact(ctx.tenant_id, kpi_id, "deprecate", runtime_env(ctx.tenant_id))
    audit(
        ctx,
        role,
        "kpi.deprecate",
        f"{kpi_id}@{ver}",
        reason,
        grace_days=grace_days,
        consumers=warned["affected"],
    )
    return {"record": rec.to_dict(), "warned": warned}


def retire(ctx: Ctx, kpi_id: str, ver: str, expected_revision: int | None, reason: str) -> dict[str, Any]:
    role = _auth(ctx, "kpi:deploy")
    archived = lineage.lineage(ctx.tenant_id, kpi_id, runtime_env(ctx.tenant_id))

    def change(rec: KpiRecord) -> None:
        meta = rec.version(ver)
        if meta["status"] != "deprecated":
            raise Conflict(f"deprecate {kpi_id} v{ver} before retiring it", code="invalid_transition")
        if ctx.now < datetime.fromisoformat(meta["retire_after"]):
            raise Conflict(
                f"the grace period of {kpi_id} v{ver} runs until {meta['retire_after']}",
                code="grace_period_running",
            )
        live = [e for e in ENVIRONMENTS if rec.active_in(e) == ver]
        if live:
            raise Conflict(f"{kpi_id} v{ver} is still active in {', '.join(live)}", code="still_active")
        meta.update(status="retired", retired_at=ctx.now.isoformat(), archived_lineage=archived)

    rec, _ = catalog.mutate(ctx.tenant_id, kpi_id, expected_revision, change)
    audit(ctx, role, "kpi.retire", f"{kpi_id}@{ver}", reason)
    return rec.to_dict()


# ---------------------------------------------------------------------------- settings and audit


def get_change_window(ctx: Ctx) -> dict[str, Any]:
    _auth(ctx, "catalog:view")
    w = catalog.change_window(ctx.tenant_id)
    return {**w.to_dict(), "open_now": w.is_open(ctx.now), "next_open": w.next_open(ctx.now)}


def set_change_window(ctx: Ctx, days: list[int], start: str, end: str, reason: str) -> dict[str, Any]:
    role = _auth(ctx, "admin:write")
    if any(d not in range(7) for d in days):
        raise InvalidPayload(
            "days are 0 (Monday) … 6 (Sunday)", code="invalid_window", details={"path": "days"}
        )
    window = ChangeWindow(days=tuple(sorted(set(days))), start=start, end=end)
    catalog.put_change_window(ctx.tenant_id, window)
    audit(ctx, role, "settings.change_window", ctx.tenant_id, reason, window=window.to_dict())
    return get_change_window(ctx)


def audit_events(ctx: Ctx, limit: int) -> dict[str, Any]:
    _auth(ctx, "audit:view")
    return {
        "tenant_id": ctx.tenant_id,
        "events": AuditTrail(ctx.tenant_id).events(limit=limit, newest_first=True),
    }


def audit_verify(ctx: Ctx) -> dict[str, Any]:
    _auth(ctx, "audit:view")
    return {"tenant_id": ctx.tenant_id, **AuditTrail(ctx.tenant_id).verify().to_dict()}


def evidence_bundle(ctx: Ctx) -> dict[str, Any]:
    """Audit chain, signed digests, verification, change requests and the catalog records, with checksums.
    The export itself is audited (after the bundle was cut, so it is the next event)."""
    from companyos.adapters.audit import evidence_bundle as bundle
    from companyos.admin import approvals

    role = _auth(ctx, "audit:export")
    extra = {
        "approvals.json": approvals.list_requests(ctx.tenant_id, None),
        "catalog.json": [r.to_dict() for r in catalog.records(ctx.tenant_id)],
    }
    out = bundle(AuditTrail(ctx.tenant_id), extra, generated_by=ctx.actor)
    audit(ctx, role, "audit.export", ctx.tenant_id, "evidence bundle", manifest_sha256=out["manifest_sha256"])
    return out


def forbid_self_approval(approver: str, request: dict[str, Any]) -> None:
    if approver in (request.get("requested_by"), request.get("author")):
        raise Forbidden(
            "the author or requester of a change cannot approve it (4-eyes)", code="author_cannot_approve"
        )
