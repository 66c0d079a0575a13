"""Alert delivery resources as data: the topic (shared with approvals: ALERTS_TOPIC_ARN), its
dead-letter queue, and subscribers with filter policies. CDK and infra/local (`infra.local.alerts_topology`)
build from here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from companyos.adapters.aws import AwsClients, aws
from companyos.alerts.routing import escalation_filter, subscription_filter

# what the alert notifier's subscription takes from the topic (approval decisions go to e-mail only)
NOTIFIER_FILTER: dict[str, list[str]] = {"kind": ["alert", "escalation"]}
DLQ_NAME = "alerts-dlq"  # stem; the physical name is <prefix>-alerts-dlq
DLQ_RETENTION_S = 14 * 86400

# Subscriber protocols per channel (SNS): PagerDuty and Slack are HTTPS webhooks.
PROTOCOLS: dict[str, str] = {"sms": "sms", "email": "email", "pagerduty": "https", "slack": "https"}


@dataclass(frozen=True)
class Subscriber:
    """One endpoint of one tenant: a persona x channel subscriber, or an on-call escalation target."""

    tenant_id: str
    endpoint: str
    protocol: str  # sms / email / https / sqs / lambda
    persona: str | None = None
    channel: str | None = None
    target: str | None = None

    def filter_policy(self) -> dict[str, list[str]]:
        if self.target:
            return escalation_filter(self.tenant_id, self.target)
        if not (self.persona and self.channel):
            raise ValueError("a subscriber names a persona and channel, or an escalation target")
        return subscription_filter(self.tenant_id, self.persona, self.channel)


def subscribe(
    topic_arn: str,
    sub: Subscriber,
    dlq_arn: str | None = None,
    clients: AwsClients | None = None,
    policy: dict[str, Any] | None = None,
) -> str:
    """Subscribe with the subscriber's filter policy (or `policy`) and, if given, a redrive policy to
    the DLQ (SNS moves messages it could not deliver to the endpoint there after its own retries)."""
    sns = (clients or aws()).sns
    chosen = policy if policy is not None else sub.filter_policy()
    attrs = {"FilterPolicy": json.dumps(chosen), "FilterPolicyScope": "MessageAttributes"}
    if dlq_arn:
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn})
    return str(
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol=sub.protocol,
            Endpoint=sub.endpoint,
            Attributes=attrs,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    )
