"""The source plug-in contract: verify the tool's own signature, then parse its real payload."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from companyos.domain.errors import InvalidPayload, MalformedBody, SignatureInvalid


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
    # `key` is the source's own id of the fact (with `entity`: GitHub's deployment_status id in its
    # repository, PagerDuty's event id): the same fact in another delivery (a redelivery with a new
    # delivery id, a batch resent) is the same stored signal, never a second one
    fact: bool = False


@dataclass(frozen=True)
class ReportSnapshot:
    """An uploaded scan report is a snapshot: it replaces what the same scanner last reported for the
    same scopes (artifact / project / repository). Its signals are the findings it contains; ingest
    turns them into opened/fixed transitions against the stored finding state."""

    scanner: str
    scopes: tuple[str, ...]
    taken_at: datetime


@dataclass(frozen=True)
class ParsedDelivery:
    event: str
    delivery_id: str
    signals: list[Signal] = field(default_factory=list)
    ignored_reason: str | None = None
    snapshot: ReportSnapshot | None = None


class Source(Protocol):
    name: str
    # How long a delivery id is remembered (a redelivery inside it is a no-op), and the fallback TTL
    # of a signal kind without a retention entry. Signal TTLs come from `retention.KINDS`.
    retention_days: int

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None: ...

    def parse(self, request: WebhookRequest) -> ParsedDelivery: ...


COMPANYOS_SIGNATURE = "X-CompanyOS-Signature"
COMPANYOS_DELIVERY = "X-CompanyOS-Delivery"


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# One answer for a wrong secret, no secret and an unknown tenant (which has none): the caller cannot
# tell them apart, so a public endpoint does not reveal which tenants or configurations exist.
NO_MATCH = "the signature matches no webhook secret configured for this tenant and source"


def any_signature_matches(expected_hexes: Sequence[str], secrets: Sequence[str], body: bytes) -> None:
    """Constant-time comparison of every offered signature against every active secret."""
    computed = [hmac_sha256_hex(s, body) for s in secrets]
    if not any(hmac.compare_digest(e, c) for e in expected_hexes for c in computed):
        raise SignatureInvalid(NO_MATCH)


def verify_sha256_header(request: WebhookRequest, header: str, secrets: Sequence[str]) -> None:
    """`<header>: sha256=<hex HMAC-SHA256 of the raw body>` (GitHub's scheme, and ours for uploads)."""
    value = request.header(header)
    if not value or not value.startswith("sha256="):
        raise SignatureInvalid(f"missing or malformed {header} header", code="signature_missing")
    any_signature_matches([value.removeprefix("sha256=").strip().lower()], secrets, request.body)


def verify_companyos_signature(request: WebhookRequest, secrets: Sequence[str]) -> None:
    verify_sha256_header(request, COMPANYOS_SIGNATURE, secrets)


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"the body is not valid JSON: {exc}") from exc


def require(doc: Any, path: str) -> Any:
    """Fetch a dotted path (list items by index: `commits.0.id`) or raise 422 naming the field."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        elif isinstance(cur, dict) and cur.get(part) is not None:
            cur = cur[part]
        else:
            raise InvalidPayload(f"required field '{path}' is missing", details={"path": path})
    if cur is None:
        raise InvalidPayload(f"required field '{path}' is missing", details={"path": path})
    return cur


def parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidPayload(f"field '{path}' must be an ISO-8601 timestamp", details={"path": path})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidPayload(f"field '{path}' is not an ISO-8601 timestamp", details={"path": path}) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def optional_time(value: Any) -> datetime | None:
    """A timestamp that may be absent or in a tool's own non-ISO format: None when unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value, "")
    except InvalidPayload:
        pass
    for fmt in ("%m-%d-%Y", "%Y-%m-%d %H:%M:%S %z"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def content_id(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def short_hash(*parts: object) -> str:
    """A deterministic key from its parts (stable across processes, unlike hash())."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:24]


def own_delivery_id(request: WebhookRequest) -> str:
    """Our own formats: the sender's `X-CompanyOS-Delivery` id, else the body's content hash."""
    return (request.header(COMPANYOS_DELIVERY) or "").strip()[:128] or content_id(request.body)
