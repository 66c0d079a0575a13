"""The admin API's answers: the schema of each 200 in docs/openapi-admin.json.

A KPI record is open past its identity (its versions, environments, canary and change history grow
with the contract model: docs/admin.md); the envelopes around it are typed field by field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, Field

from companyos.domain.answer_models import Closed, Extensible, Open
from companyos.domain.inventory import VendorIn


class KpiRecord(Extensible):
    """A tenant's catalog record of a KPI: metadata, versions by semver, environments."""

    tenant_id: str
    kpi_id: str
    revision: int = Field(description="optimistic lock: send it back as expected_revision")
    versions: dict[str, Open]


class KpiDetail(Extensible):
    """A KPI of the catalog (the tenant's record, or the built-in contract when it has none)."""

    kpi_id: str
    revision: int | None = Field(description="None: a built-in KPI the tenant has no record of")
    pauses: list[Open]
    runtime_env: str | None


class CatalogPage(Closed):
    total: int
    items: list[Open]
    facets: Open
    revision: Any = Field(description="the search index's revision")


class Lineage(Closed):
    kpi_id: str
    nodes: list[Open]
    edges: list[Open]
    upstream: list[Any]
    downstream: list[Any]


class Impact(Closed):
    kpi_id: str
    change: str
    affected: dict[str, list[str]] = Field(
        description="what the change reaches, by kind: alert, composite, dashboard, dimension, kpi"
    )
    affected_count: int
    notes: list[Any]


class Submitted(Closed):
    """A change request started (stg and prod go through approval)."""

    request_id: str
    status: str
    execution_arn: str
    request: Open


class Published(Closed):
    status: str
    env: str
    record: KpiRecord


class RolledBack(Closed):
    env: str
    from_: str = Field(alias="from")
    to: str | None
    record: KpiRecord


class Paused(Closed):
    pause: Open
    pauses: list[Open]


class Resumed(Closed):
    resumed: list[Open]
    pauses: list[Open]
    note: str


class Derived(Extensible):
    """The impact preview of one edit; unless `preview` was asked, also the new draft it derived (the
    KPI record's fields and `draft_version`)."""

    preview: Open
    draft_version: str | None = None


class Deprecated(Closed):
    record: KpiRecord
    warned: Any


class ApprovalQueue(Closed):
    tenant_id: str
    requests: list[Open]


class ApprovalRequest(Extensible):
    request_id: str
    status: str


class Decision(Closed):
    request_id: str
    status: str
    approvals: int
    required_approvals: int | None


class ChangeWindowView(Closed):
    days: list[int]
    start: str
    end: str
    timezone: str
    open_now: bool
    next_open: str | None


class AuditEvents(Closed):
    tenant_id: str
    events: list[Open]


class AuditVerification(Extensible):
    tenant_id: str


class EvidenceBundle(Extensible):
    """The audit chain, digests, verification, change requests and catalog records, with checksums."""

    manifest_sha256: str


class VendorRow(VendorIn):
    """A vendor of the register with its review state as of today."""

    model_config = ConfigDict(extra="forbid")
    updated_at: datetime
    created_at: datetime | None = None
    review_due: date | None
    out_of_review: bool


class VendorList(Closed):
    tenant: str
    as_of: str
    vendors: list[VendorRow]
    tier1_out_of_review: int


class VendorImport(Closed):
    tenant: str
    imported: int
    created: int
    updated: int
    vendor_ids: list[str]


class DeepLinksView(Closed):
    """The tenant's trace / log URL templates, their revision and what a template may contain."""

    tenant: str
    deeplinks: dict[str, str | None]
    revision: int | None
    updated_at: str | None
    placeholders: list[str]
    systems: dict[str, dict[str, str]]
    max_length: int
