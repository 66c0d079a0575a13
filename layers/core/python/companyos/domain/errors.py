"""Domain exceptions. Handlers map them to HTTP by `status`, never by message text."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose; carries a machine-readable code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class SignatureInvalid(DomainError):
    status = 401
    code = "signature_invalid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class InvalidPayload(DomainError):
    """The body parsed but does not match the schema; `details.path` names the field."""

    status = 422
    code = "invalid_payload"


class MalformedBody(DomainError):
    status = 400
    code = "malformed_body"


class TransientError(Exception):
    """A retryable failure of a dependency (throttled, timed out): the state machine retries it with
    backoff and jitter. Not a DomainError: it never reaches a caller as a 4xx."""
