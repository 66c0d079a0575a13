"""An ingested delivery and its audit record commit together (#17): when the audit record cannot be
written, nothing of the delivery is stored and the sender's retry stores both (before #17 the
delivery was stored first and the failed audit append lost the event for good, the retry being a
"duplicate"). The local stack's stream poller seals the record into the tenant's signed chain."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.test_walking_skeleton import SUCCESS, post_github, signals_of


@pytest.fixture(scope="module")
def audited(local: Running) -> TenantFixture:
    return make_tenant(local, "audited", "Audited Ltd")


def audit_records(tenant_id: str, delivery: str) -> list[dict]:
    from companyos.adapters.audit import AuditTrail

    return [e for e in AuditTrail(tenant_id).events() if e["target"] == delivery]


def delivery_marker(tenant_id: str, delivery: str) -> bool:
    from companyos.adapters.repos import SignalStore

    return SignalStore(tenant_id).delivery_seen("github", delivery)


def test_a_failed_audit_write_stores_nothing_and_the_retry_stores_delivery_and_audit(
    local, audited, monkeypatch
):
    from companyos.adapters import signals_repo
    from companyos.adapters.models import AuditItem

    body = real_fixture(SUCCESS)
    before = len(signals_of(audited.id))
    # the audit put fails inside the delivery's transaction (its condition cannot hold)
    monkeypatch.setattr(signals_repo, "record_condition", lambda: AuditItem.sk.exists())
    failed = post_github(local, audited, body, "deployment_status", "tx-1")
    assert failed.status >= 400
    assert len(signals_of(audited.id)) == before and not delivery_marker(audited.id, "tx-1")
    assert audit_records(audited.id, "tx-1") == []
    monkeypatch.undo()

    retry = post_github(local, audited, body, "deployment_status", "tx-1")
    assert retry.status < 300 and retry.body["status"] == "stored", retry.body
    assert len(signals_of(audited.id)) == before + 1 and delivery_marker(audited.id, "tx-1")
    [record] = audit_records(audited.id, "tx-1")
    assert record["action"] == "signals.ingest" and record["details"]["signals"] == 1

    local.stack.seal_audit()
    [sealed] = audit_records(audited.id, "tx-1")
    assert sealed["pending"] is False and sealed["seq"] >= 1 and sealed["record_id"] == record["record_id"]
    from companyos.adapters.audit import AuditTrail

    result = AuditTrail(audited.id).verify()
    assert result.ok and result.signature_valid and result.pending_events == 0


def test_two_parallel_posts_of_one_delivery_store_it_once_with_one_audit_record(local, audited):
    body = real_fixture(SUCCESS)
    go = threading.Barrier(2)

    def post(_: int):
        go.wait()
        return post_github(local, audited, body, "deployment_status", "tx-parallel")

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(post, range(2)))
    stored = [r for r in replies if r.status < 300 and r.body.get("status") == "stored"]
    assert len(stored) == 1, [(r.status, r.body) for r in replies]
    assert len(audit_records(audited.id, "tx-parallel")) == 1


def test_the_sweep_gives_a_new_tenant_its_genesis_digest_so_an_emptied_chain_is_caught(local):
    from companyos.adapters.audit import AuditTrail
    from companyos.adapters.models import AuditItem
    from companyos.adapters.repos import Catalog, Tenant

    Catalog().put_tenant(Tenant("genesisco", "Genesis Co", "prod", True, "us-east-1", "dora-2024", "test"))
    out = local.stack.invoke("audit_sealer", {})  # the schedule's event: every tenant and PLATFORM
    assert out["failed"] == [] and out["chains"] >= 2
    trail = AuditTrail("genesisco")
    [genesis] = trail.digests()
    assert genesis["number"] == 1 and genesis["seq"] == 0 and genesis["prev_signature"] == ""
    result = trail.verify()
    assert result.ok and result.events == 0 and result.digests == 1
    local.stack.invoke("audit_sealer", {"chains": ["genesisco"]})
    assert len(trail.digests()) == 1  # the genesis is fresh: no heartbeat due yet
    next(iter(AuditItem.query("genesisco#DIGEST"))).delete()
    assert trail.verify().problem == "chain_empty"
