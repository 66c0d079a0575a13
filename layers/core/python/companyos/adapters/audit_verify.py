"""Verifying an audit chain (#17) and the auditor's evidence bundle.

`verify_trail` walks the sealed chain (every seq present, every link and hash) and then the digest
chain end to end: digest numbers contiguous from 1, each naming the previous digest's signature and
starting where the previous one ended, each head equal to the chain's hash at its seq, the latest
signature valid (KMS Verify; with `every_signature` each one, for an offline audit). So:

- editing an entry breaks its hash; reordering breaks links and seq; deleting a middle entry is a gap;
- deleting or truncating the tail leaves a signed head that no longer matches (`digest_head_mismatch`),
  or entries no digest covers (`unsigned_tail`: the sealer commits entries and their digest together);
- deleting the latest digest too is caught by the heartbeat: every chain is signed at least every
  `HEARTBEAT`, so a latest digest older than `STALE_AFTER` is `digest_stale`; against a digest the
  auditor exported earlier (`anchor`) it is caught at once (`anchor_missing`);
- an emptied chain (no entries, no digests, nothing pending) is `chain_empty`: every tenant's chain
  starts with a genesis digest the sweep writes, so an existing chain is never empty;
- a forged digest fails its signature, or the next digest's `prev_signature`.

Records the sealer has not chained yet are `pending_events` — not tampering; `sealing_overdue` says
some are older than `SEALING_DELAY` (the sealer is behind or failing: an operational alarm).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from companyos.adapters.audit_chain import (
    GENESIS,
    SIGNING_ALGORITHM,
    Signer,
    canonical,
    chain_hash,
    digest_message,
    sha256_hex,
)
from companyos.adapters.audit_seal import HEARTBEAT
from companyos.adapters.models import AuditItem
from companyos.domain import clock


class Trail(Protocol):
    """What verifying reads of a trail (`companyos.adapters.audit.AuditTrail`)."""

    chain: str
    signer: Signer | None

    def entries(self) -> Iterable[AuditItem]: ...

    def pending(self) -> list[AuditItem]: ...

    def digest_items(self) -> list[AuditItem]: ...

    def digests(self) -> list[dict[str, Any]]: ...

    def events(self, limit: int | None = None, newest_first: bool = False) -> list[dict[str, Any]]: ...

    def verify(self) -> VerifyResult: ...


SEALING_DELAY = timedelta(minutes=5)  # stream batching window + retries; the sweep runs every 5 min
STALE_AFTER = 2 * HEARTBEAT + SEALING_DELAY


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int  # sealed events
    head: str
    broken_at: int | None = None
    problem: str = ""  # hash_mismatch / link_broken / sequence_gap / digest_* / unsigned_tail / chain_empty
    digest: dict[str, Any] | None = None  # the latest digest
    signature_valid: bool | None = None  # None: no digest to check
    unsigned_events: int = 0  # sealed events no digest covers (never legitimate)
    pending_events: int = 0  # records the sealer has not chained yet (not tampering)
    sealing_overdue: bool = False  # a pending record older than SEALING_DELAY
    digests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _link_problem(item: AuditItem, prev: str, expected_seq: int) -> str:
    if item.seq != expected_seq or item.sk != f"{expected_seq:012d}" or item.event.get("seq") != expected_seq:
        return "sequence_gap"
    if item.prev_hash != prev:
        return "link_broken"
    if chain_hash(prev, item.event) != item.hash:
        return "hash_mismatch"
    return ""


def _pending(trail: Trail, now: datetime) -> tuple[int, bool]:
    records = trail.pending()
    overdue = any(datetime.fromisoformat(str(r.event["at"])) < now - SEALING_DELAY for r in records)
    return len(records), overdue


def _digest_problem(
    d: dict[str, Any], number: int, prev: dict[str, Any] | None, prev_number: int, hashes: dict[int, str]
) -> str:
    """One digest (stored under `number`) against its predecessor and the chain; signatures are
    checked by the caller."""
    seq = int(d["seq"])
    if hashes.get(seq) != d["head"]:
        return "digest_head_mismatch"
    if "number" not in d:  # written before #17: per-append heads, not chained to each other
        return ""
    expected_first = int(prev["seq"]) + 1 if prev else 1
    expected_sig = str(prev["signature"]) if prev else ""
    if int(d["number"]) != number or number != prev_number + 1:
        return "digest_chain_broken"
    if (
        d["prev_signature"] != expected_sig
        or int(d["first_seq"]) != expected_first
        or seq < expected_first - 1
    ):
        return "digest_chain_broken"
    if int(d["count"]) != seq:
        return "digest_count_mismatch"
    return ""


def _walk(trail: Trail, base: VerifyResult) -> tuple[VerifyResult, dict[int, str]]:
    """Every sealed entry in seq order, linked and hashed; the result so far and the hash per seq."""
    prev, count, hashes = GENESIS, 0, {0: GENESIS}
    for item in trail.entries():
        count += 1
        problem = _link_problem(item, prev, count)
        if problem:
            return replace(
                base, ok=False, events=count, head=prev, broken_at=int(item.seq or 0), problem=problem
            ), hashes
        prev = hashes[count] = str(item.hash)
    return replace(base, events=count, head=prev), hashes


def _check_digests(
    result: VerifyResult, items: list[AuditItem], hashes: dict[int, str], signer: Signer, every: bool
) -> VerifyResult:
    digests = [dict(i.event) for i in items]
    for i, d in enumerate(digests):
        prev, prev_number = (digests[i - 1], int(items[i - 1].sk)) if i else (None, 0)
        problem = _digest_problem(d, int(items[i].sk), prev, prev_number, hashes)
        if problem:
            return replace(result, ok=False, broken_at=int(d["seq"]), problem=problem)
        if (every or i == len(digests) - 1) and not signer.verify(digest_message(d), str(d["signature"])):
            return replace(result, ok=False, problem="digest_signature_invalid", signature_valid=False)
    return replace(result, signature_valid=True)


# What a sealer committing between the walk of the entries and the read of the digests looks like
# for a moment (a digest beyond the entries walked, or entries beyond the digests read): read again.
_RACY = frozenset({"digest_head_mismatch", "unsigned_tail"})


def verify_trail(
    trail: Trail,
    signer: Signer | None,
    anchor: dict[str, Any] | None = None,
    every_signature: bool = False,
) -> VerifyResult:
    result = _verify_once(trail, signer, anchor, every_signature)
    if result.problem in _RACY:  # tampering persists; a concurrent seal does not
        result = _verify_once(trail, signer, anchor, every_signature)
    return result


def _verify_once(
    trail: Trail, signer: Signer | None, anchor: dict[str, Any] | None, every_signature: bool
) -> VerifyResult:
    now = clock.now()
    pending, overdue = _pending(trail, now)
    base = VerifyResult(True, 0, GENESIS, pending_events=pending, sealing_overdue=overdue)
    result, hashes = _walk(trail, base)
    if not result.ok:
        return result
    items = trail.digest_items()
    result = replace(result, digests=len(items), digest=dict(items[-1].event) if items else None)
    if not items:
        if result.events:
            return replace(result, ok=False, problem="unsigned_tail", unsigned_events=result.events)
        # nothing at all: emptied (every chain has its genesis digest), unless its first records wait
        return result if pending else replace(result, ok=False, problem="chain_empty")
    if signer is None:
        return replace(result, ok=False, problem="digest_unverifiable")
    result = _check_digests(result, items, hashes, signer, every_signature)
    latest = dict(items[-1].event)
    unsigned = result.events - int(latest["seq"])
    if not result.ok or unsigned:
        return (
            result
            if not result.ok
            else replace(result, ok=False, problem="unsigned_tail", unsigned_events=unsigned)
        )
    if anchor is not None and not any(i.event.get("signature") == anchor.get("signature") for i in items):
        return replace(result, ok=False, problem="anchor_missing")
    if datetime.fromisoformat(str(latest["signed_at"])) < now - STALE_AFTER:
        return replace(result, ok=False, problem="digest_stale")
    return result


# ---------------------------------------------------------------------------- evidence bundle


def evidence_bundle(
    trail: Trail, extra_files: dict[str, Any] | None = None, generated_by: str = ""
) -> dict[str, Any]:
    """An auditor's evidence bundle: files (JSON text) with SHA-256 checksums and a manifest.

    `files[name]` is the exact text whose SHA-256 is `manifest.checksums[name]`; the manifest's own
    checksum is `manifest_sha256` (over its canonical JSON), so a single value pins the whole bundle."""
    verify = trail.verify()
    docs: dict[str, Any] = {
        "events.json": trail.events(),
        "digests.json": trail.digests(),
        "verify.json": verify.to_dict(),
        **(extra_files or {}),
    }
    if trail.signer is not None:
        docs["public_key.json"] = {
            "key_id": trail.signer.key_id,
            "algorithm": SIGNING_ALGORITHM,
            "pem": trail.signer.public_key_pem(),
        }
    files = {
        name: json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n" for name, doc in docs.items()
    }
    manifest = {
        "chain": trail.chain,
        "generated_at": clock.now().isoformat(),
        "generated_by": generated_by,
        "events": verify.events,
        "head": verify.head,
        "chain_ok": verify.ok,
        "algorithm": "SHA-256",
        "checksums": {name: sha256_hex(text.encode()) for name, text in sorted(files.items())},
    }
    return {"manifest": manifest, "manifest_sha256": sha256_hex(canonical(manifest).encode()), "files": files}


def check_bundle(bundle: dict[str, Any]) -> list[str]:
    """Names of files whose checksum does not match (plus "manifest" if the manifest was altered)."""
    bad = [
        name
        for name, text in bundle["files"].items()
        if bundle["manifest"]["checksums"].get(name) != sha256_hex(text.encode())
    ]
    if sha256_hex(canonical(bundle["manifest"]).encode()) != bundle["manifest_sha256"]:
        bad.append("manifest")
    return bad
