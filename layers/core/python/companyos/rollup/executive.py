"""GET /api/platform/executive: the platform admin's roll-up across the tenants in scope.

Scope = the tenants the caller is platform_admin of, minus inactive tenants, minus (with strict
residency) tenants outside the caller's home region; every skip is reported with its reason. Values
come from end-of-day snapshots only (KPI snapshots and inventory snapshots), never from live data,
and every roll-up is written to the PLATFORM audit chain with its purpose.

DynamoDB requests per roll-up (as of today): 1 Query (tenant index) + ceil(2N/100) BatchGetItem +
2 for the audit append (head Query + conditional Put).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.inventory_repo import read_snapshots
from companyos.adapters.repos import Catalog, Tenant
from companyos.domain import clock
from companyos.domain.auth import Principal
from companyos.domain.errors import Forbidden, InvalidPayload
from companyos.rollup.domains import Period, TenantData, build_domains
from companyos.runs.contracts import PERIODS

PLATFORM_CHAIN = "PLATFORM"
HOME_REGION_CLAIM = "custom:home_region"
DEFAULT_PERIOD = "28d"
MAX_CUSTOM_DAYS = max(PERIODS.values())


@dataclass(frozen=True)
class Scope:
    tenants: list[Tenant]
    skipped: list[dict[str, Any]]
    home_region: str
    strict_residency: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenants": [t.id for t in self.tenants],
            "skipped": self.skipped,
            "home_region": self.home_region,
            "strict_residency": self.strict_residency,
        }


def home_region_of(claims: Mapping[str, Any] | None, default: str) -> str:
    """The caller's home region: the `custom:home_region` claim, else the deployment's region."""
    return str((claims or {}).get(HOME_REGION_CLAIM) or default)


def platform_tenants(principal: Principal) -> set[str]:
    """Tenants the caller is platform_admin of; 403 platform_admin_required when there are none."""
    tenants = {t for t, role in principal.memberships.items() if role == "platform_admin"}
    if not tenants:
        raise Forbidden("the executive roll-up is for platform admins only", code="platform_admin_required")
    return tenants


def filter_scope(
    tenants: Iterable[Tenant], allowed: set[str], home_region: str, strict_residency: bool
) -> Scope:
    """Keep the caller's platform tenants; skip inactive ones and, with strict residency, those whose
    home region is not the caller's. Every skip is reported with its reason."""
    kept, skipped = [], []
    for t in sorted(tenants, key=lambda t: (t.name, t.id)):
        if t.id not in allowed:
            continue
        if not t.active:
            skipped.append({"id": t.id, "name": t.name, "reason": "inactive"})
        elif strict_residency and t.home_region != home_region:
            skipped.append(
                {
                    "id": t.id,
                    "name": t.name,
                    "reason": "residency",
                    "home_region": t.home_region,
                    "message": f"home region {t.home_region} is outside your home region {home_region} "
                    "(strict residency is on)",
                }
            )
        else:
            kept.append(t)
    return Scope(kept, skipped, home_region, strict_residency)


def resolve_scope(principal: Principal, home_region: str, strict_residency: bool) -> Scope:
    """One Query of the catalog's tenant index (no Scan), filtered to the caller's platform tenants."""
    allowed = platform_tenants(principal)
    return filter_scope(Catalog().list_tenants(), allowed, home_region, strict_residency)


def parse_period(period: str | None, start: str | None, end: str | None, today: date) -> Period:
    """7d / 28d / 90d / 365d ending today, or a custom start..end range (inclusive, end <= today),
    answered by the smallest standard window that covers it."""
    if start or end or period == "custom":
        if not (start and end):
            raise InvalidPayload(
                "a custom range needs both start and end (yyyy-mm-dd)",
                code="invalid_period",
                details={"path": "start" if not start else "end"},
            )
        try:
            s, e = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as exc:
            raise InvalidPayload(
                "start and end must be dates (yyyy-mm-dd)", code="invalid_period", details={"path": "start"}
            ) from exc
        days = (e - s).days + 1
        if days < 1 or e > today:
            raise InvalidPayload(
                "the range must end on or before today and not before it starts",
                code="invalid_period",
                details={"path": "end"},
            )
        if days > MAX_CUSTOM_DAYS:
            raise InvalidPayload(
                f"a custom range is at most {MAX_CUSTOM_DAYS} days",
                code="invalid_period",
                details={"path": "start"},
            )
        window = min((k for k, d in PERIODS.items() if d >= days), key=lambda k: PERIODS[k])
        return Period("custom", window, days, s, e)
    key = period or DEFAULT_PERIOD
    if key not in PERIODS:
        raise InvalidPayload(
            f"period must be one of {', '.join(PERIODS)} or custom",
            code="invalid_period",
            details={"path": "period"},
        )
    days = PERIODS[key]
    return Period(key, key, days, today - timedelta(days=days - 1), today)


def assemble(scope: Scope, period: Period, today: date) -> list[dict[str, Any]]:
    ids = [t.id for t in scope.tenants]
    kpi, posture = read_snapshots(ids, period.window, period.end, today)
    rows = []
    for t in scope.tenants:
        k, p = kpi.get(t.id), posture.get(t.id)
        rows.append(
            TenantData(
                tenant=t,
                snapshot=k.data if k else None,
                snapshot_at=k.computed_at if k else None,
                snapshot_day=k.day if k else None,
                posture=p.data if p else None,
                posture_at=p.computed_at if p else None,
            )
        )
    return build_domains(rows, period)


def audit(
    principal: Principal,
    action: str,
    purpose: str,
    scope: Scope,
    details: Mapping[str, Any],
    request_id: str = "",
) -> dict[str, Any]:
    return AuditTrail(PLATFORM_CHAIN).append(
        AuditEvent(
            actor=principal.email or principal.sub,
            role="platform_admin",
            action=action,
            target="tenants:" + ",".join(t.id for t in scope.tenants),
            reason=purpose,
            request_id=request_id,
            details={
                **details,
                "tenants": [t.id for t in scope.tenants],
                "skipped": [{"id": s["id"], "reason": s["reason"]} for s in scope.skipped],
            },
        )
    )


def executive(
    principal: Principal,
    *,
    period: str | None,
    start: str | None = None,
    end: str | None = None,
    purpose: str,
    home_region: str,
    strict_residency: bool,
    org_name: str,
    request_id: str = "",
    action: str = "platform:rollup",
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or clock.now()
    today = now.date()
    scope = resolve_scope(principal, home_region, strict_residency)
    p = parse_period(period, start, end, today)
    domains = assemble(scope, p, today)
    event = audit(principal, action, purpose, scope, {"period": p.to_dict()}, request_id)
    note = None
    if p.key == "custom":
        note = (
            f"custom range {p.start}..{p.end}: values are the {p.window} end-of-day snapshots of "
            f"{p.end}; sparklines are limited to the range"
        )
    return {
        "org": {"name": org_name},
        "generated_at": now.isoformat(),
        "period": {**p.to_dict(), "note": note},
        "scope": scope.to_dict(),
        "domains": domains,
        "audit": {"chain": PLATFORM_CHAIN, "record_id": event["record_id"], "purpose": purpose},
    }
