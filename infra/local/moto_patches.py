"""Make moto usable at demo and benchmark volume (same answers, no quadratic work).

1. TransactWriteItems without per-item table copies (below).
2. Query without sorting the whole table (`patch_moto_queries`).
3. One boto client per service for Step Functions tasks (`patch_moto_sfn_clients`), and each
   JSONPath of a state machine parsed once (`patch_moto_sfn_jsonpath`).
4. This process's own AWS calls served in-process, not over loopback HTTP
   (`patch_in_process_transport`).
5. ACM on the stack's clock, not the wall clock (`patch_moto_acm_clock`).
6. A backend that exists looked up without moto's global lock (`patch_moto_backend_lookup`).
7. Every write atomic, as DynamoDB makes it: one lock around transactions, puts, updates and deletes
   (`patch_moto_transactions`; see below).
(Two moto bugs the alerts path hits are worked around in `infra/local/moto_fixes.py`.)

TransactWriteItems:

moto 5.2.5 backs up a table before a transaction with `copy.deepcopy(table)` — once per item of
the transaction — so a 99-item transaction on a signals table of 20,000 items copies two million
items, and seeding gets quadratically slower as the demo data grows. DynamoDB's semantics need no
backup: every condition is evaluated against the state before the transaction and a transaction
touches an item at most once. So this version checks every condition first (moto's own condition
evaluator, moto's own error list) and only then applies the writes with moto's own put/delete/
update. Same answers (TransactionCanceledException with per-item reasons, ValidationException for
two operations on one item), no copies.

moto's server serves requests on threads, and neither its transactions nor its conditional writes
hold a lock: two transactions could both pass their conditions before either wrote (two parallel
posts of one delivery both "stored"). Every write (transaction, put, update, delete) therefore runs
under one lock, as DynamoDB applies a transaction atomically against every other write.
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
from collections.abc import Callable
from datetime import UTC
from functools import wraps
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
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

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


write_lock = threading.RLock()  # one write at a time: check-then-apply is atomic (see above)


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def write(*args: Any, **kwargs: Any) -> Any:
        with write_lock:
            return original(*args, **kwargs)

    return write


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    with write_lock:
        _transact_write_items(self, transact_items)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    errors = [_check(self, item, seen) for item in transact_items]
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for item in transact_items:  # every condition held: apply the writes
        _apply(self, item)


def patch_moto_transactions() -> None:
    """Idempotent: replace moto's TransactWriteItems with the copy-free version above, and run
    every write under the one write lock."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in ("put_item", "update_item", "delete_item"):
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "_companyos_locked", False):
            locked = _locked(method)
            locked._companyos_locked = True  # type: ignore[attr-defined]
            setattr(DynamoDBBackend, name, locked)


# ---------------------------------------------------------------------------------------- Query
#
# moto 5.2.5's `Table.query` starts from `Table.all_items()`, which lists AND SORTS every item of the
# table, then keeps those of the queried partition — for a base-table query and for a GSI query
# alike. With 1,000 tenants the run log holds a few hundred thousand items, so each Query sorted
# them all (seconds per KPI run). DynamoDB itself reads one partition. The patch hands moto's own
# `query` only the candidate items — the table's partition dict for a base-table query, a hash-key
# index for a single-attribute GSI hash key — in the order `all_items` would have listed them, so
# moto's own sorting, paging, range conditions, filters and projections run unchanged.


class _Candidates:
    """The table, except that `all_items()` lists only the query's candidate items."""

    def __init__(self, table: Table, items: list[Item]) -> None:
        self._table = table
        self._items = items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        return self._items


_GSI_ATTR = "_companyos_gsi"  # on a Table: {attribute name: {value: {(hash, range): Item}}}
_gsi_lock = threading.Lock()


def _pkey(item: Item) -> tuple[DynamoType, DynamoType | None]:
    return (item.hash_key, item.range_key)


def _index_item(table: Table, item: Item | None) -> None:
    """Add an item written (put, update) to the table's GSI hash-key indexes built so far."""
    indexes: dict[str, dict[DynamoType, dict[Any, Item]]] | None = getattr(table, _GSI_ATTR, None)
    if not indexes or item is None:
        return
    with _gsi_lock:
        for attr, buckets in indexes.items():
            value = item.attrs.get(attr)
            if value is not None:
                buckets.setdefault(value, {})[_pkey(item)] = item


def _stored(table: Table) -> list[Item]:
    if table.range_key_attr is None:
        return [i for i in list(table.items.values()) if isinstance(i, Item)]
    return [i for part in list(table.items.values()) for i in list(part.values())]


def _gsi_bucket(table: Table, attr: str, value: DynamoType) -> list[Item]:
    """Items whose `attr` equals `value`, from an index built on first use and kept up to date by
    the put/update hooks. Entries are checked against the table on read, so an item since deleted,
    replaced, or moved to another key value by an update is never returned."""
    with _gsi_lock:
        indexes: dict[str, dict[DynamoType, dict[Any, Item]]] = table.__dict__.setdefault(_GSI_ATTR, {})
        if attr not in indexes:  # first query on this attribute: index what is stored (hooks run now)
            buckets: dict[DynamoType, dict[Any, Item]] = {}
            for item in _stored(table):
                v = item.attrs.get(attr)
                if v is not None:
                    buckets.setdefault(v, {})[_pkey(item)] = item
            indexes[attr] = buckets
        entries: list[Item] = list(indexes[attr].get(value, {}).values())
    return [i for i in entries if _current(table, i) is i and i.attrs.get(attr) == value]


def _current(table: Table, item: Item) -> Item | None:
    if table.range_key_attr is None:
        found = table.items.get(item.hash_key)
        return found if isinstance(found, Item) else None
    part = table.items.get(item.hash_key)
    return part.get(item.range_key) if part is not None else None


def _in_table_order(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _wrap_query(original: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(original)
    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name and hash_key is not None and self.range_key_attr is not None:
            part = self.items.get(hash_key)
            items = list(part.values()) if part is not None else []
            return original(_Candidates(self, _in_table_order(items)), hash_key, *args, **kwargs)
        if index_name and len(conditions) == 1:
            index = {i.name: i for i in self.all_indexes()}.get(index_name)
            hash_keys = [k for k in index.schema if k["KeyType"] == "HASH"] if index else []
            attr, value = conditions[0]
            if len(hash_keys) == 1 and hash_keys[0]["AttributeName"] == attr:
                items = _in_table_order(_gsi_bucket(self, attr, value))
                return original(_Candidates(self, items), hash_key, *args, **kwargs)
        return original(self, hash_key, *args, **kwargs)

    return query


def _wrap_put(original: Callable[..., Item]) -> Callable[..., Item]:
    @wraps(original)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original(self, *args, **kwargs)
        _index_item(self, item)
        return item

    return put_item


def _wrap_update(original: Callable[..., Item]) -> Callable[..., Item]:
    @wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
        item = original(self, table_name, *args, **kwargs)
        _index_item(self.get_table(table_name), item)  # an update may give the item a new GSI key
        return item

    return update_item


def patch_moto_queries() -> None:
    """Idempotent: Query reads the queried partition (or GSI hash-key bucket) only."""
    if getattr(Table.query, "__wrapped__", None) is not None:
        return
    Table.query = _wrap_query(Table.query)  # type: ignore[method-assign]
    Table.put_item = _wrap_put(Table.put_item)  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _wrap_update(DynamoDBBackend.update_item)  # type: ignore[method-assign]


# ------------------------------------------------------------------------- Step Functions clients
#
# moto's Step Functions interpreter builds a new boto3 client (botocore session, service model,
# endpoint resolver, event hooks) for every task it runs — ~15 ms of CPU per Lambda invoke, the
# largest cost of a KPI run after the Query above. botocore clients are thread-safe: keep one per
# (service, region) for the process.

_SFN_TASK_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
)


def patch_moto_sfn_jsonpath() -> None:
    """Idempotent: parse each JSONPath of a state machine once. moto's interpreter re-parses every
    path (`$.results`, `$$.Map.Item.Value.tenant_id`, ...) on every evaluation with a freshly built
    PLY parser — a fifth of a KPI run's CPU. Parsed expressions are immutable trees, so one parse
    per distinct path string serves every evaluation."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    for module in (json_path, result_path):
        parse = getattr(module.parse, "__wrapped__", module.parse)
        setattr(module, "parse", functools.lru_cache(maxsize=4096)(parse))  # noqa: B010


def patch_moto_sfn_clients() -> None:
    """Idempotent: Step Functions tasks reuse one boto client per (service, region)."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = getattr(boto_client.boto_client_for, "__wrapped__", boto_client.boto_client_for)
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    @wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (service, region)
        with lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    boto_client.boto_client_for = boto_client_for
    for name in _SFN_TASK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "boto_client_for"):
            setattr(module, "boto_client_for", boto_client_for)  # noqa: B010 (a module attribute)


# ---------------------------------------------------------------------------- in-process transport
#
# Every AWS call of the handlers (which run in the moto server's process) went over loopback HTTP
# to the same process: botocore → socket → werkzeug thread → Flask → moto, and back — about 4 ms of
# CPU per DynamoDB request, 2.6x what the same request costs through moto's in-process dispatcher
# (the one `mock_aws` uses). Requests a botocore client in this process sends to the local endpoint
# are handed to that dispatcher directly: the same backends, request parsing and response
# serialisation as the server's; only the loopback transport is skipped. Anything it does not
# recognise (and every other process: browser, CLI, presigned URLs) still goes over HTTP.

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


def patch_in_process_transport(port: int) -> None:
    """Idempotent per port: botocore requests to http://127.0.0.1:<port> (or localhost) are served
    in-process by moto's dispatcher."""
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.endpoint import Endpoint
    from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

    endpoint: Any = Endpoint  # `_send` and `_endpoint_prefix` are private: not in the type stubs
    original: Callable[[Any, AWSPreparedRequest], AWSResponse] = getattr(
        endpoint._send, "__wrapped__", endpoint._send
    )
    bases = (f"http://127.0.0.1:{port}", f"http://localhost:{port}")
    dispatcher = BotocoreStubber()  # moto's in-process dispatcher (its `enabled` flag is not consulted)

    @wraps(original)
    def _send(self: Any, request: AWSPreparedRequest) -> AWSResponse:
        url = request.url or ""
        base = next((b for b in bases if url.startswith(b + "/") or url == b), None)
        auth = request.headers.get("Authorization", b"")
        scope = _CREDENTIAL_SCOPE.search(auth.decode() if isinstance(auth, bytes) else str(auth))
        if base is None or scope is None:
            return original(self, request)
        aws_url = f"https://{self._endpoint_prefix}.{scope.group(1)}.amazonaws.com" + url[len(base) :]
        local_url, request.url = request.url, aws_url
        try:
            served = dispatcher.process_request(request)
        finally:
            request.url = local_url
        if served is None:  # not a URL moto's dispatcher knows: the server will
            return original(self, request)
        status, headers, body = served
        return AWSResponse(url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]

    endpoint._send = _send


def patch_moto_acm_clock() -> None:
    """moto's ACM checks certificates against the wall clock (import refuses an expired one, describe
    says EXPIRED past NotAfter); the local stack runs on `companyos.domain.clock`, which tests pin to a
    fixed day. Let ACM read the same clock, so a certificate expiring in 3 days is 3 days from the
    clock every other part of the stack reads (a no-op when the clock is the wall clock)."""
    from companyos.domain import clock
    from moto.acm import models as acm_models

    acm_models.utcnow = lambda: clock.now().astimezone(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- backend lookup
#
# moto 5.2.5 looks up a service's backend on every request (often several times) through
# `BackendDict._create_account_specific_backend`, which takes moto's process-wide `backend_lock` and
# then checks `self not in BackendDict._instances` — a list scan calling a Python `__eq__` on every
# service's BackendDict. Under concurrent requests (20 webhook writers, the KPI runs they start) every
# request of every thread queued on that one lock: a third of an ingest's time was spent there.
# Once the account's backend exists and the dict is registered, there is nothing to create: the
# lookup is a plain dict read. (A moto reset clears the dicts, so the slow path runs again after it.)


def patch_moto_backend_lookup() -> None:
    """Idempotent: a backend that exists is looked up without moto's global lock."""
    from moto.core.base_backend import BackendDict

    create = BackendDict._create_account_specific_backend
    original = getattr(create, "__wrapped__", create)

    @wraps(original)
    def _create_account_specific_backend(self: BackendDict[Any], account_id: str) -> None:
        if dict.__contains__(self, account_id) and self.__dict__.get("_companyos_registered"):
            return
        original(self, account_id)
        self.__dict__["_companyos_registered"] = True

    BackendDict._create_account_specific_backend = _create_account_specific_backend  # type: ignore[method-assign]
