"""The signals table of one tenant: deliveries stored atomically and once (a delivery marker in the
same transaction as its signals), the finding state of report snapshots, and signal queries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.audit import record_condition
from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import AuditItem, SignalItem
from companyos.domain import clock, retention
from companyos.domain.errors import Conflict


def _now() -> datetime:
    return clock.now()


def _signals_connection() -> Connection:
    """The signals model's own connection (one botocore client per process, reused by every
    transaction) — a new `Connection()` per transaction builds a new client each time, which costs
    more than the write itself."""
    return SignalItem._get_connection().connection


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
    fact: bool = False  # its id is the source's own id of the fact, not of the delivery (not stored)


class SignalStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    def put_delivery(
        self, source: str, delivery_id: str, signals: Iterable[StoredSignal], retention_days: int
    ) -> bool:
        """Store all signals of one delivery atomically, once. False if the delivery was seen before."""
        return self.put_delivery_chunked(source, delivery_id, list(signals), retention_days)

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

    def delivery_received_at(self, source: str, delivery_id: str) -> datetime | None:
        """When a stored delivery was received (its marker's time), None if it is not stored."""
        try:
            marker = SignalItem.get(f"{self.tenant_id}#delivery", f"{source}#{delivery_id}")
        except SignalItem.DoesNotExist:
            return None
        return marker.received_at

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
        audit: AuditItem | None = None,
    ) -> bool:
        """Store a delivery of any size once. False if it was seen before; Conflict (409) when a
        finding state changed under us (a concurrent report of the same scope — retry).

        `audit`: the delivery's audit record (`AuditTrail.record`), committed in the marker's
        transaction — the delivery counts as stored exactly when its audit record is written (#17).

        Up to 99 items this is one transaction with the delivery marker.
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
        # a fact another delivery stored already is the same item, written again (no condition);
        # the same fact twice in one delivery is one write (a transaction takes an item once)
        facts = {(s.kind, s.occurred_at, s.signal_id): s for s in signals if s.fact}
        writes: list[tuple[SignalItem, Any]] = [
            (self._item(s, now, retention_days), mine) for s in signals if not s.fact
        ] + [(self._item(s, now, retention_days), None) for s in facts.values()]
        for w in states:
            expected = (
                SignalItem.pk.does_not_exist()
                if w.expected_change is None
                else (SignalItem.delivery_id == w.expected_change)
            )
            writes.append((self._state_item(w.state, now, retention_days), expected | mine))
        size = TRANSACTION_LIMIT - 1 - (audit is not None)
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
                        if audit is not None:
                            tx.save(audit, condition=record_condition())
            except TransactWriteError as exc:
                if not is_condition_failure(exc):
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
