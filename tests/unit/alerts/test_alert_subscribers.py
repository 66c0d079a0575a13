"""Subscribers, their SNS filter policies and the bodies each endpoint receives (issue #18, 2).

The filter policies are written out by hand; which subscriber channel a routed message reaches is
checked against the pack's own routing of real rules. The PagerDuty body follows PagerDuty's Events
API v2 reference (developer.pagerduty.com, "Send an Alert Event": routing_key, event_action,
dedup_key, payload.summary/source/severity in critical|error|warning|info) — the same field names as
the `pagerDutyMessage` struct of Grafana's and Alertmanager's PagerDuty notifiers; Slack's as its
incoming-webhook reference (`text` + Block Kit `blocks`); Teams' as a message with an Adaptive Card
attachment (Microsoft's incoming-webhook / Workflows format)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from companyos.alerts import channels, routing
from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import load_pack
from companyos.domain.alert_subscribers import (
    Subscriber,
    SubscriberIn,
    channels_of,
    combinations,
    filter_policies,
    matches,
    sns_filter_policy,
    too_wide,
)
from pydantic import ValidationError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLACK = "https://hooks.slack.com/services/T0000TEST/B0000TEST/abcdefghijklmnopqrstuvwx"


def subscriber(**over) -> Subscriber:
    written = SubscriberIn.model_validate(
        {
            "name": "Nora",
            "email": "nora@northwind.demo",
            "personas": ["ceo"],
            "channels": [
                {"type": "email", "address": "nora@northwind.demo"},
                {"type": "sms", "address": "+12025550100"},
                {"type": "slack", "address": SLACK},
                {"type": "pagerduty", "address": "a" * 32},
            ],
        }
        | over
    )
    chans = channels_of(written, [f"ch{i + 1}" for i in range(len(written.channels))])
    return Subscriber(
        subscriber_id="sub_1",
        name=written.name,
        email=written.email,
        personas=written.personas,
        oncall=written.oncall,
        channels=chans,
        min_severity=written.min_severity,
        enabled=written.enabled,
        created_at=T0,
        created_by="admin@x",
        updated_at=T0,
        updated_by="admin@x",
    )


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("email", "nora@"),
        ("sms", "+1 202 555 0100"),  # E.164 has no spaces
        ("sms", "02025550100"),
        ("slack", "https://example.com/services/T/B/x"),
        ("slack", "http://hooks.slack.com/services/T0000/B0000/xxxxxxxx"),
        ("teams", "https://hooks.slack.com/services/T0000TEST/B0000TEST/xxxxxxxx"),
        ("pagerduty", "a" * 31),
        ("webhook", "ftp://files.example.com/hook"),
    ],
)
def test_addresses_that_are_not_the_channel_kinds_are_refused(kind, address):
    with pytest.raises(ValidationError):
        SubscriberIn.model_validate(
            {
                "name": "x",
                "email": "x@y.test",
                "personas": ["ceo"],
                "channels": [{"type": kind, "address": address}],
            }
        )


def test_the_filter_policies_written_out():
    sub = subscriber(min_severity="warning", oncall=["sre_primary"])
    email = sub.channels[0]
    assert filter_policies("northwind", sub, email) == [
        {
            "kind": ["alert"],
            "tenant": ["northwind"],
            "persona": ["ceo"],
            "channel": ["email"],
            "severity": ["critical", "high", "warning"],
        },
        {"kind": ["escalation"], "tenant": ["northwind"], "target": ["sre_primary"]},
    ]
    # one subscription per endpoint: both under $or, the tenant in common; 1 x (1x1x1x3 + 1x1) = 4
    policy = sns_filter_policy("northwind", sub, email)
    assert policy == {
        "tenant": ["northwind"],
        "$or": [
            {
                "kind": ["alert"],
                "persona": ["ceo"],
                "channel": ["email"],
                "severity": ["critical", "high", "warning"],
            },
            {"kind": ["escalation"], "target": ["sre_primary"]},
        ],
    }
    assert policy is not None and combinations(policy) == 4
    assert filter_policies("northwind", subscriber(enabled=False), email) == []


def test_a_filter_wider_than_sns_allows_is_named():
    personas = ["ceo", "cto", "ciso", "ops", "product", "cfo_office", "data_quality", "platform_engineering"]
    hook = {
        "type": "webhook",
        "address": "https://h.example/x",
        "carries": ["sms", "email", "slack", "pagerduty"],
    }
    assert "160 combinations" in (too_wide("t", subscriber(personas=personas, channels=[hook])) or "")
    assert too_wide("t", subscriber(personas=personas, channels=[hook], min_severity="high")) is None  # 64


def alert(rule_id: str, summary: str, severity: str, dimension: str, persona: str) -> Alert:
    return Alert(
        alert_id=f"{rule_id}-1",
        tenant_id="northwind",
        rule_id=rule_id,
        labels={},
        state="firing",
        severity=severity,
        dimension=dimension,
        persona=persona,
        summary=summary,
        value=95.0,
        op="<",
        threshold=100.0,
        fired_at=T0.isoformat(),
        episode=1,
    )


def test_a_routed_message_reaches_exactly_the_channels_that_carry_it():
    """NRRBelowTarget routes CEO email + Slack (persona block and matrix) and Product email: the
    CEO subscriber's e-mail and Slack get it, its SMS and PagerDuty do not."""
    pack = load_pack()
    nrr = alert("NRRBelowTarget", "Net revenue retention 95.0% is below 100%", "high", "financials", "ceo")
    messages = routing.alert_messages(pack, "northwind", [(nrr, "firing")], "https://cockpit.example")
    sub = subscriber()
    reached = sorted(
        ch.type for m in messages for ch in sub.channels if matches("northwind", sub, ch, m.attributes)
    )
    assert reached == ["email", "slack"]
    # a CEO who takes only critical alerts gets none of this high one
    strict = subscriber(min_severity="critical")
    assert not any(matches("northwind", strict, ch, m.attributes) for m in messages for ch in strict.channels)
    # the same transition routed twice is the same message (the notifier logs it once)
    again = routing.alert_messages(pack, "northwind", [(nrr, "firing")], "https://cockpit.example")
    assert [m.body["message_id"] for m in messages] == [m.body["message_id"] for m in again]


def message(status: str = "firing") -> dict:
    pack = load_pack()
    nrr = alert("NRRBelowTarget", "Net revenue retention 95.0% is below 100%", "high", "financials", "ceo")
    [m, *_] = routing.alert_messages(pack, "northwind", [(nrr, status)], "https://cockpit.example")
    return m.to_dict()


def test_pagerduty_gets_an_events_v2_trigger_and_then_a_resolve_of_the_same_dedup_key():
    pd = subscriber().channels[3]
    fired = json.loads(channels.render(pd, message("firing"), 1).body)
    assert channels.render(pd, message(), 1).url == "https://events.pagerduty.com/v2/enqueue"
    assert fired["routing_key"] == "a" * 32 and fired["event_action"] == "trigger"
    assert fired["payload"]["severity"] == "error"  # high → PagerDuty's "error"
    assert fired["payload"]["summary"] == "Net revenue retention 95.0% is below 100%"
    assert (
        fired["payload"]["source"] == "companyos/northwind" and fired["payload"]["class"] == "NRRBelowTarget"
    )
    assert fired["links"][0]["href"].startswith("https://cockpit.example/#/northwind/")
    resolved = json.loads(channels.render(pd, message("resolved"), 1).body)
    assert resolved == {"routing_key": "a" * 32, "event_action": "resolve", "dedup_key": fired["dedup_key"]}


def test_slack_and_teams_bodies():
    teams = "https://contoso.webhook.office.com/webhookb2/a/b/c"
    sub = subscriber(channels=[{"type": "slack", "address": SLACK}, {"type": "teams", "address": teams}])
    slack = json.loads(channels.render(sub.channels[0], message(), 1).body)
    assert slack["text"] == "High: Net revenue retention 95.0% is below 100%"
    assert [b["type"] for b in slack["blocks"]] == ["section", "section", "context", "actions"]
    teams = json.loads(channels.render(sub.channels[1], message(), 1).body)
    [attachment] = teams["attachments"]
    assert (
        teams["type"] == "message" and attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    )
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["actions"][0]["url"].startswith("https://cockpit.example/#/northwind/")


def test_the_webhook_signature_is_hmac_sha256_of_timestamp_dot_body():
    hook = subscriber(channels=[{"type": "webhook", "address": "https://h.example/x"}]).channels[0]
    hook = hook.model_copy(update={"secret": "whsec_test"})
    out = channels.render(hook, message(), 1_767_000_000)
    mac = hmac.new(b"whsec_test", b"1767000000." + out.body.encode(), hashlib.sha256).hexdigest()
    assert out.headers["X-CompanyOS-Signature"] == f"t=1767000000,v1={mac}"
    assert json.loads(out.body)["rule"] == "NRRBelowTarget"
