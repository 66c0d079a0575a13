"""DynamoDB tables as pynamodb models: the single definition both CDK and infra/local read.

Tables are split by lifecycle (see ARCHITECTURE.md). Table names are bound at cold start with
`bind_tables()`; `TABLES` + `describe()` give CDK and the local stack the key schema, GSIs and TTL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.attributes import (
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from companyos.adapters.config import TableNames

# ---------------------------------------------------------------- catalog


class MemberByUserIndex(GlobalSecondaryIndex["CatalogItem"]):
    """Which tenants a user belongs to (login, /api/me)."""

    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class CatalogItem(Model):
    """Tenants, memberships, services/domains, KPI contracts. pk=TENANT#<id>, sk=<KIND>#<key>."""

    class Meta:
        table_name = "catalog"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    data = JSONAttribute(default=dict)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()
    by_user = MemberByUserIndex()


# ---------------------------------------------------------------- signals


class SignalItem(Model):
    """Normalised facts from sources. pk=<tenant>#<kind>, sk=<occurred_at iso>#<signal id>."""

    class Meta:
        table_name = "signals"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    source = UnicodeAttribute()
    signal_id = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    received_at = UTCDateTimeAttribute()
    entity = UnicodeAttribute(null=True)
    service = UnicodeAttribute(null=True)
    delivery_id = UnicodeAttribute()
    attributes = JSONAttribute(default=dict)
    expires_at = TTLAttribute(null=True)


# ---------------------------------------------------------------- kpi_log (append-only)


class RunsByKpiIndex(GlobalSecondaryIndex["KpiLogItem"]):
    """Runs of one KPI of one tenant, newest first (only run headers carry these keys)."""

    class Meta:
        index_name = "by_kpi"
        projection = AllProjection()

    tenant_kpi = UnicodeAttribute(hash_key=True)
    started_at = UnicodeAttribute(range_key=True)


class KpiLogItem(Model):
    """One row of the run log. pk=<tenant>#RUN#<run_id>; sk=RUN | SOURCING#.. | PRE#.. | POST#.. |
    DELIVERY | END. Every write is conditional on attribute_not_exists: nothing is overwritten."""

    class Meta:
        table_name = "kpi_log"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    record = UnicodeAttribute()  # run / sourcing / pre_validation / post_validation / delivery / end
    data = JSONAttribute(default=dict)
    tenant_kpi = UnicodeAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    written_at = UTCDateTimeAttribute()
    by_kpi = RunsByKpiIndex()


# ---------------------------------------------------------------- scores


class ScoreItem(Model):
    """Precomputed snapshots. pk=TENANT#<id>; sk=SNAP#<period>#LATEST | SNAP#<period>#<yyyy-mm-dd>."""

    class Meta:
        table_name = "scores"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    computed_at = UTCDateTimeAttribute()
    data = JSONAttribute(default=dict)


# ---------------------------------------------------------------- audit (hash chain)


class AuditItem(Model):
    """The audit table (adapters/audit.py): one tenant's (or PLATFORM's) records, chain and digests.

    - record  pk=REC#<chain>, sk=<record id>: written by the request path in its own transaction;
      deleted by the sealer in the transaction that chains it (so this partition holds what is pending)
    - chain   pk=<chain>, sk=<seq, zero-padded>: seq, prev_hash, hash, event (the record, with seq)
    - digest  pk=<chain>#DIGEST, sk=<digest number>: seq = head seq, hash = head hash, event = digest

    The table's stream (NEW_IMAGE) feeds the sealer (adapters/audit_seal.py)."""

    class Meta:
        table_name = "audit"
        stream_view_type = STREAM_NEW_IMAGE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    seq = NumberAttribute(null=True)  # None on a record (not sealed yet)
    prev_hash = UnicodeAttribute(null=True)
    hash = UnicodeAttribute(null=True)
    event = JSONAttribute()


# ---------------------------------------------------------------- idempotency (Powertools layout)


class IdempotencyItem(Model):
    """Powertools idempotency persistence layer schema (key `id`, TTL `expiration`)."""

    class Meta:
        table_name = "idempotency"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)
    status = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)
    validation = UnicodeAttribute(null=True)
    in_progress_expiration = NumberAttribute(null=True)
    _extra: MapAttribute = MapAttribute(null=True)


TABLES: dict[str, type[Model]] = {
    "catalog": CatalogItem,
    "signals": SignalItem,
    "kpi_log": KpiLogItem,
    "scores": ScoreItem,
    "audit": AuditItem,
    "idempotency": IdempotencyItem,
}


def bind_tables(names: TableNames, region: str | None = None) -> None:
    """Point every model at its physical table (called once at cold start)."""
    for logical, model in TABLES.items():
        model.Meta.table_name = getattr(names, logical)
        if region:
            model.Meta.region = region
        # pynamodb caches the connection per class; drop it so the new name/region are used.
        model._connection = None


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str  # "S" | "N"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    partition_key: KeySpec
    sort_key: KeySpec | None
    ttl_attribute: str | None
    indexes: list[IndexSpec] = field(default_factory=list)
    stream: str | None = None  # StreamViewType ("NEW_IMAGE"), when the table has a stream


def _key(attr_name: str, model: type[Model]) -> KeySpec:
    attr = model.get_attributes()[attr_name]
    return KeySpec(attr_name, "N" if attr.attr_type == "N" else "S")


def describe(logical_name: str) -> TableSpec:
    """Key schema, GSIs and TTL of a table, read off its pynamodb model."""
    model = TABLES[logical_name]
    attrs = model.get_attributes()
    hash_key = next(n for n, a in attrs.items() if a.is_hash_key)
    range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
    ttl = next((n for n, a in attrs.items() if isinstance(a, TTLAttribute)), None)
    indexes = []
    for index in model._indexes.values():
        idx_attrs = index.Meta.attributes
        ih = next(n for n, a in idx_attrs.items() if a.is_hash_key)
        ir = next((n for n, a in idx_attrs.items() if a.is_range_key), None)
        indexes.append(IndexSpec(index.Meta.index_name, _key(ih, model), _key(ir, model) if ir else None))
    return TableSpec(
        logical_name=logical_name,
        partition_key=_key(hash_key, model),
        sort_key=_key(range_key, model) if range_key else None,
        ttl_attribute=ttl,
        indexes=indexes,
        stream=getattr(model.Meta, "stream_view_type", None),
    )


def create_all(names: TableNames, region: str) -> None:
    """Create every table (infra/local and tests). CDK builds the same tables from `describe()`."""
    bind_tables(names, region)
    for model in TABLES.values():
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
