"""The source plug-in contract: verify the tool's own signature, then parse its real payload."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from companyos.errors import InvalidPayload, MalformedBody, SignatureInvalid


@dataclass(frozen=True)
class WebhookRequest:
    headers: Mapping[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Signal:
    """A normalised fact. `key` is unique within its delivery (makes the stored id deterministic)."""

    kind: str
    occurred_at: datetime
    entity: str | None
    attributes: dict[str, Any]
    key: str = ""


@dataclass(frozen=True)
class ParsedDelivery:
    event: str
    delivery_id: str
    signals: list[Signal] = field(default_factory=list)
    ignored_reason: str | None = None


class Source(Protocol):
    name: str
    retention_days: int

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None: ...

    def parse(self, request: WebhookRequest) -> ParsedDelivery: ...


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def any_signature_matches(expected_hexes: Sequence[str], secrets: Sequence[str], body: bytes) -> None:
    """Constant-time comparison of every offered signature against every active secret."""
    if not secrets:
        raise SignatureInvalid("no webhook secret is configured for this tenant and source")
    computed = [hmac_sha256_hex(s, body) for s in secrets]
    if not any(hmac.compare_digest(e, c) for e in expected_hexes for c in computed):
        raise SignatureInvalid("the signature does not match the payload")


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from exc


def require(doc: Any, path: str) -> Any:
    """Fetch a dotted path from a JSON document or raise 422 naming the missing field."""
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            raise InvalidPayload(f"required field '{path}' is missing", details={"path": path})
        cur = cur[part]
    return cur


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidPayload(f"field '{path}' must be an ISO-8601 timestamp", details={"path": path})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidPayload(f"field '{path}' is not an ISO-8601 timestamp", details={"path": path}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def content_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]
