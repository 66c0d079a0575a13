"""Our own documented ingest formats, as pydantic models: the single definition of validation and of
the JSON Schemas published in docs/schemas/ (regenerate with `python -m companyos.sources.formats`).

Every timestamp must carry a time zone; unknown fields are refused (422 with the field path) so a
typo never silently drops data. Identifiers of people are pseudonymous ids chosen by the sender.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from companyos.domain.errors import InvalidPayload

Id = Field(min_length=1, max_length=128, description="unique id of this record at the sender")
MAX_RECORDS = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- product analytics


class AnalyticsEvent(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": "feature_used"}}},
                    "then": {"required": ["feature"]},
                },
                {"if": {"properties": {"type": {"const": "session"}}}, "then": {"required": ["duration_s"]}},
            ]
        },
    )

    id: str = Id
    type: Literal["session", "active", "feature_used"] = Field(
        description="session: a session ended (with duration_s); active: the user was active; "
        "feature_used: the user used `feature`"
    )
    occurred_at: AwareDatetime
    user_id: str = Field(min_length=1, max_length=128, description="pseudonymous user id")
    account_id: str | None = Field(default=None, max_length=128, description="customer account")
    product: str | None = Field(default=None, max_length=128, description="product or service name")
    session_id: str | None = Field(default=None, max_length=128)
    duration_s: float | None = Field(default=None, ge=0, validate_default=True)
    feature: str | None = Field(default=None, max_length=200, validate_default=True)

    @field_validator("duration_s")
    @classmethod
    def _session_has_duration(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is None and info.data.get("type") == "session":
            raise ValueError("a session event needs duration_s")
        return v

    @field_validator("feature")
    @classmethod
    def _feature_named(cls, v: str | None, info: ValidationInfo) -> str | None:
        if not v and info.data.get("type") == "feature_used":
            raise ValueError("a feature_used event needs feature")
        return v


class AnalyticsBatch(_Strict):
    """Product analytics events (`POST /api/ingest/analytics`)."""

    events: list[AnalyticsEvent] = Field(min_length=1, max_length=MAX_RECORDS)


# ---------------------------------------------------------------------------- NPS


class NpsResponse(_Strict):
    id: str = Id
    responded_at: AwareDatetime
    score: int = Field(ge=0, le=10, description="0-10; 9-10 promoter, 7-8 passive, 0-6 detractor")
    respondent_id: str | None = Field(default=None, max_length=128, description="pseudonymous id")
    account_id: str | None = Field(default=None, max_length=128)
    survey_id: str | None = Field(default=None, max_length=128)
    product: str | None = Field(default=None, max_length=128)
    comment: str | None = Field(default=None, max_length=5000, description="accepted, never stored")


class NpsBatch(_Strict):
    """NPS survey responses (`POST /api/ingest/nps`)."""

    responses: list[NpsResponse] = Field(min_length=1, max_length=MAX_RECORDS)


# ---------------------------------------------------------------------------- billing


class BillingEvent(_Strict):
    id: str = Id
    type: Literal["start", "expand", "contract", "churn"] = Field(
        description="subscription started / expanded / contracted / churned"
    )
    occurred_at: AwareDatetime
    account_id: str = Field(min_length=1, max_length=128)
    subscription_id: str | None = Field(default=None, max_length=128)
    plan: str | None = Field(default=None, max_length=128)
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")
    mrr_before: float = Field(ge=0, description="monthly recurring revenue before the event")
    mrr_after: float = Field(ge=0, description="monthly recurring revenue after the event")

    @field_validator("mrr_after")
    @classmethod
    def _consistent(cls, after: float, info: ValidationInfo) -> float:
        before, kind = info.data.get("mrr_before"), info.data.get("type")
        if before is None or kind is None:
            return after
        ok = {
            "start": before == 0 and after > 0,
            "expand": after > before,
            "contract": 0 < after < before,
            "churn": after == 0 and before > 0,
        }[kind]
        if not ok:
            raise ValueError(
                f"mrr_before={before} → mrr_after={after} is not a '{kind}' "
                "(start: 0 → >0; expand: up; contract: down, still >0; churn: >0 → 0)"
            )
        return after


class BillingBatch(_Strict):
    """Subscription billing events with MRR (`POST /api/ingest/billing`)."""

    events: list[BillingEvent] = Field(min_length=1, max_length=MAX_RECORDS)


# ---------------------------------------------------------------------------- OKR


class OkrUpdate(_Strict):
    id: str = Id
    as_of: AwareDatetime
    period: str = Field(pattern=r"^\d{4}(-Q[1-4]|-H[12])?$", description="e.g. 2025-Q3, 2025-H1, 2025")
    objective_id: str = Field(min_length=1, max_length=128)
    objective: str | None = Field(default=None, max_length=500)
    key_result_id: str = Field(min_length=1, max_length=128)
    key_result: str | None = Field(default=None, max_length=500)
    owner: str | None = Field(default=None, max_length=128)
    domain: str | None = Field(default=None, max_length=128)
    start_value: float = 0
    target_value: float
    current_value: float
    confidence: float | None = Field(default=None, ge=0, le=1)

    @field_validator("target_value")
    @classmethod
    def _target_differs(cls, target: float, info: ValidationInfo) -> float:
        if target == info.data.get("start_value"):
            raise ValueError("target_value must differ from start_value")
        return target

    def progress(self) -> float:
        """Share of the way from start to target, clamped to 0..1."""
        share = (self.current_value - self.start_value) / (self.target_value - self.start_value)
        return max(0.0, min(1.0, share))


class OkrBatch(_Strict):
    """Key-result progress updates (`POST /api/ingest/okr`)."""

    updates: list[OkrUpdate] = Field(min_length=1, max_length=MAX_RECORDS)


# ---------------------------------------------------------------------------- feature flags


class LaunchDarklyReason(BaseModel):
    model_config = ConfigDict(extra="allow")
    kind: str


class LaunchDarklyEvent(BaseModel):  # field names follow LaunchDarkly's camelCase via aliases
    """One LaunchDarkly analytics event (the Data Export / SDK event shape). Only `kind: feature`
    events are used; `index`, `identify`, `summary`, `custom` and `debug` events are skipped.
    Both the older user-based (`userKey`, `contextKind`) and the context-based (`context`,
    `contextKeys`) shapes are accepted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    kind: str
    key: str | None = Field(default=None, description="flag key (required for feature events)")
    creation_date: int | None = Field(default=None, ge=0, alias="creationDate", description="epoch ms")
    variation: int | None = None
    variation_name: str | None = Field(default=None, alias="variationName")
    value: Any = None
    default: Any = None
    version: int | None = None
    reason: LaunchDarklyReason | None = None
    prereq_of: str | None = Field(default=None, alias="prereqOf")
    context_kind: str | None = Field(default=None, alias="contextKind")
    user_key: str | None = Field(default=None, alias="userKey")
    context: dict[str, Any] | None = None
    context_keys: dict[str, str] | None = Field(default=None, alias="contextKeys")


# ---------------------------------------------------------------------------- finance (monthly close)


class CogsLine(_Strict):
    name: str = Field(
        min_length=1, max_length=128, description="e.g. hosting outside AWS, support, payment fees"
    )
    amount: float = Field(ge=0, description="cost of goods sold of the month, in the upload's currency")


class FinanceMonth(_Strict):
    period: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the calendar month, YYYY-MM")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, of every amount of the month")
    as_of: AwareDatetime = Field(
        description="when these figures were closed; the newest upload of a month wins"
    )
    revenue: float | None = Field(
        default=None,
        ge=0,
        description="recognised revenue of the month; omit it to use Stripe's (invoices paid - refunds)",
    )
    cogs: list[CogsLine] = Field(
        default_factory=list,
        max_length=100,
        description="COGS lines, without AWS (the month's CUR cost is added)",
    )
    sales_marketing: float = Field(ge=0, description="sales and marketing spend of the month")
    new_customers: int = Field(ge=0, description="customers won in the month")


class FinanceBatch(_Strict):
    """Monthly finance figures (`POST /api/ingest/finance`, JSON or CSV)."""

    months: list[FinanceMonth] = Field(min_length=1, max_length=36)


FORMATS: dict[str, type[BaseModel]] = {
    "analytics": AnalyticsBatch,
    "nps": NpsBatch,
    "billing": BillingBatch,
    "okr": OkrBatch,
    "feature_flags": LaunchDarklyEvent,
    "finance": FinanceBatch,
}


def error_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def invalid(exc: ValidationError, prefix: str = "") -> InvalidPayload:
    """A pydantic error as our 422: the first error's dotted path, and the first ten errors."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    paths = [prefix + error_path(e["loc"]) for e in errors]
    first = errors[0] if errors else {"msg": "invalid"}
    return InvalidPayload(
        f"{paths[0] if paths else prefix or 'body'}: {first['msg']}",
        details={
            "path": paths[0] if paths else prefix,
            "errors": [{"path": p, "message": e["msg"]} for p, e in zip(paths, errors, strict=True)][:10],
        },
    )


def json_schema(name: str) -> dict[str, Any]:
    model = FORMATS[name]
    schema = model.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://companyos.dev/schemas/{name}.json",
        **schema,
    }
    if name == "feature_flags":
        schema = {
            "$schema": schema.pop("$schema"),
            "$id": schema.pop("$id"),
            "title": "LaunchDarklyEvents",
            "description": "One LaunchDarkly event object, or an array of them (as SDKs post them).",
            "$defs": {**schema.pop("$defs", {}), "LaunchDarklyEvent": schema},
            "oneOf": [
                {"$ref": "#/$defs/LaunchDarklyEvent"},
                {"type": "array", "items": {"$ref": "#/$defs/LaunchDarklyEvent"}, "maxItems": MAX_RECORDS},
            ],
        }
    return schema


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FORMATS:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - `python -m companyos.sources.formats docs/schemas`
    for p in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(p)
