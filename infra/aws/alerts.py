"""Alerts: the SNS topic that KPI alerts and approval decisions are published to, and its DLQ.

The DLQ (`<prefix>-alerts-dlq`, `companyos.alerts.topology`) takes two kinds of message: what SNS could
not deliver to a subscriber (each subscription's redrive policy) and what a publisher could not hand to
SNS at all (`Publisher` falls back to `sqs:SendMessage`). It is encrypted with the alerts key, so the key
policy lets SNS use it for the redrive.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from companyos.alerts.topology import DLQ_NAME, DLQ_RETENTION_S
from constructs import Construct

# What a publisher needs on the topic's key (SNS encrypts with a data key of the CMK).
PUBLISH_KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]


class Alerts(Construct):
    def __init__(
        self, scope: Construct, id: str, *, prefix: str, emails: tuple[str, ...], retain: bool
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
