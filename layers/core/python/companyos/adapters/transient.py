"""Which failures of an AWS call a retry may clear (throttling, a transaction conflict, a service's
internal error, a dropped connection) — the one place that knows AWS's error codes for it, whether
the call went through boto3, pynamodb or Powertools' idempotency layer (each wraps the SDK's error:
the chain of causes is searched).

The use cases turn such a failure into what their caller retries: the API a 503 with a code and a
Retry-After, a state machine task `TransientError` (its Retry), never a half-finished success.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

__all__ = ["DEPENDENCY_ERRORS", "transient_code"]

# What a call to an AWS dependency raises, by the layer that made it.
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    BotoCoreError,
    ClientError,
    PynamoDBException,
    IdempotencyPersistenceLayerError,
)

# AWS error codes that say "not now" rather than "never" (DynamoDB, SNS, SQS, KMS, Step Functions).
RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "Throttled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "LimitExceededException",
        "TransactionConflictException",
        "TransactionInProgressException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "KMSInternalException",
        "KMSThrottlingException",
        "DependencyTimeoutException",
        "ServiceQuotaExceededException",  # Step Functions' open executions: clears as they finish
        "ExecutionLimitExceeded",
    }
)
# A cancelled transaction is retryable when no item's condition failed (a conflict, a throttle).
_TX_RETRYABLE = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None"})


def _code_of(exc: BaseException) -> str | None:
    if isinstance(exc, BotoCoreError):  # no answer at all (connection reset, read timeout)
        return type(exc).__name__
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        if code == "TransactionCanceledException":
            return code if _retryable_cancel(_reasons(exc)) else None
        return code if code in RETRYABLE else None
    return None


def _reasons(exc: ClientError) -> list[str]:
    """The per-item cancellation codes of a cancelled transaction: botocore keeps them in the
    response, pynamodb's VerboseClientError as `cancellation_reasons` (None: that item held)."""
    if hasattr(exc, "cancellation_reasons"):
        return [r.code if r is not None else "None" for r in exc.cancellation_reasons]
    return [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons") or []]


def _retryable_cancel(reasons: list[str]) -> bool:
    return bool(reasons) and set(reasons) <= _TX_RETRYABLE and set(reasons) != {"None"}


def transient_code(exc: BaseException) -> str | None:
    """AWS's error code when `exc` is an AWS failure a retry may clear (through whatever SDK layer
    wraps it), else None — also for the use cases' own errors raised because of one (a
    `DeliveryFailed`, a `Conflict`): those carry their own meaning and name."""
    if not isinstance(exc, DEPENDENCY_ERRORS):
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = _code_of(current)
        if code:
            return code
        current = current.__cause__ or current.__context__ or getattr(current, "cause", None)
    return None
