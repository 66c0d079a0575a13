"""The KPI run state machine on embedded AWS (moto executes the real ASL, the real handlers run the
steps): every attempt ends in exactly one terminal status, and the run log says exactly what happened.

Test KPIs are tenant contracts published to the catalog whose formulas are registered in-process
(the Lambda handlers run in this process), so a test can make a step fail on purpose."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant

AS_OF = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
_names = itertools.count()


# ------------------------------------------------------------------------------ helpers


def put_deploys(tenant_id: str, days_ago_ok: list[tuple[float, bool]]) -> None:
    from companyos.adapters.repos import SignalStore, StoredSignal

    signals = [
        StoredSignal(
            kind="deployment",
            source="github",
            signal_id=f"dep-{tenant_id}-{i}",
            occurred_at=AS_OF - timedelta(days=ago),
            entity="org/app",
            service="app",
            delivery_id=f"d-{tenant_id}-{i}",
            attributes={"environment": "production", "succeeded": ok, "sha": f"{i:040x}"},
        )
        for i, (ago, ok) in enumerate(days_ago_ok)
    ]
    assert SignalStore(tenant_id).put_delivery("github", f"seed-{tenant_id}", signals, retention_days=3650)


def publish(tenant_id: str, kpi_id: str, formula: str, **overrides: Any) -> None:
    """A tenant contract over deployment signals with the given registered formula."""
    from companyos.runs.contracts import Contract, ContractStore

    doc: dict[str, Any] = {
        "kpi_id": kpi_id,
        "version": "1.0.0",
        "tenant_id": tenant_id,
        "sources": [{"source_type": "signal", "kind": "deployment", "object": "github.deployment_status"}],
        "formula": {"builtin": formula},
        "pre_rules": [{"id": "deploys_available", "type": "availability", "severity": "error"}],
        "post_rules": [
            {"id": "non_negative", "type": "value_range", "severity": "error", "params": {"min": 0}}
        ],
        "sla": {"max_duration_s": 300},
        "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
    }
    doc.update(overrides)
    store = ContractStore(tenant_id)
    contract = Contract.model_validate(doc)
    if store.version(kpi_id, contract.version) is None:
        store.publish(contract)
    store.activate(kpi_id, contract.version)


def run(
    local: Running, tenant_id: str, kpi_ids: list[str], *, trigger: str = "manual", as_of: datetime = AS_OF
) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=f"t-{tenant_id}-{next(_names)}",
        input=json.dumps(
            {
                "pairs": [{"tenant_id": tenant_id, "kpi_id": k} for k in kpi_ids],
                "trigger": {"type": trigger, "by": "test", "as_of": as_of.isoformat()},
            }
        ),
    )["executionArn"]
    desc = local.stack.wait_for_execution(arn, timeout_s=300)
    assert desc["status"] == "SUCCEEDED", desc
    return dict(json.loads(desc["output"]))


def attempts(tenant_id: str, kpi_id: str) -> list[dict[str, Any]]:
    """Every attempt of a KPI, oldest first, each with its rows grouped by record."""
    from companyos.adapters.repos import RunLog

    log = RunLog(tenant_id)
    out = []
    for header in reversed(log.recent_runs(kpi_id, limit=50)):
        rows = log.rows(header["run_id"])  # the whole log of one attempt: one Query
        grouped: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            grouped.setdefault(r.record, []).append({"sk": r.sk, **r.data})
        out.append(grouped)
    return out


def sks(attempt: dict[str, Any]) -> list[str]:
    return sorted(r["sk"] for rows in attempt.values() for r in rows)


@pytest.fixture(scope="module")
def initech(local: Running) -> TenantFixture:
    tenant = make_tenant(local, "initech", "Initech")
    put_deploys("initech", [(d / 2, d % 5 != 0) for d in range(1, 20)])  # ~2/day, some failed
    return tenant


# ------------------------------------------------------------------------------ terminal statuses


def test_success_path_writes_header_sourcing_validations_delivery_and_one_end(local, initech):
    # Given 19 production deploys over 10 days and the built-in deployment_frequency contract
    # When the state machine runs it
    out = run(local, "initech", ["deployment_frequency"])

    # Then the attempt's log has exactly these rows, and one END with status success
    (attempt,) = attempts("initech", "deployment_frequency")
    assert sks(attempt) == [
        "DELIVERY",
        "END",
        "POST#frequency_variance",
        "POST#plausible_jump",
        "POST#plausible_range",
        "PRE#deployments_available",
        "PRE#deployments_fresh",
        "ROWS",  # the deployments-per-service rows delivered with the value (runs/rows_ops.py)
        "RUN",
        "SOURCING#signal#github.deployment_status",
    ]
    header, end = attempt["run"][0], attempt["end"][0]
    assert header["contract_version"] == "2.0.0" and header["retry_seq"] == 0
    assert header["trigger_type"] == "manual" and header["schedule_cron"] == "rate(5 minutes)"
    assert header["lineage_ref"].startswith("execution:")
    assert end["status"] == "success" and end["error_code"] is None and end["sla_breached"] is False
    # 19 deploys read, 16 of them successful (every 5th failed): only those are deployments
    assert end["rows_processed"] == 19 and end["duration_s"] >= 0
    sourcing = attempt["sourcing"][0]
    assert sourcing["count"] == 19 and sourcing["source_type"] == "signal"
    delivery = attempt["delivery"][0]
    in_week = [
        d
        for d in range(1, 20)
        if d % 5 != 0 and (AS_OF - timedelta(days=d / 2)).date() >= AS_OF.date() - timedelta(days=6)
    ]
    assert delivery["values"]["7d"]["value"] == pytest.approx(len(in_week) / 7)
    assert delivery["values"]["7d"]["detail"]["deployments"] == len(in_week)
    # between critical (1/day) and target (10/day): 40 + 40 * (v - 1) / 9, under 60 below 5.5/day
    score = 40 + 40 * (len(in_week) / 7 - 1) / 9
    assert 40 <= score < 60 and delivery["verdict"] == "Warning"
    assert delivery["extension_values"]["mom"]["value"] == pytest.approx(16 / 28)
    assert out["runs"]["success"] == 1 and out["refreshed"][0]["tenant_id"] == "initech"


def test_pre_validation_hard_fail_is_skipped_and_nothing_is_computed(local):
    make_tenant(local, "hooli", "Hooli")  # no signals at all

    run(local, "hooli", ["build_success_rate"])

    (attempt,) = attempts("hooli", "build_success_rate")
    assert sks(attempt) == [
        "END",
        "PRE#builds_available",
        "PRE#builds_fresh",
        "RUN",
        "SOURCING#signal#github.workflow_run+check_run",
    ]
    end = attempt["end"][0]
    assert end["status"] == "skipped" and end["error_code"] == "PRE_VALIDATION_FAILED"
    assert "builds_available" in end["error_message"]
    assert [e["type"] for e in end["events"]] == ["kpi_validation_failed"]


def test_post_validation_error_blocks_delivery_and_fails_the_attempt(local, initech):
    publish(
        "initech",
        "capped_frequency",
        "deployment_frequency",
        post_rules=[{"id": "at_most_one", "type": "value_range", "severity": "error", "params": {"max": 1}}],
    )

    run(local, "initech", ["capped_frequency"])

    (attempt,) = attempts("initech", "capped_frequency")
    assert "delivery" not in attempt
    post = attempt["post_validation"][0]
    assert post["result"] == "fail" and post["rule_type"] == "value_range" and "outside" in post["details"]
    end = attempt["end"][0]
    assert end["status"] == "failed" and end["error_code"] == "POST_VALIDATION_FAILED"
    assert "at_most_one" in end["error_message"]


def test_warnings_deliver_a_partial_result(local, initech):
    publish(
        "initech",
        "noisy_frequency",
        "deployment_frequency",
        post_rules=[{"id": "tight_band", "type": "value_range", "severity": "warn", "params": {"max": 1}}],
    )

    run(local, "initech", ["noisy_frequency"])

    (attempt,) = attempts("initech", "noisy_frequency")
    assert attempt["end"][0]["status"] == "partial"
    assert attempt["delivery"][0]["warnings"] == ["tight_band"]


def test_transient_error_is_retried_as_a_new_attempt_that_succeeds(local, initech):
    from companyos.domain.errors import TransientError
    from companyos.runs import formulas

    calls = {"n": 0}

    def flaky(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransientError("lake throttled, try again")
        return formulas.deployment_frequency(buckets, end, days)

    formulas.register("test_flaky", formulas.Builtin(formulas.fold_deployments, flaky))
    publish("initech", "flaky_frequency", "test_flaky")

    out = run(local, "initech", ["flaky_frequency"])

    first, retry = attempts("initech", "flaky_frequency")
    assert first["end"][0]["status"] == "failed" and first["end"][0]["error_code"] == "TransientError"
    assert first["end"][0]["error_message"] == "lake throttled, try again"
    header = retry["run"][0]
    assert header["retry_seq"] == 1 and header["run_id"] == first["run"][0]["run_id"] + "-r1"
    assert header["lineage_ref"] == f"retry-of:{first['run'][0]['run_id']}"
    assert retry["end"][0]["status"] == "success" and retry["end"][0]["retry_seq"] == 1
    # the retry carries the sourcing and pre-validation it reused, so its log is whole
    assert {r["sk"] for r in retry["pre_validation"]} == {"PRE#deploys_available"}
    assert retry["pre_validation"][0]["carried_from"] == first["run"][0]["run_id"]
    assert len(retry["sourcing"]) == 1 and "delivery" in retry
    assert out["runs"] == {"success": 1, "partial": 0, "failed": 0, "skipped": 0}


def test_a_task_delivered_twice_runs_its_step_once_and_answers_the_same(local, initech):
    """The task handler is idempotent per attempt of a step: Step Functions delivering a task again
    after it succeeded (a lost response) gets the stored answer; the step does not run again."""
    from companyos.runs import formulas

    calls = {"n": 0}

    def counted(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        calls["n"] += 1
        return formulas.deployment_frequency(buckets, end, days)

    formulas.register("test_counted", formulas.Builtin(formulas.fold_deployments, counted))
    publish("initech", "replayed_frequency", "test_counted")
    state: dict[str, Any] = {
        "tenant_id": "initech",
        "kpi_id": "replayed_frequency",
        "trigger": {"type": "manual", "by": "test", "as_of": AS_OF.isoformat()},
        "execution_id": "arn:aws:states:us-east-1:123456789012:execution:kpi-run:replay-1",
        "execution_started_at": AS_OF.isoformat(),
    }
    for step in ("source", "pre_validate"):
        state = local.stack.invoke("kpi_run", {"step": step, "state": state, "retry_count": 0})
    event = {"step": "compute", "state": state, "retry_count": 0}

    first = local.stack.invoke("kpi_run", event)
    computed = calls["n"]
    again = local.stack.invoke("kpi_run", json.loads(json.dumps(event)))  # the same task, delivered again

    assert computed > 0 and calls["n"] == computed  # the replay ran no formula
    assert again == first and set(first["values"]) == {"7d", "28d", "90d", "365d"}
    for step in ("post_validate", "deliver"):
        first = local.stack.invoke("kpi_run", {"step": step, "state": first, "retry_count": 0})
    (attempt,) = attempts("initech", "replayed_frequency")
    assert first["status"] == "success" and [e["status"] for e in attempt["end"]] == ["success"]


def test_permanent_error_fails_with_error_code_and_exactly_one_end(local, initech):
    from companyos.runs import formulas

    def broken(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        raise ZeroDivisionError("formula divides by an empty window")

    formulas.register("test_broken", formulas.Builtin(formulas.fold_deployments, broken))
    publish("initech", "broken_kpi", "test_broken")

    out = run(local, "initech", ["broken_kpi"])

    (attempt,) = attempts("initech", "broken_kpi")  # not retried: only TransientError is
    assert len(attempt["end"]) == 1
    end = attempt["end"][0]
    assert end["status"] == "failed" and end["error_code"] == "ZeroDivisionError"
    assert end["error_message"] == "formula divides by an empty window"
    assert out["runs"]["failed"] == 1


def test_a_kpi_without_any_contract_is_logged_as_a_failed_attempt(local, initech):
    run(local, "initech", ["no_such_kpi"])

    (attempt,) = attempts("initech", "no_such_kpi")
    assert attempt["run"][0]["contract_version"] == "unknown"
    assert attempt["end"][0]["status"] == "failed" and attempt["end"][0]["error_code"] == "NotFound"
    assert "no contract for KPI 'no_such_kpi'" in attempt["end"][0]["error_message"]


def test_sla_breach_is_marked_and_emits_an_alert_event(local, initech):
    publish("initech", "slow_frequency", "deployment_frequency", sla={"max_duration_s": 0})

    out = run(local, "initech", ["slow_frequency"], trigger="time")

    (attempt,) = attempts("initech", "slow_frequency")
    end = attempt["end"][0]
    assert end["status"] == "success" and end["sla_breached"] is True and "max 0 s" in end["sla_reason"]
    (event,) = [e for e in out["events"] if e["kpi_id"] == "slow_frequency"]
    assert event["type"] == "kpi_sla_breach" and event["href"].startswith(f"/api/runs/{end['run_id']}")


# ------------------------------------------------------------------------------ append-only log


def test_a_run_log_row_is_never_overwritten(local, initech):
    from companyos.adapters.models import KpiLogItem
    from companyos.adapters.repos import RunLog
    from pynamodb.exceptions import PutError

    if not attempts("initech", "deployment_frequency"):  # run alone (or first on an xdist worker)
        run(local, "initech", ["deployment_frequency"])
    (attempt, *_) = attempts("initech", "deployment_frequency")
    run_id = attempt["run"][0]["run_id"]
    log = RunLog("initech")

    # a second write of the same row is refused, and the row keeps its data
    assert log.append(run_id, "END", "end", {"status": "success", "forged": True}) is False
    assert "forged" not in (log.row(run_id, "END") or {})
    # the table itself refuses an overwrite through the same condition
    item = KpiLogItem(pk=f"initech#RUN#{run_id}", sk="END", record="end", data={}, written_at=clock.now())
    with pytest.raises(PutError):
        item.save(condition=KpiLogItem.pk.does_not_exist())


def test_a_correction_is_a_new_run_linked_to_the_original(local, initech):
    from companyos.adapters.repos import RunLog
    from companyos.runs.steps import correct_run

    original = attempts("initech", "deployment_frequency")[0]
    run_id = original["run"][0]["run_id"]
    before, value = sks(original), original["delivery"][0]["values"]["7d"]["value"]

    result = correct_run("initech", run_id, values={"7d": 2.5}, reason="late deploy events", by="ops@initech")

    log = RunLog("initech")
    correction = {r.sk: r.data for r in log.rows(result["run_id"])}
    assert result["run_id"] == f"{run_id}-c1" and result["status"] == "success"
    assert correction["RUN"]["lineage_ref"] == f"correction-of:{run_id}"
    assert correction["DELIVERY"]["values"]["7d"]["value"] == 2.5
    assert correction["DELIVERY"]["scd_view"] == "restated"
    # the original is untouched, and the correction is now the KPI's latest delivery
    assert sks(attempts("initech", "deployment_frequency")[0]) == before
    assert (log.row(run_id, "DELIVERY") or {})["values"]["7d"]["value"] == value != 2.5
    assert log.recent_runs("deployment_frequency", limit=1)[0]["run_id"] == result["run_id"]


# ------------------------------------------------------------------------------ schedules


def test_the_scheduler_plans_pack_and_tenant_kpis_of_a_class_and_leaves_paused_ones_out(local, initech):
    from companyos.adapters.repos import Catalog
    from companyos.runs import schedule
    from companyos.runs.contracts import ContractStore

    publish("initech", "paused_kpi", "deployment_frequency")
    ContractStore("initech").pause("paused_kpi", "maintenance until Monday")

    plan = schedule.plan("daily", [Catalog().get_tenant("initech")])

    kpis = {p["kpi_id"] for p in plan.pairs}
    assert {"nps_score", "net_revenue_retention", "capped_frequency"} <= kpis  # pack + tenant contracts
    assert "deployment_frequency" not in kpis  # realtime class
    assert plan.paused == [
        {"tenant_id": "initech", "kpi_id": "paused_kpi", "reason": "maintenance until Monday"}
    ]


def test_a_schedule_tick_starts_runs_through_the_scheduler_function(local, initech):
    before = len(local.stack.executions())

    # (restricted to initech: a tick for every tenant would refresh other tests' tenants)
    result = local.stack.invoke("scheduler", {"schedule_class": "hourly", "tenant_ids": ["initech"]})

    assert result["pairs"] == 2 and len(result["executions"]) == 1  # critical_cve_age, vuln_sla_compliance
    assert len(local.stack.executions()) == before + len(result["executions"])


def test_a_tenant_contract_for_a_kpi_without_a_pack_contract_reaches_the_snapshot(local, initech):
    from companyos.adapters.repos import ScoreStore
    from companyos.runs import formulas

    # Given initech publishes its own SLO attainment contract (the pack has none: no connector yet)
    def attainment(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        return formulas.Outcome(99.95)

    formulas.register("test_slo", formulas.Builtin(formulas.fold_deployments, attainment))
    publish("initech", "slo_attainment", "test_slo")

    # When it runs (the score refresh follows in the same execution)
    run(local, "initech", ["slo_attainment"])

    # Then the snapshot shows the value with its evidence instead of "not measured yet"
    found = ScoreStore("initech").latest("7d")
    assert found is not None
    entry = found[0]["kpis"]["slo_attainment"]
    assert entry["value"] == pytest.approx(99.95) and entry["evidence"]["contract_version"] == "1.0.0"


def test_a_backfill_of_a_past_day_started_later_does_not_replace_the_current_value(local):
    from companyos.adapters.repos import RunLog
    from companyos.views.deliveries import latest_delivery

    make_tenant(local, "backfillco", "Backfill Co")
    put_deploys("backfillco", [(d / 3, True) for d in range(1, 60)])  # 3 a day for ~20 days
    run(local, "backfillco", ["deployment_frequency"])  # today's run (as of AS_OF)
    current, _ = latest_delivery(RunLog("backfillco"), "deployment_frequency")
    assert current is not None

    # an operator backfills a day two weeks earlier, after today's run
    run(local, "backfillco", ["deployment_frequency"], as_of=AS_OF - timedelta(days=14))
    newest_started = RunLog("backfillco").recent_runs("deployment_frequency", limit=1)[0]
    assert newest_started["as_of"] == (AS_OF - timedelta(days=14)).isoformat()

    chosen, reason = latest_delivery(RunLog("backfillco"), "deployment_frequency")
    assert reason is None and chosen is not None
    assert chosen.run["run_id"] == current.run["run_id"]  # the values as of now stay on the cockpit
    assert chosen.delivery["values"] == current.delivery["values"]


def test_an_implausible_value_is_blocked_with_its_reason_and_never_reaches_the_snapshot(local):
    from companyos.adapters.repos import ScoreStore
    from companyos.runs import contracts, formulas

    # Given a tenant whose ARR growth formula returns what the user saw (1203.31 %, previous 1977.06 %)
    make_tenant(local, "bluth", "Bluth Co")
    put_deploys("bluth", [(d / 2, True) for d in range(1, 20)])

    def runaway(buckets: Any, end: Any, days: int) -> formulas.Outcome:
        return formulas.Outcome(1203.31 if end == AS_OF.date() else 1977.06)

    formulas.register("test_runaway_growth", formulas.Builtin(formulas.fold_deployments, runaway))
    builtin = contracts.get("arr_growth_rate").to_state()
    publish("bluth", "arr_growth_rate", "test_runaway_growth", post_rules=builtin["post_rules"])

    # When it runs (the score refresh follows in the same execution)
    run(local, "bluth", ["arr_growth_rate"])

    # Then the run is blocked by the plausible range, naming the value and the bound
    (attempt,) = attempts("bluth", "arr_growth_rate")
    assert "delivery" not in attempt
    end = attempt["end"][0]
    assert end["status"] == "failed" and end["error_code"] == "POST_VALIDATION_FAILED"
    assert (
        "plausible_range: arr_growth_rate 1203 % outside the plausible range [-100, 300] (7d)"
        in (end["error_message"])
    )
    # and the snapshot shows no value, only why
    found = ScoreStore("bluth").latest("7d")
    assert found is not None
    entry = found[0]["kpis"]["arr_growth_rate"]
    assert entry["value"] is None and "outside the plausible range [-100, 300]" in entry["reason"]
    assert "1203" not in json.dumps({k: v for k, v in entry.items() if k != "reason"})
