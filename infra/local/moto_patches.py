"""Make moto's DynamoDB TransactWriteItems usable at demo volume.

moto 5.2.5 backs up a table before a transaction with `copy.deepcopy(table)` — once per item of
the transaction — so a 99-item transaction on a signals table of 20,000 items copies two million
items, and seeding gets quadratically slower as the demo data grows. DynamoDB's semantics need no
backup: every condition is evaluated against the state before the transaction and a transaction
touches an item at most once. So this version checks every condition first (moto's own condition
evaluator, moto's own error list) and only then applies the writes with moto's own put/delete/
update. Same answers (TransactionCanceledException with per-item reasons, ValidationException for
two operations on one item), no copies.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


Reason = tuple[str | None, str | None, dict[str, Any] | None]


def _check(backend: DynamoDBBackend, item: dict[str, Any], seen: set[tuple[str, str]]) -> Reason:
    """One item's condition against the state before the transaction (moto's evaluator)."""
    if len(item) > 1:
        raise TransactWriteSingleOpException
    op_type, op = next(iter(item.items()))
    original: dict[str, Any] | None = None
    try:
        if op_type not in _OPS:
            raise ValueError("Unsupported transaction operation")
        key = _key(backend, op_type, op)
        marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = backend.get_item(op["TableName"], key)
        if op.get("ConditionExpression") is not None:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            condition = get_filter_expression(op["ConditionExpression"], names, values)
            if not condition.expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original)
    except MultipleTransactionsException:
        raise
    except ConditionalCheckFailed as e:
        return ("ConditionalCheckFailed", str(e.message), original)
    except Exception as e:  # the same capture as moto's own implementation
        return (type(e).__name__, str(e), original)
    return (None, None, None)


def _apply(backend: DynamoDBBackend, item: dict[str, Any]) -> None:
    op_type, op = next(iter(item.items()))
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(
            op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], op["Key"])
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            op["Key"],
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    errors = [_check(self, item, seen) for item in transact_items]
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for item in transact_items:  # every condition held: apply the writes
        _apply(self, item)


def patch_moto_transactions() -> None:
    """Idempotent: replace moto's TransactWriteItems with the copy-free version above."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
