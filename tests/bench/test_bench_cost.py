"""The cost model (issue #19, 1): billable units per KPI run, per execution (its score refresh and
alert evaluation) and per dashboard view, counted on the embedded stack running the real state
machine and handlers, then the monthly AWS bill at 100 / 1,000 / 10,000 tenants x 30 KPIs
(tools/cost_model.py; `make cost` writes docs/cost.md from this benchmark's figures).

TENANTS tenants get the pipeline bench's signals and 30 KPIs each; every schedule class's tick runs
for them, one class at a time, metered (`tests/bench/metering.py`); then each persona's dashboard is
opened through the front door. Judged by linearity: the bill at 10,000 tenants is at most 10x the
bill at 1,000 (every unit is per run, execution or view)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.bench.metering import execution_history, metered
from tests.bench.test_bench_pipeline import provision, wait_all
from tests.conftest import Running

pytestmark = pytest.mark.bench

TENANTS = int(os.environ.get("BENCH_COST_TENANTS", "3"))
KPIS_PER_TENANT = 30
PERSONAS = ("ceo", "cto", "ciso", "ops", "product")
RUN_FUNCTIONS = ("kpi_run",)  # the run steps; the refresh and the alerts are per execution
EXECUTION_FUNCTIONS = ("score_refresh", "alerts", "scheduler")


def ids() -> list[str]:
    return [f"cost{i:03d}" for i in range(TENANTS)]


def tick(local: Running, schedule_class: str) -> dict[str, Any]:
    """One tick of a schedule class for the bench tenants, metered: per run and per execution."""
    from companyos import topology

    with metered(local.stack.registry) as meter:
        out = local.stack.invoke("scheduler", {"schedule_class": schedule_class, "tenant_ids": ids()})
        executions = wait_all(local.stack.state_machines["kpi_run"], out["executions"])
    assert all(e["status"] == "SUCCEEDED" for e in executions), [e.get("cause") for e in executions]
    pairs = int(out["pairs"])
    spec = next(s for s in topology.STATE_MACHINES if s.name == "kpi_run")
    errors_only = spec.log_level == "ERROR"  # what the machine's CloudWatch logging takes in
    histories = [execution_history(e["executionArn"], errors_only) for e in executions]
    transitions = sum(t for t, _ in histories)
    log_bytes = sum(b for _, b in histories)
    n_exec = len(executions)
    per_tenant_exec = n_exec / TENANTS  # executions a tenant's tick makes (chunks of the plan)
    run = meter.of(*RUN_FUNCTIONS)
    per_exec = meter.of(*EXECUTION_FUNCTIONS, "direct")
    return {
        "pairs_per_tenant": pairs / TENANTS,
        "executions_per_tenant": per_tenant_exec,
        "per_run": {
            **{k: v / pairs for k, v in run.items()},
            "transitions": transitions / pairs,  # Standard bills every state entered: runs carry them
            "log_bytes": log_bytes / pairs,
        },
        "per_execution": {k: v / n_exec for k, v in per_exec.items()},
    }


def views(local: Running) -> dict[str, float]:
    from companyos.adapters.repos import Catalog

    tenant = ids()[0]
    email = f"ceo@{tenant}.bench"
    Catalog().put_member(tenant, email, "platform_admin", "Bench viewer")
    local.idp.add_user(email, "Bench viewer", {tenant: "platform_admin"})
    token = local.client.login(email)
    with metered(local.stack.registry) as meter:
        for persona in PERSONAS:
            reply = local.client.request(
                "GET", f"/api/dashboards/{persona}?tenant={tenant}&period=7d", token=token
            )
            assert reply.status == 200, (persona, reply.status, str(reply.body)[:300])
    spent = meter.of()
    return {k: v / len(PERSONAS) for k, v in spent.items()}


def test_bench_cost_model_1000_tenants_x_30_kpis(local, bench_report):
    from companyos.runs import contracts

    from tools import cost_model

    topups = max(0, KPIS_PER_TENANT - len(contracts.CONTRACTS))
    provision(ids(), topups)
    measured = {spec: tick(local, spec) for spec in cost_model.TICKS_PER_DAY}
    figures = {
        "kpis_by_class": {c: round(m["pairs_per_tenant"]) for c, m in measured.items()},
        "per_run": {c: m["per_run"] for c, m in measured.items()},
        # a tick's executions per tenant x what one costs: per tenant-tick (the volumes count ticks)
        "per_execution": {
            c: {k: v * m["executions_per_tenant"] for k, v in m["per_execution"].items()}
            for c, m in measured.items()
        },
        "per_view": views(local),
        "views_per_tenant_day": cost_model.VIEWS_PER_TENANT_DAY,
    }
    assert sum(figures["kpis_by_class"].values()) == KPIS_PER_TENANT
    model = cost_model.report(figures)
    bills = model["bills"]
    ratio = bench_report.record(
        "cost_model",
        figures={
            "tenants_metered": TENANTS,
            "runs_per_tenant_day": model["runs_per_tenant_day"],
            "transitions_per_run": round(
                sum(figures["per_run"][c]["transitions"] * n for c, n in figures["kpis_by_class"].items())
                / KPIS_PER_TENANT,
                2,
            ),
            **{f"monthly_usd_{n}_tenants": round(b["total"], 2) for n, b in bills.items()},
            **{f"monthly_usd_1000_{k}": round(v, 2) for k, v in bills[1_000].items() if k != "total"},
            "model": json.dumps(figures, sort_keys=True),
        },
        ratio=("bill(10,000)/(10 x bill(1,000))", bills[10_000]["total"] / (10 * bills[1_000]["total"]), 1.0),
    )
    assert ratio is not None and ratio.ok, ratio
