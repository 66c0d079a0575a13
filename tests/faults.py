"""Fault injection at the AWS SDK boundary: make chosen calls of one AWS operation fail the way AWS
fails them, for every client of this process (boto3's, pynamodb's, Powertools', the handlers' run by
the local stack and by its Step Functions executions).

    with inject("dynamodb", "TransactWriteItems", THROTTLED) as fault:
        ...                      # the first matching call raises, the others go through
    assert fault.raised == 1

The error is raised from `BaseClient._make_api_call`, i.e. as the caller sees it once the SDK's own
retries are spent: a `ClientError` with AWS's code, message and (for a cancelled transaction) its
cancellation reasons — pynamodb turns it into its PutError / TransactWriteError as it would in AWS.
`when(params)` narrows which calls count (a table, a key); `calls` picks which matching calls fail
(1-based; `None`: every one, a lasting outage).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Error:
    code: str
    message: str
    status: int = 400
    reasons: tuple[str, ...] = ()  # TransactionCanceledException: one code per item ("None": held)

    def response(self, params: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }
        if self.code == "TransactionCanceledException":
            items = len(params.get("TransactItems") or []) or 1
            codes = list(self.reasons) + ["None"] * (items - len(self.reasons))
            doc["CancellationReasons"] = [
                {"Code": c, **({} if c == "None" else {"Message": self.message})} for c in codes[:items]
            ]
        return doc


THROTTLED = Error(
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput for the table was exceeded",
)
TX_CONFLICT = Error(
    "TransactionCanceledException",
    "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]",
    reasons=("TransactionConflict",),
)
TX_CONDITION = Error(
    "TransactionCanceledException",
    "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed]",
    reasons=("ConditionalCheckFailed",),
)
SNS_INTERNAL = Error("InternalError", "Request could not be completed.", status=500)
KMS_INTERNAL = Error("KMSInternalException", "An internal error occurred.", status=500)
SFN_QUOTA = Error("ServiceQuotaExceededException", "Number of open executions exceeded for the state machine")
SFN_THROTTLED = Error("ThrottlingException", "Rate exceeded")


@dataclass
class Fault:
    service: str
    operations: tuple[str, ...]
    error: Error
    calls: Collection[int] | None
    when: Callable[[dict[str, Any]], bool] | None
    seen: int = 0  # matching calls made while injected
    raised: int = 0  # of which failed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def strike(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        if service != self.service or operation not in self.operations:
            return False
        if self.when is not None and not self.when(params):
            return False
        with self._lock:
            self.seen += 1
            hit = self.calls is None or self.seen in self.calls
            self.raised += hit
        return hit


_active: list[Fault] = []
_client: Any = BaseClient  # `_make_api_call` is private: not in the type stubs
_original = _client._make_api_call


def _faulty(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
    service = self.meta.service_model.service_name
    for fault in list(_active):
        if fault.strike(service, operation_name, api_params):
            raise ClientError(fault.error.response(api_params), operation_name)  # type: ignore[arg-type]
    return _original(self, operation_name, api_params)


@contextlib.contextmanager
def inject(
    service: str,
    operation: str | tuple[str, ...],
    error: Error,
    *,
    calls: Collection[int] | None = (1,),
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[Fault]:
    """Fail the `calls`-th matching calls of `service`.`operation` (botocore names: "dynamodb",
    "TransactWriteItems"; several operations count together) with `error` while the block runs."""
    operations = (operation,) if isinstance(operation, str) else operation
    fault = Fault(service, operations, error, calls, when)
    _active.append(fault)
    _client._make_api_call = _faulty
    try:
        yield fault
    finally:
        _active.remove(fault)
        if not _active:
            _client._make_api_call = _original
        _tally(fault)


def _tally(fault: Fault) -> None:
    """With FAULTS_LOG=<file>, one JSON line per injection (the figures of docs/reliability.md)."""
    path = os.environ.get("FAULTS_LOG")
    if not path:
        return
    line = {
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        "call": f"{fault.service}.{'/'.join(fault.operations)}",
        "error": fault.error.code,
        "reasons": list(fault.error.reasons),
        "matching_calls": fault.seen,
        "raised": fault.raised,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def on_table(fragment: str, **key: str) -> Callable[[dict[str, Any]], bool]:
    """A `when` for DynamoDB calls on the table whose name contains `fragment` (a transaction: any of
    its items'); `key` narrows a PutItem / UpdateItem to an item whose string attributes (of its Item
    or its Key) contain these values."""

    def match(params: dict[str, Any]) -> bool:
        tables = [params.get("TableName") or ""] + [
            next(iter(t.values())).get("TableName", "") for t in params.get("TransactItems") or []
        ]
        if not any(fragment in t for t in tables):
            return False
        item = params.get("Item") or params.get("Key") or {}
        return all(v in str((item.get(k) or {}).get("S", "")) for k, v in key.items())

    return match
