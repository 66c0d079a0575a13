"""The audit chain's primitives (#17): key layout, canonical JSON, the hash link, the digest's signed
bytes, and the KMS signer. Shared by the records (audit.py), the sealer and the verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Protocol

GENESIS = "0" * 64
DIGEST_SUFFIX = "#DIGEST"
RECORD_PREFIX = "REC#"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
# The fields a digest's signature covers (a digest written before #17 signed the first four only).
SIGNED_FIELDS = ("chain", "number", "first_seq", "seq", "count", "head", "prev_signature", "signed_at")
_LEGACY_SIGNED_FIELDS = ("chain", "seq", "head", "signed_at")


def canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest_message(digest: dict[str, Any]) -> bytes:
    """The exact bytes a digest's signature is over (canonical JSON of its signed fields)."""
    fields = SIGNED_FIELDS if "number" in digest else _LEGACY_SIGNED_FIELDS
    return canonical({k: digest[k] for k in fields}).encode()


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
