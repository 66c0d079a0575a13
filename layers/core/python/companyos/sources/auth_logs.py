"""Sign-in logs: Okta System Log events (event hook, or the `/api/v1/logs` array), Auth0 log events
(log stream custom webhook) and AWS CloudTrail `ConsoleLogin` events (S3 `Records` file,
EventBridge event, NDJSON). Each sign-in becomes one `auth_event` signal: who, from where, success
or failure and why. Other events in the same body are skipped (counted in the answer's reason).

Failed sign-ins feed `failed_auth_attempts` with OPA's denied decisions (runs/security_formulas.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from companyos.domain.errors import InvalidPayload, MalformedBody
from companyos.sources.base import ParsedDelivery, Signal, WebhookRequest, content_id, require
from companyos.sources.log_common import (
    API_KEY_HEADER,
    as_object,
    json_records,
    log_time,
    text,
    verify_shared_secret,
)

KIND = "auth_event"


def _signal(provider: str, event_id: str, at: Any, **attrs: Any) -> Signal:
    facts = {"provider": provider, "event_id": event_id, **attrs}
    facts["failed"] = facts["outcome"] == "failure"
    return Signal(KIND, at, None, facts, key=f"{provider}:{event_id}")


def _delivery(event: str, request: WebhookRequest, signals: list[Signal], seen: int) -> ParsedDelivery:
    """The body's content hash is the delivery id: a redelivered batch is stored once."""
    if not signals:
        reason = f"none of the {seen} event(s) is a sign-in"
        return ParsedDelivery(event, content_id(request.body), ignored_reason=reason)
    return ParsedDelivery(event, content_id(request.body), signals)


class _LogSource:
    retention_days = 400
    headers: tuple[str, ...] = ("Authorization", API_KEY_HEADER)

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_shared_secret(request, self.headers, secrets)


# ---------------------------------------------------------------------------- Okta

# Okta System Log event types that are a sign-in attempt (user.session.start is the sign-in itself;
# user.authentication.* the factor and SSO steps).
OKTA_SIGN_IN = ("user.session.start", "user.authentication.")
OKTA_FAILED = {"FAILURE", "DENY"}


OKTA_CHALLENGE = "X-Okta-Verification-Challenge"
MAX_CHALLENGE_CHARS = 256  # Okta's challenges are 40-character tokens


class OktaSource(_LogSource):
    name = "okta"

    def answer_verification(self, request: WebhookRequest) -> dict[str, str]:
        """Okta's one-time event hook verification: a GET carrying `X-Okta-Verification-Challenge`
        (and the hook's Authorization secret, checked before this), answered `{"verification": <it>}`
        (developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request)."""
        challenge = (request.header(OKTA_CHALLENGE) or "").strip()
        if not challenge:
            raise MalformedBody(f"missing the {OKTA_CHALLENGE} header", code="verification_challenge_missing")
        if len(challenge) > MAX_CHALLENGE_CHARS or not challenge.isprintable():
            raise MalformedBody(
                f"the {OKTA_CHALLENGE} header is not a verification token",
                code="verification_challenge_invalid",
            )
        return {"verification": challenge}

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = json_records(request.body)
        if isinstance(doc, dict) and doc.get("eventType") == "com.okta.event_hook":
            events, prefix = require(doc, "data.events"), "data.events"
        elif isinstance(doc, list):  # GET /api/v1/logs, forwarded as it answered
            events, prefix = doc, ""
        else:
            raise InvalidPayload(
                "an Okta body is an event hook (eventType com.okta.event_hook) or a System Log array",
                details={"path": "eventType"},
            )
        if not isinstance(events, list):
            raise InvalidPayload("field 'data.events' must be a list", details={"path": prefix})
        signals = []
        for i, raw in enumerate(events):
            path = f"{prefix}.{i}".lstrip(".")
            e = as_object(raw, path, "Okta event")
            etype = str(require(e, "eventType"))
            if not etype.startswith(OKTA_SIGN_IN):
                continue
            result = str(require(e, "outcome.result")).upper()
            client = e.get("client") or {}
            geo = client.get("geographicalContext") or {}
            actor = e.get("actor") or {}
            signals.append(
                _signal(
                    "okta",
                    str(require(e, "uuid")),
                    log_time(e.get("published"), f"{path}.published"),
                    event_type=etype,
                    outcome="failure" if result in OKTA_FAILED else "success",
                    result=result,
                    reason=text((e.get("outcome") or {}).get("reason")),
                    user=text(actor.get("alternateId")) or text(actor.get("id")),
                    actor_type=text(actor.get("type")),
                    ip=text(client.get("ipAddress")),
                    country=text(geo.get("country")),
                    city=text(geo.get("city")),
                    severity=text(e.get("severity")),
                )
            )
        return _delivery("okta_log", request, signals, len(events))


# ---------------------------------------------------------------------------- Auth0

# Auth0 log event type codes (https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes)
AUTH0_SUCCESS = {"s": "Successful login", "scoa": "Successful cross-origin authentication"}
AUTH0_FAILURE = {
    "f": "Failed login",
    "fp": "Incorrect password",
    "fu": "Invalid email or username",
    "fcoa": "Failed cross-origin authentication",
    "limit_wc": "IP blocked after too many failed logins",
    "limit_mu": "IP blocked after failed logins to many users",
    "pwd_leak": "Login with a breached password",
}


class Auth0Source(_LogSource):
    """Auth0 log streams (custom webhook): a JSON array of `{log_id, data}` (content format "JSON
    array"), JSON lines, or one object; `data` is the log event."""

    name = "auth0"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        doc = json_records(request.body)
        items = doc if isinstance(doc, list) else [doc]
        signals = []
        for i, raw in enumerate(items):
            path = str(i) if isinstance(doc, list) else ""
            item = as_object(raw, path, "Auth0 log event")
            data = as_object(item.get("data", item), f"{path}.data", "Auth0 log data")
            code = str(require(data, "type"))
            if code not in AUTH0_SUCCESS and code not in AUTH0_FAILURE:
                continue
            log_id = item.get("log_id") or data.get("log_id") or require(data, "log_id")
            failed = code in AUTH0_FAILURE
            signals.append(
                _signal(
                    "auth0",
                    str(log_id),
                    log_time(data.get("date"), f"{path}.data.date".lstrip(".")),
                    event_type=code,
                    outcome="failure" if failed else "success",
                    result=(AUTH0_FAILURE if failed else AUTH0_SUCCESS)[code],
                    reason=text(data.get("description")),
                    user=text(data.get("user_name")) or text(data.get("user_id")),
                    actor_type="user",
                    ip=text(data.get("ip")),
                    country=text((data.get("location_info") or {}).get("country_name")),
                    city=text((data.get("location_info") or {}).get("city_name")),
                    client=text(data.get("client_name")) or text(data.get("client_id")),
                    tenant_host=text(data.get("hostname")),
                )
            )
        return _delivery("auth0_log", request, signals, len(items))


# ---------------------------------------------------------------------------- CloudTrail


def cloudtrail_records(doc: Any) -> tuple[list[Any], str]:
    """The records of a CloudTrail body and their path prefix: an S3 log file (`Records`), an
    EventBridge event (`detail`), a list of either, or one bare record."""
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        return doc["Records"], "Records"
    if isinstance(doc, dict) and "detail-type" in doc:
        return [require(doc, "detail")], "detail"
    if isinstance(doc, dict):
        return [doc], ""
    if isinstance(doc, list):
        return [d.get("detail") if isinstance(d, dict) and "detail-type" in d else d for d in doc], ""
    raise InvalidPayload("a CloudTrail body is a JSON object or array", details={"path": ""})


class CloudTrailSource(_LogSource):
    name = "cloudtrail"

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        records, prefix = cloudtrail_records(json_records(request.body))
        signals = []
        for i, raw in enumerate(records):
            path = f"{prefix}.{i}".lstrip(".")
            r = as_object(raw, path, "CloudTrail record")
            if r.get("eventName") != "ConsoleLogin":
                continue
            at = log_time(r.get("eventTime"), f"{path}.eventTime")
            result = str(require(r, "responseElements.ConsoleLogin"))
            who = r.get("userIdentity") or {}
            extra = r.get("additionalEventData") or {}
            mfa = extra.get("MFAUsed")
            signals.append(
                _signal(
                    "cloudtrail",
                    str(require(r, "eventID")),
                    at,
                    event_type="ConsoleLogin",
                    outcome="success" if result == "Success" else "failure",
                    result=result,
                    reason=text(r.get("errorMessage")),
                    user=text(who.get("userName")) or text(who.get("arn")) or text(who.get("principalId")),
                    actor_type=text(who.get("type")),
                    ip=text(r.get("sourceIPAddress")),
                    account=text(who.get("accountId")) or text(r.get("recipientAccountId")),
                    region=text(r.get("awsRegion")),
                    mfa=None if mfa is None else mfa == "Yes",
                )
            )
        return _delivery("cloudtrail", request, signals, len(records))
