"""Our own JSON formats (schemas in docs/schemas/, models in `formats`), LaunchDarkly flag events,
and OPA decision logs. All are signed with `X-CompanyOS-Signature: sha256=<hex>` (per tenant and
source); OPA may instead authenticate with its own `Authorization: Bearer <token>` service credential.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import formats
from companyos.sources.base import (
    COMPANYOS_SIGNATURE,
    NO_MATCH,
    ParsedDelivery,
    Signal,
    WebhookRequest,
    content_id,
    load_json,
    own_delivery_id,
    parse_time,
    require,
    short_hash,
    verify_companyos_signature,
)

M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], doc: Any, prefix: str = "") -> M:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise formats.invalid(exc, prefix) from exc


class _Signed:
    retention_days = 400

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)


class BatchSource(_Signed):
    """A source whose body is one of our batch formats; `to_signals` maps the validated batch."""

    def __init__(
        self, name: str, model: type[M], to_signals: Callable[[M], list[Signal]], retention_days: int = 400
    ) -> None:
        self.name = name
        self.model: type[BaseModel] = model
        self._to_signals: Callable[[Any], list[Signal]] = to_signals
        self.retention_days = retention_days

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        batch = _validate(self.model, load_json(request.body))
        return ParsedDelivery(self.name, own_delivery_id(request), self._to_signals(batch))


def _analytics(batch: formats.AnalyticsBatch) -> list[Signal]:
    kinds = {"session": "product_session", "active": "product_active", "feature_used": "feature_used"}
    return [
        Signal(
            kinds[e.type],
            e.occurred_at,
            e.product,
            {
                "event_id": e.id,
                "type": e.type,
                "user_id": e.user_id,
                "account_id": e.account_id,
                "product": e.product,
                "session_id": e.session_id,
                "duration_s": e.duration_s,
                "feature": e.feature,
            },
            key=e.id,
        )
        for e in batch.events
    ]


def nps_category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def _nps(batch: formats.NpsBatch) -> list[Signal]:
    return [
        Signal(
            "nps_response",
            r.responded_at,
            r.product,
            {
                "response_id": r.id,
                "score": r.score,
                "category": nps_category(r.score),
                "respondent_id": r.respondent_id,
                "account_id": r.account_id,
                "survey_id": r.survey_id,
                "product": r.product,
                "has_comment": bool(r.comment),
            },
            key=r.id,
        )
        for r in batch.responses
    ]


def _billing(batch: formats.BillingBatch) -> list[Signal]:
    return [
        Signal(
            "billing_event",
            e.occurred_at,
            None,
            {
                "event_id": e.id,
                "type": e.type,
                "account_id": e.account_id,
                "subscription_id": e.subscription_id,
                "plan": e.plan,
                "currency": e.currency,
                "mrr_before": e.mrr_before,
                "mrr_after": e.mrr_after,
                "mrr_delta": round(e.mrr_after - e.mrr_before, 6),
            },
            key=e.id,
        )
        for e in batch.events
    ]


def _okr(batch: formats.OkrBatch) -> list[Signal]:
    return [
        Signal(
            "okr_progress",
            u.as_of,
            None,
            {
                "update_id": u.id,
                "period": u.period,
                "objective_id": u.objective_id,
                "objective": u.objective,
                "key_result_id": u.key_result_id,
                "key_result": u.key_result,
                "owner": u.owner,
                "domain": u.domain,
                "start_value": u.start_value,
                "target_value": u.target_value,
                "current_value": u.current_value,
                "progress": round(u.progress(), 6),
                "confidence": u.confidence,
            },
            key=u.id,
        )
        for u in batch.updates
    ]


# ---------------------------------------------------------------------------- feature flags


class FeatureFlagSource(_Signed):
    """LaunchDarkly feature events: one event object or an array of events (mixed kinds)."""

    name = "feature_flags"
    retention_days = 90

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        items = doc if isinstance(doc, list) else [doc]
        delivery_id = own_delivery_id(request)
        signals, skipped = [], 0
        for i, item in enumerate(items):
            prefix = f"{i}." if isinstance(doc, list) else ""
            event = _validate(formats.LaunchDarklyEvent, item, prefix)
            if event.kind != "feature":
                skipped += 1
                continue
            signals.append(self._signal(event, prefix))
        if not signals:
            return ParsedDelivery(
                "feature",
                delivery_id,
                ignored_reason=f"no feature events ({skipped} other LaunchDarkly events)",
            )
        return ParsedDelivery("feature", delivery_id, signals)

    @staticmethod
    def _signal(event: formats.LaunchDarklyEvent, prefix: str) -> Signal:
        if not event.key:
            raise InvalidPayload(f"field '{prefix}key' is required", details={"path": f"{prefix}key"})
        if event.creation_date is None:
            raise InvalidPayload(
                f"field '{prefix}creationDate' is required", details={"path": f"{prefix}creationDate"}
            )
        at = datetime.fromtimestamp(event.creation_date / 1000, tz=UTC)
        context_kind, context_key = _ld_context(event)
        attrs = {
            "flag": event.key,
            "variation": event.variation,
            "variation_name": event.variation_name,
            "value": event.value
            if isinstance(event.value, bool | int | float | str) or event.value is None
            else None,
            "is_default": event.value == event.default,
            "flag_version": event.version,
            "reason": event.reason.kind if event.reason else None,
            "prereq_of": event.prereq_of,
            "context_kind": context_kind,
            # the context key may be an e-mail: keep only a pseudonymous hash (distinct counts still work)
            "context_hash": short_hash(context_key) if context_key else None,
        }
        key = short_hash(event.key, event.creation_date, context_key, event.variation)
        return Signal("flag_evaluation", at, None, attrs, key=key)


def _ld_context(event: formats.LaunchDarklyEvent) -> tuple[str | None, str | None]:
    if event.context:
        return str(event.context.get("kind") or "user"), _str(event.context.get("key"))
    if event.context_keys:
        kind, key = next(iter(event.context_keys.items()))
        return kind, key
    return event.context_kind or ("user" if event.user_key else None), event.user_key


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


# ---------------------------------------------------------------------------- OPA decision logs


class OpaSource:
    """OPA decision-log uploads: the JSON array OPA POSTs to its decision-log service (usually gzip)."""

    name = "opa"
    retention_days = 90

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        auth = request.header("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip().encode()
            if not any(hmac.compare_digest(token, s.encode()) for s in secrets):
                raise SignatureInvalid(NO_MATCH)
            return
        if request.header(COMPANYOS_SIGNATURE):
            verify_companyos_signature(request, secrets)
            return
        raise SignatureInvalid(
            f"missing Authorization: Bearer token or {COMPANYOS_SIGNATURE} header", code="signature_missing"
        )

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = load_json(request.body)
        if not isinstance(doc, list):
            raise InvalidPayload("an OPA decision-log upload is a JSON array", details={"path": ""})
        signals = []
        for i, d in enumerate(doc):
            decision_id = str(require(doc, f"{i}.decision_id"))
            at = parse_time(require(doc, f"{i}.timestamp"), f"{i}.timestamp")
            if not d.get("path") and not d.get("query"):
                raise InvalidPayload(f"field '{i}.path' is required", details={"path": f"{i}.path"})
            result, allowed = decision_result(d)
            labels = d.get("labels") if isinstance(d.get("labels"), dict) else {}
            attrs = {
                "decision_id": decision_id,
                "path": d.get("path") or None,
                "query": bool(d.get("query")),
                "result": result,
                "allowed": allowed,
                "undefined": "result" not in d,
                "app": labels.get("app"),
                "opa_instance": labels.get("id"),
                "bundles": {k: (v or {}).get("revision") for k, v in (d.get("bundles") or {}).items()},
                "erased": list(d.get("erased") or []),
                "masked": list(d.get("masked") or []),
            }
            signals.append(Signal("authz_decision", at, labels.get("app"), attrs, key=decision_id))
        if not signals:
            return ParsedDelivery(
                "decision_log", content_id(request.body), ignored_reason="empty decision log"
            )
        return ParsedDelivery("decision_log", content_id(request.body), signals)


def decision_result(decision: dict[str, Any]) -> tuple[str, bool | None]:
    """allow / deny / other. An undefined result (no `result`) is a deny, as enforcement points treat it;
    `{"allow": bool}` objects and the string forms "true"/"false" are understood."""
    if "result" not in decision or decision["result"] is None:
        return "deny", False
    value = decision["result"]
    if isinstance(value, dict) and isinstance(value.get("allow"), bool):
        value = value["allow"]
    if isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    if isinstance(value, bool):
        return ("allow" if value else "deny"), value
    return "other", None


ANALYTICS = BatchSource("analytics", formats.AnalyticsBatch, _analytics, retention_days=400)
NPS = BatchSource("nps", formats.NpsBatch, _nps, retention_days=800)
BILLING = BatchSource("billing", formats.BillingBatch, _billing, retention_days=800)
OKR = BatchSource("okr", formats.OkrBatch, _okr, retention_days=800)
