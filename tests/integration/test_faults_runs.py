"""Fault injection on a KPI run (kpi_run state machine: source → pre-validate → compute →
post-validate → deliver, then the score refresh): a DynamoDB throttle or transaction conflict at each
step's write. Every time the step is retried by Step Functions as a new attempt, the failed attempt
is ended `failed` with the `TransientError` code and the AWS error in its message, and the run is
delivered exactly once: one successful attempt, no DELIVERY row without its successful END, every
END with its run-index row, and the tenant's snapshot showing the delivered value with the run that
delivered it — nothing half-written, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.faults import THROTTLED, TX_CONFLICT, Error, inject, on_table
from tests.integration.conftest import make_tenant
from tests.integration.test_pipeline_runs import AS_OF, attempts, put_deploys

KPI = "deployment_frequency"
DEPLOYS = [(d / 2, d % 4 != 0) for d in range(1, 13)]  # 12 deploys over 6 days, every 4th failed


def kpi_log_row(sk: str) -> Callable[[dict[str, Any]], bool]:
    return on_table("kpi-log", sk=sk)


def step_record(n: int) -> tuple[Callable[[dict[str, Any]], bool], tuple[int, ...]]:
    """The n-th kpi_run task's idempotency record (1 source, 2 pre-validate, 3 compute, …)."""
    return on_table("idempotency", id="kpi_run"), (n,)


# step → (operation, which calls, which of them fail, error)
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], bool], tuple[int, ...], Error]] = {
    "source_header": ("PutItem", kpi_log_row("RUN"), (1,), THROTTLED),
    "source_sourcing_row": ("PutItem", kpi_log_row("SOURCING#"), (1,), THROTTLED),
    "source_rows": ("PutItem", kpi_log_row("ROWS"), (1,), THROTTLED),
    "pre_validate_row": ("PutItem", kpi_log_row("PRE#"), (1,), THROTTLED),
    "compute_task_record": ("PutItem", *step_record(3), THROTTLED),
    "post_validate_row": ("PutItem", kpi_log_row("POST#"), (1,), THROTTLED),
    "deliver_end_throttled": ("TransactWriteItems", on_table("kpi-log"), (1,), THROTTLED),
    "deliver_end_conflict": ("TransactWriteItems", on_table("kpi-log"), (1,), TX_CONFLICT),
    "refresh_snapshots": ("TransactWriteItems", on_table("scores"), (1,), THROTTLED),
}


def run(local: Running, tenant_id: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=f"fault-{tenant_id}",
        input=json.dumps(
            {
                "pairs": [{"tenant_id": tenant_id, "kpi_id": KPI}],
                "trigger": {"type": "manual", "by": "test", "as_of": AS_OF.isoformat()},
            }
        ),
    )["executionArn"]
    desc = local.stack.wait_for_execution(arn, timeout_s=300)
    assert desc["status"] == "SUCCEEDED", desc
    return dict(json.loads(desc["output"]))


def expected_7d() -> float:
    """Successful production deploys in the 7 days up to AS_OF, per day (a plain count)."""
    from datetime import timedelta

    first_day = AS_OF.date() - timedelta(days=6)
    return sum(1 for ago, ok in DEPLOYS if ok and (AS_OF - timedelta(days=ago)).date() >= first_day) / 7


def assert_delivered_once(tenant_id: str, out: dict[str, Any], aws_code: str, logged_failure: bool) -> None:
    from datetime import timedelta

    from companyos.adapters.repos import RunLog, ScoreStore

    tries = attempts(tenant_id, KPI)
    ends = [a["end"] for a in tries]
    assert all(len(e) == 1 for e in ends), ends  # every attempt ended exactly once
    good = [a for a in tries if a["end"][0]["status"] == "success"]
    assert len(good) == 1, [a["end"][0] for a in tries]
    failed = [a for a in tries if a["end"][0]["status"] == "failed"]
    assert len(failed) == (1 if logged_failure else 0), [a["end"][0] for a in tries]
    for a in failed:  # the failure is named, and nothing of it was delivered
        end = a["end"][0]
        assert (end["error_code"], aws_code in end["error_message"]) in (
            ("TransientError", True),  # the step raised it, named
            ("ATTEMPT_LOST", False),  # the task failed before its step ran: its retry ended it
        ), end
        assert "delivery" not in a
    (winner,) = good
    run_id = winner["run"][0]["run_id"]
    assert winner["delivery"][0]["values"]["7d"]["value"] == pytest.approx(expected_7d())
    index, _ = RunLog(tenant_id).index(AS_OF - timedelta(days=3650))
    assert sorted(r["run_id"] for r in index) == sorted(a["run"][0]["run_id"] for a in tries)
    assert out["runs"] == {"success": 1, "partial": 0, "failed": 0, "skipped": 0}
    store = ScoreStore(tenant_id)
    snaps = {p: store.latest(p) for p in ("7d", "28d", "90d", "365d")}
    # every period's snapshot is from the one refresh, showing the run that delivered
    assert len({s[1] for s in snaps.values() if s is not None}) == 1 and None not in snaps.values()
    assert {s[0]["kpis"][KPI]["evidence"]["run_id"] for s in snaps.values() if s} == {run_id}
    entry = snaps["7d"][0]["kpis"][KPI] if snaps["7d"] else {}
    assert entry["value"] == pytest.approx(expected_7d())


@pytest.mark.parametrize("case", list(CASES))
def test_a_fault_at_each_step_is_retried_and_the_run_delivered_once(local, case):
    tenant_id = f"fr-{case.replace('_', '-')}"
    make_tenant(local, tenant_id, f"Fault run {case}")
    put_deploys(tenant_id, DEPLOYS)
    operation, when, calls, error = CASES[case]

    with inject("dynamodb", operation, error, calls=calls, when=when) as fault:
        out = run(local, tenant_id)

    assert fault.raised == 1, (fault.seen, fault.raised)
    # the header's own write failing leaves no attempt to end (its retry is the first attempt logged);
    # a refresh failing is retried after the run ended
    logged_failure = case not in ("source_header", "refresh_snapshots")
    assert_delivered_once(tenant_id, out, error.code, logged_failure)
