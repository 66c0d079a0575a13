"""Prometheus pull connector: the HTTP API (`/api/v1/query`, `/api/v1/query_range`) → signals.

Each tenant has one connector item in the catalog (`PrometheusConfig`: base URL + a PromQL query per
metric, e.g. SLO good/total counts per service per window, availability, latency p95/p99,
utilisation). A pull evaluates every query at **aligned, complete** timestamps (multiples of the
query's step, at least `lag_s` in the past) and stores each sample as a signal:

* `slo_window` — a windowed count or ratio (the 1 h / 1 d rollup; aggregated retention),
* `prom_sample` — a point-in-time sample (raw retention),
* `prom_daily` — the daily mean of a sampled ratio, e.g. `avg_over_time(<utilisation>[1d:5m])` at a
  1 d step (the rollup of `prom_sample`; aggregated retention, so 90/365-day windows can read it),

with attributes service (the series' `service_label`), metric, window, value, timestamp, labels.

Idempotency: one delivery per (tenant, query, PromQL, timestamp) with a deterministic id, and signal
ids from (tenant, query, PromQL, series labels, timestamp). A timestamp that was stored before is
skipped without a query (its delivery marker exists), and a replay is a no-op.

Resilience: a timeout per request, bounded retries with full-jitter exponential backoff for
transient failures (connection errors, timeouts, HTTP 429/5xx, `errorType` timeout/unavailable/
internal), no retry for a bad query (`bad_data`, `execution`: the endpoint is fine, the PromQL is
not), and a circuit breaker per (tenant, base URL) that stops calling an endpoint after repeated
failed calls and lets one trial call through after a cool-down.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from companyos.adapters.models import CatalogItem
from companyos.adapters.repos import Catalog, SignalStore, StoredSignal
from companyos.domain import clock

SOURCE = "prometheus"
MARKER_RETENTION_DAYS = 30  # how long a pulled timestamp's delivery marker is remembered

# ---------------------------------------------------------------------------- configuration


class PromQuerySpec(BaseModel):
    """One PromQL query of a tenant's connector and what its samples become."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    metric: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="e.g. slo_good, latency_p95")
    promql: str = Field(min_length=1, max_length=4000)
    kind: Literal["prom_sample", "slo_window", "prom_daily"] = "prom_sample"
    mode: Literal["range", "instant"] = "range"
    step_s: int = Field(default=3600, ge=15, le=86400, description="evaluation step = alignment")
    window: str | None = Field(default=None, max_length=16, description="label, e.g. 1h; default: step")
    lookback_steps: int = Field(default=6, ge=1, le=2000, description="aligned timestamps per pull")
    service_label: str = "service"
    kpi_id: str | None = None

    @property
    def window_label(self) -> str:
        if self.window:
            return self.window
        s = self.step_s
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if s % size == 0:
                return f"{s // size}{unit}"
        return f"{s}s"

    @property
    def promql_hash(self) -> str:
        return hashlib.sha256(self.promql.encode()).hexdigest()[:12]


class PrometheusConfig(BaseModel):
    """A tenant's Prometheus connector (catalog item `CONNECTOR#prometheus`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(pattern=r"^https?://[^\s]+$")
    timeout_s: float = Field(default=5.0, gt=0, le=30)
    max_attempts: int = Field(default=3, ge=1, le=6)
    lag_s: int = Field(default=60, ge=0, le=3600, description="only windows this old are complete")
    queries: tuple[PromQuerySpec, ...] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_ids(self) -> PrometheusConfig:
        ids = [q.id for q in self.queries]
        if len(ids) != len(set(ids)):
            raise ValueError("query ids must be unique")
        return self


def _config_key(tenant_id: str) -> tuple[str, str]:
    return f"TENANT#{tenant_id}", f"CONNECTOR#{SOURCE}"


def save_config(tenant_id: str, config: PrometheusConfig) -> None:
    pk, sk = _config_key(tenant_id)
    item = CatalogItem(pk=pk, sk=sk, kind="connector", data=config.model_dump(), updated_at=clock.now())
    with contextlib.suppress(CatalogItem.DoesNotExist):
        item.version = CatalogItem.get(pk, sk).version
    item.save()


def load_config(tenant_id: str) -> PrometheusConfig | None:
    try:
        item = CatalogItem.get(*_config_key(tenant_id))
    except CatalogItem.DoesNotExist:
        return None
    return PrometheusConfig.model_validate(item.data)


# ---------------------------------------------------------------------------- response format


class PrometheusError(Exception):
    """A failed query. `retryable`: worth another attempt (the endpoint, not the query, failed)."""

    RETRYABLE_TYPES = frozenset({"timeout", "unavailable", "internal"})

    def __init__(self, error_type: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message = error_type, message
        self.retryable = error_type in self.RETRYABLE_TYPES if retryable is None else retryable


class CircuitOpen(PrometheusError):
    def __init__(self, url: str, retry_in_s: float) -> None:
        message = f"{url} failed repeatedly; next trial in {retry_in_s:.0f}s"
        super().__init__("circuit_open", message, retryable=False)


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    at: datetime
    value: float | None  # None for NaN / ±Inf (kept as value_raw)
    raw: str


@dataclass(frozen=True)
class PromResult:
    result_type: str  # vector / matrix / scalar / string
    samples: list[Sample]
    warnings: list[str] = field(default_factory=list)


def _point(pair: Any, labels: dict[str, str]) -> Sample:
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int | float)):
        raise PrometheusError("bad_response", f'a sample must be [<unix time>, "<value>"], got {pair!r}')
    raw = str(pair[1])
    try:
        number: float | None = float(raw)
    except ValueError as exc:
        raise PrometheusError("bad_response", f"sample value {raw!r} is not a number") from exc
    if number is not None and not math.isfinite(number):
        number = None
    return Sample(labels, datetime.fromtimestamp(float(pair[0]), UTC), number, raw)


def parse_response(body: bytes) -> PromResult:
    """Parse the API's JSON envelope (`status`, `data.resultType`, `data.result`; or `status: error`
    with `errorType` and `error`). Raises PrometheusError for the error envelope and bad bodies."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PrometheusError("bad_response", f"not JSON: {exc}", retryable=True) from exc
    if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
        raise PrometheusError("bad_response", "no 'status' in the response", retryable=True)
    warnings = [str(w) for w in doc.get("warnings") or []]
    if doc["status"] == "error":
        raise PrometheusError(str(doc.get("errorType") or "unknown"), str(doc.get("error") or ""))
    data = doc.get("data") or {}
    rtype, result = data.get("resultType"), data.get("result")
    samples: list[Sample] = []
    if rtype == "vector" and isinstance(result, list):
        samples = [_point(r.get("value"), dict(r.get("metric") or {})) for r in result]
    elif rtype == "matrix" and isinstance(result, list):
        samples = [_point(p, dict(r.get("metric") or {})) for r in result for p in r.get("values") or []]
    elif rtype == "scalar":
        samples = [_point(result, {})]
    elif rtype != "string":
        raise PrometheusError("bad_response", f"unknown resultType {rtype!r}")
    return PromResult(str(rtype), samples, warnings)


# ---------------------------------------------------------------------------- circuit breaker


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


# ---------------------------------------------------------------------------- HTTP client


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


# ---------------------------------------------------------------------------- pull → signals


def aligned_timestamps(q: PromQuerySpec, now: datetime, lag_s: int) -> list[datetime]:
    """The query's last `lookback_steps` complete evaluation times, oldest first."""
    end = int((now.timestamp() - lag_s) // q.step_s) * q.step_s
    return [datetime.fromtimestamp(end - i * q.step_s, UTC) for i in range(q.lookback_steps - 1, -1, -1)]


def _floor(at: datetime, step_s: int) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp() // step_s) * step_s, UTC)


def delivery_id(q: PromQuerySpec, at: datetime) -> str:
    return f"{q.id}:{q.promql_hash}:{int(at.timestamp())}"


def signal_id(tenant_id: str, q: PromQuerySpec, labels: dict[str, str], at: datetime) -> str:
    series = json.dumps(sorted(labels.items()), separators=(",", ":"))
    key = f"{tenant_id}|{q.id}|{q.promql_hash}|{series}|{int(at.timestamp())}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def to_signals(
    tenant_id: str,
    q: PromQuerySpec,
    at: datetime,
    samples: Iterable[Sample],
    mapping: dict[str, dict[str, str]],
) -> list[StoredSignal]:
    """The samples of one evaluation time `at` (one delivery) as signals."""
    out = []
    for s in samples:
        entity = s.labels.get(q.service_label)
        target = mapping.get(entity or "") or {}
        attrs: dict[str, Any] = {
            "query_id": q.id,
            "metric": q.metric,
            "window": q.window_label,
            "step_s": q.step_s,
            "value": s.value,
            "value_raw": s.raw,
            "timestamp": s.at.isoformat(),
            "labels": dict(sorted(s.labels.items())[:20]),
            "promql_hash": q.promql_hash,
            "kpi_id": q.kpi_id,
            "domain": target.get("domain"),
        }
        if entity and not target:
            attrs["unmapped"] = True  # kept and reported, never dropped (as for webhooks)
        out.append(
            StoredSignal(
                kind=q.kind,
                source=SOURCE,
                signal_id=signal_id(tenant_id, q, s.labels, s.at),
                occurred_at=s.at,
                entity=entity,
                service=target.get("service"),
                delivery_id=delivery_id(q, at),
                attributes=attrs,
            )
        )
    return out


@dataclass
class QueryOutcome:
    query_id: str
    status: str = "ok"  # ok / up_to_date / error / unavailable / circuit_open
    stored_timestamps: int = 0
    signals: int = 0
    skipped_timestamps: int = 0  # already stored before
    error: str | None = None
    unmapped: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and k != "unmapped"}


def _pull_query(
    tenant_id: str,
    q: PromQuerySpec,
    lag_s: int,
    now: datetime,
    client: PrometheusClient,
    store: SignalStore,
    mapping: dict[str, dict[str, str]],
) -> QueryOutcome:
    outcome = QueryOutcome(q.id)
    due = aligned_timestamps(q, now, lag_s)
    wanted = [t for t in due if not store.delivery_seen(SOURCE, delivery_id(q, t))]
    outcome.skipped_timestamps = len(due) - len(wanted)
    if not wanted:
        outcome.status = "up_to_date"
        return outcome
    try:
        if q.mode == "range":  # evaluated at start + k * step: each point belongs to its step
            result = client.range(q.promql, wanted[0], wanted[-1], q.step_s)
            points = [(_floor(s.at, q.step_s), s) for s in result.samples]
        else:  # an instant vector is evaluated at the requested time
            points = [(t, s) for t in wanted for s in client.instant(q.promql, t).samples]
    except PrometheusError as exc:
        failed = "unavailable" if exc.retryable else "error"
        outcome.status = "circuit_open" if isinstance(exc, CircuitOpen) else failed
        outcome.error = str(exc)
        return outcome
    by_time: dict[datetime, list[Sample]] = {}
    for at, sample in points:
        by_time.setdefault(at, []).append(sample)
    for at in wanted:  # a timestamp without data is asked again next time (late data)
        if not by_time.get(at):
            continue
        signals = to_signals(tenant_id, q, at, by_time[at], mapping)
        outcome.unmapped |= {s.entity for s in signals if s.entity and s.attributes.get("unmapped")}
        if store.put_delivery_chunked(SOURCE, delivery_id(q, at), signals, MARKER_RETENTION_DAYS):
            outcome.stored_timestamps += 1
            outcome.signals += len(signals)
    return outcome


def pull_tenant(
    tenant_id: str,
    config: PrometheusConfig,
    *,
    now: datetime | None = None,
    client: PrometheusClient | None = None,
) -> dict[str, Any]:
    """Pull every query of one tenant once; never raises for an endpoint or query failure (the
    outcome says what happened per query, so one broken query does not starve the others)."""
    now = now or clock.now()
    client = client or PrometheusClient(
        config.base_url,
        timeout_s=config.timeout_s,
        max_attempts=config.max_attempts,
        breaker=breaker_for(tenant_id, config.base_url),
    )
    store = SignalStore(tenant_id)
    mapping = Catalog().tenant(tenant_id).source_map(SOURCE)
    outcomes = [_pull_query(tenant_id, q, config.lag_s, now, client, store, mapping) for q in config.queries]
    return {
        "tenant_id": tenant_id,
        "queries": [o.to_dict() for o in outcomes],
        "signals": sum(o.signals for o in outcomes),
        "unmapped": sorted({e for o in outcomes for e in o.unmapped}),
        "requests": client.attempts,
    }


def pull_all(tenant_ids: Iterable[str], *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every given tenant that has a connector configured (one GetItem each)."""
    reports = []
    for tenant_id in tenant_ids:
        config = load_config(tenant_id)
        if config is not None:
            reports.append(pull_tenant(tenant_id, config, now=now))
    return reports


__all__ = [
    "CircuitBreaker",
    "CircuitOpen",
    "PromQuerySpec",
    "PromResult",
    "PrometheusClient",
    "PrometheusConfig",
    "PrometheusError",
    "Sample",
    "breaker_for",
    "load_config",
    "parse_response",
    "pull_all",
    "pull_tenant",
    "save_config",
]
