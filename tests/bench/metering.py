"""Billable units of what the embedded stack does, counted as AWS would bill them (issue #19):

- Lambda: every handler invocation (`HandlerRegistry.invoke` / `invoke_concurrently`), the CPU time
  of its thread (its duration without this machine's contention) plus `DYNAMODB_LATENCY_S` per
  DynamoDB request it made (the wait Lambda bills), times the function's memory (topology) →
  GB-seconds, per function;
- DynamoDB: every request any botocore client sends, attributed to the function whose invocation
  made it (a thread-local set around each invocation; "direct" outside one), in read and write
  request units estimated from the item sizes DynamoDB bills (`item_size`): reads 4 KB units, halved
  when eventually consistent; writes 1 KB units; transactions twice;
- Step Functions: the `*StateEntered` events and the bytes of an execution's history.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

_current = threading.local()
# Lambda bills the wait for each DynamoDB answer, which moto's in-process answer does not show as
# wait: each request adds DynamoDB's typical single-digit-millisecond latency to the billed duration
DYNAMODB_LATENCY_S = 0.005


@dataclass
class Meter:
    invocations: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gb_s: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rru: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    wru: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, *functions: str) -> dict[str, float]:
        """Sums over the named functions (all when none is named)."""
        names = functions or tuple({*self.invocations, *self.rru, *self.wru})
        return {
            "lambda_requests": float(sum(self.invocations.get(f, 0) for f in names)),
            "lambda_gb_s": sum(self.gb_s.get(f, 0.0) for f in names),
            "rru": sum(self.rru.get(f, 0.0) for f in names),
            "wru": sum(self.wru.get(f, 0.0) for f in names),
        }


# ------------------------------------------------------------------------------ DynamoDB sizes


def _value_size(v: dict[str, Any]) -> int:
    ((kind, x),) = v.items()
    if kind == "S":
        return len(str(x).encode())
    if kind == "N":
        return math.ceil(len(str(x).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(x) if isinstance(x, bytes | bytearray) else math.ceil(len(str(x)) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(e) + 1 for k, e in x.items())
    if kind == "L":
        return 3 + sum(_value_size(e) + 1 for e in x)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: e}) for e in x)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values (DynamoDB-JSON item)."""
    return sum(len(k.encode()) + _value_size(v) for k, v in (item or {}).items())


def _reads(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _writes(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def units(operation: str, params: dict[str, Any], response: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB request."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return _reads(item_size(response.get("Item")), consistent), 0.0
    if operation in ("Query", "Scan"):
        return _reads(sum(item_size(i) for i in response.get("Items", [])), consistent), 0.0
    if operation == "BatchGetItem":
        items = [i for found in response.get("Responses", {}).values() for i in found]
        return sum(_reads(item_size(i), consistent) for i in items), 0.0
    if operation == "PutItem":
        return 0.0, _writes(item_size(params.get("Item")))
    if operation in ("UpdateItem", "DeleteItem"):
        size = item_size(params.get("Key")) + sum(
            _value_size(v) for v in (params.get("ExpressionAttributeValues") or {}).values()
        )
        return 0.0, _writes(size)
    if operation == "BatchWriteItem":
        puts = [
            r.get("PutRequest", {}).get("Item") for rs in params.get("RequestItems", {}).values() for r in rs
        ]
        return 0.0, sum(_writes(item_size(i)) for i in puts)
    if operation == "TransactWriteItems":
        total = 0.0
        for entry in params.get("TransactItems", []):
            ((kind, body),) = entry.items()
            size = item_size(body.get("Item") or body.get("Key"))
            total += 2 * _writes(size if kind == "Put" else max(size, 1))
        return 0.0, total
    if operation == "TransactGetItems":
        got = [r.get("Item") for r in response.get("Responses", [])]
        return sum(2 * _reads(item_size(i), True) for i in got), 0.0
    return 0.0, 0.0  # DescribeTable and the like: not billed per request


# ------------------------------------------------------------------------------ hooks


@contextlib.contextmanager
def metered(registry: Any) -> Iterator[Meter]:
    """Count the billable units of everything this process does inside the block."""
    import botocore.client
    from companyos import topology

    meter = Meter()
    memory = {f.name: f.memory_mb for f in topology.FUNCTIONS}
    client: Any = botocore.client.BaseClient
    original_call = client._make_api_call
    original_invoke, original_concurrent = registry.invoke, registry.invoke_concurrently

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original_call(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            r, w = units(operation, params, response)
            who = getattr(_current, "function", None) or "direct"
            with meter.lock:
                meter.rru[who] += r
                meter.wru[who] += w
                meter.requests[who] += 1
                if who in memory:
                    meter.gb_s[who] += DYNAMODB_LATENCY_S * memory[who] / 1024
        return response

    def timed(invoke: Any) -> Any:
        def run(name: str, event: dict[str, Any]) -> Any:
            outer = getattr(_current, "function", None)
            _current.function = name
            start = time.thread_time()  # CPU of this invocation's thread: contention-free
            try:
                return invoke(name, event)
            finally:
                seconds = time.thread_time() - start
                _current.function = outer
                with meter.lock:
                    meter.invocations[name] += 1
                    meter.gb_s[name] += math.ceil(seconds * 1000) / 1000 * memory.get(name, 128) / 1024

        return run

    client._make_api_call = call
    registry.invoke, registry.invoke_concurrently = timed(original_invoke), timed(original_concurrent)
    try:
        yield meter
    finally:
        client._make_api_call = original_call
        registry.invoke, registry.invoke_concurrently = original_invoke, original_concurrent


def execution_history(arn: str, errors_only: bool = False) -> tuple[int, int]:
    """(state transitions, bytes CloudWatch Logs would ingest) of one execution: its whole history,
    or with `errors_only` (a machine logging at ERROR level) its failed / timed-out / aborted events."""
    sfn = boto3.client("stepfunctions")
    transitions = size = 0
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        for event in page["events"]:
            transitions += event["type"].endswith("StateEntered")
            if not errors_only or event["type"].endswith(("Failed", "TimedOut", "Aborted")):
                size += len(json.dumps(event, default=str))
    return transitions, size
