"""Alert subscribers (catalog table) and the notification log (signals table) of one tenant.

Subscribers: pk=TENANT#<id>, sk=SUBSCRIBER#<subscriber id>; each write (create, replace, remove)
commits in one transaction with its audit record, guarded by the item's version (a concurrent change
is a 409 `condition_failed`, never a silent overwrite).

Notification log: what each subscriber received (or, locally, would have received), one item per
(message, subscriber, channel) under pk=<tenant>#alert_notification#<subscriber id>,
sk=<delivered at>#<notification id>, with a marker pk=<tenant>#alert_notification_id, sk=<id> in the
same transaction — so a message SNS hands over twice is logged (and posted) once. Both expire after
`LOG_DAYS` (TTL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters import admin_store
from companyos.adapters.audit import record_condition
from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import AuditItem, CatalogItem, SignalItem
from companyos.domain.alert_subscribers import Subscriber
from companyos.domain.errors import Conflict, NotFound

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
LOG_DAYS = 30
LOG_KIND = "alert_notification"


@dataclass(frozen=True)
class Notification:
    """One message as one channel of one subscriber received it."""

    notification_id: str
    subscriber_id: str
    channel_id: str
    channel_type: str
    message_id: str
    delivered_at: datetime
    status: str  # sent | handed_to_sns | recorded (local stack) | failed
    detail: str
    attributes: dict[str, str]
    rendered: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "delivered_at": self.delivered_at.isoformat()}


class SubscriberRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._versions: dict[str, int | None] = {}

    # ------------------------------------------------------------------ subscribers

    def all(self) -> list[Subscriber]:
        """Every subscriber of the tenant (one Query)."""
        out = []
        for stored in admin_store.query(self.tenant_id, SUBSCRIBER_PREFIX):
            self._versions[stored.sk] = stored.version
            out.append(Subscriber.model_validate(stored.data))
        return out

    def get(self, subscriber_id: str) -> Subscriber:
        sk = SUBSCRIBER_PREFIX + subscriber_id
        stored = admin_store.get(self.tenant_id, sk, consistent=True)
        if stored is None:
            raise NotFound(f"subscriber '{subscriber_id}' does not exist", code="subscriber_not_found")
        self._versions[sk] = stored.version
        return Subscriber.model_validate(stored.data)

    def put(self, sub: Subscriber, audit: AuditItem, *, create: bool = False) -> None:
        """Write the subscriber with its audit record (both or neither)."""
        sk = SUBSCRIBER_PREFIX + sub.subscriber_id
        stored = admin_store.Stored(
            self.tenant_id, sk, "alert_subscriber", sub.model_dump(mode="json"), self._versions.get(sk)
        )
        admin_store.put(stored, create=create, audit=audit)
        self._versions[sk] = stored.version

    def remove(self, sub: Subscriber, audit: AuditItem) -> None:
        """Delete the subscriber as read (its version guards the delete) with its audit record."""
        sk = SUBSCRIBER_PREFIX + sub.subscriber_id
        item = CatalogItem(pk=f"TENANT#{self.tenant_id}", sk=sk, kind="alert_subscriber")
        item.version = self._versions.get(sk)  # pynamodb conditions the delete on this version
        try:
            with TransactWrite(connection=CatalogItem._get_connection().connection) as tx:
                tx.delete(item)
                tx.save(audit, condition=record_condition())
        except (DeleteError, TransactWriteError) as exc:
            if is_condition_failure(exc):
                raise Conflict(
                    f"subscriber '{sub.subscriber_id}' changed concurrently", code="condition_failed"
                ) from exc
            raise

    # ------------------------------------------------------------------ notification log

    def _log_item(self, n: Notification) -> SignalItem:
        return SignalItem(
            pk=f"{self.tenant_id}#{LOG_KIND}#{n.subscriber_id}",
            sk=f"{n.delivered_at.isoformat()}#{n.notification_id}",
            tenant_id=self.tenant_id,
            kind=LOG_KIND,
            source="alerts",
            signal_id=n.notification_id,
            occurred_at=n.delivered_at,
            received_at=n.delivered_at,
            entity=n.subscriber_id,
            delivery_id=n.message_id,
            attributes={k: v for k, v in n.to_dict().items() if k not in ("delivered_at",)},
            expires_at=n.delivered_at + timedelta(days=LOG_DAYS),
        )

    def logged(self, notification_id: str) -> bool:
        try:
            SignalItem.get(f"{self.tenant_id}#{LOG_KIND}_id", notification_id, consistent_read=True)
        except SignalItem.DoesNotExist:
            return False
        return True

    def log(self, n: Notification) -> bool:
        """Log one delivery once: False when this notification was logged already."""
        marker = SignalItem(
            pk=f"{self.tenant_id}#{LOG_KIND}_id",
            sk=n.notification_id,
            tenant_id=self.tenant_id,
            kind=f"{LOG_KIND}_id",
            source="alerts",
            signal_id=n.notification_id,
            occurred_at=n.delivered_at,
            received_at=n.delivered_at,
            delivery_id=n.message_id,
            expires_at=n.delivered_at + timedelta(days=LOG_DAYS),
        )
        try:
            with TransactWrite(connection=SignalItem._get_connection().connection) as tx:
                tx.save(marker, condition=SignalItem.sk.does_not_exist())
                tx.save(self._log_item(n), condition=SignalItem.sk.does_not_exist())
        except (PutError, TransactWriteError) as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def notifications(self, subscriber_id: str, limit: int = 100) -> list[Notification]:
        """The subscriber's newest notifications first (one Query of at most `limit` items)."""
        items = SignalItem.query(
            f"{self.tenant_id}#{LOG_KIND}#{subscriber_id}", scan_index_forward=False, limit=limit
        )
        return [_notification(i) for i in items]


def _notification(item: SignalItem) -> Notification:
    a = dict(item.attributes)
    return Notification(
        notification_id=str(a["notification_id"]),
        subscriber_id=str(a["subscriber_id"]),
        channel_id=str(a["channel_id"]),
        channel_type=str(a["channel_type"]),
        message_id=str(a["message_id"]),
        delivered_at=item.occurred_at,
        status=str(a["status"]),
        detail=str(a.get("detail") or ""),
        attributes=dict(a.get("attributes") or {}),
        rendered=dict(a.get("rendered") or {}),
    )
