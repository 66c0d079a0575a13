"""Fault injection on alert evaluation and delivery (the `alerts` task: evaluate → store the alert
with its outbox → audit the transition → publish to SNS (DLQ on failure) → clear the outbox → start
the escalation): SNS internal errors, the dead-letter queue unreachable, DynamoDB throttling the
alert writes and their audit records, Step Functions refusing the escalation (KMS, which signs
only in the audit sealer since #17: test_faults_audit.py).

What must hold each time: no notification marked delivered that was not published (or dead-lettered),
none sent twice by the retry, none lost (the outbox keeps it until the retried task sends it), and
the task fails with an error its state machine retries (`TransientError`, `DeliveryFailed`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.faults import SFN_QUOTA, SNS_INTERNAL, THROTTLED, Error, inject, on_table
from tests.integration.conftest import make_tenant
from tests.integration.test_alerts_flow import (
    Inbox,
    alert_of,
    evaluate,
    put_incident,
    put_snapshot,
    run_kpis,
    wait_until,
)

SQS_DOWN = Error("InternalError", "We encountered an internal error. Please try again.", status=500)


def published_for(tenant_id: str, rule: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A `when` for SNS Publish calls of one tenant's alerts (of one rule)."""

    def match(params: dict[str, Any]) -> bool:
        attrs = {k: v.get("StringValue") for k, v in (params.get("MessageAttributes") or {}).items()}
        return attrs.get("tenant") == tenant_id and (rule is None or attrs.get("rule") == rule)

    return match


def to_dlq(local: Running) -> Callable[[dict[str, Any]], bool]:
    dlq = local.stack.settings.alerts_dlq_url
    return lambda params: params.get("QueueUrl") == dlq


def rules_of(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((m["attributes"]["rule"], m["attributes"]["status"]) for m in messages)


def test_sns_failing_once_is_retried_by_the_publisher_and_delivered_once(local):
    tenant = make_tenant(local, "fa-sns-once", "Fault Alerts SNS")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    with inject("sns", "Publish", SNS_INTERNAL, when=published_for(tenant.id)) as fault:
        out = evaluate(local, tenant.id)
    assert fault.raised == 1 and (out["messages"], out["dead_lettered"]) == (1, 0)
    assert rules_of(inbox.drain("cto.email")) == [("DORARegression", "firing")]
    assert alert_of(tenant.id, "DORARegression").outbox == []


def test_sns_and_the_dlq_down_nothing_is_marked_delivered_and_the_retry_delivers_once(local):
    from companyos.alerts.notify import DeliveryFailed

    tenant = make_tenant(local, "fa-sns-dlq", "Fault Alerts DLQ")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    with (
        inject("sns", "Publish", SNS_INTERNAL, calls=None, when=published_for(tenant.id)) as sns,
        inject("sqs", "SendMessage", SQS_DOWN, calls=None, when=to_dlq(local)) as sqs,
        pytest.raises(DeliveryFailed),
    ):
        evaluate(local, tenant.id)
    assert (sns.raised, sqs.raised) == (3, 1)  # the publisher's three attempts, then the DLQ
    alert = alert_of(tenant.id, "DORARegression")
    assert alert.state == "firing" and alert.outbox == ["firing"]  # kept, not marked delivered
    assert inbox.drain_all() == {}
    out = evaluate(local, tenant.id)  # the retried task (EvaluateAlerts retries DeliveryFailed)
    assert (out["messages"], out["dead_lettered"]) == (1, 0) and out["transitions"] == []
    assert rules_of(inbox.drain("cto.email")) == [("DORARegression", "firing")]
    assert evaluate(local, tenant.id)["messages"] == 0 and inbox.drain_all() == {}


def test_a_group_that_cannot_be_delivered_is_retried_without_resending_the_groups_before_it(local):
    """ComplianceDropped (CTO email, CISO PagerDuty) goes out, then DORARegression cannot be sent nor
    dead-lettered: the retry sends DORARegression only — nobody gets ComplianceDropped twice."""
    from companyos.alerts.notify import DeliveryFailed

    tenant = make_tenant(local, "fa-groups", "Fault Alerts Groups")
    inbox = Inbox(local, tenant.id, only=("cto.email", "ciso.pagerduty"))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0, "compliance_score": 80.0})
    dora = published_for(tenant.id, "DORARegression")
    with (
        inject("sns", "Publish", SNS_INTERNAL, calls=None, when=dora) as sns,
        inject("sqs", "SendMessage", SQS_DOWN, calls=None, when=to_dlq(local)),
        pytest.raises(DeliveryFailed),
    ):
        evaluate(local, tenant.id)
    assert sns.raised == 3
    assert alert_of(tenant.id, "ComplianceDropped").outbox == []
    assert alert_of(tenant.id, "DORARegression").outbox == ["firing"]
    evaluate(local, tenant.id)
    got = inbox.drain_all()
    assert rules_of(got["cto.email"]) == [("ComplianceDropped", "firing"), ("DORARegression", "firing")]
    assert rules_of(got["ciso.pagerduty"]) == [("ComplianceDropped", "firing")]


@pytest.mark.parametrize("lasting", [False, True], ids=["once", "lasting"])
def test_the_alert_write_throttled_publishes_nothing_until_it_is_stored(local, lasting):
    from companyos.domain.errors import TransientError

    tenant = make_tenant(local, f"fa-write-{'lasting' if lasting else 'once'}", "Fault Alerts Write")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    alert_rows = on_table("catalog", sk="ALERT#")
    with inject("dynamodb", "PutItem", THROTTLED, calls=None if lasting else (1,), when=alert_rows) as fault:
        if lasting:
            with pytest.raises(TransientError):
                evaluate(local, tenant.id)
        else:  # retried in place
            assert evaluate(local, tenant.id)["messages"] == 1
    if lasting:
        assert fault.raised == 5  # save_with_retry's attempts, then the task fails (and is retried)
        assert inbox.drain_all() == {}
        assert evaluate(local, tenant.id)["messages"] == 1
    else:
        assert fault.raised == 1
    assert rules_of(inbox.drain("cto.email")) == [("DORARegression", "firing")]
    assert evaluate(local, tenant.id)["messages"] == 0 and inbox.drain_all() == {}


def test_the_outbox_clear_after_a_publish_throttled_sends_nothing_twice(local):
    tenant = make_tenant(local, "fa-clear", "Fault Alerts Clear")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    # the alert's 1st write stores it with its outbox, the 2nd clears the outbox once published
    alert_rows = on_table("catalog", sk="ALERT#")
    with inject("dynamodb", "PutItem", THROTTLED, calls=(2,), when=alert_rows) as fault:
        out = evaluate(local, tenant.id)
    assert fault.raised == 1 and out["messages"] == 1
    assert alert_of(tenant.id, "DORARegression").outbox == []
    assert evaluate(local, tenant.id)["messages"] == 0
    assert rules_of(inbox.drain("cto.email")) == [("DORARegression", "firing")]


def test_the_transition_audit_write_failing_keeps_the_outbox_and_the_retry_delivers_once(local):
    """The audit record of the transition is throttled (DynamoDB; since #17 the request path signs
    nothing — the sealer does): the alert is stored with its outbox, the retry delivers it once."""
    from companyos.domain.errors import TransientError

    tenant = make_tenant(local, "fa-kms", "Fault Alerts Audit")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    audit_put = on_table("audit")
    with inject("dynamodb", "PutItem", THROTTLED, when=audit_put) as fault, pytest.raises(TransientError):
        evaluate(local, tenant.id)
    assert fault.raised == 1
    alert = alert_of(tenant.id, "DORARegression")
    assert alert.state == "firing" and alert.outbox == ["firing"] and inbox.drain_all() == {}
    out = evaluate(local, tenant.id)
    assert out["messages"] == 1 and out["transitions"] == []
    assert rules_of(inbox.drain("cto.email")) == [("DORARegression", "firing")]


def test_step_functions_refusing_the_escalation_the_retry_starts_it_once_and_pages_once(local):
    from companyos.domain.errors import TransientError

    tenant = make_tenant(local, "fa-esc", "Fault Alerts Escalation")
    inbox = Inbox(local, tenant.id, only=("cto.pagerduty",))
    put_incident(tenant.id, "FE1", "P1", "triggered", 1)
    escalation = lambda p: p["name"].startswith("alert-") or "escalation" in p["stateMachineArn"]  # noqa: E731
    with (
        inject("stepfunctions", "StartExecution", SFN_QUOTA, when=escalation) as fault,
        pytest.raises(TransientError),
    ):
        evaluate(local, tenant.id, snapshot=False)
    assert fault.raised == 1
    alert = alert_of(tenant.id, "P1IncidentDeclared")
    assert alert.escalation is None and alert.outbox == []  # published; the escalation not recorded
    assert rules_of(inbox.drain("cto.pagerduty")) == [("P1IncidentDeclared", "firing")]
    out = evaluate(local, tenant.id, snapshot=False)
    [arn] = out["escalations"]
    assert out["messages"] == 0 and inbox.drain_all() == {}
    sfn = boto3.client("stepfunctions")
    machine = local.stack.settings.escalation_state_machine_arn
    name = arn.rsplit(":", 1)[1]
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]].count(name) == 1
    assert evaluate(local, tenant.id, snapshot=False)["escalations"] == []
    put_incident(tenant.id, "FE1", "P1", "resolved", 2)  # stop it
    evaluate(local, tenant.id, snapshot=False)
    local.stack.wait_for_execution(arn, timeout_s=30)


def test_in_the_kpi_run_an_undeliverable_alert_is_retried_by_step_functions_and_sent_once(local):
    """Through the state machine: EvaluateAlerts fails with DeliveryFailed (SNS three times, then the
    DLQ), Step Functions retries the task, and the data-quality alert goes out exactly once."""
    tenant = make_tenant(local, "fa-pipeline", "Fault Alerts Pipeline")
    inbox = Inbox(local, tenant.id, only=("data_quality.email",))
    with (
        inject("sns", "Publish", SNS_INTERNAL, calls=(1, 2, 3), when=published_for(tenant.id)) as sns,
        inject("sqs", "SendMessage", SQS_DOWN, calls=(1,), when=to_dlq(local)) as sqs,
    ):
        done = run_kpis(local, tenant.id, ("deployment_frequency",), "fa-pipeline-1")
    assert done["status"] == "SUCCEEDED" and (sns.raised, sqs.raised) == (3, 1)
    out = json.loads(done["output"])
    assert "alerts_error" not in out, out["alerts_error"]
    [evaluated] = out["alerts"]["evaluated"]
    assert (evaluated["messages"], evaluated["dead_lettered"]) == (1, 0)
    assert rules_of(inbox.drain("data_quality.email")) == [("KpiValidationHardFail", "firing")]


def off_main_thread(_: dict[str, Any]) -> bool:
    """A `when` for calls made by the Step Functions executor (the escalation's steps), not by the
    evaluation this test runs on its own thread."""
    return threading.current_thread() is not threading.main_thread()


def first_level_paged(local: Running, tenant_id: str, arn: str) -> list[dict[str, Any]]:
    """Wait until the escalation's first step is over (it waits for the next level), then the log."""
    sfn = boto3.client("stepfunctions")

    def waiting() -> bool:
        events: list[dict[str, Any]] = list(sfn.get_execution_history(executionArn=arn)["events"])  # type: ignore[arg-type]
        entered = {(e.get("stateEnteredEventDetails") or {}).get("name") for e in events}
        return "WaitForNextLevel" in entered

    wait_until(waiting, timeout_s=60)
    return list((alert_of(tenant_id, "P1IncidentDeclared").escalation or {})["notified"])


@pytest.mark.parametrize(
    "fault",
    [("audit", "PutItem", THROTTLED), ("dynamodb", "PutItem", THROTTLED)],
    ids=["audit_write_after_page", "dynamodb_page_log"],
)
def test_an_escalation_step_failing_after_its_page_does_not_page_twice(local, fault):
    """The first escalation step pages the SRE on call, then its audit record or its page log write
    (DynamoDB) fails: the step is retried (Escalate's Retry on TransientError, or in
    place), and the on-call is paged exactly once, logged once."""
    service, operation, error = fault
    tenant = make_tenant(local, f"fa-esc-{service}", "Fault Alerts Escalation Step")
    inbox = Inbox(local, tenant.id, only=("esc.sre_primary",))
    put_incident(tenant.id, "FS1", "P1", "triggered", 1)
    table = "audit" if service == "audit" else "ALERT#"
    audit_put = on_table("audit")
    when = (
        (lambda p: off_main_thread(p) and audit_put(p))
        if service == "audit"
        else (lambda p: off_main_thread(p) and table in str(p))
    )
    with inject("dynamodb", operation, error, when=when) as injected:
        [arn] = evaluate(local, tenant.id, snapshot=False)["escalations"]
        notified = first_level_paged(local, tenant.id, arn)
    assert injected.raised == 1
    assert [(n["target"], n["level"]) for n in notified] == [("sre_primary", 0)]
    assert [m["attributes"]["target"] for m in inbox.drain("esc.sre_primary")] == ["sre_primary"]
    put_incident(tenant.id, "FS1", "P1", "resolved", 2)  # stop it
    evaluate(local, tenant.id, snapshot=False)
    local.stack.wait_for_execution(arn, timeout_s=30)
