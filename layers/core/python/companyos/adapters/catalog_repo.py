"""The catalog of the platform and of each tenant: tenants, memberships, source mappings and
connector configurations (catalog items, optimistic locking by version)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import CatalogItem
from companyos.domain import clock
from companyos.domain.errors import Conflict, NotFound
from companyos.domain.tenant import Tenant

TENANT_INDEX_PK = "TENANTS"


def _now() -> datetime:
    return clock.now()


def _upsert(item: CatalogItem) -> None:
    """Create or replace a catalog item, still guarded by its version (optimistic locking)."""
    with contextlib.suppress(CatalogItem.DoesNotExist):
        item.version = CatalogItem.get(item.pk, item.sk).version
    try:
        item.save()
    except PutError as exc:
        if is_condition_failure(exc):
            raise Conflict(f"{item.kind} was changed concurrently; retry", code="version_conflict") from exc
        raise


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

    # ---- pull connectors (one item per source: `CONNECTOR#<source>`)

    def put_connector(self, source: str, config: dict[str, Any]) -> None:
        """Create or replace the tenant's connector configuration of a pull source."""
        sk = f"CONNECTOR#{source}"
        item = CatalogItem(pk=self._pk, sk=sk, kind="connector", data=config, updated_at=_now())
        with contextlib.suppress(CatalogItem.DoesNotExist):
            item.version = CatalogItem.get(self._pk, sk).version
        item.save()

    def connector_item(self, source: str) -> tuple[dict[str, Any] | None, int | None, datetime | None]:
        """A connector configuration with its revision (the item's version) and last change time."""
        try:
            item = CatalogItem.get(self._pk, f"CONNECTOR#{source}")
        except CatalogItem.DoesNotExist:
            return None, None, None
        return dict(item.data), item.version, item.updated_at

    def put_connector_at(self, source: str, config: dict[str, Any], expected_revision: int | None) -> int:
        """Write a connector configuration only over `expected_revision` (None: only if there is none
        yet); 409 `version_conflict` when it moved. Returns the new revision."""
        item = CatalogItem(pk=self._pk, sk=f"CONNECTOR#{source}", kind="connector", data=config)
        item.updated_at = _now()
        if expected_revision is not None:  # the VersionAttribute makes the save conditional on it
            item.version = expected_revision  # (unset: only if the item does not exist yet)
        try:
            item.save()
        except PutError as exc:
            if is_condition_failure(exc):
                raise Conflict(
                    f"the {source} configuration was changed by someone else; reload and retry",
                    code="version_conflict",
                ) from exc
            raise
        return int(item.version or 0)

    def connector(self, source: str) -> dict[str, Any] | None:
        """The connector configuration of a pull source; None when the tenant has none."""
        try:
            return dict(CatalogItem.get(self._pk, f"CONNECTOR#{source}").data)
        except CatalogItem.DoesNotExist:
            return None
