"""Tenant-scoped repositories. Every repository is constructed for one tenant, so a handler cannot
read another tenant's data by accident; SDK errors become domain exceptions here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.errors import Conflict, NotFound
from companyos.store.models import CatalogItem, KpiLogItem, ScoreItem, SignalItem

TENANT_INDEX_PK = "TENANTS"


def _now() -> datetime:
    return datetime.now(UTC)


def _is_condition_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None) or ""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return cause == "ConditionalCheckFailedException" or any(
        r is not None and r.code == "ConditionalCheckFailed" for r in reasons
    )


# ---------------------------------------------------------------------------- catalog


def _upsert(item: CatalogItem) -> None:
    """Create or replace a catalog item, still guarded by its version (optimistic locking)."""
    with contextlib.suppress(CatalogItem.DoesNotExist):
        item.version = CatalogItem.get(item.pk, item.sk).version
    try:
        item.save()
    except PutError as exc:
        if _is_condition_failure(exc):
            raise Conflict(f"{item.kind} was changed concurrently; retry", code="version_conflict") from exc
        raise


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    environment: str
    active: bool
    home_region: str
    dora_benchmark: str
    profile: str  # e.g. ops-heavy / admin-heavy (demo) — free text


class Catalog:
    """Platform-level catalog access (tenants, memberships). Tenant data goes through TenantCatalog."""

    def put_tenant(self, tenant: Tenant) -> None:
        data = tenant.__dict__.copy()
        _upsert(CatalogItem(pk=f"TENANT#{tenant.id}", sk="META", kind="tenant", data=data, updated_at=_now()))
        _upsert(
            CatalogItem(pk=TENANT_INDEX_PK, sk=tenant.id, kind="tenant_index", data=data, updated_at=_now())
        )

    def get_tenant(self, tenant_id: str) -> Tenant:
        try:
            item = CatalogItem.get(f"TENANT#{tenant_id}", "META")
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(f"tenant '{tenant_id}' does not exist", code="tenant_not_found") from exc
        return Tenant(**item.data)

    def list_tenants(self) -> list[Tenant]:
        return [Tenant(**i.data) for i in CatalogItem.query(TENANT_INDEX_PK)]

    def put_member(self, tenant_id: str, email: str, role: str, display: str) -> None:
        _upsert(
            CatalogItem(
                pk=f"TENANT#{tenant_id}",
                sk=f"MEMBER#{email}",
                kind="member",
                data={"email": email, "role": role, "display": display, "tenant_id": tenant_id},
                gsi1pk=f"USER#{email}",
                gsi1sk=f"TENANT#{tenant_id}",
                updated_at=_now(),
            )
        )

    def memberships_of(self, email: str) -> dict[str, str]:
        items = CatalogItem.by_user.query(f"USER#{email}")
        return {i.data["tenant_id"]: i.data["role"] for i in items}

    def tenant(self, tenant_id: str) -> TenantCatalog:
        return TenantCatalog(tenant_id)


class TenantCatalog:
    """Catalog items of one tenant: services, source mappings."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._pk = f"TENANT#{tenant_id}"

    def map_source_entity(self, source: str, entity: str, service: str, domain: str) -> None:
        _upsert(
            CatalogItem(
                pk=self._pk,
                sk=f"SOURCEMAP#{source}#{entity}",
                kind="source_map",
                data={"source": source, "entity": entity, "service": service, "domain": domain},
                updated_at=_now(),
            )
        )

    def source_map(self, source: str) -> dict[str, dict[str, str]]:
        items = CatalogItem.query(self._pk, CatalogItem.sk.startswith(f"SOURCEMAP#{source}#"))
        return {i.data["entity"]: i.data for i in items}


# ---------------------------------------------------------------------------- signals


@dataclass(frozen=True)
class StoredSignal:
    kind: str
    source: str
    signal_id: str
    occurred_at: datetime
    entity: str | None
    service: str | None
    delivery_id: str
    attributes: dict[str, Any]


class SignalStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def put_delivery(
        self, source: str, delivery_id: str, signals: Iterable[StoredSignal], retention_days: int
    ) -> bool:
        """Store all signals of one delivery atomically, once. False if the delivery was seen before."""
        now = _now()
        marker = SignalItem(
            pk=f"{self.tenant_id}#delivery",
            sk=f"{source}#{delivery_id}",
            tenant_id=self.tenant_id,
            kind="delivery",
            source=source,
            signal_id=delivery_id,
            occurred_at=now,
            received_at=now,
            delivery_id=delivery_id,
            expires_at=now + timedelta(days=retention_days),
        )
        items = [marker] + [self._item(s, now, retention_days) for s in signals]
        try:
            with TransactWrite(connection=Connection(region=getattr(SignalItem.Meta, "region", None))) as tx:
                for item in items:
                    tx.save(item, condition=SignalItem.pk.does_not_exist())
        except TransactWriteError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def _item(self, s: StoredSignal, now: datetime, retention_days: int) -> SignalItem:
        return SignalItem(
            pk=f"{self.tenant_id}#{s.kind}",
            sk=f"{s.occurred_at.isoformat()}#{s.signal_id}",
            tenant_id=self.tenant_id,
            kind=s.kind,
            source=s.source,
            signal_id=s.signal_id,
            occurred_at=s.occurred_at,
            received_at=now,
            entity=s.entity,
            service=s.service,
            delivery_id=s.delivery_id,
            attributes=s.attributes,
            expires_at=now + timedelta(days=retention_days),
        )

    def query(self, kind: str, since: datetime, until: datetime) -> Iterator[StoredSignal]:
        cond = SignalItem.sk.between(since.isoformat(), until.isoformat() + "~")
        for i in SignalItem.query(f"{self.tenant_id}#{kind}", cond):
            yield StoredSignal(
                kind=i.kind,
                source=i.source,
                signal_id=i.signal_id,
                occurred_at=i.occurred_at,
                entity=i.entity,
                service=i.service,
                delivery_id=i.delivery_id,
                attributes=i.attributes or {},
            )


# ---------------------------------------------------------------------------- kpi run log


class RunLog:
    """Append-only KPI run log of one tenant. A row, once written, is never overwritten."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def _pk(self, run_id: str) -> str:
        return f"{self.tenant_id}#RUN#{run_id}"

    def append(
        self,
        run_id: str,
        sk: str,
        record: str,
        data: dict[str, Any],
        *,
        kpi_id: str | None = None,
        started_at: str | None = None,
    ) -> bool:
        """Write one row; False when that exact row already exists (a retried step), never overwrite."""
        item = KpiLogItem(pk=self._pk(run_id), sk=sk, record=record, data=data, written_at=_now())
        if kpi_id and started_at:
            item.tenant_kpi = f"{self.tenant_id}#{kpi_id}"
            item.started_at = f"{started_at}#{run_id}"
        try:
            item.save(condition=KpiLogItem.pk.does_not_exist())
        except PutError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def rows(self, run_id: str) -> list[KpiLogItem]:
        rows = list(KpiLogItem.query(self._pk(run_id)))
        if not rows:
            raise NotFound(f"run '{run_id}' does not exist for this tenant", code="run_not_found")
        return rows

    def row(self, run_id: str, sk: str) -> dict[str, Any] | None:
        try:
            return KpiLogItem.get(self._pk(run_id), sk).data
        except KpiLogItem.DoesNotExist:
            return None

    def recent_runs(self, kpi_id: str, limit: int = 20) -> list[dict[str, Any]]:
        items = KpiLogItem.by_kpi.query(f"{self.tenant_id}#{kpi_id}", scan_index_forward=False, limit=limit)
        return [i.data for i in items]


# ---------------------------------------------------------------------------- score snapshots


class ScoreStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._pk = f"TENANT#{tenant_id}"

    def put_snapshot(self, period: str, data: dict[str, Any], computed_at: datetime) -> None:
        """Latest snapshot (what dashboards read) + the end-of-day history item of that day."""
        day = computed_at.date().isoformat()
        for sk in (f"SNAP#{period}#LATEST", f"SNAP#{period}#{day}"):
            ScoreItem(pk=self._pk, sk=sk, computed_at=computed_at, data=data).save()

    def latest(self, period: str) -> tuple[dict[str, Any], datetime] | None:
        """One GetItem: the precomputed snapshot for a period."""
        try:
            item = ScoreItem.get(self._pk, f"SNAP#{period}#LATEST")
        except ScoreItem.DoesNotExist:
            return None
        return item.data, item.computed_at

    def history(self, period: str, days: int) -> list[tuple[str, dict[str, Any]]]:
        start = (_now() - timedelta(days=days)).date().isoformat()
        cond = ScoreItem.sk.between(f"SNAP#{period}#{start}", f"SNAP#{period}#9999")
        return [(i.sk.rsplit("#", 1)[1], i.data) for i in ScoreItem.query(self._pk, cond)]


__all__ = [
    "Catalog",
    "Conflict",
    "RunLog",
    "ScoreStore",
    "SignalStore",
    "StoredSignal",
    "Tenant",
    "TenantCatalog",
]
