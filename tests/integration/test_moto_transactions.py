"""The copy-free TransactWriteItems the local stack installs (infra/local/moto_patches.py) keeps
DynamoDB's all-or-nothing semantics: a failed condition cancels every write with per-item reasons,
two operations on one item are refused, and a transaction whose conditions hold applies them all."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(local: Any) -> Any:
    ddb = boto3.client("dynamodb")
    name = f"tx-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    ddb.delete_table(TableName=name)


def _put(table: str, pk: str, value: str, condition: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": table, "Item": {"pk": {"S": pk}, "v": {"S": value}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def _items(table: str) -> dict[str, str]:
    rows = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return {r["pk"]["S"]: r["v"]["S"] for r in rows}


def test_a_failed_condition_cancels_every_write_with_per_item_reasons(table: str) -> None:
    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "taken"}, "v": {"S": "old"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                _put(table, "fresh", "new", "attribute_not_exists(pk)"),
                _put(table, "taken", "new", "attribute_not_exists(pk)"),
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in err.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _items(table) == {"taken": "old"}  # nothing of the transaction was written


def test_two_operations_on_one_item_are_refused(table: str) -> None:
    ddb = boto3.client("dynamodb")
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=[_put(table, "a", "1"), _put(table, "a", "2")])
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert _items(table) == {}


def test_conditions_are_checked_against_the_state_before_the_transaction(table: str) -> None:
    ddb = boto3.client("dynamodb")
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "v": {"S": "x"}})
    ddb.transact_write_items(
        TransactItems=[
            _put(table, "a", "1", "attribute_not_exists(pk)"),
            {
                "Delete": {
                    "TableName": table,
                    "Key": {"pk": {"S": "gone"}},
                    "ConditionExpression": "v = :x",
                    "ExpressionAttributeValues": {":x": {"S": "x"}},
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "b"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "2"}},
                }
            },
        ]
    )
    assert _items(table) == {"a": "1", "b": "2"}


def test_two_racing_transactions_on_one_item_commit_exactly_once(table: str, monkeypatch) -> None:
    """The check-then-apply of a transaction is atomic against other writers (the local stack's moto
    server serves requests on threads): a slow condition check cannot let two "create once" win."""
    import threading
    import time

    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.get_item

    def slow_get_item(self, *args, **kwargs):  # widen the window between check and apply
        found = original(self, *args, **kwargs)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(DynamoDBBackend, "get_item", slow_get_item)
    ddb = boto3.client("dynamodb")
    outcomes: list[str] = []
    go = threading.Barrier(2)

    def create(value: str) -> None:
        go.wait()
        try:
            ddb.transact_write_items(TransactItems=[_put(table, "once", value, "attribute_not_exists(pk)")])
            outcomes.append("stored")
        except ClientError as err:
            outcomes.append(err.response["Error"]["Code"])

    threads = [threading.Thread(target=create, args=(v,)) for v in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["TransactionCanceledException", "stored"]
    assert list(_items(table)) == ["once"]
