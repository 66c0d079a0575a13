"""The error codes of failed attempts, in one place.

A step that raises ends its attempt `failed` with the exception's code (`code_of`): a DomainError
carries its own `.code`; the codes of the other exceptions are mapped by type here (TransientError,
what the state machine retries, keeps its class name, as in its Retry's ErrorEquals); anything else
is named by its class. A failure the state machine caught (`Catch` → record_failure) is named by the
Lambda error it reports (`caught_code`, `caught_message`). Validation failures are codes of their own.
"""

from __future__ import annotations

import json
from typing import Any

from companyos.adapters.transient import transient_code
from companyos.domain.errors import DomainError, TransientError

PRE_VALIDATION_FAILED = "PRE_VALIDATION_FAILED"  # a hard pre-validation rule failed: the run is skipped
POST_VALIDATION_FAILED = "POST_VALIDATION_FAILED"  # a hard post-validation rule blocked the delivery
VALIDATION_FAILED = (PRE_VALIDATION_FAILED, POST_VALIDATION_FAILED)
ATTEMPT_LOST = "ATTEMPT_LOST"  # an attempt left without an END (its Lambda crashed or timed out)
UNKNOWN = "UNKNOWN"  # a caught failure without an error name

MAX_MESSAGE = 1000  # characters of an error message kept in the run log

# Exceptions that are not DomainErrors, by their exact type (the error name the state machine's Retry
# matches is the class name: a subclass is another error).
CODES: dict[type[BaseException], str] = {TransientError: "TransientError"}


def code_of(exc: BaseException) -> str:
    """The error code an attempt that raised `exc` ends with."""
    if isinstance(exc, DomainError):
        return exc.code
    return CODES.get(type(exc), type(exc).__name__)


def retryable(exc: BaseException) -> BaseException:
    """A throttled or conflicting AWS call (after the SDK's own retries) as the `TransientError`
    the state machine's Retry takes — the step is retried as a new attempt instead of the run
    failing for a busy table; any other exception as it is."""
    if isinstance(exc, TransientError):
        return exc
    aws = transient_code(exc)
    return TransientError(f"{aws}: {exc}"[:MAX_MESSAGE]) if aws else exc


def message_of(exc: BaseException) -> str:
    return str(exc)[:MAX_MESSAGE]


def caught_code(err: dict[str, Any]) -> str:
    """The code of a failure the state machine caught (`$.error` = {Error, Cause})."""
    return str(err.get("Error") or UNKNOWN)


def caught_message(err: dict[str, Any]) -> str:
    """The error message of a Lambda failure cause (JSON with errorMessage), else the raw cause."""
    cause = str(err.get("Cause") or "")
    try:
        doc = json.loads(cause)
    except ValueError:
        return cause[:MAX_MESSAGE]
    return str(doc.get("errorMessage", cause) if isinstance(doc, dict) else cause)[:MAX_MESSAGE]
