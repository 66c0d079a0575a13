"""An idempotent replay through HTTP: the same signed delivery posted twice is stored once, and the
second answer is the duplicate answer built from the first one (Powertools Idempotency over the
stage's idempotency table, keyed on tenant, source and delivery id), even when the delivery marker
is gone; a forged replay is still refused before any idempotency lookup."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant
from tests.integration.nps_helpers import nps_stored, post_nps

TENANT = "replayco"
SECRET = "nps-replay-secret"


@pytest.fixture(scope="module")
def tenant(local: Running) -> TenantFixture:
    t = make_tenant(local, TENANT, "Replay Co")
    local.stack.put_webhook_secret(TENANT, "nps", SECRET)
    return t


def post(local: Running, body: bytes, delivery: str, secret: str = SECRET) -> Any:
    return post_nps(local, TENANT, secret, body, delivery)


def stored(delivery_id: str) -> list[Any]:
    return nps_stored(TENANT, delivery_id)


def idempotency_records(local: Running) -> list[dict[str, Any]]:
    """The ingest path's records (the table is shared: KPI run steps of other tests' executions,
    still finishing on this worker, write their own records under their own function's key)."""
    table = local.stack.settings.tables.idempotency
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [r for r in items if ".ingest." in r["id"]["S"].split("#", 1)[0]]


def test_the_same_signed_delivery_twice_is_stored_once_and_answered_duplicate(local, tenant):
    doc = {"responses": [{"id": "r-1", "responded_at": "2025-05-01T09:00:00Z", "score": 8}]}
    body = json.dumps(doc).encode()
    before = {r["id"]["S"] for r in idempotency_records(local)}

    first = post(local, body, "replay-1")
    assert first.status == 200 and first.body["status"] == "stored" and first.body["signals"] == 1, first.body
    new = [r for r in idempotency_records(local) if r["id"]["S"] not in before]
    assert [r["status"]["S"] for r in new] == ["COMPLETED"]  # the first answer, kept for replays
    assert json.loads(new[0]["data"]["S"])["status"] == "stored"

    # the delivery marker is gone (as if the replay came after it expired): the replay is still
    # answered from the idempotency record, without a second write
    from companyos.adapters.models import SignalItem

    SignalItem.get(f"{TENANT}#delivery", f"nps#{first.body['delivery_id']}").delete()
    again = post(local, body, "replay-1")
    assert again.status == 202 and again.body["status"] == "duplicate", again.body
    assert again.body["delivery_id"] == first.body["delivery_id"]
    assert again.body["event"] == first.body["event"] and again.body["unmapped"] == first.body["unmapped"]
    assert again.body["signals"] == 0 and again.body["reason"] == "this delivery was already ingested"
    assert len(stored(first.body["delivery_id"])) == 1
    assert {r["id"]["S"] for r in idempotency_records(local)} - before == {new[0]["id"]["S"]}


def test_a_forged_replay_is_refused_before_the_idempotency_lookup(local, tenant):
    doc = {"responses": [{"id": "r-2", "responded_at": "2025-05-02T09:00:00Z", "score": 9}]}
    body = json.dumps(doc).encode()
    assert post(local, body, "replay-2").status == 200
    forged = post(local, body, "replay-2", secret="not-the-secret")
    assert forged.status == 401 and forged.body["code"] == "signature_invalid", forged.body


def test_the_same_delivery_id_of_another_tenant_is_its_own_delivery(local, tenant):
    other = make_tenant(local, "replayco2", "Replay Co 2")
    local.stack.put_webhook_secret(other.id, "nps", SECRET)
    doc = {"responses": [{"id": "r-3", "responded_at": "2025-05-03T09:00:00Z", "score": 7}]}
    body = json.dumps(doc).encode()
    assert post(local, body, "replay-3").body["status"] == "stored"
    from companyos.sources.base import hmac_sha256_hex

    headers = {
        "Content-Type": "application/json",
        "X-CompanyOS-Signature": "sha256=" + hmac_sha256_hex(SECRET, body),
        "X-CompanyOS-Delivery": "replay-3",
    }
    reply = local.client.request("POST", f"/api/ingest/nps?tenant={other.id}", body, headers)
    assert reply.status == 200 and reply.body["status"] == "stored", reply.body
