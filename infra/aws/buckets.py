"""The two kinds of S3 bucket the stack uses: the access-log bucket and private data buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def access_log_bucket(scope: Construct, id: str) -> s3.Bucket:
    """Target of S3 server access logs (bucket policy) and CloudFront standard logs (which still need
    object ACLs, hence OBJECT_WRITER ownership). It is not access-logged itself: logging a log bucket
    into itself would log its own log deliveries without end."""
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
        # Versioned, so a log object deleted or overwritten stays recoverable for 30 days (log objects
        # are written once: noncurrent versions exist only after a delete or the 365-day expiry).
        versioned=True,
        lifecycle_rules=[
            s3.LifecycleRule(expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    log_bucket: s3.IBucket,
    log_prefix: str,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
) -> s3.Bucket:
    """Private, SSE-S3, SSL-only, versioned, access-logged. Buckets are always retained: they hold
    evidence (billing data, query results, deployed web builds) and are emptied deliberately."""
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        server_access_logs_bucket=log_bucket,
        server_access_logs_prefix=log_prefix,
        lifecycle_rules=lifecycle_rules,
        removal_policy=RemovalPolicy.RETAIN,
    )
