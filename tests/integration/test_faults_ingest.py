"""Fault injection on ingest (signed POST → parse → store the delivery → idempotency record → start the
event runs): DynamoDB throttling and transaction conflicts on the delivery's transaction and on the
idempotency table, Step Functions refusing the event run. Each time the sender gets a 503 with a
`code` (never a dropped connection), and its retry of the same delivery ends with the delivery stored
exactly once and its event run started exactly once — nothing lost, nothing written twice.

(The delivery's audit record is out of scope here: its write is being moved into the delivery's own
transaction, issue #17.)"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.faults import SFN_QUOTA, SFN_THROTTLED, THROTTLED, TX_CONFLICT, inject, on_table
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.nps_helpers import nps_stored, post_nps

TENANT = "faultin"
INGEST_RECORD = on_table("idempotency", id=".ingest.")  # not a KPI run step's record (same table)
SECRET = "nps-fault-secret"


@pytest.fixture(scope="module")
def tenant(local: Running) -> TenantFixture:
    t = make_tenant(local, TENANT, "Fault Ingest Co")
    local.stack.put_webhook_secret(TENANT, "nps", SECRET)
    local.stack.put_webhook_secret(TENANT, "trivy", SECRET)
    return t


def body_of(delivery: str, scores: list[int]) -> bytes:
    responses = [
        {"id": f"{delivery}-{i}", "responded_at": f"2026-06-0{1 + i % 8}T09:00:00Z", "score": s}
        for i, s in enumerate(scores)
    ]
    return json.dumps({"responses": responses}).encode()


def post(local: Running, body: bytes, delivery: str) -> Any:
    return post_nps(local, TENANT, SECRET, body, delivery)


def stored(delivery_id: str) -> list[Any]:
    return nps_stored(TENANT, delivery_id)


def marker(delivery_id: str) -> bool:
    from companyos.adapters.repos import SignalStore

    return SignalStore(TENANT).delivery_seen("nps", delivery_id)


def event_runs(local: Running, delivery_id: str, source: str = "nps") -> list[dict[str, Any]]:
    """The kpi_run executions of this delivery's event-run window (the run of the tenant's
    deliveries of that window, named by tenant, KPIs and window: ingest.event_run_name)."""
    from companyos.adapters.repos import SignalStore
    from companyos.ingest_runs import event_run_kpis, event_run_name

    received = SignalStore(TENANT).delivery_received_at(source, delivery_id)
    if received is None:
        return []
    name = event_run_name(TENANT, event_run_kpis(TENANT, {KINDS[source]}), received)
    sfn = boto3.client("stepfunctions")
    machine = local.stack.state_machines["kpi_run"]
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
    return [dict(e) for page in pages for e in page["executions"] if e["name"] == name]


KINDS = {"nps": "nps_response", "trivy": "vulnerability"}  # the signal kind of each source used here


def refused(reply: Any) -> None:
    """The sender is told to retry: a 5xx with a machine-readable code and a Retry-After."""
    assert reply.status == 503, (reply.status, reply.body)
    assert reply.body["code"] == "dependency_unavailable", reply.body
    assert reply.headers.get("Retry-After"), reply.headers


def retried_once(local: Running, delivery: str, body: bytes, signals: int) -> None:
    again = post(local, body, delivery)
    assert again.status == 200 and again.body["status"] == "stored", again.body
    assert again.body["signals"] == signals and again.body["runs_started"] == ["nps_score"]
    assert len(stored(delivery)) == signals
    assert len(event_runs(local, delivery)) == 1
    replay = post(local, body, delivery)  # and a third time: the first answer, nothing written
    assert replay.status == 202 and replay.body["status"] == "duplicate", replay.body
    assert len(stored(delivery)) == signals and len(event_runs(local, delivery)) == 1


BEFORE_THE_WRITE = {  # a failure before anything is stored: the delivery's transaction, the record
    "delivery_tx_throttled": ("TransactWriteItems", on_table("signals"), THROTTLED),
    "delivery_tx_conflict": ("TransactWriteItems", on_table("signals"), TX_CONFLICT),
    "idempotency_record_throttled": ("PutItem", INGEST_RECORD, THROTTLED),
}


@pytest.mark.parametrize("case", list(BEFORE_THE_WRITE))
def test_a_failure_before_the_write_is_refused_whole_then_stored_once(local, tenant, case):
    operation, when, error = BEFORE_THE_WRITE[case]
    delivery, scores = f"before-{case}", [9, 10, 6]
    body = body_of(delivery, scores)
    with inject("dynamodb", operation, error, when=when) as fault:
        reply = post(local, body, delivery)
    assert fault.raised == 1
    refused(reply)
    assert stored(delivery) == [] and not marker(delivery) and event_runs(local, delivery) == []
    retried_once(local, delivery, body, len(scores))


def test_idempotency_record_not_completed_the_retry_is_a_duplicate_not_a_second_write(local, tenant):
    """The delivery is stored and its run started, then marking the idempotency record COMPLETED is
    throttled: the sender sees a 503; its retry finds the record still in progress, and the delivery
    marker answers "duplicate" — stored once, one run."""
    delivery, scores = "idem-done", [7, 7, 10, 2]
    body = body_of(delivery, scores)
    with inject("dynamodb", "UpdateItem", THROTTLED, when=INGEST_RECORD) as fault:
        reply = post(local, body, delivery)
    assert fault.raised == 1
    refused(reply)
    assert len(stored(delivery)) == len(scores) and marker(delivery)
    assert len(event_runs(local, delivery)) == 1
    again = post(local, body, delivery)
    assert again.status == 202 and again.body["status"] == "duplicate", again.body
    assert len(stored(delivery)) == len(scores) and len(event_runs(local, delivery)) == 1


@pytest.mark.parametrize("error", [SFN_QUOTA, SFN_THROTTLED], ids=["quota", "throttled"])
def test_event_run_not_started_the_retry_starts_it_once(local, tenant, error):
    """The delivery is stored, then Step Functions refuses the event run: the sender sees a 503 and
    its retry — answered "duplicate", the delivery is stored — still starts the run, once."""
    delivery, scores = f"sfn-{error.code[:5]}", [10, 9, 4]
    body = body_of(delivery, scores)
    ours = lambda p: p["name"].startswith(f"evt-{TENANT}-")  # noqa: E731 (not another test's run)
    with inject("stepfunctions", "StartExecution", error, when=ours) as fault:
        reply = post(local, body, delivery)
    assert fault.raised == 1
    refused(reply)
    assert len(stored(delivery)) == len(scores) and marker(delivery)
    # none of this delivery's: another delivery of the same 5 s window may have started the window's
    # run (event runs coalesce), which then reads this one too
    assert len(event_runs(local, delivery)) <= 1
    again = post(local, body, delivery)
    assert again.status == 202 and again.body["status"] == "duplicate", again.body
    assert again.body["runs_started"] == ["nps_score"]
    assert len(stored(delivery)) == len(scores) and len(event_runs(local, delivery)) == 1
    post(local, body, delivery)
    assert len(event_runs(local, delivery)) == 1


def test_a_report_whose_event_runs_were_refused_starts_them_on_the_retry(local, tenant):
    """A Trivy report (the real fixture: 3 vulnerabilities) is stored as finding transitions, then
    Step Functions refuses its runs: the retry is a duplicate that writes nothing and starts the
    runs of the kinds the report changed, once."""
    from companyos.adapters.repos import SignalStore
    from companyos.sources.base import hmac_sha256_hex

    from tests.integration.test_ingest_sources import trivy_report

    body = trivy_report("2024-03-01T10:00:00Z")
    headers = {
        "Content-Type": "application/json",
        "X-CompanyOS-Signature": "sha256=" + hmac_sha256_hex(SECRET, body),
        "X-CompanyOS-Target": "faultin/fluentd",
    }

    def upload() -> Any:
        return local.client.request("POST", f"/api/ingest/trivy?tenant={TENANT}", body, headers)

    ours = lambda p: p["name"].startswith(f"evt-{TENANT}-")  # noqa: E731
    with inject("stepfunctions", "StartExecution", SFN_QUOTA, when=ours) as fault:
        refused(upload())
    assert fault.raised == 1
    opened = SignalStore(TENANT).findings("vulnerability", "open")
    assert len(opened) == 3
    again = upload()
    assert again.status == 202 and again.body["status"] == "duplicate", again.body
    assert again.body["runs_started"] == ["critical_cve_age", "vuln_sla_compliance"]
    assert len(event_runs(local, again.body["delivery_id"], "trivy")) == 1
    assert SignalStore(TENANT).findings("vulnerability", "open") == opened


def test_a_delivery_larger_than_one_transaction_cut_off_midway_is_completed_once_by_the_retry(local, tenant):
    """150 responses go in two transactions (the second with the delivery marker); the second is
    throttled: 503, no marker. The retry replays the first chunk as a no-op (every item is
    conditioned on "absent or this delivery's") and writes the rest: 150 signals, once."""
    delivery, scores = "chunked", [i % 11 for i in range(150)]
    body = body_of(delivery, scores)
    with inject("dynamodb", "TransactWriteItems", THROTTLED, calls=(2,), when=on_table("signals")) as fault:
        reply = post(local, body, delivery)
    assert (fault.seen, fault.raised) == (2, 1)
    refused(reply)
    # the first chunk is stored, the delivery not yet counted (no marker): the window the retry closes
    assert 0 < len(stored(delivery)) < len(scores) and not marker(delivery)
    retried_once(local, delivery, body, len(scores))
