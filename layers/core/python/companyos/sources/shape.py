"""The guard around every source parser: a third-party payload of a shape the parser does not map is
refused with a 422 and a code, never a crash (a 500 in AWS, a dropped connection locally), and what a
parser returns is checked against what the stores can hold before anything is written.

Parsers read the tools' documented fields; a sender can still put a string where an object belongs
(`deployment.creator`), a list where a string does (`state: ["success"]`), nest a document a
thousand levels deep or send a lone UTF-16 surrogate. Each such case is refused here whole:
nothing is stored, the answer names what was wrong."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from companyos.domain.errors import DomainError, InvalidPayload
from companyos.sources.base import ParsedDelivery, Signal, Source, WebhookRequest

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # no tool we read emits facts from before
FUTURE_SLACK = timedelta(days=1)  # a sender's clock ahead of ours
MAX_ENTITY_BYTES = 1024  # entities end up in keys and GSI values (DynamoDB: 1,024 B sort keys)
MAX_ID_BYTES = 256  # longer delivery ids are hashed (they are part of a key)
MAX_ATTRIBUTES_BYTES = 300_000  # a signal item stays far below DynamoDB's 400 KB
SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError)


def parse(source: Source, request: WebhookRequest, now: datetime) -> ParsedDelivery:
    """`source.parse(request)`, with every way an odd shape can break it answered 422."""
    try:
        parsed = source.parse(request)
    except DomainError:
        raise
    except RecursionError as exc:
        raise InvalidPayload("the body nests too deeply to be read", code="too_deeply_nested") from exc
    except SHAPE_ERRORS as exc:
        raise InvalidPayload(
            f"the {source.name} payload has a field of a type its format does not allow"
            f" ({type(exc).__name__}); nothing was stored",
            code="unexpected_shape",
        ) from exc
    for i, s in enumerate(parsed.signals):
        check_signal(s, i, now)
    return bounded_id(parsed)


def bounded_id(parsed: ParsedDelivery) -> ParsedDelivery:
    """A delivery id longer than a key can hold (a 2,000-character X-GitHub-Delivery) is hashed."""
    raw = str(parsed.delivery_id)
    if len(raw.encode("utf-8", "surrogatepass")) <= MAX_ID_BYTES:
        return parsed
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return replace(parsed, delivery_id=f"sha256:{digest}")


def check_signal(s: Signal, index: int, now: datetime) -> None:
    where = f"signal {index} ({s.kind})"
    if s.entity is not None and not isinstance(s.entity, str):
        raise InvalidPayload(
            f"{where}: its entity must be text, not {type(s.entity).__name__}", code="unexpected_shape"
        )
    if s.entity is not None and len(s.entity.encode("utf-8", "surrogatepass")) > MAX_ENTITY_BYTES:
        raise InvalidPayload(
            f"{where}: its entity is longer than {MAX_ENTITY_BYTES} bytes", code="field_too_long"
        )
    if not isinstance(s.key, str):
        raise InvalidPayload(f"{where}: its id must be text", code="unexpected_shape")
    if not isinstance(s.occurred_at, datetime) or s.occurred_at.tzinfo is None:
        raise InvalidPayload(f"{where}: its time is not a time-zone aware timestamp", code="unexpected_shape")
    if not EARLIEST <= s.occurred_at <= now + FUTURE_SLACK:
        raise InvalidPayload(
            f"{where}: its time {s.occurred_at.date().isoformat()} is outside {EARLIEST.year} … tomorrow",
            code="time_out_of_range",
        )
    try:
        size = len(json.dumps([s.attributes, s.entity, s.key], ensure_ascii=False, default=str).encode())
    except UnicodeEncodeError as exc:  # a lone surrogate ("\ud800"): not storable text
        raise InvalidPayload(f"{where}: a text field is not valid Unicode", code="invalid_text") from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidPayload(f"{where}: its fields cannot be stored", code="unexpected_shape") from exc
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidPayload(
            f"{where}: its fields take {size:,} bytes (at most {MAX_ATTRIBUTES_BYTES:,})",
            code="field_too_long",
        )
