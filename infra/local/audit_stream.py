"""The local stand-in for the audit table's stream → sealer event source mapping (#17).

Reads the table's DynamoDB stream from the trim horizon — moto's streams backend, called in-process
(moto 5.2.5's dispatcher hands `streams.dynamodb` requests to the DynamoDB handler: "not yet
implemented"; the backend's describe_stream / get_shard_iterator / get_records are the same API) —
keeps what the AWS mapping's filter keeps (INSERTs of `REC#…` records), and hands each batch to the
consumer: the real `audit_sealer` handler in the local stack. Like the mapping, a failed batch is
retried (the shard iterator only moves on after success); after `MAX_ATTEMPTS` it is logged and
skipped (AWS: the on-failure destination), and the sweep seals those records. `drain()` delivers
everything written so far (tests and the seed call it to see their writes sealed); `start()` polls
in the background. Delivered records are trimmed from moto's shard (DynamoDB keeps 24 hours of a
stream; moto would keep every record in memory for the life of the stack)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodbstreams.models import dynamodbstreams_backends

from infra.local.moto_patches import write_lock

BATCH_SIZE = 100
MAX_ATTEMPTS = 3
Consumer = Callable[[dict[str, Any]], Any]


def _wanted(record: dict[str, Any]) -> bool:
    pk = (record.get("dynamodb") or {}).get("Keys", {}).get("pk", {}).get("S", "")
    return record.get("eventName") == "INSERT" and str(pk).startswith("REC#")


class AuditStream:
    def __init__(
        self, table_name: str, consume: Consumer, interval_s: float = 0.5, region: str = "us-east-1"
    ) -> None:
        self.table_name, self.consume, self.interval_s = table_name, consume, interval_s
        self._backend = dynamodbstreams_backends[DEFAULT_ACCOUNT_ID][region]
        self._iterator: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failures = 0

    def _first_iterator(self) -> str:
        table = self._backend.dynamodb.get_table(self.table_name)
        arn = table.describe(base_key="Table")["Table"]["LatestStreamArn"]
        shard = self._backend.describe_stream(arn)["Shards"][0]["ShardId"]
        return str(self._backend.get_shard_iterator(arn, shard, "TRIM_HORIZON").arn)

    def drain(self) -> int:
        """Deliver every batch written so far; the number of records delivered."""
        delivered = 0
        with self._lock:
            self._iterator = self._iterator or self._first_iterator()
            while True:
                out = self._backend.get_records(self._iterator, BATCH_SIZE)
                records = [r for r in out["Records"] if _wanted(r)]
                if records:
                    try:
                        self.consume({"Records": records})
                    except Exception as exc:
                        self._failures += 1
                        if self._failures < MAX_ATTEMPTS:
                            raise
                        print(f"[audit-stream] batch skipped after {MAX_ATTEMPTS} attempts: {exc}")
                    self._failures = 0
                    delivered += len(records)
                if not out["Records"]:
                    return delivered
                self._iterator = str(out["NextShardIterator"])
                self._trim(int(out["Records"][-1]["dynamodb"]["SequenceNumber"]))

    def _trim(self, last_delivered: int) -> None:
        """Drop the shard's records up to `last_delivered` (sequence numbers stay what they were)."""
        shard = self._backend.dynamodb.get_table(self.table_name).stream_shard
        assert shard is not None  # the table has a stream (drain found its shard)
        with write_lock:  # moto appends to the shard inside its (locked) writes
            done = last_delivered + 1 - shard.starting_sequence_number
            if done > 0:
                del shard.items[:done]
                shard.starting_sequence_number += done

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="audit-stream").start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.drain()
            except Exception as exc:
                print(f"[audit-stream] sealer failed (retried): {exc}")

    def stop(self) -> None:
        self._stop.set()
