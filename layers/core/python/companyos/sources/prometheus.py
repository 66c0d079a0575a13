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
Queries of kind `cert_expiry` are not signals: evaluated once per pull, their series (a NotAfter per
certificate) are synced into the certificate inventory (`prom_certs`).

Idempotency: one delivery per (tenant, query, PromQL, timestamp) with a deterministic id, and signal
ids from (tenant, query, PromQL, series labels, timestamp). A timestamp that was stored before is
skipped without a query (its delivery marker exists), and a replay is a no-op.

Resilience: a timeout per request, bounded retries with full-jitter exponential backoff for
transient failures (connection errors, timeouts, HTTP 429/5xx, `errorType` timeout/unavailable/
internal), no retry for a bad query (`bad_data`, `execution`: the endpoint is fine, the PromQL is
not), and a circuit breaker per (tenant, base URL) that stops calling an endpoint after repeated
failed calls and lets one trial call through after a cool-down.

Modules: `prom_config` (the connector's models, stored in the catalog), `prom_format` (the API's
answers and errors), `prom_client` (HTTP, retries, circuit breaker); this one pulls into signals and
gathers the public names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from companyos.adapters.repos import Catalog, SignalStore, StoredSignal
from companyos.domain import clock
from companyos.sources import prom_certs
from companyos.sources.prom_client import CircuitBreaker, PrometheusClient, breaker_for
from companyos.sources.prom_config import SOURCE, PrometheusConfig, PromQuerySpec, load_config, save_config
from companyos.sources.prom_format import CircuitOpen, PrometheusError, PromResult, Sample, parse_response

MARKER_RETENTION_DAYS = 30  # how long a pulled timestamp's delivery marker is remembered


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
        if q.route_label and s.labels.get(q.route_label):
            attrs["route"] = s.labels[q.route_label]  # an endpoint's series (runs/rows_traffic.py)
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
    signal_queries = [q for q in config.queries if q.kind != prom_certs.KIND]
    outcomes = [_pull_query(tenant_id, q, config.lag_s, now, client, store, mapping) for q in signal_queries]
    cert_queries = [q for q in config.queries if q.kind == prom_certs.KIND]
    at = datetime.fromtimestamp(now.timestamp() - config.lag_s, UTC)
    cert_outcomes, certificates = prom_certs.pull_certificates(tenant_id, cert_queries, client, at)
    return {
        "tenant_id": tenant_id,
        "queries": [o.to_dict() for o in outcomes] + cert_outcomes,
        "signals": sum(o.signals for o in outcomes),
        "unmapped": sorted({e for o in outcomes for e in o.unmapped}),
        "requests": client.attempts,
        **({"certificates": certificates} if certificates is not None else {}),
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
