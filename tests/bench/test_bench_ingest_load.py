"""Ingest under concurrent writers (#17): the local stack in-process (the session's `local`: moto
server + the front door over HTTP), then for BENCH_LOAD_SECONDS (60) each: 1 writer, then 20
writers (BENCH_LOAD_WRITERS), each phase with 2 dashboard readers, on a tenant of its own. Writers
POST signed GitHub pushes and PagerDuty incident events with unique delivery ids and 20 % replays
(tests/integration/ingest_load.py). Before each phase every execution environment it will use is
warmed up (one request per writer and reader at once, on another tenant, not measured: cold starts
are not the steady state), and the KPI runs of what came before are waited for, so a phase pays
neither for cold starts nor for the previous one's runs.

Reported: posts/s, p50/p95 POST latency, read p95, errors, and the reconciliation of every answer
with DynamoDB (each "stored" answer stored exactly once with its signals and one audit record,
replays stored once, none lost). Judged by the issue's goals: posts/s(1 writer) / posts/s(20
writers) ≤ 1 (20 writers at least as fast as one), POST p95 ≤ 2 s at 20 writers, 0 errors, and a
clean reconciliation.
"""

from __future__ import annotations

import os

import pytest

from tests.bench.conftest import BenchReport
from tests.conftest import Running
from tests.integration.ingest_load import (
    LoadResult,
    Reconciliation,
    load_tenant,
    reconcile,
    run_load,
    settle,
    warm_up,
)

pytestmark = pytest.mark.bench

SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
WRITERS = int(os.environ.get("BENCH_LOAD_WRITERS", "20"))
READERS = 2
P95_BUDGET_S = 2.0


def _phase(local: Running, tenant_id: str, writers: int) -> tuple[LoadResult, Reconciliation, int]:
    tenant = load_tenant(local, tenant_id)
    warm_up(local.url, load_tenant(local, f"{tenant_id}warm"), writers, READERS)
    settle(local)  # the warm-up's KPI runs end before the clock runs
    result = run_load(local.url, [tenant], writers=writers, readers=READERS, duration_s=SECONDS)
    return result, reconcile(result, [tenant_id]), settle(local)


def test_bench_ingest_load(local: Running, bench_report: BenchReport) -> None:
    runs_before = settle(local)
    one, rec_one, runs_one = _phase(local, "loadone", 1)
    many, rec_many, runs_many = _phase(local, "loadmany", WRITERS)
    one_rate, many_rate = one.figures()["posts_per_s"], many.figures()["posts_per_s"]
    ratio = bench_report.record(
        "ingest_load",
        figures={
            "seconds_per_phase": SECONDS,
            "readers": READERS,
            **one.figures("w1_"),
            "w1_kpi_runs_started": runs_one - runs_before,
            **{f"w1_{k}": v for k, v in rec_one.figures().items()},
            "writers": WRITERS,
            **many.figures(f"w{WRITERS}_"),
            f"w{WRITERS}_kpi_runs_started": runs_many - runs_one,
            **{f"w{WRITERS}_{k}": v for k, v in rec_many.figures().items()},
        },
        ratio=(f"posts/s(1 writer) / posts/s({WRITERS} writers)", one_rate / max(many_rate, 1e-9), 1.0),
    )
    assert rec_one.ok and rec_many.ok, (rec_one, rec_many)
    errors = [(a.status, a.body) for a in many.errors() + one.errors()]
    assert errors == [], f"{len(errors)} errors, e.g. {errors[:5]}"
    p95 = many.figures()["post_p95_s"]
    assert p95 <= P95_BUDGET_S, f"POST p95 {p95:.2f}s at {WRITERS} writers (budget {P95_BUDGET_S}s)"
    assert ratio is not None and ratio.ok, ratio
