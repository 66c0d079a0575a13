"""The Prometheus HTTP client: a timeout per request, bounded retries with full-jitter exponential
backoff for transient failures, and a circuit breaker per (tenant, base URL) that stops calling an
endpoint after repeated failed calls and lets one trial call through after a cool-down."""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime

from companyos.sources.prom_format import CircuitOpen, PrometheusError, PromResult, parse_response


class CircuitBreaker:
    """closed → (``threshold`` consecutive failed calls) → open → (``reset_after_s``) → half-open:
    one trial call; success closes, failure opens again. In-process state: it lives as long as the
    Lambda container (a cold container starts closed, which is the safe direction)."""

    def __init__(
        self, threshold: int = 3, reset_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold, self.reset_after_s, self._clock = threshold, reset_after_s, clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self.opened_at >= self.reset_after_s else "open"

    def before_call(self, url: str) -> None:
        with self._lock:
            if self.state == "open":
                assert self.opened_at is not None
                raise CircuitOpen(url, self.reset_after_s - (self._clock() - self.opened_at))
            if self.state == "half_open":
                self.opened_at = self._clock()  # one trial at a time: others see "open" again

    def success(self) -> None:
        with self._lock:
            self.failures, self.opened_at = 0, None

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold or self.opened_at is not None:
                self.opened_at = self._clock()


_BREAKERS: dict[tuple[str, str], CircuitBreaker] = {}


def breaker_for(tenant_id: str, base_url: str) -> CircuitBreaker:
    return _BREAKERS.setdefault((tenant_id, base_url.rstrip("/")), CircuitBreaker())


class PrometheusClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        max_attempts: int = 3,
        breaker: CircuitBreaker | None = None,
        base_delay_s: float = 0.2,
        max_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s, self.max_attempts = timeout_s, max_attempts
        self.breaker = breaker or CircuitBreaker()
        self.base_delay_s, self.max_delay_s = base_delay_s, max_delay_s
        self._sleep, self._rng = sleep, rng or random.Random()
        self.attempts = 0  # requests sent (observability and tests)

    def instant(self, promql: str, at: datetime) -> PromResult:
        return self._call("/api/v1/query", {"query": promql, "time": f"{at.timestamp():.3f}"})

    def range(self, promql: str, start: datetime, end: datetime, step_s: int) -> PromResult:
        params = {"query": promql, "start": f"{start.timestamp():.3f}", "end": f"{end.timestamp():.3f}"}
        return self._call("/api/v1/query_range", params | {"step": f"{step_s}s"})

    def _call(self, path: str, params: dict[str, str]) -> PromResult:
        self.breaker.before_call(self.base_url)
        last: PrometheusError | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = self._once(path, params)
            except PrometheusError as exc:
                if not exc.retryable:
                    self.breaker.success()  # the endpoint answered: the query is wrong, not the server
                    raise
                last = exc
            else:
                self.breaker.success()
                return result
            if attempt < self.max_attempts:  # full jitter: uniform(0, min(cap, base * 2^n))
                cap = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
                self._sleep(self._rng.uniform(0, cap))
        self.breaker.failure()
        assert last is not None
        raise last

    def _once(self, path: str, params: dict[str, str]) -> PromResult:
        self.attempts += 1
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(  # POST form: what Prometheus recommends for long queries
            self.base_url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:  # base_url: http(s) only
                return parse_response(resp.read())
        except urllib.error.HTTPError as err:
            raw = err.read()
            retryable = err.code == 429 or err.code >= 500
            try:
                parse_response(raw)
            except PrometheusError as exc:
                if exc.error_type != "bad_response":
                    raise  # the error envelope Prometheus sends with 400/422/503
            raise PrometheusError(f"http_{err.code}", err.reason or "", retryable=retryable) from err
        except TimeoutError as exc:
            raise PrometheusError("timeout", f"no answer within {self.timeout_s}s", retryable=True) from exc
        except (urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            kind = "timeout" if isinstance(reason, TimeoutError) else "unavailable"
            raise PrometheusError(kind, str(reason), retryable=True) from exc
