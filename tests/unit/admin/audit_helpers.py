"""Helpers for the audit chain tests (#17): write records, run the sealer from the table's stream."""

from __future__ import annotations

from typing import Any


class Recorder:
    """The audit stream consumer of the unit tests: the real sealer, and every batch it was given."""

    def __init__(self) -> None:
        from companyos.adapters.audit import current_signer
        from companyos.adapters.audit_seal import Sealer

        signer = current_signer()
        assert signer is not None
        self.sealer = Sealer(signer)
        self.batches: list[dict[str, Any]] = []

    def __call__(self, batch: dict[str, Any]) -> Any:
        self.batches.append(batch)
        return self.sealer.seal_stream(batch["Records"])


def audit_stream() -> tuple[Any, Recorder]:
    """The local stack's stream poller over the unit tables, feeding the real sealer. moto's own
    TransactWriteItems copies the table per item (the sealer's transactions): install the local
    stack's copy-free, locked version (same semantics; infra/local/moto_patches.py)."""
    from companyos.adapters.models import AuditItem

    from infra.local.audit_stream import AuditStream
    from infra.local.moto_patches import patch_moto_queries, patch_moto_transactions

    patch_moto_transactions()
    patch_moto_queries()

    recorder = Recorder()
    return AuditStream(AuditItem.Meta.table_name, recorder), recorder


def write(name: str, n: int, start: int = 0) -> Any:
    from companyos.adapters.audit import AuditEvent, AuditTrail

    trail = AuditTrail(name)
    for i in range(start, start + n):
        trail.append(AuditEvent(f"user{i}@t", "tenant_admin", f"kpi.action{i}", f"kpi_{i}", reason=f"r{i}"))
    return trail


def entries(name: str) -> list[Any]:
    from companyos.adapters.models import AuditItem

    return list(AuditItem.query(name))


def digest_items(name: str) -> list[Any]:
    from companyos.adapters.models import AuditItem

    return list(AuditItem.query(name + "#DIGEST"))
