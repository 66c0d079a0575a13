"""Reports: the board-pack reports bucket (PDFs behind presigned links) and the exports topic.

The bucket is private, SSE-S3 (a presigned GET then needs no KMS grant), SSL-only, versioned and
access-logged; `exports/` objects expire after `EXPORT_RETENTION_DAYS`. The exports topic carries the
"your board pack is ready" notices the board_pack state machine publishes (SNS e-mail subscribers
filtered by the `recipient` attribute); it is KMS-encrypted and SSL-only.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.aws.alerts import PUBLISH_KMS_ACTIONS
from infra.aws.buckets import secure_bucket

EXPORTS_PREFIX = "exports/"
# Links live at most 7 days (EXPORT_LINK_TTL_S <= 604800); the PDFs are kept a little longer for support.
EXPORT_RETENTION_DAYS = 30


class Reports(Construct):
    def __init__(self, scope: Construct, id: str, *, log_bucket: s3.IBucket, retain: bool) -> None:
        super().__init__(scope, id)
        self.bucket = secure_bucket(
            self,
            "Bucket",
            log_bucket=log_bucket,
            log_prefix="reports/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-exports",
                    prefix=EXPORTS_PREFIX,
                    expiration=Duration.days(EXPORT_RETENTION_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        self.key = kms.Key(
            self,
            "ExportsKey",
            description="CompanyOS board-pack exports: SNS topic encryption",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self, "ExportsTopic", display_name="CompanyOS board pack", master_key=self.key, enforce_ssl=True
        )

    def grant_objects(self, grantee: iam.IGrantable, access: str) -> None:
        """Object actions under `exports/` only: read (presigned GET is signed by this role) and write."""
        actions = ["s3:GetObject"] + (["s3:PutObject"] if access == "write" else [])
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=actions, resources=[self.bucket.arn_for_objects(EXPORTS_PREFIX + "*")]
            )
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=PUBLISH_KMS_ACTIONS, resources=[self.key.key_arn])
        )
