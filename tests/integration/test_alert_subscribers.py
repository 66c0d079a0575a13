"""Alert subscribers through the local front door (issue #18, 2): a person subscribes personas and
channels (e-mail, SMS, Slack/Teams webhook, PagerDuty Events v2, signed webhook); e-mail and SMS
become SNS subscriptions with the subscriber's filter policy; the notifier delivers each alert
message to every channel it reaches, once, and the outbox shows what each subscriber received.
Refusals are 4xx with a code and leave nothing behind (no record, no SNS subscription)."""

from __future__ import annotations

import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from tests.conftest import Running
from tests.integration.conftest import make_tenant
from tests.integration.test_alerts_api import audit_actions
from tests.integration.test_alerts_flow import add_user, api, evaluate, put_snapshot

SLACK = "https://hooks.slack.com/services/T0000TEST/B0000TEST/abcdefghijklmnopqrstuvwx"
PD_KEY = "0123456789abcdef0123456789abcdef"
HOOK = "https://hooks.example.com/companyos"


@pytest.fixture(scope="module")
def tenant(local: Running):
    t = make_tenant(local, "alerts-subs", "Alerts Subscribers Co")
    tokens = {role: add_user(local, t.id, role) for role in ("ceo", "tenant_admin")}
    tokens["cto"] = t.cto_token
    return t, tokens


def subscriptions(local: Running) -> dict[str, dict[str, Any]]:
    """The alerts topic's subscriptions by endpoint, with their filter policies."""
    sns = boto3.client("sns")
    topic = local.stack.settings.alerts_topic_arn
    out = {}
    for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        attrs = sns.get_subscription_attributes(SubscriptionArn=s["SubscriptionArn"])["Attributes"]
        out.setdefault(s["Endpoint"], []).append(json.loads(attrs.get("FilterPolicy") or "{}"))
    return out


def arns_of(local: Running, endpoint: str) -> list[str]:
    topic = local.stack.settings.alerts_topic_arn
    listed = boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    return [s["SubscriptionArn"] for s in listed if s["Endpoint"] == endpoint]


def ceo_body(**over: Any) -> dict[str, Any]:
    body = {
        "name": "Ada Lovelace",
        "email": "ada@alerts-subs.test",
        "personas": ["ceo"],
        "channels": [
            {"type": "email", "address": "Ada@Alerts-Subs.test"},
            {"type": "sms", "address": "+14155550123"},
            {"type": "slack", "address": SLACK},
            {"type": "pagerduty", "address": PD_KEY},
            {"type": "webhook", "address": HOOK, "carries": ["email"]},
        ],
        "reason": "the CEO's alerts",
    }
    return body | over


def post(local, token, tenant_id, body):
    return api(local, token, "POST", f"/api/alert-subscribers?tenant={tenant_id}", body)


def test_refusals_are_4xx_with_a_code_and_store_nothing(local, tenant):
    t, tok = tenant
    before = subscriptions(local)
    cases = [
        (tok["cto"], ceo_body(), 403, "action_forbidden"),  # only administrators manage subscribers
        (tok["tenant_admin"], ceo_body(email="not-an-email"), 422, None),
        (tok["tenant_admin"], ceo_body(channels=[{"type": "sms", "address": "4155550123"}]), 422, None),
        (tok["tenant_admin"], ceo_body(channels=[{"type": "slack", "address": HOOK}]), 422, None),
        (tok["tenant_admin"], ceo_body(channels=[{"type": "pagerduty", "address": "short"}]), 422, None),
        (
            tok["tenant_admin"],
            ceo_body(channels=[{"type": "webhook", "address": "http://plain.example"}]),
            422,
            None,
        ),
        (tok["tenant_admin"], ceo_body(personas=["cfo"]), 422, "unknown_persona"),
        (tok["tenant_admin"], ceo_body(oncall=["nobody_on_call"]), 422, "unknown_target"),
        (
            tok["tenant_admin"],
            ceo_body(
                channels=[{"type": "email", "address": "a@b.test"}, {"type": "email", "address": "A@b.test"}]
            ),
            422,
            "duplicate_channel",
        ),
        (
            tok["tenant_admin"],  # 8 personas x 4 channels x 5 severities = 160 > SNS's 150
            ceo_body(
                personas=[
                    "ceo",
                    "cto",
                    "ciso",
                    "ops",
                    "product",
                    "cfo_office",
                    "data_quality",
                    "platform_engineering",
                ],
                channels=[
                    {"type": "webhook", "address": HOOK, "carries": ["sms", "email", "slack", "pagerduty"]}
                ],
            ),
            422,
            "filter_too_wide",
        ),
    ]
    for token, body, status, code in cases:
        reply = post(local, token, t.id, body)
        assert reply.status == status, (body, reply.body)
        assert reply.body.get("code"), reply.body
        if code:
            assert reply.body["code"] == code, reply.body
        assert reply.body.get("message")
    listed = api(local, tok["tenant_admin"], "GET", f"/api/alert-subscribers?tenant={t.id}")
    assert listed.status == 200 and listed.body["subscribers"] == []
    assert subscriptions(local) == before  # no SNS subscription left behind by a refused request
    missing = api(local, tok["tenant_admin"], "GET", f"/api/alert-subscribers/sub_00aa?tenant={t.id}")
    assert missing.status == 404 and missing.body["code"] == "subscriber_not_found"


def test_a_subscriber_gets_sns_subscriptions_with_its_filter_and_each_alert_once_per_channel(local, tenant):
    t, tok = tenant
    made = post(local, tok["tenant_admin"], t.id, ceo_body(email=f"ceo@{t.id}.test"))  # the CEO user
    assert made.status == 200, made.body
    sub = made.body
    by_type = {c["type"]: c for c in sub["channels"]}
    assert by_type["email"]["address"] == "ada@alerts-subs.test"  # e-mail addresses compare lower-case
    assert [by_type[k]["delivered_by"] for k in ("email", "sms", "slack")] == ["sns", "sns", "notifier"]
    secret = by_type["webhook"]["secret"]
    assert secret.startswith("whsec_") and by_type["webhook"]["secret_set"] is True
    assert "alert.subscriber_created" in audit_actions(t.id)
    # the secret is shown once: reading the subscriber again does not show it
    again = api(
        local, tok["tenant_admin"], "GET", f"/api/alert-subscribers/{sub['subscriber_id']}?tenant={t.id}"
    )
    assert "secret" not in {k for c in again.body["channels"] for k in c if c["type"] == "webhook"}

    # SNS: the e-mail and the phone each subscribed with the CEO's filter, written out by hand
    policy = {
        "kind": ["alert"],
        "tenant": [t.id],
        "persona": ["ceo"],
        "severity": ["critical", "high", "warning", "medium", "info"],
    }
    subs = subscriptions(local)
    assert subs["ada@alerts-subs.test"] == [policy | {"channel": ["email"]}]
    assert subs["+14155550123"] == [policy | {"channel": ["sms"]}]
    assert SLACK not in subs and PD_KEY not in subs  # the notifier posts those

    # When net revenue retention falls below target: NRRBelowTarget routes the CEO email + slack
    put_snapshot(t.id, {"net_revenue_retention": 95.0})
    out = evaluate(local, t.id)
    assert [tr["to"] for tr in out["transitions"] if tr["rule"] == "NRRBelowTarget"] == ["firing"]
    local.stack.deliver_notifications()
    got = api(
        local, tok["ceo"], "GET", f"/api/alert-subscribers/{sub['subscriber_id']}/notifications?tenant={t.id}"
    )  # the CEO sees the notifications of the subscriber that is them
    assert got.status == 200, got.body
    rows = got.body["notifications"]
    # the email message reaches the email and the webhook (it carries email), slack the Slack hook;
    # nothing pages (NRR routes no pagerduty) and no SMS (not routed for the CEO)
    assert sorted(n["channel_type"] for n in rows) == ["email", "slack", "webhook"]
    assert {n["status"] for n in rows} == {"recorded"}  # the local stack sends nothing out
    email = next(n for n in rows if n["channel_type"] == "email")
    assert email["rendered"]["subject"] == f"[HIGH] NRRBelowTarget · {t.id}"
    assert "Net revenue retention 95.0% is below 100%" in email["rendered"]["body"]
    slack = json.loads(next(n for n in rows if n["channel_type"] == "slack")["rendered"]["body"])
    assert slack["text"].startswith("High: Net revenue retention 95.0%")
    assert slack["blocks"][-1]["elements"][0]["url"].endswith(f"/#/{t.id}/ceo?period=7d")

    # Re-evaluating, and SNS handing the same messages over again, deliver nothing new
    evaluate(local, t.id)
    local.stack.deliver_notifications()
    again = api(
        local, tok["ceo"], "GET", f"/api/alert-subscribers/{sub['subscriber_id']}/notifications?tenant={t.id}"
    )
    assert len(again.body["notifications"]) == 3

    # a member who is not this subscriber does not read its notifications
    denied = api(
        local, tok["cto"], "GET", f"/api/alert-subscribers/{sub['subscriber_id']}/notifications?tenant={t.id}"
    )
    assert denied.status == 403 and denied.body["code"] == "action_forbidden"


def test_the_signed_webhook_verifies_with_the_secret_shown_once(local):
    """The webhook's signature is HMAC-SHA256 of "<t>.<body>" (Stripe's scheme), computed here."""
    from companyos.adapters.subscribers_repo import SubscriberRepo
    from companyos.alerts.channels import render

    t = make_tenant(local, "alerts-subs-hook", "Alerts Hook Co")
    admin = add_user(local, t.id, "tenant_admin")
    body = ceo_body(channels=[{"type": "webhook", "address": HOOK, "carries": ["email"]}])
    made = post(local, admin, t.id, body).body
    secret = made["channels"][0]["secret"]
    [stored] = SubscriberRepo(t.id).all()
    message = {
        "subject": "s",
        "sms": "x",
        "attributes": {},
        "body": {"message_id": "m1", "rule": "R", "alerts": []},
    }
    out = render(stored.channels[0], message, 1_700_000_000)
    assert out.url == HOOK and out.headers["X-CompanyOS-Message-Id"] == "m1"
    expected = hmac.new(secret.encode(), b"1700000000." + out.body.encode(), hashlib.sha256).hexdigest()
    assert out.headers["X-CompanyOS-Signature"] == f"t=1700000000,v1={expected}"


def test_overlapping_evaluations_reach_each_subscriber_channel_once(local):
    """The parallel-evaluation acceptance: six evaluations at once, one episode, one message per
    subscriber channel (CTO e-mail: DORARegression routes the CTO by e-mail only)."""
    t = make_tenant(local, "alerts-subs-race", "Alerts Race Co")
    admin = add_user(local, t.id, "tenant_admin")
    body = {
        "name": "Grace Hopper",
        "email": "grace@race.test",
        "personas": ["cto"],
        "channels": [{"type": "email", "address": "grace@race.test"}, {"type": "teams", "address":
                     "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"}],
    }  # fmt: skip
    sub = post(local, admin, t.id, body).body
    put_snapshot(t.id, {"change_failure_rate": 40.0})
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: evaluate(local, t.id), range(6)))
    with ThreadPoolExecutor(max_workers=3) as pool:  # the notifier's deliveries overlapping too
        list(pool.map(lambda _: local.stack.deliver_notifications(), range(3)))
    rows = api(
        local, admin, "GET", f"/api/alert-subscribers/{sub['subscriber_id']}/notifications?tenant={t.id}"
    )
    got = [(n["channel_type"], n["attributes"]["rule"]) for n in rows.body["notifications"]]
    assert got == [("email", "DORARegression")]  # Teams carries the chat channel: not routed here
    outbox = api(local, admin, "GET", f"/api/alert-notifications?tenant={t.id}")
    assert [n["subscriber_name"] for n in outbox.body["notifications"]] == ["Grace Hopper"]


def test_replace_keeps_subscriptions_disable_mutes_and_remove_unsubscribes(local):
    t = make_tenant(local, "alerts-subs-life", "Alerts Life Co")
    admin = add_user(local, t.id, "tenant_admin")
    body = {"name": "Lin", "email": "lin@life.test", "personas": ["ops"],
            "channels": [{"type": "email", "address": "lin@life.test"}]}  # fmt: skip
    sub = post(local, admin, t.id, body).body
    path = f"/api/alert-subscribers/{sub['subscriber_id']}?tenant={t.id}"
    [arn_before] = arns_of(local, "lin@life.test")
    stale = api(local, admin, "PUT", path, body | {"expected_revision": 7, "min_severity": "high"})
    assert stale.status == 409 and stale.body["code"] == "revision_mismatch"
    # on call for the reliability route's primary, high and above only
    changed = api(local, admin, "PUT", path, body | {"expected_revision": 1, "min_severity": "high",
                                                      "oncall": ["sre_primary"]})  # fmt: skip
    assert changed.status == 200 and changed.body["revision"] == 2, changed.body
    # one subscription per endpoint and topic (SNS): the alert and the escalation policies under $or
    [policy] = subscriptions(local)["lin@life.test"]
    assert policy == {
        "tenant": [t.id],
        "$or": [
            {"kind": ["alert"], "persona": ["ops"], "channel": ["email"], "severity": ["critical", "high"]},
            {"kind": ["escalation"], "target": ["sre_primary"]},
        ],
    }
    assert arns_of(local, "lin@life.test") == [arn_before]  # kept (an e-mail confirms once), re-filtered
    # disabled: the subscriptions stay but match nothing
    off = api(local, admin, "PUT", path, body | {"enabled": False})
    assert off.status == 200
    assert subscriptions(local)["lin@life.test"] == [{"kind": ["subscriber_disabled"]}]
    gone = api(local, admin, "DELETE", path + "&reason=left+the+company")
    assert gone.status == 200 and gone.body["removed"] is True
    assert "lin@life.test" not in subscriptions(local)
    assert api(local, admin, "GET", path).status == 404
    assert {"alert.subscriber_replaced", "alert.subscriber_removed"} <= set(audit_actions(t.id))


def test_odd_sns_records_are_refused_not_crashed_on(local):
    out = local.stack.invoke(
        "alert_notifier",
        {
            "Records": [
                {"Sns": {"Message": "not json"}},
                {"x": 1},
                {"Sns": {"Message": "{}", "MessageAttributes": {}}},
            ]
        },
    )
    assert out["refused"] == 3 and out["recorded"] == 0
