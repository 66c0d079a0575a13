"""The admin control plane's items in the catalog table (pk = TENANT#<tenant id>): KPI admin records
(`ADMINKPI#`), pauses (`PAUSE#`), change requests (`APPROVAL#`), the search revision (`ADMINREV`), the
change window (`SETTINGS#CHANGEWINDOW`) and the runtime pointer's removal (`ACTIVEKPI#`).

The use cases in `companyos.admin` see plain `Stored` values; every write is guarded by the item's
VersionAttribute (plus "must not exist yet" for a create), and a failed condition comes back as a
domain `Conflict` (code `condition_failed`), mapped here by type. Other write failures of the table
are `WriteError`s (the pynamodb exceptions, so callers can catch them without importing pynamodb).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.audit import record_condition
from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import AuditItem, CatalogItem
from companyos.domain import clock
from companyos.domain.errors import Conflict

__all__ = ["Stored", "WriteError", "delete", "get", "put", "query"]

# a write the table refused for another reason than a condition
WriteError = (PutError, DeleteError, TransactWriteError)


@dataclass
class Stored:
    """One item of a tenant's partition: its sort key, kind, data and optimistic-lock version."""

    tenant_id: str
    sk: str
    kind: str
    data: dict[str, Any]
    version: int | None = None
    updated_at: datetime | None = None


def _pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def _stored(tenant_id: str, item: CatalogItem) -> Stored:
    return Stored(tenant_id, item.sk, item.kind, dict(item.data), item.version, item.updated_at)


def get(tenant_id: str, sk: str, *, consistent: bool = False) -> Stored | None:
    """One GetItem (strongly consistent on request); None when the item does not exist."""
    try:
        item = CatalogItem.get(_pk(tenant_id), sk, consistent_read=consistent)
    except CatalogItem.DoesNotExist:
        return None
    return _stored(tenant_id, item)


def query(tenant_id: str, prefix: str) -> Iterator[Stored]:
    """One paginated Query: the tenant's items whose sort key starts with `prefix`."""
    for item in CatalogItem.query(_pk(tenant_id), CatalogItem.sk.startswith(prefix)):
        yield _stored(tenant_id, item)


def put(
    stored: Stored, *, create: bool = False, touch: bool = True, audit: AuditItem | None = None
) -> Stored:
    """Write the item under its version (None: it must not have one yet); `create`: it must not exist.
    `touch` stamps `updated_at` with now. Raises Conflict (code `condition_failed`) when a condition
    did not hold; `stored.version` is the new version afterwards. `audit`: the change's audit record
    (`AuditTrail.record`), committed in one transaction with the item — both or neither (#17)."""
    item = CatalogItem(
        pk=_pk(stored.tenant_id),
        sk=stored.sk,
        kind=stored.kind,
        data=stored.data,
        updated_at=clock.now() if touch else stored.updated_at,
    )
    if stored.version is not None:
        item.version = stored.version
    condition = CatalogItem.sk.does_not_exist() if create else None
    try:
        if audit is None:
            item.save(condition=condition)
        else:
            with TransactWrite(connection=CatalogItem._get_connection().connection) as tx:
                tx.save(item, condition=condition)
                tx.save(audit, condition=record_condition())
    except (PutError, TransactWriteError) as exc:
        if is_condition_failure(exc):
            raise Conflict(
                f"{stored.sk} of tenant '{stored.tenant_id}' changed concurrently", code="condition_failed"
            ) from exc
        raise
    stored.version, stored.updated_at = item.version, item.updated_at
    return stored


def delete(tenant_id: str, sk: str) -> None:
    """Delete the item as it is now (its version guards the delete); gone already is fine."""
    with contextlib.suppress(CatalogItem.DoesNotExist, DeleteError):
        CatalogItem.get(_pk(tenant_id), sk).delete()
