"""What a failed conditional write looks like through pynamodb (a put or a transaction whose
condition did not hold), shared by the repositories."""

from __future__ import annotations


def is_condition_failure(exc: Exception) -> bool:
    """True when a PutError / TransactWriteError was a failed condition, not a service error."""
    cause = getattr(exc, "cause_response_code", None) or ""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return cause == "ConditionalCheckFailedException" or any(
        r is not None and r.code == "ConditionalCheckFailed" for r in reasons
    )
