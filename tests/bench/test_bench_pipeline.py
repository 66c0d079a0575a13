"""The scheduled KPI pipeline at 1,000 tenants x 30 KPIs on embedded AWS (moto executing the real
kpi_run state machine with the real handlers): scheduled tick → runs → score refresh → alerts.

Provisioning: 1,000 tenants, each with ~90 signals of the built-in contracts' kinds (deployments,
commits, builds, incidents, vulnerability findings, secrets, OPA decisions, NPS, SLO windows,
product analytics) written in one transaction per tenant through `SignalStore.put_delivery_chunked`,
and its KPI set topped up to 30 with tenant contract versions through `ContractStore` (publish +
activate) when fewer contracts are built in.

Measured: the scheduler function (`{"schedule_class": ...}` of every schedule class, with the
manual-tick `tenant_ids` so only the measured tenants run) → every execution to its end. Reported:
runs/s, DynamoDB requests per run (every botocore DynamoDB call of the process during the window:
the run steps, the score refresh and the alert evaluation), terminal status counts — every run ends
in exactly one terminal status, checked in the execution output and in the run log (one END row).

REPRESENTATIVE SLICE, NOT THE FULL TICK: moto runs every execution in this one Python process (one
GIL), at roughly 0.1 s of CPU per KPI run, so a full tick of 30,000 runs takes over an hour here.
The bench therefore runs the tick for SLICE tenants (30 KPIs each) twice: once when 500 tenants are
provisioned and once, for other tenants, when all 1,000 are — and is judged by the throughput ratio
runs/s(500)/runs/s(1,000) ≤ 1.5, i.e. a run must not get slower as tenants and their data grow
(it did: moto sorted the whole table for every Query, see infra/local/moto_patches.py). The figure
names say `slice`; the full-tick time is reported as an extrapolation and named so.
`BENCH_PIPELINE_SLICE=500` runs every tenant (the full 30,000 runs); `BENCH_PIPELINE_TENANTS=20`
provisions fewer tenants, to try the bench out (the report's figures name the numbers used).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from companyos.domain import clock

from tests.conftest import Running

pytestmark = pytest.mark.bench

TENANTS = int(os.environ.get("BENCH_PIPELINE_TENANTS", "1000"))  # fewer only to try the bench out
KPIS_PER_TENANT = 30
SLICE = int(os.environ.get("BENCH_PIPELINE_SLICE", "25"))  # tenants run per phase (≤ 500)
SCALE_LIMIT = 1.5  # runs/s(500 tenants) / runs/s(1,000 tenants)
TIMEOUT_S = 1_800
NOW = clock.now().replace(microsecond=0)
DAY = timedelta(days=1)


def tenant_ids(first: int, last: int) -> list[str]:
    return [f"pipe{i:04d}" for i in range(first, last)]


# ------------------------------------------------------------------------------------ provisioning


def signals_of(tenant_id: str) -> tuple[list[Any], list[Any]]:
    """~90 signals and 6 finding states over the last two weeks, for the built-in contracts."""
    from companyos.adapters.repos import FindingState, StateWrite, StoredSignal

    out: list[StoredSignal] = []

    def sig(kind: str, source: str, at: datetime, entity: str = "org/app", **attrs: Any) -> None:
        out.append(StoredSignal(kind, source, f"{kind}-{len(out)}", at, entity, "app", "seed", attrs))

    for d in range(14):
        at = NOW - d * DAY - timedelta(hours=2)
        sha = f"{tenant_id}{d}".encode().hex().ljust(40, "0")[:40]
        sig(
            "commit",
            "github",
            at - timedelta(hours=5),
            sha=sha,
            timestamp=(at - timedelta(hours=5)).isoformat(),
        )
        sig("deployment", "github", at, environment="production", succeeded=d % 6 != 0, sha=sha)
        sig("build", "github", at, succeeded=d % 5 != 0, conclusion="success" if d % 5 else "failure")
        day = (NOW - d * DAY).replace(hour=0, minute=0, second=0)
        for metric, value in (("slo_good", 99_950.0 - 10 * d), ("slo_total", 100_000.0)):
            sig("slo_window", "prometheus", day, "svc", metric=metric, value=value, step_s=86400, window="1d")
    for i in range(3):
        opened = NOW - (2 + 3 * i) * DAY
        common = {"incident_id": f"inc{i}", "priority": "P1" if i == 0 else "P3"}
        sig("incident", "pagerduty", opened, transition="triggered", **common)
        sig("incident", "pagerduty", opened + timedelta(hours=3), transition="resolved", **common)
    for h in range(8):
        result = "deny" if h % 3 == 0 else "allow"
        sig("authz_decision", "opa", NOW - timedelta(hours=5 * h), app=f"app{h % 2}", path="p", result=result)
    for i in range(2):
        sig(
            "secret_finding", "gitleaks", NOW - i * DAY, rule="key", fingerprint=f"fp{i}", transition="opened"
        )
    for i in range(8):
        sig("nps_response", "nps", NOW - (i % 4) * DAY, score=(i * 3) % 11)
    for i in range(6):
        at = NOW - (i % 3) * DAY
        sig("product_session", "analytics", at, user_id=f"u{i}", duration_s=300 + 60 * i)
        sig("product_active", "analytics", at, user_id=f"u{i}")
        sig("feature_used", "analytics", at, user_id=f"u{i}", feature=f"f{i % 3}")
    states = [
        StateWrite(
            FindingState(
                "trivy",
                "org/app",
                f"CVE-2024-{i:04d}",
                "vulnerability",
                "open" if i % 2 else "fixed",
                NOW - (10 + i) * DAY,
                NOW - i * DAY,
                "seed",
                fixed_at=None if i % 2 else NOW - i * DAY,
                attributes={"severity": ("critical", "high", "medium")[i % 3]},
            ),
            None,
        )
        for i in range(6)
    ]
    return out, states


def topup_contract(tenant_id: str, n: int) -> Any:
    """A tenant KPI over the seeded deployments (a registered built-in formula), daily schedule."""
    from companyos.runs.contracts import Contract

    return Contract.model_validate(
        {
            "kpi_id": f"bench_kpi_{n:02d}",
            "version": "1.0.0",
            "tenant_id": tenant_id,
            "name": f"Bench KPI {n}",
            "sources": [
                {"source_type": "signal", "kind": "deployment", "object": "github.deployment_status"}
            ],
            "formula": {"builtin": ("deployment_frequency", "change_failure_rate")[n % 2]},
            "params": {"environments": ["production"]},
            "pre_rules": [{"id": "deploys_available", "type": "availability", "severity": "error"}],
            "post_rules": [
                {"id": "non_negative", "type": "value_range", "severity": "error", "params": {"min": 0}}
            ],
            "sla": {"max_duration_s": 300},
            "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
        }
    )


def provision(ids: list[str], topups: int) -> None:
    from companyos.adapters.repos import Catalog, SignalStore, Tenant
    from companyos.runs.contracts import ContractStore

    catalog = Catalog()
    for tid in ids:
        catalog.put_tenant(Tenant(tid, f"Bench {tid}", "prod", True, "us-east-1", "dora-2024", "bench"))
        signals, states = signals_of(tid)
        assert SignalStore(tid).put_delivery_chunked("bench", f"seed-{tid}", signals, 3650, states)
        store = ContractStore(tid)
        for n in range(topups):
            contract = topup_contract(tid, n)
            store.publish(contract)
            store.activate(contract.kpi_id, contract.version)


# ------------------------------------------------------------------------------------ measuring


@contextlib.contextmanager
def dynamodb_requests() -> Iterator[Counter[str]]:
    """Every DynamoDB request any botocore client of this process sends (all threads)."""
    import botocore.client

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    client: Any = botocore.client.BaseClient  # `_make_api_call` is private: not in the type stubs
    original = client._make_api_call

    def counting(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            with lock:
                counts[operation_name] += 1
        return original(self, operation_name, api_params)

    client._make_api_call = counting
    try:
        yield counts
    finally:
        client._make_api_call = original


def wait_all(machine_arn: str, names: list[str]) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    prefix = machine_arn.replace(":stateMachine:", ":execution:")
    pending = {f"{prefix}:{n}" for n in names}
    done: list[dict[str, Any]] = []
    deadline = time.monotonic() + TIMEOUT_S
    while pending:
        assert time.monotonic() < deadline, f"{len(pending)} executions still running after {TIMEOUT_S}s"
        for arn in sorted(pending):
            desc = sfn.describe_execution(executionArn=arn)
            if desc["status"] != "RUNNING":
                pending.discard(arn)
                done.append(dict(desc))
        if pending:
            time.sleep(1.0)
    return done


def run_slice(local: Running, ids: list[str]) -> dict[str, Any]:
    """Fire every schedule class's tick for `ids`, wait for every execution; figures of the window."""
    from companyos import topology

    with dynamodb_requests() as requests:
        start = time.perf_counter()
        cpu0 = time.process_time()
        names: list[str] = []
        pairs = 0
        for spec in topology.SCHEDULES:
            out = local.stack.invoke("scheduler", {"schedule_class": spec.schedule_class, "tenant_ids": ids})
            names += out["executions"]
            pairs += out["pairs"]
            assert not out["paused"]
        executions = wait_all(local.stack.state_machines["kpi_run"], names)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    failed = [e for e in executions if e["status"] != "SUCCEEDED"]
    assert not failed, [(e["name"], e.get("error"), str(e.get("cause"))[:2000]) for e in failed]
    results = [r for e in executions for r in json.loads(e["output"])["results"]]
    return {
        "pairs": pairs,
        "executions": len(executions),
        "results": results,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": requests,
    }


def check_terminal(figures: dict[str, Any], ids: list[str], kpis: int) -> Counter[str]:
    """Exactly one result per (tenant, KPI) with a terminal status, and exactly one END row per run."""
    from companyos.adapters.repos import RunLog
    from companyos.runs.steps import TERMINAL

    results = figures["results"]
    pairs = Counter((r["tenant_id"], r["kpi_id"]) for r in results)
    assert len(pairs) == len(ids) * kpis == figures["pairs"], (len(pairs), len(ids), kpis)
    assert set(pairs.values()) == {1}, [p for p, c in pairs.items() if c != 1][:5]
    statuses = Counter(r["status"] for r in results)
    assert set(statuses) <= set(TERMINAL), statuses
    for r in results:  # the run log agrees: one END row, with the status the execution returned
        ends = [row for row in RunLog(r["tenant_id"]).rows(r["run_id"]) if row.record == "end"]
        assert len(ends) == 1 and ends[0].data["status"] == r["status"], (r, ends)
    return statuses


def test_bench_pipeline_scheduled_tick_1000_tenants_x_30_kpis(local, bench_report):
    from companyos.runs import contracts

    builtin = len(contracts.CONTRACTS)
    topups = max(0, KPIS_PER_TENANT - builtin)
    kpis = builtin + topups
    slice_n = max(1, min(SLICE, TENANTS // 2))

    # Given 500 tenants with signals and 30 KPIs each
    t0 = time.perf_counter()
    provision(tenant_ids(0, TENANTS // 2), topups)
    # When the scheduled tick runs for a slice of them (every schedule class), then the score refresh
    at500 = run_slice(local, tenant_ids(0, slice_n))
    # Given all 1,000 tenants provisioned
    provision(tenant_ids(TENANTS // 2, TENANTS), topups)
    provision_s = time.perf_counter() - t0 - at500["seconds"]
    # When the tick runs for a slice of tenants that have not run yet
    at1000 = run_slice(local, tenant_ids(TENANTS // 2, TENANTS // 2 + slice_n))

    # Then every run ended in exactly one terminal status
    status500 = check_terminal(at500, tenant_ids(0, slice_n), kpis)
    status1000 = check_terminal(at1000, tenant_ids(TENANTS // 2, TENANTS // 2 + slice_n), kpis)

    def runs_per_s(f: dict[str, Any]) -> float:
        return len(f["results"]) / f["seconds"]

    def per_run(f: dict[str, Any]) -> float:
        return sum(f["requests"].values()) / len(f["results"])

    full_tick = TENANTS * kpis
    runs1000 = len(at1000["results"])
    half = TENANTS // 2
    figures: dict[str, float | int | str] = {
        "scope": (
            f"representative slice: {slice_n} tenants x {kpis} KPIs per phase, of {TENANTS} provisioned"
            if slice_n < TENANTS // 2
            else f"full tick: {TENANTS} tenants x {kpis} KPIs"
        ),
        "tenants_provisioned": TENANTS,
        "kpis_per_tenant": kpis,
        "builtin_contracts": builtin,
        "tenant_contracts_topped_up": topups,
        f"provision_seconds_{TENANTS}_tenants": round(provision_s, 1),
        "slice_tenants_per_phase": slice_n,
        f"slice_runs_at_{half}_tenants": len(at500["results"]),
        f"slice_runs_at_{TENANTS}_tenants": len(at1000["results"]),
        f"slice_executions_at_{TENANTS}_tenants": at1000["executions"],
        f"slice_seconds_at_{half}_tenants": round(at500["seconds"], 1),
        f"slice_seconds_at_{TENANTS}_tenants": round(at1000["seconds"], 1),
        f"runs_per_s_at_{half}_tenants": round(runs_per_s(at500), 2),
        f"runs_per_s_at_{TENANTS}_tenants": round(runs_per_s(at1000), 2),
        f"cpu_ms_per_run_at_{TENANTS}_tenants": round(
            1000 * at1000["cpu_seconds"] / len(at1000["results"]), 1
        ),
        f"dynamodb_requests_per_run_at_{half}_tenants": round(per_run(at500), 2),
        f"dynamodb_requests_per_run_at_{TENANTS}_tenants": round(per_run(at1000), 2),
        **{
            f"dynamodb_{op}_per_run_at_{TENANTS}_tenants": round(n / runs1000, 2)
            for op, n in sorted(at1000["requests"].items())
        },
        **{
            f"status_{s}_at_{half}_tenants": status500.get(s, 0)
            for s in ("success", "partial", "failed", "skipped")
        },
        **{
            f"status_{s}_at_{TENANTS}_tenants": status1000.get(s, 0)
            for s in ("success", "partial", "failed", "skipped")
        },
        "runs_per_full_tick": full_tick,
        "full_tick_minutes_extrapolated": round(full_tick / runs_per_s(at1000) / 60, 1),
    }
    ratio = bench_report.record(
        f"pipeline: scheduled tick + score refresh, {TENANTS} tenants x {kpis} KPIs (embedded AWS)",
        figures=figures,
        ratio=(
            f"runs/s({half} tenants)/runs/s({TENANTS} tenants)",
            round(runs_per_s(at500) / runs_per_s(at1000), 3),
            SCALE_LIMIT,
        ),
    )
    assert ratio is not None and ratio.ok, f"runs get slower as tenants grow: {ratio}"
