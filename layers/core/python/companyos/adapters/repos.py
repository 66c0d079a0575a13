"""Tenant-scoped repositories. Every repository is constructed for one tenant, so a handler cannot
read another tenant's data by accident; SDK errors become domain exceptions here."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.models import CatalogItem, KpiLogItem, ScoreItem, SignalItem
from companyos.domain import clock, retention
from companyos.domain.errors import Conflict, NotFound

TENANT_INDEX_PK = "TENANTS"


def _now() -> datetime:
    return clock.now()


def _signals_connection() -> Connection:
    """The signals model's own connection (one botocore client per process, reused by every
    transaction) — a new `Connection()` per transaction builds a new client each time, which costs
    more than the write itself."""
    return SignalItem._get_connection().connection


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
            with TransactWrite(connection=_signals_connection()) as tx:
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
            # TTL by the kind's retention class and tier (sources/retention.py); the source's own
            # retention_days only for a kind without an entry
            expires_at=retention.expires_at(s.kind, s.occurred_at, now, retention_days),
        )

    # ---- deliveries larger than one transaction, and report snapshots (finding state)

    def delivery_seen(self, source: str, delivery_id: str) -> bool:
        try:
            SignalItem.get(f"{self.tenant_id}#delivery", f"{source}#{delivery_id}")
        except SignalItem.DoesNotExist:
            return False
        return True

    def put_delivery_chunked(
        self,
        source: str,
        delivery_id: str,
        signals: Sequence[StoredSignal],
        retention_days: int,
        states: Sequence[StateWrite] = (),
    ) -> bool:
        """Store a delivery of any size once. False if it was seen before; Conflict (409) when a
        finding state changed under us (a concurrent report of the same scope — retry).

        Up to 99 items this is one transaction with the delivery marker, exactly like `put_delivery`.
        Larger deliveries go in chunks of 99 and the marker is written with the last chunk: every item
        key is deterministic and every write is conditioned on "absent, or already written by this
        delivery", so replaying a chunk (a retry of the same delivery) is a no-op and the marker makes
        the delivery count exactly once."""
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
            attributes={"signals": len(signals), "states": len(states)},
            expires_at=now + timedelta(days=retention_days),
        )
        mine = SignalItem.pk.does_not_exist() | (SignalItem.delivery_id == delivery_id)
        writes: list[tuple[SignalItem, Any]] = [(self._item(s, now, retention_days), mine) for s in signals]
        for w in states:
            expected = (
                SignalItem.pk.does_not_exist()
                if w.expected_change is None
                else (SignalItem.delivery_id == w.expected_change)
            )
            writes.append((self._state_item(w.state, now, retention_days), expected | mine))
        size = TRANSACTION_LIMIT - 1
        chunks = [writes[i : i + size] for i in range(0, len(writes), size)] or [[]]
        if len(chunks) > 1 and self.delivery_seen(source, delivery_id):
            return False
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            try:
                with TransactWrite(connection=_signals_connection()) as tx:
                    for item, condition in chunk:
                        tx.save(item, condition=condition)
                    if last:
                        tx.save(marker, condition=SignalItem.pk.does_not_exist())
            except TransactWriteError as exc:
                if not _is_condition_failure(exc):
                    raise
                if self.delivery_seen(source, delivery_id):
                    return False
                raise Conflict(
                    "the findings of this scope changed concurrently; retry the upload", code="state_conflict"
                ) from exc
        return True

    def _state_item(self, st: FindingState, now: datetime, retention_days: int) -> SignalItem:
        return SignalItem(
            pk=f"{self.tenant_id}#finding_state",
            sk=f"{st.scanner}#{_scope_hash(st.scope)}#{st.key}",
            tenant_id=self.tenant_id,
            kind="finding_state",
            source=st.scanner,
            signal_id=st.key,
            occurred_at=st.changed_at,
            received_at=now,
            entity=st.scope,
            service=st.service,
            delivery_id=st.changed_by,
            attributes={
                **st.attributes,
                "finding_kind": st.kind,
                "status": st.status,
                "scope": st.scope,
                "first_seen": st.first_seen.isoformat(),
                "fixed_at": st.fixed_at.isoformat() if st.fixed_at else None,
            },
            # open findings never expire; fixed ones after the security class's retention from the fix
            expires_at=(
                retention.expires_at("finding_state", st.changed_at, now, retention_days)
                if st.status == "fixed"
                else None
            ),
        )

    @staticmethod
    def _state(i: SignalItem) -> FindingState:
        a = dict(i.attributes or {})
        fixed = a.pop("fixed_at", None)
        return FindingState(
            scanner=i.source,
            scope=a.pop("scope", i.entity or ""),
            key=i.signal_id,
            kind=a.pop("finding_kind", ""),
            status=a.pop("status", "open"),
            first_seen=datetime.fromisoformat(a.pop("first_seen")),
            changed_at=i.occurred_at,
            changed_by=i.delivery_id,
            service=i.service,
            fixed_at=datetime.fromisoformat(fixed) if fixed else None,
            attributes=a,
        )

    def finding_states(self, scanner: str, scopes: Iterable[str]) -> list[FindingState]:
        """Every finding state (open and fixed) of these scopes of one scanner: one Query per scope."""
        pk = f"{self.tenant_id}#finding_state"
        return [
            self._state(i)
            for scope in scopes
            for i in SignalItem.query(pk, SignalItem.sk.startswith(f"{scanner}#{_scope_hash(scope)}#"))
        ]

    def findings(self, kind: str | None = None, status: str | None = None) -> list[FindingState]:
        """All finding states of the tenant (e.g. open vulnerabilities by severity and age)."""
        states = (self._state(i) for i in SignalItem.query(f"{self.tenant_id}#finding_state"))
        return [
            s for s in states if (kind is None or s.kind == kind) and (status is None or s.status == status)
        ]

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


@dataclass(frozen=True)
class FindingState:
    """Current state of one security finding of one scanner and scope (a report snapshot's row):
    `open` until a later report of the same scope no longer contains it, then `fixed`.
    `changed_by` is the delivery that made the last transition (the optimistic-lock token)."""

    scanner: str
    scope: str
    key: str
    kind: str  # vulnerability / secret_finding
    status: str  # open / fixed
    first_seen: datetime
    changed_at: datetime
    changed_by: str
    service: str | None = None
    fixed_at: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StateWrite:
    """A finding state to write; `expected_change` is the `changed_by` read before (None: new)."""

    state: FindingState
    expected_change: str | None


TRANSACTION_LIMIT = 100  # DynamoDB TransactWriteItems


def _scope_hash(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


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

    def corrections_of(self, kpi_id: str, started_at: str, run_id: str) -> list[dict[str, Any]]:
        """Correction runs of one run (`<run_id>-c<n>`, by_kpi key `<started_at>#c<n>#...`), oldest
        first: one Query on the KPI's run headers."""
        cond = KpiLogItem.started_at.startswith(f"{started_at}#c")
        items = KpiLogItem.by_kpi.query(f"{self.tenant_id}#{kpi_id}", cond)
        found = [i.data for i in items if str(i.data.get("run_id", "")).startswith(f"{run_id}-c")]
        return sorted(found, key=lambda r: int(str(r["run_id"]).rsplit("-c", 1)[1]))

    # The per-tenant run index: one row per ended attempt, pk `<tenant>#RUNS`, sk
    # `<started_at>#<run_id>`, carrying the pre-joined overview the monitoring views read.

    @property
    def _index_pk(self) -> str:
        return f"{self.tenant_id}#RUNS"

    def append_index(self, started_at: str, run_id: str, overview: dict[str, Any]) -> bool:
        sk = f"{started_at}#{run_id}"
        item = KpiLogItem(pk=self._index_pk, sk=sk, record="run_index", data=overview, written_at=_now())
        try:
            item.save(condition=KpiLogItem.pk.does_not_exist())
        except PutError as exc:
            if _is_condition_failure(exc):
                return False
            raise
        return True

    def index(
        self, since: datetime, until: datetime | None = None, *, limit: int = 5000, newest_first: bool = True
    ) -> tuple[list[dict[str, Any]], bool]:
        """Ended attempts started in [since, until], one Query; (rows, truncated)."""
        upper = (until or _now() + timedelta(days=1)).isoformat() + "~"
        cond = KpiLogItem.sk.between(since.isoformat(), upper)
        rows: list[dict[str, Any]] = []
        for item in KpiLogItem.query(self._index_pk, cond, scan_index_forward=not newest_first):
            if len(rows) >= limit:
                return rows, True
            rows.append(item.data)
        return rows, False


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
    "FindingState",
    "RunLog",
    "ScoreStore",
    "SignalStore",
    "StateWrite",
    "StoredSignal",
    "Tenant",
    "TenantCatalog",
]
