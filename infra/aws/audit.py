"""The audit trail's AWS side (#17, docs/admin.md): the digest signing key and the sealer's stream.

Signing key: asymmetric KMS, ECC_NIST_P256, SIGN_VERIFY; the private key never leaves KMS.
`AUDIT_SIGNING_KEY_ID` names it to the functions with a topology `audit_key`: the sealer ("sign":
kms:Sign, kms:Verify, kms:GetPublicKey — the one signer) and the verifiers ("verify": kms:Verify,
kms:GetPublicKey; the admin API's audit verify and evidence export). Request-path writers get
neither: they only put records. Asymmetric keys cannot rotate automatically; old signatures stay
verifiable with the exported public key.

Sealer stream: the audit table's stream (NEW_IMAGE) → the `audit_sealer` function through an event
source mapping filtered to INSERTs of records (`pk` begins with `REC#`): batches of up to 100 records
or 60 s (the sealing delay), from the trim horizon, bisected on error, retried 5 times, then sent to
an on-failure queue (the 5-minute sweep seals those records anyway). Ordering: a stream shard is
processed by one invocation at a time (parallelization factor 1), and a tenant's records share one
partition key, so a tenant's records reach the sealer in order; a second concurrent sealer of one
chain (a resharded stream) is safe — its transactions are conditional and it re-reads the head.
No reserved concurrency is needed for ordering (shards bound the concurrency).
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

SIGNING_ACTIONS = ["kms:Sign", "kms:Verify", "kms:GetPublicKey"]
VERIFYING_ACTIONS = ["kms:Verify", "kms:GetPublicKey"]
SEALER_BATCH_SIZE = 100
SEALER_BATCHING_WINDOW_S = 60


class AuditSigning(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str, retain: bool) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self,
            "Key",
            description="CompanyOS audit chain: digest signing (ECC_NIST_P256)",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            alias=f"alias/{prefix}-audit-signing",
            # Like the data key: retained outside dev (signed heads are verified against it).
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.sealer_failures: sqs.Queue | None = None

    def grant_sign(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=SIGNING_ACTIONS, resources=[self.key.key_arn])
        )

    def grant_verify(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=VERIFYING_ACTIONS, resources=[self.key.key_arn])
        )

    def feed_sealer(self, sealer: lambda_.Function, table: ddb.ITable, data_key: kms.IKey) -> None:
        """The audit table's stream → `sealer` (see the module docstring)."""
        self.sealer_failures = sqs.Queue(
            self,
            "SealerStreamFailures",
            # the data key, like the functions' dead-letter queues (granted in `_FailureQueue.bind`)
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        sealer.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=SEALER_BATCH_SIZE,
                max_batching_window=Duration.seconds(SEALER_BATCHING_WINDOW_S),
                bisect_batch_on_error=True,
                retry_attempts=5,
                parallelization_factor=1,
                on_failure=_FailureQueue(self.sealer_failures, data_key),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.is_equal("INSERT"),
                            "dynamodb": {"Keys": {"pk": {"S": lambda_.FilterRule.begins_with("REC#")}}},
                        }
                    )
                ],
            )
        )


@jsii.implements(lambda_.IEventSourceDlq)
class _FailureQueue:
    """`SqsDlq` with exact key actions: SqsDlq grants the queue key's `kms:GenerateDataKey*` and
    `kms:ReEncrypt*` wildcards; sending to a KMS-encrypted queue needs GenerateDataKey and Decrypt."""

    def __init__(self, queue: sqs.Queue, key: kms.IKey) -> None:
        self._queue, self._key = queue, key

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        role = target_handler.role
        assert role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[self._queue.queue_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self._key.key_arn])
        )
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)
