"""Hash-chained, append-only audit trail: one chain per tenant (or PLATFORM), with KMS-signed digests.

hash_n = SHA-256(prev_hash ‖ canonical_json(event_n)); the first event chains from GENESIS.
Appends are conditional writes on the next sequence number, so two writers can never fork the chain.

After every append (when a signer is configured) the chain's head is signed: a *digest* item
`pk=<chain>#DIGEST, sk=<seq>` holds {seq, head hash, signed_at} and an ECDSA P-256 signature made by
an asymmetric KMS key (Sign with ECDSA_SHA_256, MessageType RAW over the canonical digest). `verify`
re-walks the chain, checks every link and hash, then checks the latest digest's signature with KMS
and that the chain still has exactly that head at that seq: editing an event breaks its hash,
reordering breaks the links and sequence, deleting a middle event breaks the links, and deleting
or rewriting the tail no longer matches the signed head (a forger would need the KMS key).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from pynamodb.exceptions import PutError

from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import AuditItem
from companyos.domain import clock
from companyos.domain.errors import Conflict

GENESIS = "0" * 64
DIGEST_SUFFIX = "#DIGEST"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
_MAX_ATTEMPTS = 8


def canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- signing


class Signer(Protocol):
    key_id: str

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, signature_b64: str) -> bool: ...

    def public_key_pem(self) -> str: ...


class KmsSigner:
    """Signs digests with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY); the key never leaves KMS."""

    def __init__(self, key_id: str, client: Any = None) -> None:
        import boto3

        self.key_id = key_id
        self._kms = client or boto3.client("kms")

    def sign(self, message: bytes) -> str:
        out = self._kms.sign(
            KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=SIGNING_ALGORITHM
        )
        return base64.b64encode(out["Signature"]).decode()

    def verify(self, message: bytes, signature_b64: str) -> bool:
        try:
            out = self._kms.verify(
                KeyId=self.key_id,
                Message=message,
                MessageType="RAW",
                Signature=base64.b64decode(signature_b64),
                SigningAlgorithm=SIGNING_ALGORITHM,
            )
        except self._kms.exceptions.KMSInvalidSignatureException:
            return False
        return bool(out.get("SignatureValid"))

    def public_key_pem(self) -> str:
        der = self._kms.get_public_key(KeyId=self.key_id)["PublicKey"]
        b64 = base64.encodebytes(der).decode().replace("\n", "")
        lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


_signer: Signer | None = None


def configure_signer(key_id: str | None, client: Any = None) -> Signer | None:
    """Set the process-wide digest signer (cold start: `api.bootstrap`); empty key id: no signing."""
    global _signer
    _signer = KmsSigner(key_id, client) if key_id else None
    return _signer


def current_signer() -> Signer | None:
    return _signer


# ---------------------------------------------------------------------------- events


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
    problem: str = ""  # hash_mismatch / link_broken / sequence_gap / digest_* / unsigned
    digest: dict[str, Any] | None = None  # the latest signed digest checked
    signature_valid: bool | None = None  # None: no digest to check
    unsigned_events: int = 0  # events after the latest signed digest

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def digest_message(chain: str, seq: int, head: str, signed_at: str) -> bytes:
    return canonical({"chain": chain, "seq": seq, "head": head, "signed_at": signed_at}).encode()


@dataclass
class AuditTrail:
    chain: str  # tenant id, or "PLATFORM" for cross-tenant actions
    signer: Signer | None = field(default_factory=current_signer)

    def _head(self) -> tuple[int, str]:
        last = list(AuditItem.query(self.chain, scan_index_forward=False, limit=1))
        return (int(last[0].seq), last[0].hash) if last else (0, GENESIS)

    def append(self, ev: AuditEvent) -> dict[str, Any]:
        event = {**ev.__dict__, "tenant": self.chain, "at": clock.now().isoformat()}
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
            except PutError as exc:
                if not is_condition_failure(exc):
                    raise
                continue
            if self.signer is not None:
                self.sign_head(seq + 1, item.hash)
            return body
        raise Conflict("the audit chain is busy; retry the request", code="audit_contention")

    # ---- digests

    def sign_head(self, seq: int | None = None, head: str | None = None) -> dict[str, Any] | None:
        """Sign the chain's head (seq, hash). Digests are append-only per seq; a concurrent signer
        of the same seq signed the same head, so losing that race is fine."""
        if self.signer is None:
            return None
        if seq is None or head is None:
            seq, head = self._head()
        signed_at = clock.now().isoformat()
        digest = {
            "chain": self.chain,
            "seq": seq,
            "head": head,
            "signed_at": signed_at,
            "key_id": self.signer.key_id,
            "algorithm": SIGNING_ALGORITHM,
            "signature": self.signer.sign(digest_message(self.chain, seq, head, signed_at)),
        }
        item = AuditItem(
            pk=self.chain + DIGEST_SUFFIX, sk=f"{seq:012d}", seq=seq, prev_hash="", hash=head, event=digest
        )
        try:
            item.save(condition=AuditItem.sk.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
        return digest

    def latest_digest(self) -> dict[str, Any] | None:
        last = list(AuditItem.query(self.chain + DIGEST_SUFFIX, scan_index_forward=False, limit=1))
        return dict(last[0].event) if last else None

    def digests(self) -> list[dict[str, Any]]:
        return [dict(i.event) for i in AuditItem.query(self.chain + DIGEST_SUFFIX)]

    # ---- reading and verifying

    def items(self) -> Iterable[AuditItem]:
        return AuditItem.query(self.chain)

    def events(self, limit: int | None = None, newest_first: bool = False) -> list[dict[str, Any]]:
        items = AuditItem.query(self.chain, scan_index_forward=not newest_first, limit=limit)
        return [{**dict(i.event), "hash": i.hash, "prev_hash": i.prev_hash} for i in items]

    def verify(self, signer: Signer | None = None) -> VerifyResult:
        """Re-walk the chain and check the latest signed digest (with `signer`, else this trail's)."""
        prev, count, hashes = GENESIS, 0, {0: GENESIS}
        for item in self.items():
            count += 1
            problem = _link_problem(item, prev, count)
            if problem:
                return VerifyResult(False, count, prev, broken_at=int(item.seq), problem=problem)
            prev = hashes[count] = item.hash
        return self._check_digest(signer or self.signer, count, prev, hashes)

    def _check_digest(
        self, signer: Signer | None, count: int, head: str, hashes: dict[int, str]
    ) -> VerifyResult:
        digest = self.latest_digest()
        if digest is None:
            # Without a signed head the chain alone cannot show a truncated tail.
            ok = signer is None or count == 0
            return VerifyResult(ok, count, head, problem="" if ok else "unsigned", unsigned_events=count)
        if signer is None:
            return VerifyResult(False, count, head, problem="digest_unverifiable", digest=digest)
        seq = int(digest["seq"])
        message = digest_message(self.chain, seq, str(digest["head"]), str(digest["signed_at"]))
        if not signer.verify(message, str(digest["signature"])):
            return VerifyResult(
                False, count, head, problem="digest_signature_invalid", digest=digest, signature_valid=False
            )
        if seq > count or hashes.get(seq) != digest["head"]:
            # the signed head is gone or different: the tail was deleted or rewritten
            return VerifyResult(
                False,
                count,
                head,
                broken_at=seq,
                problem="digest_head_mismatch",
                digest=digest,
                signature_valid=True,
            )
        unsigned = count - seq  # events after the last signed head (appended by a writer without the key)
        return VerifyResult(
            unsigned == 0,
            count,
            head,
            problem="unsigned_tail" if unsigned else "",
            digest=digest,
            signature_valid=True,
            unsigned_events=unsigned,
        )


def _link_problem(item: AuditItem, prev: str, expected_seq: int) -> str:
    if item.seq != expected_seq or item.sk != f"{expected_seq:012d}" or item.event.get("seq") != expected_seq:
        return "sequence_gap"
    if item.prev_hash != prev:
        return "link_broken"
    if chain_hash(prev, item.event) != item.hash:
        return "hash_mismatch"
    return ""


# ---------------------------------------------------------------------------- evidence bundle


def evidence_bundle(
    trail: AuditTrail, extra_files: dict[str, Any] | None = None, generated_by: str = ""
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
