"""Prometheus pull against a local HTTP server (http.server on 127.0.0.1) answering with the real
response bytes from Prometheus' docs, the error envelope, and too late (timeout); signals stored
through SignalStore once, with their retention class's TTL; the prom_pull function end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import PrometheusConfig, PromQuerySpec

from infra.local.fake_prometheus import FakePrometheus, error
from tests.conftest import Running, real_fixture

VECTOR_AT = datetime.fromtimestamp(1435781451.781, UTC)  # the docs' instant query time
MATRIX_END = datetime.fromtimestamp(1435781460, UTC)  # last point of the docs' range (…460.781)


@pytest.fixture
def server(request) -> Iterator[FakePrometheus]:
    """Answers /api/v1/query with the real vector bytes, /api/v1/query_range with the real matrix."""
    vector, matrix = (
        real_fixture("prometheus/api-v1-query.vector.json"),
        real_fixture("prometheus/api-v1-query_range.matrix.json"),
    )
    answers = {"/api/v1/query": vector, "/api/v1/query_range": matrix}
    fake = FakePrometheus(lambda path, params: (200, answers[path], 0.0)).start()
    yield fake
    fake.stop()


def tenant(local: Running, tenant_id: str) -> str:
    from companyos.adapters.repos import Catalog, Tenant

    Catalog().put_tenant(Tenant(tenant_id, tenant_id.title(), "prod", True, "us-east-1", "dora-2024", "test"))
    Catalog().tenant(tenant_id).map_source_entity("prometheus", "prometheus", "prom-self", "Observability")
    return tenant_id


def stored(tenant_id: str, kind: str) -> list:
    from companyos.adapters.models import SignalItem

    return list(SignalItem.query(f"{tenant_id}#{kind}"))


def test_an_instant_query_stores_the_real_vector_once_with_its_raw_ttl(local: Running, server):
    t = tenant(local, "promvec")
    q = PromQuerySpec(id="up_now", metric="up", promql="up", mode="instant", step_s=60, lookback_steps=1,
                      service_label="job")  # fmt: skip
    cfg = PrometheusConfig(base_url=server.url, queries=(q,), lag_s=0)
    now = datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)

    first = prom.pull_tenant(t, cfg, now=now)
    again = prom.pull_tenant(t, cfg, now=now)

    assert first["signals"] == 2 and first["queries"][0]["status"] == "ok"
    assert again["signals"] == 0 and again["queries"][0]["status"] == "up_to_date" and again["requests"] == 0
    path, params = server.requests[0]
    assert path == "/api/v1/query" and params["query"] == "up" and params["time"] == "1740830400.000"
    items = {i.entity: i for i in stored(t, "prom_sample")}
    assert set(items) == {"prometheus", "node"}
    mapped, unmapped = items["prometheus"], items["node"]
    assert mapped.occurred_at == VECTOR_AT and mapped.service == "prom-self"
    assert mapped.attributes["value"] == 1.0 and mapped.attributes["labels"]["instance"] == "localhost:9090"
    assert unmapped.attributes["value"] == 0.0 and unmapped.attributes["unmapped"] is True
    assert mapped.expires_at == (VECTOR_AT + timedelta(days=15)).replace(microsecond=0)  # service, raw
    assert first["unmapped"] == ["node"]


def test_a_range_query_stores_one_delivery_per_step_and_a_replay_writes_nothing(local: Running, server):
    t = tenant(local, "promrange")
    q = PromQuerySpec(id="up_15s", metric="availability", promql="up", kind="slo_window", step_s=15,
                      lookback_steps=3, service_label="job")  # fmt: skip
    cfg = PrometheusConfig(base_url=server.url, queries=(q,), lag_s=0)
    now = MATRIX_END + timedelta(seconds=5)

    report = prom.pull_tenant(t, cfg, now=now)
    replay = prom.pull_tenant(t, cfg, now=now + timedelta(seconds=5))

    assert report["queries"][0] == report["queries"][0] | {"stored_timestamps": 3, "signals": 6}
    assert replay["signals"] == 0 and replay["requests"] == 0
    params = server.requests[0][1]
    assert (params["start"], params["end"], params["step"]) == ("1435781430.000", "1435781460.000", "15s")
    items = stored(t, "slo_window")
    assert len(items) == 6 and len({i.signal_id for i in items}) == 6
    node = sorted((i for i in items if i.entity == "node"), key=lambda i: i.occurred_at)
    assert [i.attributes["value"] for i in node] == [0.0, 0.0, 1.0]
    assert node[0].occurred_at == datetime.fromtimestamp(1435781430.781, UTC)
    assert {i.attributes["window"] for i in items} == {"15s"}
    assert node[0].expires_at == (node[0].occurred_at + timedelta(days=730)).replace(microsecond=0)  # rollup
    from companyos.adapters.repos import SignalStore

    assert SignalStore(t).delivery_seen("prometheus", prom.delivery_id(q, MATRIX_END))


def test_the_error_envelope_is_reported_without_retry_and_other_queries_still_run(local: Running):
    t = tenant(local, "promerr")
    body = error("bad_data", 'invalid parameter "query": 1:4: parse error: unexpected end of input')

    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes, float]:
        if params["query"] == "up{":
            return 400, body, 0.0
        return 200, real_fixture("prometheus/api-v1-query.vector.json"), 0.0

    fake = FakePrometheus(answer).start()
    try:
        bad = PromQuerySpec(id="broken", metric="up", promql="up{", mode="instant", lookback_steps=1)
        good = PromQuerySpec(id="fine", metric="up", promql="up", mode="instant", lookback_steps=1,
                             service_label="job")  # fmt: skip
        report = prom.pull_tenant(t, PrometheusConfig(base_url=fake.url, queries=(bad, good)))
    finally:
        fake.stop()

    broken, fine = report["queries"]
    assert broken["status"] == "error" and broken["error"].startswith("bad_data: invalid parameter")
    assert fine["status"] == "ok" and fine["signals"] == 2
    assert [p["query"] for _, p in fake.requests] == ["up{", "up"]  # no retry of a bad query
    assert prom.breaker_for(t, fake.url).state == "closed"


def test_a_server_that_answers_too_late_times_out_retries_then_opens_the_circuit(local: Running):
    t = tenant(local, "promslow")
    late = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
    fake = FakePrometheus(lambda path, params: (200, late, 1.0)).start()
    try:
        queries = tuple(
            PromQuerySpec(id=f"q{i}", metric="up", promql=f"up{{i='{i}'}}", mode="instant", lookback_steps=1)
            for i in range(4)
        )
        cfg = PrometheusConfig(base_url=fake.url, queries=queries, timeout_s=0.2, max_attempts=2)
        report = prom.pull_tenant(t, cfg)
    finally:
        fake.stop()

    statuses = [q["status"] for q in report["queries"]]
    assert statuses == ["unavailable", "unavailable", "unavailable", "circuit_open"]
    assert report["queries"][0]["error"].startswith("timeout")
    assert report["requests"] == 6  # 3 calls x 2 attempts; the 4th refused by the open breaker
    assert prom.breaker_for(t, fake.url).state == "open" and report["signals"] == 0


def test_the_prom_pull_function_pulls_a_configured_tenant(local: Running, server):
    t = tenant(local, "promfn")
    q = PromQuerySpec(
        id="up_now", metric="up", promql="up", mode="instant", lookback_steps=1, service_label="job"
    )
    prom.save_config(t, PrometheusConfig(base_url=server.url, queries=(q,)))
    assert prom.load_config(t) == PrometheusConfig(base_url=server.url, queries=(q,))

    result = local.stack.invoke("prom_pull", {"tenant_id": t})

    assert result["tenants"] == 1 and result["signals"] == 2 and result["failures"] == []
    assert local.stack.invoke("prom_pull", {"tenant_id": "no-such-tenant"})["tenants"] == 0


def test_webhook_signals_get_the_ttl_of_their_kinds_class_too(local: Running):
    """`deployment` is an event of the service class: kept for the aggregated 730 days (the DORA
    runs read 365-day windows + the previous one), not the 15 raw days of service samples."""
    import hashlib
    import hmac

    from companyos.ingest import ingest
    from companyos.sources.base import WebhookRequest

    t = tenant(local, "promttl")
    body = real_fixture("github/deployment_status.created.success.json")
    sig = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    headers = {"x-github-event": "deployment_status", "x-github-delivery": "d-1", "x-hub-signature-256": sig}
    result = ingest(t, "github", WebhookRequest(headers, body), max_bytes=10**6,
                    secrets=lambda *_: ["s3cret"], start_run=lambda *_: None)  # fmt: skip
    assert result.status == "stored"
    (item,) = stored(t, "deployment")
    assert item.expires_at == (item.occurred_at + timedelta(days=730)).replace(microsecond=0)
