"""KPI contracts in the catalog table: immutable versions and the active pointer of each KPI, per
owner (a tenant, or the platform). The items' layout lives here; the contracts themselves (their
model and rules) are `companyos.runs.contracts`, which hands this module their JSON:

    pk = TENANT#<tenant id> | PLATFORM     sk = KPI#<kpi id>#V#<version>   (one version, never edited)
    pk = TENANT#<tenant id> | PLATFORM     sk = ACTIVEKPI#<kpi id>          (pointer: which version runs)
"""

from __future__ import annotations

import contextlib
from typing import Any

from pynamodb.exceptions import PutError

from companyos.adapters.models import CatalogItem
from companyos.domain import clock

PLATFORM_PK = "PLATFORM"
VERSION_KIND = "kpi_contract"
ACTIVE_KIND = "kpi_active"


def owner_pk(tenant_id: str | None) -> str:
    return f"TENANT#{tenant_id}" if tenant_id else PLATFORM_PK


def version_sk(kpi_id: str, version: str) -> str:
    return f"KPI#{kpi_id}#V#{version}"


def active_sk(kpi_id: str) -> str:
    return f"ACTIVEKPI#{kpi_id}"


class ContractItems:
    """The contract items of one owner (a tenant id, or None for the platform)."""

    def __init__(self, tenant_id: str | None) -> None:
        self._pk = owner_pk(tenant_id)

    def put_version(self, kpi_id: str, version: str, data: dict[str, Any]) -> bool:
        """Write a new version; False when that version exists already (versions are immutable)."""
        item = CatalogItem(
            pk=self._pk, sk=version_sk(kpi_id, version), kind=VERSION_KIND, data=data, updated_at=clock.now()
        )
        try:
            item.save(condition=CatalogItem.sk.does_not_exist())
        except PutError:
            return False
        return True

    def put_active(self, kpi_id: str, data: dict[str, Any]) -> bool:
        """Replace the active pointer, guarded by the item's VersionAttribute: False when it changed
        since it was read (a concurrent activation won)."""
        item = CatalogItem(
            pk=self._pk, sk=active_sk(kpi_id), kind=ACTIVE_KIND, data=data, updated_at=clock.now()
        )
        with contextlib.suppress(CatalogItem.DoesNotExist):
            item.version = CatalogItem.get(self._pk, active_sk(kpi_id)).version
        try:
            item.save()
        except PutError:
            return False
        return True

    def version(self, kpi_id: str, version: str) -> dict[str, Any] | None:
        try:
            return dict(CatalogItem.get(self._pk, version_sk(kpi_id, version)).data)
        except CatalogItem.DoesNotExist:
            return None

    def active(self, kpi_id: str) -> dict[str, Any] | None:
        try:
            return dict(CatalogItem.get(self._pk, active_sk(kpi_id)).data)
        except CatalogItem.DoesNotExist:
            return None

    def actives(self) -> list[dict[str, Any]]:
        """Every active pointer of this owner: one Query."""
        return [dict(i.data) for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith("ACTIVEKPI#"))]

    def versions(self, kpi_id: str) -> list[dict[str, Any]]:
        return [
            dict(i.data) for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith(f"KPI#{kpi_id}#V#"))
        ]
