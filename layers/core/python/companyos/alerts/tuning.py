"""Per-tenant tuning: the effective rules (pack plus the tenant's tuning) and the escalation routes,
read and changed by a tenant admin. Every change is audited with its before and after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts.context import audit
from companyos.domain.alert_rules import EscalationRoutes, Rule, RuleTuning, load_pack, tune
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import InvalidPayload, NotFound


def _rule_view(rule: Rule, tuning: RuleTuning | None, routes: list[tuple[str, str]]) -> dict[str, Any]:
    doc = rule.model_dump(mode="json", exclude={"seed"})
    doc["enabled"] = not (tuning and tuning.enabled is False)
    doc["tuned"] = tuning.model_dump(exclude_none=True) if tuning else {}
    doc["deliver_to"] = [{"persona": p, "channel": c} for p, c in routes]
    return doc


def rules_view(principal: Principal, tenant_id: str) -> dict[str, Any]:
    authorize(principal, "alerts:view", tenant_id)
    pack, repo = load_pack(), AlertRepo(tenant_id)
    tunings = repo.tunings()
    out = []
    for r in pack.rules:
        t = tunings.get(r.id)
        effective = tune(r, t) if t else r
        out.append(_rule_view(effective, t, pack.routes_of(r)))
    return {"tenant": tenant_id, "pack_version": pack.version, "rules": out}


def tune_rule(
    principal: Principal, tenant_id: str, rule_id: str, change: Mapping[str, Any]
) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    pack, repo = load_pack(), AlertRepo(tenant_id)
    try:
        rule = pack.rule(rule_id)
    except KeyError as exc:
        raise NotFound(f"no alert rule '{rule_id}'", code="rule_not_found") from exc
    try:
        tuning = RuleTuning.model_validate(dict(change))
        tuned = tune(rule, tuning)
    except (ValidationError, ValueError) as exc:
        raise InvalidPayload(
            f"invalid tuning of {rule_id}: {_first_error(exc)}", code="invalid_tuning"
        ) from exc
    tunings = repo.tunings()
    before = tunings.get(rule_id)
    tunings[rule_id] = tuning
    repo.put_tunings(tunings)
    audit(
        tenant_id,
        principal.email,
        role,
        "alert.rule_tuned",
        None,
        rule=rule_id,
        before=before.model_dump(exclude_none=True) if before else None,
        after=tuning.model_dump(exclude_none=True),
    )
    return _rule_view(tuned, tuning, pack.routes_of(rule))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        return f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
    return str(exc)


def routes_view(principal: Principal, tenant_id: str) -> dict[str, Any]:
    authorize(principal, "alerts:view", tenant_id)
    repo = AlertRepo(tenant_id)
    custom = repo.routes()
    routes = custom or load_pack().escalation
    return {"tenant": tenant_id, "custom": custom is not None, **routes.model_dump(mode="json")}


def put_routes(principal: Principal, tenant_id: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    role = authorize(principal, "alerts:tune", tenant_id)
    try:
        routes = EscalationRoutes.model_validate(dict(doc))
    except ValidationError as exc:
        raise InvalidPayload(
            f"invalid escalation routes: {_first_error(exc)}", code="invalid_routes"
        ) from exc
    repo = AlertRepo(tenant_id)
    before = repo.routes()
    repo.put_routes(routes)
    audit(
        tenant_id,
        principal.email,
        role,
        "alert.routes_changed",
        None,
        before=before.model_dump(mode="json") if before else None,
        after=routes.model_dump(mode="json"),
    )
    return {"tenant": tenant_id, "custom": True, **routes.model_dump(mode="json")}
