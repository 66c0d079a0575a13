"""One customer-managed KMS key per stack for every CloudWatch log group it makes.

Function, API access, state machine and deployment logs hold tenant ids, KPI values and request
metadata; they are encrypted with this key (CloudWatch Logs encrypts, the key policy lets the regional
Logs service use the key for this account's log groups only). Cost: $1/month per stage for the key;
CloudWatch Logs caches data keys, so its KMS requests stay within the free 20,000/month (docs/decisions.md).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

LOGS_KEY_ID = "LogsKey"
LOGS_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


def create_logs_key(stack: Stack, *, retain: bool) -> kms.Key:
    """The stack's log key; retained with the log groups in stages that retain data."""
    key = kms.Key(
        stack,
        LOGS_KEY_ID,
        description="CompanyOS CloudWatch Logs: every log group of this stack",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=LOGS_KEY_ACTIONS,
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key


def logs_key(scope: Construct) -> kms.IKey:
    """The key `create_logs_key` made on the stack holding `scope`."""
    key = Stack.of(scope).node.try_find_child(LOGS_KEY_ID)
    if not isinstance(key, kms.Key):
        raise ValueError("create_logs_key(stack) must run before any log group is made")
    return key
