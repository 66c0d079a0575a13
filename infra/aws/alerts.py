"""Alerts: the SNS topic that KPI alerts and approval decisions are published to, its DLQ and subscriptions.

The DLQ (`<prefix>-alerts-dlq`, `companyos.alerts.topology`) takes three kinds of message: what SNS could
not deliver to a subscriber (each subscription's redrive policy), what a publisher could not hand to
SNS at all (`Publisher` falls back to `sqs:SendMessage`), and the alert notifier's invocations that
failed every Lambda retry (the function's dead-letter queue: the SNS event it was given). It is
encrypted with the alerts key, so the key policy lets SNS use it for the redrive.

Subscriptions: the `alertEmails` of cdk.json take the whole topic (alerts and approval decisions) by
e-mail; the subscriber records file (infra/aws/subscribers.py) gives each e-mail / SMS channel of an
enabled subscriber its own subscription with the subscriber's filter policy; the alert notifier takes
alert and escalation messages (`NOTIFIER_FILTER`) and posts the webhook-type channels.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from companyos.alerts.topology import DLQ_NAME, DLQ_RETENTION_S, NOTIFIER_FILTER
from constructs import Construct

from infra.aws.subscribers import NativeSubscription

# What a publisher needs on the topic's key (SNS encrypts with a data key of the CMK).
PUBLISH_KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
# Subscriptions of the alerts topic, for the subscriber API (`manages_subscriptions`). The Service
# Authorization Reference lists the `topic` resource type for all five (cfn-lint's Policies.json,
# generated from it, agrees), so each is granted on the alerts topic's ARN only, none on '*'.
SUBSCRIPTION_ACTIONS = [
    "sns:Subscribe",
    "sns:Unsubscribe",
    "sns:SetSubscriptionAttributes",
    "sns:GetSubscriptionAttributes",
    "sns:ListSubscriptionsByTopic",
]
PROTOCOLS = {"email": sns.SubscriptionProtocol.EMAIL, "sms": sns.SubscriptionProtocol.SMS}


def string_filters(policy: dict[str, list[str]]) -> dict[str, sns.SubscriptionFilter]:
    """A message-attribute filter policy `{attribute: [values]}` as CDK subscription filters."""
    return {name: sns.SubscriptionFilter.string_filter(allowlist=values) for name, values in policy.items()}


def _attribute_scope(subscription: Construct) -> None:
    """Say `FilterPolicyScope: MessageAttributes` (SNS's default, which CDK leaves out) in the template,
    as `topology.subscribe` does at onboarding."""
    cfn = subscription.node.default_child
    assert isinstance(cfn, sns.CfnSubscription)
    cfn.filter_policy_scope = "MessageAttributes"


class Alerts(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        emails: tuple[str, ...],
        retain: bool,
        subscribers: tuple[NativeSubscription, ...] = (),
    ) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            description="CompanyOS alerts: SNS topic and alerts DLQ encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "AlertsTopic",
            display_name="CompanyOS alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{prefix}-{DLQ_NAME}",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.seconds(DLQ_RETENTION_S),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        # Subscriptions made at onboarding (`topology.subscribe(..., dlq_arn=...)`) redrive here too, so
        # SNS may send from this topic only, and use the key for that.
        self.dlq.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                resources=[self.dlq.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.topic.topic_arn}},
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=PUBLISH_KMS_ACTIONS,
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        for email in emails:
            self.topic.add_subscription(subs.EmailSubscription(email, dead_letter_queue=self.dlq))
        self.subscriptions: list[sns.Subscription] = [self._native(s) for s in subscribers]

    def _native(self, sub: NativeSubscription) -> sns.Subscription:
        """One e-mail / SMS subscription of a subscriber record under its filter policy — written as
        the policy's JSON, since CDK's string filters cannot say `$or` (a subscriber on call)."""
        subscription = sns.Subscription(
            self,
            sub.construct_id,
            topic=self.topic,
            protocol=PROTOCOLS[sub.protocol],
            endpoint=sub.endpoint,
            dead_letter_queue=self.dlq,
        )
        cfn = subscription.node.default_child
        assert isinstance(cfn, sns.CfnSubscription)
        cfn.filter_policy = sub.filter_policy
        _attribute_scope(subscription)
        return subscription

    def subscribe_notifier(self, fn: lambda_.IFunction) -> None:
        """The alert notifier takes alert and escalation messages (`NOTIFIER_FILTER`); what SNS cannot
        hand to it goes to the DLQ. LambdaSubscription also lets the topic invoke the function."""
        subscription = self.topic.add_subscription(
            subs.LambdaSubscription(
                fn, filter_policy=string_filters(NOTIFIER_FILTER), dead_letter_queue=self.dlq
            )
        )
        _attribute_scope(subscription)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the topic, sqs:SendMessage on its DLQ (the publisher's fallback) and the two key
        actions both need, no wildcards."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=PUBLISH_KMS_ACTIONS, resources=[self.key.key_arn])
        )

    def grant_dead_letter(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dlq.queue_arn])
        )

    def grant_dead_letter_key(self, grantee: iam.IGrantable) -> None:
        """A data key of the alerts key, to send to the (encrypted) DLQ without sns:Publish."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=PUBLISH_KMS_ACTIONS, resources=[self.key.key_arn])
        )

    def grant_manage_subscriptions(self, grantee: iam.IGrantable) -> None:
        """Subscribe, unsubscribe, read and set subscription attributes, list: this topic only."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=SUBSCRIPTION_ACTIONS, resources=[self.topic.topic_arn])
        )
