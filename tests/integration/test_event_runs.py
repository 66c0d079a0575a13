"""Event runs coalesce (#17): the deliveries of one tenant in one 5-second window that feed the same
KPIs start one KPI run, which waits for the window to end (the state machine's AwaitBurst) and then
reads every one of them — a burst of webhooks costs one run per window, not one per delivery."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import boto3

from tests.conftest import Running, clock_at
from tests.integration.ingest_load import load_tenant, pagerduty_incident, settle

BURST = 3


def test_a_burst_of_deliveries_is_read_by_one_event_run(local: Running) -> None:
    from companyos.adapters.repos import RunLog
    from companyos.domain import clock
    from companyos.ingest_runs import EVENT_RUN_WINDOW_S
    from companyos.sources.base import hmac_sha256_hex

    # Given a tenant, and three real PagerDuty incident events (distinct event ids) resolved an hour ago
    tenant = load_tenant(local, "burstco")
    settle(local)
    now = clock.now()
    hour_ago = (now - timedelta(hours=1)).astimezone(UTC).isoformat().replace("+00:00", "Z")
    deliveries = []
    for _ in range(BURST):
        d = pagerduty_incident(tenant)
        doc = json.loads(d.body)
        doc["event"]["occurred_at"] = hour_ago
        body = json.dumps(doc).encode()
        sig = "v1=" + hmac_sha256_hex(tenant.secrets["pagerduty"], body)
        deliveries.append((body, {"Content-Type": "application/json", "X-PagerDuty-Signature": sig}))

    # When PagerDuty posts them within one window (each as if at the window's start: however slow the
    # machine, the three fall in the same window)
    window_start = math.ceil(now.timestamp() / EVENT_RUN_WINDOW_S) * EVENT_RUN_WINDOW_S
    answers = []
    for body, headers in deliveries:
        with clock_at(datetime.fromtimestamp(window_start + 0.05, UTC)):
            url = f"/api/ingest/pagerduty?tenant={tenant.tenant_id}"
            answers.append(local.client.request("POST", url, body, headers))

    # Then each is stored and names the incident KPIs it feeds
    assert [a.status for a in answers] == [200] * BURST, [a.body for a in answers]
    kpis = answers[0].body["runs_started"]
    assert all(a.body["runs_started"] == kpis for a in answers) and "mttr" in kpis
    # and one event run was started for the three, waiting for the rest of its window
    sfn = boto3.client("stepfunctions")
    arn = local.stack.state_machines["kpi_run"]
    mine = [
        e
        for e in sfn.list_executions(stateMachineArn=arn)["executions"]
        if e["name"].startswith("evt-burstco-")
    ]
    assert len(mine) == 1, mine
    run_input = json.loads(sfn.describe_execution(executionArn=mine[0]["executionArn"])["input"])
    assert 1 <= run_input["trigger"]["coalesce_s"] <= EVENT_RUN_WINDOW_S
    assert sorted(p["kpi_id"] for p in run_input["pairs"]) == sorted(kpis)
    assert local.stack.wait_for_execution(mine[0]["executionArn"], timeout_s=120)["status"] == "SUCCEEDED"

    # and that run's MTTR read all three incident events
    run = RunLog(tenant.tenant_id).recent_runs("mttr", limit=5)
    assert len(run) == 1, run
    sourcing = [r.data for r in RunLog(tenant.tenant_id).rows(run[0]["run_id"]) if r.record == "sourcing"]
    assert [s["count"] for s in sourcing if "incident" in str(s.get("source_object"))] == [BURST], sourcing
