"""Which AWS failures a retry may clear (adapters/transient.py): throttles, transaction conflicts,
internal errors, no answer — however the SDK call was wrapped — and never a failed condition or
a caller's mistake."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from botocore.exceptions import ClientError, EndpointConnectionError
from companyos.adapters.transient import transient_code
from pynamodb.exceptions import PutError, TransactWriteError, VerboseClientError

from tests.faults import KMS_INTERNAL, SFN_QUOTA, SNS_INTERNAL, THROTTLED, TX_CONDITION, TX_CONFLICT, Error


def client_error(error: Error, items: int = 2) -> ClientError:
    params: dict[str, Any] = {"TransactItems": [{}] * items}
    return ClientError(error.response(params), "Op")  # type: ignore[arg-type]


def pynamodb_tx(error: Error) -> TransactWriteError:
    """As pynamodb raises a cancelled transaction: its VerboseClientError keeps the reasons apart."""
    from pynamodb.exceptions import CancellationReason

    raw = client_error(error).response
    codes = [r["Code"] for r in raw["CancellationReasons"]]
    reasons = [CancellationReason(code=c) if c != "None" else None for c in codes]
    error_doc = {"Error": raw["Error"]}
    cause = VerboseClientError(error_doc, "TransactWriteItems", {}, cancellation_reasons=reasons)
    return TransactWriteError("Failed to write transaction items", cause)


@pytest.mark.parametrize("error", [THROTTLED, SNS_INTERNAL, KMS_INTERNAL, SFN_QUOTA, TX_CONFLICT])
def test_what_a_retry_may_clear_is_named_by_its_aws_code(error):
    assert transient_code(client_error(error)) == error.code


def test_a_failed_condition_or_a_bad_request_is_not_transient():
    assert transient_code(client_error(TX_CONDITION)) is None
    assert transient_code(pynamodb_tx(TX_CONDITION)) is None
    assert transient_code(client_error(Error("ValidationException", "bad key"))) is None
    assert transient_code(ValueError("not AWS")) is None


def test_the_wrapped_sdk_error_is_found_through_pynamodb_and_powertools():
    assert transient_code(pynamodb_tx(TX_CONFLICT)) == "TransactionCanceledException"
    put = PutError("Failed to put item", client_error(THROTTLED))
    assert transient_code(put) == THROTTLED.code
    try:
        try:
            raise client_error(THROTTLED)
        except ClientError as exc:
            raise IdempotencyPersistenceLayerError("Failed to save in progress record", exc) from exc
    except IdempotencyPersistenceLayerError as wrapped:
        assert transient_code(wrapped) == THROTTLED.code
    assert transient_code(EndpointConnectionError(endpoint_url="http://x")) == "EndpointConnectionError"
