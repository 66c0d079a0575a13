"""A few seconds of concurrent webhook writers and dashboard readers on the local front door, then
every answer reconciled with DynamoDB (#17): the correctness half of the ingest load benchmark
(tests/bench/test_bench_ingest_load.py), without its timings.

Writers POST signed GitHub pushes and PagerDuty incident events (the real fixtures, unique delivery
ids) and replays of deliveries already answered; readers GET the CTO dashboard and the service map.
"""

from __future__ import annotations

from tests.conftest import Running
from tests.integration.ingest_load import load_tenant, reconcile, run_load, settle, warm_up

SECONDS = 5.0
WRITERS = 6
READERS = 2


def test_concurrent_writers_store_every_delivery_once_with_its_audit_record(local: Running) -> None:
    # Given a tenant with GitHub and PagerDuty webhook secrets (and the front door warmed up, so the
    # five seconds are not spent in cold starts)
    tenant = load_tenant(local, "loadsmoke")
    warm_up(local.url, load_tenant(local, "loadwarm"), WRITERS, READERS)

    # When 6 writers (a fifth of their posts replays) and 2 readers hit the front door for 5 s
    result = run_load(local.url, [tenant], writers=WRITERS, readers=READERS, duration_s=SECONDS)
    settle(local)

    # Then every request got its answer: 200 stored / 202 duplicate for a write, 202 duplicate for a
    # replay, 200 for a read — no 409, no 5xx, no timeout
    posts = result.of("write", "replay")
    assert posts and result.of("replay") and result.of("read")
    assert result.error_codes() == "", [a.body for a in result.errors()][:3]
    # and DynamoDB holds each "stored" delivery exactly once, with the signals its answer counted and
    # one audit record; a replay stored nothing; nothing answered 2xx is missing
    rec = reconcile(result, [tenant.tenant_id])
    stored = {a.delivery.delivery_id for a in posts if a.delivery and a.status == 200}
    assert rec.stored_answers == len(stored)
    assert rec.ok, rec
