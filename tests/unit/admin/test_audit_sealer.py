"""The request path never contends (#17): records are single puts with unique ids and no head read,
so 20 writers to one tenant all succeed; the sealer chains them into one contiguous chain, and
redelivering a stream batch — once more, or to three sealers at once — seals nothing twice and
never forks the chain or the digest chain."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.unit.admin.audit_helpers import audit_stream, digest_items, entries, write


@pytest.fixture(scope="module")
def stream(aws):
    return audit_stream()


def test_twenty_concurrent_writers_to_one_tenant_all_succeed_and_are_sealed_in_one_chain(
    aws, stream, monkeypatch
):
    from companyos.adapters.audit import AuditEvent, AuditTrail
    from companyos.adapters.models import AuditItem

    def no_reads(*_a, **_k):
        raise AssertionError("the request path read the audit table")

    monkeypatch.setattr(AuditItem, "query", no_reads)  # no head read on the request path
    monkeypatch.setattr(AuditItem, "get", no_reads)
    start = threading.Barrier(20)

    def writer(i: int) -> dict:
        start.wait()
        return AuditTrail("t-busy").append(AuditEvent(f"w{i}", "source", "signals.ingest", f"d-{i}"))

    with ThreadPoolExecutor(20) as pool:
        bodies = list(pool.map(writer, range(20)))
    monkeypatch.undo()
    assert len({b["record_id"] for b in bodies}) == 20

    s, _ = stream
    s.drain()
    chain = entries("t-busy")
    assert [e.seq for e in chain] == list(range(1, 21))
    assert sorted(e.event["record_id"] for e in chain) == sorted(b["record_id"] for b in bodies)
    result = AuditTrail("t-busy").verify()
    assert result.ok and result.events == 20 and result.pending_events == 0


def test_a_redelivered_stream_batch_seals_nothing_twice(aws, stream):
    from companyos.adapters.audit import AuditTrail

    s, recorder = stream
    write("t-redeliver", 6)
    s.drain()
    batch = recorder.batches[-1]
    assert len(batch["Records"]) == 6
    digests = len(digest_items("t-redeliver"))
    assert recorder(batch) == {"t-redeliver": 0}  # the same batch again: its records are chained already
    assert [e.seq for e in entries("t-redeliver")] == list(range(1, 7))
    assert len(digest_items("t-redeliver")) == digests
    assert AuditTrail("t-redeliver").verify().ok


def test_three_sealers_given_the_same_batch_at_once_do_not_fork_the_chain(aws, stream):

    _, recorder = stream
    trail = write("t-race", 10)
    batch = {
        "Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": r.pk}, "sk": {"S": r.sk}}}}
            for r in trail.pending()
        ]
    }
    go = threading.Barrier(3)

    def seal(_: int) -> dict:
        go.wait()
        return recorder.sealer.seal_stream(batch["Records"])

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(seal, range(3)))
    assert sum(r["t-race"] for r in results) == 10  # each record sealed by exactly one of them
    chain = entries("t-race")
    assert [e.seq for e in chain] == list(range(1, 11))
    assert len({e.event["record_id"] for e in chain}) == 10
    result = trail.verify(every_signature=True)
    assert result.ok and result.events == 10 and result.pending_events == 0


def test_a_large_batch_is_sealed_in_transactions_of_at_most_48_records_each_signed(aws, stream):
    from companyos.adapters.audit_seal import SEAL_BATCH

    s, _ = stream
    trail = write("t-large", 2 * SEAL_BATCH + 5)
    s.drain()
    digests = [d.event for d in digest_items("t-large")]
    assert all(d["seq"] - d["first_seq"] + 1 <= SEAL_BATCH for d in digests)
    assert digests[-1]["seq"] == digests[-1]["count"] == 2 * SEAL_BATCH + 5
    assert trail.verify(every_signature=True).ok


def test_an_admin_write_and_its_audit_record_commit_together(aws, monkeypatch):
    """`admin_store.put(audit=...)` (the approval workflow's writes): both items or neither."""
    from companyos.adapters import admin_store
    from companyos.adapters.audit import AuditEvent, AuditTrail
    from companyos.adapters.models import AuditItem
    from companyos.domain.errors import Conflict

    trail = AuditTrail("t-admin-tx")
    item = admin_store.Stored("t-admin-tx", "APPROVAL#r1", "approval", {"status": "pending"})
    monkeypatch.setattr(admin_store, "record_condition", lambda: AuditItem.sk.exists())  # the audit put fails
    with pytest.raises(Conflict):
        admin_store.put(item, create=True, audit=trail.record(AuditEvent("a@t", "author", "x", "r1")))
    assert admin_store.get("t-admin-tx", "APPROVAL#r1") is None and trail.pending() == []
    monkeypatch.undo()
    admin_store.put(item, create=True, audit=trail.record(AuditEvent("a@t", "author", "x", "r1")))
    assert admin_store.get("t-admin-tx", "APPROVAL#r1") is not None
    assert [r.event["target"] for r in trail.pending()] == ["r1"]
