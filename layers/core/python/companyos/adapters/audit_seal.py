"""The audit sealer (#17): the only writer of the hash chain and the only signer of digests.

Fed by the audit table's stream (INSERTs of `REC#<chain>` records; in AWS an event source mapping,
in the local stack `infra/local/audit_stream.py`), and by a sweep on a schedule that seals whatever
is still pending (e.g. records of a batch that went to the dead-letter queue) and writes a heartbeat
digest for a chain whose latest digest is older than `HEARTBEAT` (an idle chain still gets signed
regularly, like CloudTrail's hourly digest files; the verifier flags a stale digest chain).

One transaction per ≤ `SEAL_BATCH` records of one chain: put chain entries seq+1..seq+n (each
conditioned on its seq being free), delete the records they chain (each conditioned on still being
there) and put the digest (conditioned on its number being free) that signs the new head and names
the previous digest's signature. So a chain entry never exists without its digest, a record is
chained exactly once, and the digest chain cannot fork: a redelivered batch finds its records gone
(skipped), a concurrent sealer of the same chain makes the transaction fail and this one re-reads
the head and tries again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.audit_chain import (
    DIGEST_SUFFIX,
    GENESIS,
    RECORD_PREFIX,
    SIGNING_ALGORITHM,
    Signer,
    chain_hash,
    digest_message,
)
from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import AuditItem
from companyos.domain import clock

SEAL_BATCH = 48  # 2 items per record + the digest: within DynamoDB's 100 items per transaction
HEARTBEAT = timedelta(minutes=15)
_ATTEMPTS = 5


def _seq_key(n: int) -> str:
    return f"{n:012d}"


def stream_records(records: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Record ids per chain, in stream order, from a DynamoDB stream batch (INSERTs of records)."""
    out: dict[str, list[str]] = {}
    for r in records:
        keys = (r.get("dynamodb") or {}).get("Keys") or {}
        pk, sk = (keys.get("pk") or {}).get("S", ""), (keys.get("sk") or {}).get("S", "")
        if r.get("eventName") == "INSERT" and pk.startswith(RECORD_PREFIX) and sk:
            out.setdefault(pk[len(RECORD_PREFIX) :], []).append(sk)
    return out


class Sealer:
    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def seal_stream(self, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Seal a stream batch; records sealed per chain (0 for a redelivered batch)."""
        return {chain: self.seal(chain, ids) for chain, ids in stream_records(records).items()}

    def sweep(self, chain: str) -> int:
        """Seal every pending record of `chain` (time order), then a heartbeat digest if one is due."""
        ids = [i.sk for i in AuditItem.query(RECORD_PREFIX + chain, consistent_read=True)]
        sealed = self.seal(chain, ids)
        self.heartbeat(chain)
        return sealed

    def seal(self, chain: str, record_ids: Sequence[str]) -> int:
        sealed = 0
        ids = list(dict.fromkeys(record_ids))
        for i in range(0, len(ids), SEAL_BATCH):
            sealed += self._seal_batch(chain, ids[i : i + SEAL_BATCH])
        return sealed

    def heartbeat(self, chain: str, now: datetime | None = None) -> bool:
        """Sign the unchanged head when the latest digest is older than HEARTBEAT (or there is none:
        the chain's genesis digest). True if a digest was written."""
        latest = _latest_digest(chain)
        now = now or clock.now()
        if latest is not None and datetime.fromisoformat(str(latest.event["signed_at"])) > now - HEARTBEAT:
            return False
        for _ in range(_ATTEMPTS):
            seq, head = _head(chain)
            try:
                with TransactWrite(connection=_connection()) as tx:
                    self._put_digest(tx, chain, _latest_digest(chain), head, seq)
                return True
            except TransactWriteError as exc:
                if not is_condition_failure(exc):
                    raise
        raise RuntimeError(f"audit chain {chain}: could not write a heartbeat digest")

    # ---- one transaction

    def _seal_batch(self, chain: str, record_ids: list[str]) -> int:
        for _ in range(_ATTEMPTS):
            records = _present(chain, record_ids)
            if not records:
                return 0  # all chained already (a redelivered batch)
            seq, head = _head(chain)
            try:
                with TransactWrite(connection=_connection()) as tx:
                    for rec in records:
                        seq += 1
                        event = {**dict(rec.event), "seq": seq}
                        entry = AuditItem(
                            pk=chain,
                            sk=_seq_key(seq),
                            seq=seq,
                            prev_hash=head,
                            hash=chain_hash(head, event),
                            event=event,
                        )
                        head = str(entry.hash)
                        tx.save(entry, condition=AuditItem.sk.does_not_exist())
                        tx.delete(rec, condition=AuditItem.sk.exists())
                    self._put_digest(tx, chain, _latest_digest(chain), head, seq)
                return len(records)
            except TransactWriteError as exc:
                if not is_condition_failure(exc):
                    raise
                # a concurrent sealer took the seq, the digest number or some of the records: re-read
        raise RuntimeError(f"audit chain {chain}: the head kept moving; the batch will be retried")

    def _put_digest(self, tx: TransactWrite, chain: str, prev: AuditItem | None, head: str, seq: int) -> None:
        """Sign (chain, number, first_seq..seq, count, head, previous signature, time) into `tx`: the
        digest covers every entry after the previous digest's seq (a chain written before #17 may
        have entries its last per-append digest did not cover: the first new digest covers them)."""
        number = int(prev.sk) + 1 if prev is not None else 1
        digest: dict[str, Any] = {
            "chain": chain,
            "number": number,
            "first_seq": int(prev.event["seq"]) + 1 if prev is not None else 1,
            "seq": seq,
            "count": seq,  # records in the chain, from seq 1
            "head": head if seq else GENESIS,
            "prev_signature": str(prev.event["signature"]) if prev is not None else "",
            "signed_at": clock.now().isoformat(),
        }
        digest |= {
            "key_id": self.signer.key_id,
            "algorithm": SIGNING_ALGORITHM,
            "signature": self.signer.sign(digest_message(digest)),
        }
        item = AuditItem(
            pk=chain + DIGEST_SUFFIX,
            sk=_seq_key(number),
            seq=seq,
            prev_hash="",
            hash=digest["head"],
            event=digest,
        )
        tx.save(item, condition=AuditItem.sk.does_not_exist())


def _connection() -> Any:
    return AuditItem._get_connection().connection


def _present(chain: str, record_ids: list[str]) -> list[AuditItem]:
    """The records still pending, in the order given (BatchGet answers in no particular order)."""
    found = {
        i.sk: i
        for i in AuditItem.batch_get([(RECORD_PREFIX + chain, r) for r in record_ids], consistent_read=True)
    }
    return [found[r] for r in record_ids if r in found]


def _head(chain: str) -> tuple[int, str]:
    last = list(AuditItem.query(chain, scan_index_forward=False, limit=1, consistent_read=True))
    return (int(last[0].seq or 0), str(last[0].hash)) if last else (0, GENESIS)


def _latest_digest(chain: str) -> AuditItem | None:
    last = list(
        AuditItem.query(chain + DIGEST_SUFFIX, scan_index_forward=False, limit=1, consistent_read=True)
    )
    return last[0] if last else None
