"""What the log-shipping sources share (Okta, Auth0, CloudTrail, AWS WAF, GuardDuty): how they
authenticate, how their bodies are framed, and their timestamps.

None of these tools signs its body with an HMAC. Each sends a secret the operator configures in a
header: Okta event hooks and Auth0 log streams an `Authorization` value, EventBridge API
destinations an API-key header (`X-CompanyOS-Key`), Kinesis Data Firehose `X-Amz-Firehose-Access-Key`.
That value is compared in constant time with the tenant's secret for the source. A forwarder of our
own (and the demo) may instead sign the body with `X-CompanyOS-Signature` like every upload.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from companyos.domain import clock
from companyos.domain.errors import InvalidPayload, MalformedBody, SignatureInvalid
from companyos.sources.base import (
    COMPANYOS_SIGNATURE,
    NO_MATCH,
    WebhookRequest,
    load_json,
    verify_companyos_signature,
)

API_KEY_HEADER = "X-CompanyOS-Key"  # the header an EventBridge connection's API-key auth sends


def verify_shared_secret(request: WebhookRequest, headers: Sequence[str], secrets: Sequence[str]) -> None:
    """The first of `headers` present must carry the tenant's secret (`Bearer ` optional); else an
    `X-CompanyOS-Signature` HMAC of the body. Neither: 401 signature_missing."""
    for name in headers:
        value = (request.header(name) or "").strip()
        if not value:
            continue
        token = value[7:].strip() if value.lower().startswith("bearer ") else value
        if not any(hmac.compare_digest(token.encode(), s.encode()) for s in secrets):
            raise SignatureInvalid(NO_MATCH)
        return
    if request.header(COMPANYOS_SIGNATURE):
        verify_companyos_signature(request, secrets)
        return
    raise SignatureInvalid(
        f"missing {' or '.join(headers)} secret header (or {COMPANYOS_SIGNATURE})", code="signature_missing"
    )


def json_records(body: bytes) -> Any:
    """A JSON document, or NDJSON (one record per line, as log files and Auth0's JSON-lines format
    hold them) read as a list."""
    try:
        return load_json(body)
    except MalformedBody:
        lines = [ln for ln in body.decode("utf-8", errors="replace").splitlines() if ln.strip()]
        if len(lines) < 2:
            raise
        out = []
        for i, line in enumerate(lines):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MalformedBody(f"line {i + 1} is not valid JSON: {exc}") from exc
        return out


def as_object(doc: Any, i: int | str, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InvalidPayload(f"{what} {i} is not a JSON object", details={"path": str(i)})
    return doc


_FRACTION = re.compile(r"(\.\d{6})\d+")


def log_time(value: Any, path: str) -> datetime:
    """ISO-8601 as the tools write it: `2022-11-10T16:24:34Z`, `2023-03-26T21:05:32.159Z`, and the
    `2024-05-02 18:46:21.121000000` form of log pipelines (space, nanoseconds); naive is UTC."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidPayload(f"field '{path}' must be a timestamp", details={"path": path})
    text = _FRACTION.sub(r"\1", value.strip().replace("Z", "+00:00"))
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPayload(f"field '{path}' is not an ISO-8601 timestamp", details={"path": path}) from exc
    return clock.utc(at)


def epoch_ms(value: Any, path: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPayload(f"field '{path}' must be epoch milliseconds", details={"path": path})
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
