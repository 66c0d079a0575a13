"""Persona routing: which persona gets which channel for which alert, message attributes the
subscription filter policies match on, grouping, resolved notifications, deep links; the
publisher's retries and dead-letter queue."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from companyos.adapters.aws import AwsClients
from companyos.alerts.notify import DeliveryFailed, Publisher
from companyos.alerts.routing import alert_messages, deep_link, escalation_message, subscription_filter
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import load_pack

PACK = load_pack()
URL = "https://cockpit.example.com"


def alert(rule_id: str, **extra) -> Alert:
    rule = PACK.rule(rule_id)
    doc = {
        "alert_id": f"id-{rule_id}-{extra.get('n', 1)}",
        "tenant_id": "acme",
        "rule_id": rule_id,
        "labels": {"kpi": "k"},
        "state": "firing",
        "severity": rule.severity,
        "dimension": rule.dimension,
        "persona": rule.persona,
        "summary": f"{rule_id} summary {extra.get('n', 1)}",
        "value": 1.0,
        "op": rule.op,
        "threshold": rule.threshold,
        "context": {"evidence": "/api/runs/r1?tenant=acme"},
    }
    doc.update({k: v for k, v in extra.items() if k != "n"})
    return Alert.model_validate(doc)


def routed(rule_id: str, status: str = "firing") -> list[tuple[str, str]]:
    return [(m.attributes["persona"], m.attributes["channel"])
            for m in alert_messages(PACK, "acme", [(alert(rule_id), status)], URL)]  # fmt: skip


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        # the matrix row, then the persona block's channels the row does not already give
        ("P1IncidentDeclared", [
            ("ceo", "sms"), ("cto", "pagerduty"), ("ciso", "email"),
            ("ops", "pagerduty"), ("product", "email"), ("cto", "sms"), ("cto", "slack"),
        ]),
        ("SLOBudgetExhausted", [
            ("ceo", "email"), ("cto", "pagerduty"), ("ops", "pagerduty"), ("cto", "slack"),
        ]),
        ("CriticalCVEDetected", [
            ("cto", "email"), ("ciso", "pagerduty"), ("ops", "email"), ("ciso", "slack"), ("ciso", "sms"),
        ]),
        ("NRRBelowTarget", [("ceo", "slack"), ("product", "email"), ("ceo", "email")]),
        ("ChurnRiskAlert", [("ceo", "slack"), ("product", "pagerduty"), ("ceo", "email")]),
        ("CostAnomaly", [("ceo", "email"), ("cto", "email"), ("ops", "pagerduty")]),
        ("ComplianceDropped", [("cto", "email"), ("ciso", "pagerduty"), ("ciso", "email")]),
        ("KpiValidationHardFail", [("data_quality", "email")]),
    ],
)  # fmt: skip
def test_each_alert_reaches_its_matrix_row_and_its_persona_block_channels(rule_id, expected):
    assert routed(rule_id) == expected


def test_resolved_notifications_skip_sms():
    resolved = routed("P1IncidentDeclared", "resolved")
    assert not [r for r in resolved if r[1] == "sms"]  # neither the CEO's nor the CTO's
    assert len(resolved) == len(routed("P1IncidentDeclared")) - 2


def test_a_message_carries_tenant_summary_value_threshold_and_the_drill_down_link():
    ceo, product, _ceo_email = alert_messages(PACK, "acme", [(alert("NRRBelowTarget"), "firing")], URL)
    assert ceo.attributes == {
        "kind": "alert", "tenant": "acme", "persona": "ceo", "channel": "slack", "severity": "high",
        "dimension": "financials", "rule": "NRRBelowTarget", "status": "firing",
    }  # fmt: skip
    assert ceo.body["link"] == "https://cockpit.example.com/#/acme/ceo?period=7d"
    assert product.body["link"] == "https://cockpit.example.com/#/acme/product?period=7d"
    [entry] = ceo.body["alerts"]
    assert (entry["value"], entry["op"], entry["threshold"]) == (1.0, "<", 100.0)
    assert entry["evidence"] == "/api/runs/r1?tenant=acme"
    args = ceo.publish_args("arn:topic")
    assert args["MessageStructure"] == "json"
    envelope = json.loads(args["Message"])
    assert json.loads(envelope["default"])["tenant"] == "acme"
    assert "https://cockpit.example.com/#/acme/ceo?period=7d" in envelope["email"]
    assert len(envelope["sms"]) <= 140
    assert args["MessageAttributes"]["persona"] == {"DataType": "String", "StringValue": "ceo"}


def test_team_recipients_link_to_the_rules_dashboard():
    [msg] = alert_messages(PACK, "acme", [(alert("KpiValidationHardFail"), "firing")], URL)
    assert msg.body["link"] == deep_link(URL, "acme", "ops")


def test_alerts_of_one_rule_in_one_evaluation_are_grouped_into_one_message_per_recipient():
    items = [(alert("KpiSlaBreach", n=1), "firing"), (alert("KpiSlaBreach", n=2), "firing")]
    messages = alert_messages(PACK, "acme", items, URL)
    assert [(m.attributes["persona"], len(m.body["alerts"])) for m in messages] == [
        ("cfo_office", 2),
        ("ops", 2),
    ]
    assert messages[0].body["summary"].startswith("2 alerts:")


def test_escalation_messages_target_the_on_call_role():
    m = escalation_message(alert("SecretCommitted"), "security_primary", 0, URL)
    assert m.attributes["kind"] == "escalation" and m.attributes["target"] == "security_primary"
    assert m.attributes["level"] == "0"
    assert subscription_filter("acme", "ceo", "sms") == {
        "kind": ["alert"], "tenant": ["acme"], "persona": ["ceo"], "channel": ["sms"]
    }  # fmt: skip


class FlakySns:
    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def publish(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "Publish")
        return {"MessageId": "m"}


class Dlq:
    def __init__(self, fail: bool = False):
        self.sent: list[dict] = []
        self.fail = fail

    def send_message(self, QueueUrl, MessageBody):  # noqa: N803 - boto3 keyword names
        if self.fail:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")
        self.sent.append(json.loads(MessageBody))


def publisher(sns, dlq) -> Publisher:
    clients = AwsClients(overrides={"sns": sns, "sqs": dlq})
    return Publisher("arn:topic", "https://dlq", attempts=3, sleep=lambda s: None, clients=clients)


def test_a_transient_sns_error_is_retried():
    sns, dlq = FlakySns(failures=2), Dlq()
    msg = alert_messages(PACK, "acme", [(alert("NRRBelowTarget"), "firing")], URL)[0]
    assert publisher(sns, dlq).publish(msg) == "delivered"
    assert sns.calls == 3 and dlq.sent == []


def test_what_sns_never_accepts_goes_to_the_dead_letter_queue_whole():
    sns, dlq = FlakySns(failures=99), Dlq()
    msg = alert_messages(PACK, "acme", [(alert("NRRBelowTarget"), "firing")], URL)[0]
    assert publisher(sns, dlq).publish(msg) == "dead_lettered"
    assert sns.calls == 3
    [dead] = dlq.sent
    assert dead["message"]["attributes"]["rule"] == "NRRBelowTarget" and "Throttling" in dead["error"]


def test_if_even_the_dead_letter_queue_fails_the_task_fails_for_a_retry():
    msg = alert_messages(PACK, "acme", [(alert("NRRBelowTarget"), "firing")], URL)[0]
    with pytest.raises(DeliveryFailed):
        publisher(FlakySns(failures=99), Dlq(fail=True)).publish(msg)
