"""Prometheus connector, pure parts: the real response formats, the error envelope, aligned
timestamps and deterministic keys, retries with jitter and the circuit breaker (no sockets)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from companyos.sources import prometheus as prom
from companyos.sources.prometheus import CircuitBreaker, CircuitOpen, PrometheusError, PromQuerySpec
from pydantic import ValidationError

from tests.conftest import real_fixture


def test_the_real_instant_vector_response_parses_to_samples():
    result = prom.parse_response(real_fixture("prometheus/api-v1-query.vector.json"))
    assert result.result_type == "vector" and len(result.samples) == 2
    first, second = result.samples
    assert first.labels == {"__name__": "up", "job": "prometheus", "instance": "localhost:9090"}
    assert first.at == datetime(2015, 7, 1, 20, 10, 51, 781000, tzinfo=UTC)
    assert (first.value, first.raw) == (1.0, "1") and second.value == 0.0


def test_the_real_range_matrix_response_parses_every_point():
    result = prom.parse_response(real_fixture("prometheus/api-v1-query_range.matrix.json"))
    assert result.result_type == "matrix" and len(result.samples) == 6
    node = [s for s in result.samples if s.labels["job"] == "node"]
    assert [s.value for s in node] == [0.0, 0.0, 1.0]
    assert node[0].at.isoformat() == "2015-07-01T20:10:30.781000+00:00"


@pytest.mark.parametrize(
    ("error_type", "retryable"),
    [("bad_data", False), ("execution", False), ("timeout", True), ("unavailable", True), ("internal", True)],
)
def test_the_error_envelope_raises_with_its_type(error_type, retryable):
    body = json.dumps({"status": "error", "errorType": error_type, "error": "boom", "warnings": ["w"]})
    with pytest.raises(PrometheusError) as err:
        prom.parse_response(body.encode())
    assert err.value.error_type == error_type and err.value.message == "boom"
    assert err.value.retryable is retryable


def test_nan_and_inf_are_kept_raw_without_a_number_and_scalars_parse():
    body = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "NaN"]}]},
    }
    (s,) = prom.parse_response(json.dumps(body).encode()).samples
    assert s.value is None and s.raw == "NaN"
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1700000000, "+Inf"]}}
    (s,) = prom.parse_response(json.dumps(scalar).encode()).samples
    assert s.value is None and s.raw == "+Inf"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502</html>",
        b'{"data": {}}',
        b'{"status": "success", "data": {"resultType": "vector", "result": [{"value": 1}]}}',
    ],
)
def test_a_body_that_is_not_the_api_format_is_a_bad_response(body):
    with pytest.raises(PrometheusError) as err:
        prom.parse_response(body)
    assert err.value.error_type == "bad_response"


Q = PromQuerySpec(id="slo_good_1h", metric="slo_good", promql="sum by (service) (x[1h])", kind="slo_window")


def test_timestamps_are_aligned_to_the_step_and_complete_after_the_lag():
    now = datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC)
    times = prom.aligned_timestamps(Q, now, lag_s=60)  # 11:59:30 → the last complete hour is 11:00
    assert [t.hour for t in times] == [6, 7, 8, 9, 10, 11] and all(t.minute == 0 for t in times)
    assert Q.window_label == "1h"
    assert PromQuerySpec(id="a", metric="a", promql="x", step_s=86400).window_label == "1d"


def test_keys_are_deterministic_from_tenant_query_series_and_time():
    at = datetime(2025, 3, 1, 11, tzinfo=UTC)
    a = prom.signal_id("t1", Q, {"service": "api"}, at)
    assert a == prom.signal_id("t1", Q, {"service": "api"}, at)
    assert a != prom.signal_id("t2", Q, {"service": "api"}, at)
    assert a != prom.signal_id("t1", Q, {"service": "web"}, at)
    assert prom.delivery_id(Q, at) == f"slo_good_1h:{Q.promql_hash}:{int(at.timestamp())}"
    changed = Q.model_copy(update={"promql": "sum by (service) (y[1h])"})
    assert prom.delivery_id(changed, at) != prom.delivery_id(Q, at)  # a new PromQL is a new series


def test_samples_become_signals_with_service_metric_window_value_and_time():
    at = datetime(2025, 3, 1, 11, tzinfo=UTC)
    samples = [prom.Sample({"service": "api"}, at, 990.0, "990"), prom.Sample({"service": "x"}, at, 5.0, "5")]
    api, x = prom.to_signals("t1", Q, at, samples, {"api": {"service": "api", "domain": "API Gateway"}})
    assert (api.kind, api.entity, api.service, api.occurred_at) == ("slo_window", "api", "api", at)
    expected = {"metric": "slo_good", "window": "1h", "value": 990.0, "domain": "API Gateway"}
    assert api.attributes.items() >= expected.items()
    assert api.attributes["timestamp"] == at.isoformat() and "unmapped" not in api.attributes
    assert x.service is None and x.attributes["unmapped"] is True  # kept, never dropped


def test_config_validation_refuses_duplicate_ids_and_non_http_urls():
    with pytest.raises(ValidationError):
        prom.PrometheusConfig(base_url="http://p:9090", queries=(Q, Q))
    with pytest.raises(ValidationError):
        prom.PrometheusConfig(base_url="file:///etc/passwd", queries=(Q,))


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_breaker_opens_after_repeated_failures_and_half_opens_after_the_cool_down():
    clock = FakeClock()
    b = CircuitBreaker(threshold=2, reset_after_s=30, clock=clock)
    b.before_call("u")
    b.failure()
    assert b.state == "closed"
    b.failure()
    assert b.state == "open"
    with pytest.raises(CircuitOpen):
        b.before_call("u")
    clock.t = 31
    assert b.state == "half_open"
    b.before_call("u")  # the one trial call
    with pytest.raises(CircuitOpen):
        b.before_call("u")  # nobody else while the trial runs
    b.failure()  # the trial failed: open again, for a full cool-down
    clock.t = 40
    assert b.state == "open"
    clock.t = 62
    b.before_call("u")
    b.success()
    assert b.state == "closed" and b.failures == 0


class ScriptedClient(prom.PrometheusClient):
    """The real retry/breaker logic over scripted answers instead of HTTP."""

    def __init__(self, answers, **kw) -> None:
        super().__init__("http://p", **kw)
        self.answers = list(answers)

    def _once(self, path, params):
        self.attempts += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_transient_failures_are_retried_with_full_jitter_backoff():
    sleeps: list[float] = []
    ok = prom.PromResult("vector", [])
    client = ScriptedClient(
        [PrometheusError("timeout", "t"), PrometheusError("unavailable", "u"), ok],
        max_attempts=3,
        sleep=sleeps.append,
        rng=random.Random(7),
        base_delay_s=0.2,
        max_delay_s=2.0,
    )
    assert client.instant("up", datetime(2025, 1, 1, tzinfo=UTC)) is ok
    assert client.attempts == 3 and len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.2 and 0 <= sleeps[1] <= 0.4  # uniform(0, min(cap, base * 2^n))
    assert client.breaker.state == "closed"


def test_a_bad_query_is_not_retried_and_does_not_trip_the_breaker():
    client = ScriptedClient(
        [PrometheusError("bad_data", "parse error")], max_attempts=3, sleep=lambda _: None
    )
    with pytest.raises(PrometheusError):
        client.instant("up{", datetime(2025, 1, 1, tzinfo=UTC))
    assert client.attempts == 1 and client.breaker.failures == 0


def test_exhausted_retries_count_one_failure_and_the_breaker_then_refuses_calls():
    breaker = CircuitBreaker(threshold=2, reset_after_s=60)
    down = [PrometheusError("unavailable", "refused")] * 4
    client = ScriptedClient(down, max_attempts=2, sleep=lambda _: None, breaker=breaker)
    for _ in range(2):
        with pytest.raises(PrometheusError):
            client.instant("up", datetime(2025, 1, 1, tzinfo=UTC))
    assert client.attempts == 4 and breaker.state == "open"
    with pytest.raises(CircuitOpen):
        client.instant("up", datetime(2025, 1, 1, tzinfo=UTC))
    assert client.attempts == 4  # refused without a request


def test_breakers_are_per_tenant_and_url():
    assert prom.breaker_for("a", "http://p:9090/") is prom.breaker_for("a", "http://p:9090")
    assert prom.breaker_for("a", "http://p:9090") is not prom.breaker_for("b", "http://p:9090")
