"""Hash-chained, append-only audit trail: one chain per tenant (or PLATFORM).

hash_n = SHA-256(prev_hash ‖ canonical_json(event_n)); the first event chains from GENESIS.
Appends are conditional writes on the next sequence number, so two writers can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import PutError

from companyos.errors import Conflict
from companyos.store.models import AuditItem

GENESIS = "0" * 64
_MAX_ATTEMPTS = 8


def canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


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


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head: str
    broken_at: int | None = None


class AuditTrail:
    def __init__(self, chain: str) -> None:
        self.chain = chain  # tenant id, or "PLATFORM" for cross-tenant actions

    def _head(self) -> tuple[int, str]:
        last = list(AuditItem.query(self.chain, scan_index_forward=False, limit=1))
        return (int(last[0].seq), last[0].hash) if last else (0, GENESIS)

    def append(self, ev: AuditEvent) -> dict[str, Any]:
        event = {**ev.__dict__, "tenant": self.chain, "at": datetime.now(UTC).isoformat()}
        for _ in range(_MAX_ATTEMPTS):
            seq, prev = self._head()
            body = {**event, "seq": seq + 1}
            item = AuditItem(
                pk=self.chain,
                sk=f"{seq + 1:012d}",
                seq=seq + 1,
                prev_hash=prev,
                hash=chain_hash(prev, body),
                event=body,
            )
            try:
                item.save(condition=AuditItem.sk.does_not_exist())
                return body
            except PutError as exc:
                if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
                    raise
        raise Conflict("the audit chain is busy; retry the request", code="audit_contention")

    def verify(self) -> VerifyResult:
        prev, count = GENESIS, 0
        for item in AuditItem.query(self.chain):
            count += 1
            if item.prev_hash != prev or chain_hash(prev, item.event) != item.hash or item.seq != count:
                return VerifyResult(ok=False, events=count, head=prev, broken_at=int(item.seq))
            prev = item.hash
        return VerifyResult(ok=True, events=count, head=prev)
