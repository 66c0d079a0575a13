"""The audit trail (#17), the way CloudTrail keeps one: no lock on the request path, a sealer that
chains and signs behind it, and a verifier that checks the digest chain end to end.

Request path: a write commits its audit *record* in the SAME DynamoDB transaction as the data it
describes (`AuditTrail.append_in(tx, event)`), or, where the write is not a transaction, as one
unconditional-unique put (`AuditTrail.append(event)`). A record is `pk=REC#<chain>, sk=<record id>`
with a unique, time-ordered id: no head read, no retry loop, nothing to contend on.

Sealer (adapters/audit_seal.py, fed by the table's stream): links records into the hash chain
`pk=<chain>, sk=<seq>` — hash_n = SHA-256(prev_hash ‖ canonical_json(event_n)), the first from
GENESIS — and, in the same transaction, deletes the records it chained and writes a KMS-signed
*digest* `pk=<chain>#DIGEST, sk=<digest number>` that names the head (seq, hash), the record count
and the previous digest's signature. The sealer is the only signer (kms:Sign).

Verifier (adapters/audit_verify.py): walks the chain and the digest chain; see its docstring.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pynamodb.transactions import TransactWrite

from companyos.adapters.audit_chain import (
    DIGEST_SUFFIX,
    GENESIS,
    RECORD_PREFIX,
    SIGNED_FIELDS,
    SIGNING_ALGORITHM,
    KmsSigner,
    Signer,
    canonical,
    chain_hash,
    digest_message,
    sha256_hex,
)
from companyos.adapters.models import AuditItem
from companyos.domain import clock

if TYPE_CHECKING:
    from companyos.adapters.audit_verify import VerifyResult

__all__ = [
    "DIGEST_SUFFIX",
    "GENESIS",
    "RECORD_PREFIX",
    "SIGNED_FIELDS",
    "SIGNING_ALGORITHM",
    "AuditEvent",
    "AuditTrail",
    "KmsSigner",
    "Signer",
    "canonical",
    "chain_hash",
    "configure_signer",
    "current_signer",
    "digest_message",
    "new_record_id",
    "record_condition",
    "sha256_hex",
]


_signer: Signer | None = None


def configure_signer(key_id: str | None, client: Any = None) -> Signer | None:
    """Set the process-wide digest signer (cold start: `api.bootstrap`); empty key id: no signing."""
    global _signer
    _signer = KmsSigner(key_id, client) if key_id else None
    return _signer


def current_signer() -> Signer | None:
    return _signer


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class AuditEvent:
    actor: str
    role: str
    action: str
    target: str
    reason: str = ""
    request_id: str = ""
    approver: str = ""
    details: dict[str, Any] | None = None


def new_record_id() -> str:
    """Unique and time-ordered: the clock to the microsecond, then 96 random bits."""
    return clock.now().strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:24]


def record_condition() -> Any:
    """A record is written once and never overwritten (its id is unique: this never contends)."""
    return AuditItem.sk.does_not_exist()


@dataclass
class AuditTrail:
    chain: str  # tenant id, or "PLATFORM" for cross-tenant actions
    signer: Signer | None = field(default_factory=current_signer)  # verifies (the sealer signs)

    # ---- the request path: records

    def record(self, ev: AuditEvent) -> AuditItem:
        """The record of `ev`, not saved: put it in the data's transaction with `record_condition()`."""
        record_id = new_record_id()
        body = {**ev.__dict__, "tenant": self.chain, "at": clock.now().isoformat(), "record_id": record_id}
        return AuditItem(pk=RECORD_PREFIX + self.chain, sk=record_id, event=body)

    def append_in(self, tx: TransactWrite, ev: AuditEvent) -> dict[str, Any]:
        """Add the record of `ev` to `tx` (it commits with the data, or neither does); its body."""
        item = self.record(ev)
        tx.save(item, condition=record_condition())
        return dict(item.event)

    def append(self, ev: AuditEvent) -> dict[str, Any]:
        """One put of the record (for a write that is not a transaction); its body (no seq yet)."""
        item = self.record(ev)
        item.save(condition=record_condition())
        return dict(item.event)

    # ---- reading

    def entries(self) -> Iterable[AuditItem]:
        """The sealed chain, in seq order."""
        return AuditItem.query(self.chain, consistent_read=True)

    def pending(self) -> list[AuditItem]:
        """Records not sealed yet, in record-id (time) order."""
        return list(AuditItem.query(RECORD_PREFIX + self.chain, consistent_read=True))

    def digest_items(self) -> list[AuditItem]:
        return list(AuditItem.query(self.chain + DIGEST_SUFFIX, consistent_read=True))

    def digests(self) -> list[dict[str, Any]]:
        return [dict(i.event) for i in self.digest_items()]

    def latest_digest(self) -> dict[str, Any] | None:
        last = list(
            AuditItem.query(
                self.chain + DIGEST_SUFFIX, scan_index_forward=False, limit=1, consistent_read=True
            )
        )
        return dict(last[0].event) if last else None

    def events(self, limit: int | None = None, newest_first: bool = False) -> list[dict[str, Any]]:
        """Sealed events in chain (seq) order, then the records pending sealing (`pending: true`, no
        seq) in time order; `newest_first` reverses the whole list."""
        pending = [{**dict(i.event), "seq": None, "pending": True} for i in self.pending()]
        items = AuditItem.query(self.chain, scan_index_forward=not newest_first, limit=limit)
        sealed = [
            {**dict(i.event), "hash": i.hash, "prev_hash": i.prev_hash, "pending": False} for i in items
        ]
        chained = {e.get("record_id") for e in sealed}
        pending = [e for e in pending if e["record_id"] not in chained]  # sealed between the two reads
        ordered = pending[::-1] + sealed if newest_first else sealed + pending
        return ordered[:limit] if limit is not None else ordered

    def verify(
        self,
        signer: Signer | None = None,
        anchor: dict[str, Any] | None = None,
        every_signature: bool = False,
    ) -> VerifyResult:
        """Check the chain and its digest chain (adapters/audit_verify.py)."""
        from companyos.adapters.audit_verify import verify_trail

        return verify_trail(self, signer or self.signer, anchor, every_signature)
