"""Scoring at scale: N tenants x 50 services x all 28 KPIs through `scoring.health(...)`.

Reports KPI evaluations per second and the seconds for 1,000 and 2,000 tenants; judged by the
ratio t(2000)/t(1000), which must stay linear (<= 2.3). Absolute speed is reported, not asserted.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Sequence

import pytest
from companyos.domain.kpis import KpiDefinition, load_dictionary
from companyos.domain.scoring import ServiceReliability, health

pytestmark = pytest.mark.bench

SERVICES = 50
DOMAINS = ("data-platform", "api-gateway", "frontend", "identity", "billing")
UNKNOWN_SHARE = 0.02  # a few missing values, so the Unknown paths are exercised too
LINEAR_LIMIT = 2.3
REPEATS = 3

Tenant = tuple[dict[str, float | None], list[ServiceReliability]]


def _value(rng: random.Random, k: KpiDefinition) -> float | None:
    if rng.random() < UNKNOWN_SHARE:
        return None
    lo, hi = sorted((k.target, k.critical))
    pad = max(k.span, 1.0)
    return rng.uniform(lo - pad, hi + pad)  # from past critical to past target


def _tenant(rng: random.Random, n: int, kpis: Sequence[KpiDefinition]) -> Tenant:
    values = {k.id: _value(rng, k) for k in kpis}
    services = [
        ServiceReliability(
            service=f"t{n}-svc{i}",
            domain=DOMAINS[i % len(DOMAINS)],
            weight=rng.choice((1.0, 2.0, 3.0)),
            slo_attainment=None if rng.random() < UNKNOWN_SHARE else rng.uniform(-0.2, 1.0),
        )
        for i in range(SERVICES)
    ]
    return values, services


def tenants(count: int, seed: int = 20251207) -> list[Tenant]:
    """Deterministic synthetic tenants (seeded random)."""
    rng = random.Random(seed)
    kpis = load_dictionary().all()
    return [_tenant(rng, n, kpis) for n in range(count)]


def score_all(batch: Sequence[Tenant]) -> int:
    """Score every tenant; returns how many got a composite (keeps the work observable)."""
    return sum(health(values, services).composite.score is not None for values, services in batch)


def _timed(batch: Sequence[Tenant], bench_report) -> float:
    gc.collect()
    return bench_report.best_of(lambda: score_all(batch), REPEATS)


def test_bench_scoring_1000_vs_2000_tenants(bench_report):
    # Given 2,000 deterministic tenants, each with 28 KPI values and 50 services
    batch = tenants(2_000)
    kpis = len(load_dictionary().all())
    per_tenant = kpis + SERVICES  # KPI values plus per-service SLO attainments evaluated
    score_all(batch[:50])  # warm up: pack loaded, code paths hot
    # When the first 1,000 and all 2,000 are scored (best of a few repeats)
    t1000 = _timed(batch[:1_000], bench_report)
    t2000 = _timed(batch, bench_report)
    scored = score_all(batch)
    # Then the figures are reported and the time grows linearly with the tenants
    ratio = bench_report.record(
        "scoring.health: tenants x 50 services x all KPIs",
        figures={
            "tenants": 1_000,
            "services_per_tenant": SERVICES,
            "kpis_per_tenant": kpis,
            "kpi_evaluations_per_tenant": per_tenant,
            "seconds_1000_tenants": round(t1000, 4),
            "seconds_2000_tenants": round(t2000, 4),
            "ms_per_tenant": round(1000 * t1000 / 1_000, 4),
            "kpi_evaluations_per_second": round(1_000 * per_tenant / t1000),
            "tenants_per_second": round(1_000 / t1000, 1),
            "tenants_with_a_composite": f"{scored}/{len(batch)}",
            "repeats": REPEATS,
        },
        ratio=("t(2000)/t(1000)", round(t2000 / t1000, 4), LINEAR_LIMIT),
    )
    assert scored > 0.9 * len(batch)
    assert ratio is not None and ratio.ok, f"scoring grows superlinearly: {ratio}"
