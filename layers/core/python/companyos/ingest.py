"""Webhook ingestion logic: size limit → signature → parse → map → store once → start runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from companyos.errors import PayloadTooLarge
from companyos.runs import contracts
from companyos.sources import registry
from companyos.sources.base import WebhookRequest
from companyos.store.audit import AuditEvent, AuditTrail
from companyos.store.repos import Catalog, SignalStore, StoredSignal

SecretsLookup = Callable[[str, str], Sequence[str]]  # (tenant, source) -> active secrets
RunStarter = Callable[[str, dict[str, Any]], None]  # (execution name, input)


@dataclass(frozen=True)
class IngestResult:
    status: str  # stored / duplicate / ignored
    delivery_id: str
    event: str
    signals: int
    unmapped: list[str]
    reason: str | None = None
    runs_started: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _signal_id(source: str, delivery_id: str, key: str, index: int) -> str:
    return hashlib.sha256(f"{source}|{delivery_id}|{key}|{index}".encode()).hexdigest()[:24]


def ingest(
    tenant_id: str,
    source_name: str,
    request: WebhookRequest,
    *,
    max_bytes: int,
    secrets: SecretsLookup,
    start_run: RunStarter,
) -> IngestResult:
    if len(request.body) > max_bytes:
        raise PayloadTooLarge(f"body of {len(request.body)} bytes exceeds the {max_bytes}-byte limit")
    Catalog().get_tenant(tenant_id)  # 404 for an unknown tenant, before any secret lookup
    source = registry.get(source_name)
    source.verify(request, secrets(tenant_id, source_name))
    parsed = source.parse(request)
    if not parsed.signals:
        return IngestResult("ignored", parsed.delivery_id, parsed.event, 0, [], parsed.ignored_reason)
    mapping = Catalog().tenant(tenant_id).source_map(source_name)
    stored = [
        StoredSignal(
            kind=s.kind,
            source=source_name,
            signal_id=_signal_id(source_name, parsed.delivery_id, s.key, i),
            occurred_at=s.occurred_at,
            entity=s.entity,
            service=(mapping.get(s.entity or "") or {}).get("service"),
            delivery_id=parsed.delivery_id,
            attributes={**s.attributes, "domain": (mapping.get(s.entity or "") or {}).get("domain")},
        )
        for i, s in enumerate(parsed.signals)
    ]
    unmapped = sorted({s.entity for s in stored if s.entity and s.service is None})
    if not SignalStore(tenant_id).put_delivery(
        source_name, parsed.delivery_id, stored, source.retention_days
    ):
        return IngestResult(
            "duplicate", parsed.delivery_id, parsed.event, 0, unmapped, "this delivery was already ingested"
        )
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=f"webhook:{source_name}",
            role="source",
            action="signals.ingest",
            target=parsed.delivery_id,
            details={"event": parsed.event, "signals": len(stored), "unmapped": unmapped},
        )
    )
    runs = _start_event_runs(tenant_id, source_name, parsed.delivery_id, {s.kind for s in stored}, start_run)
    return IngestResult("stored", parsed.delivery_id, parsed.event, len(stored), unmapped, runs_started=runs)


def _start_event_runs(
    tenant_id: str, source: str, delivery_id: str, kinds: set[str], start_run: RunStarter
) -> list[str]:
    kpi_ids = sorted({k for kind in kinds for k in contracts.consumers_of(kind)})
    if not kpi_ids:
        return []
    digest = hashlib.sha256(f"{tenant_id}|{source}|{delivery_id}".encode()).hexdigest()[:20]
    name = f"evt-{tenant_id[:40]}-{digest}"
    start_run(
        name,
        {
            "pairs": [{"tenant_id": tenant_id, "kpi_id": k} for k in kpi_ids],
            "trigger": {"type": "event", "by": f"{source}:{delivery_id}"},
        },
    )
    return kpi_ids


def secrets_from_value(raw: str) -> list[str]:
    """A stored secret is a plain string or JSON {"secrets": [current, previous]} for rotation."""
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:
        return [raw]
    if isinstance(doc, dict) and isinstance(doc.get("secrets"), list):
        return [str(s) for s in doc["secrets"] if s]
    return [raw]
