"""Alerts: the SNS topic that KPI alerts and approval decisions are published to."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

# What a publisher needs on the topic's key (SNS encrypts with a data key of the CMK).
PUBLISH_KMS_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]


class Alerts(Construct):
    def __init__(self, scope: Construct, id: str, *, emails: tuple[str, ...], retain: bool) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            description="CompanyOS alerts: SNS topic encryption",
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
        for email in emails:
            self.topic.add_subscription(subs.EmailSubscription(email))

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        """sns:Publish on the topic and the two key actions SNS needs, no wildcards."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=PUBLISH_KMS_ACTIONS, resources=[self.key.key_arn])
        )
