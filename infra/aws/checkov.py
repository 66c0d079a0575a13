"""checkov skips: every check this stack does not meet, per check and resource, with its reason.

checkov (`--framework cloudformation`, config in .checkov.yaml) reads a resource's
`Metadata.checkov.skip` entries and reports them as skipped with their comment, so a customer running
checkov over the synthesized templates sees the same reasons. `apply(stack, config)` writes them from
`skips(config)`; a skip that matches no resource fails synth, so the list cannot outlive what it excuses.
tests/infra/test_templates.py runs checkov over dev, stg and prod and fails on any other finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from aws_cdk import CfnResource, Stack
from companyos.topology import FUNCTIONS

from infra.aws.config import StageConfig
from infra.aws.reasons import (
    ALERT_SUBSCRIBERS,
    ASYNC_TARGETS,
    CUSTOM_RESOURCE_DLQ,
    DEPLOYMENT_INVALIDATION,
    PUBLIC_ROUTE_CHECKS,
    STAR_ACTIONS,
    sync_dlq_reason,
)

FUNCTION = "AWS::Lambda::Function"
DEPLOY_HANDLER = "Custom::CDKBucketDeployment*/Resource"


@dataclass(frozen=True)
class Skip:
    check: str  # checkov id, e.g. CKV_AWS_116
    type: str  # CloudFormation resource type
    paths: tuple[str, ...]  # construct paths below the stack (fnmatch globs)
    reason: str


def _stem(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _function_skips() -> list[Skip]:
    every = ("Functions/*/Resource", DEPLOY_HANDLER)
    skips = [
        Skip(
            "CKV_AWS_173",
            FUNCTION,
            every,
            "Lambda encrypts environment variables at rest with its AWS-managed key. These hold no "
            "secret: table, queue, topic and state machine names/ARNs and settings. Webhook secrets are "
            "read from Secrets Manager at run time and the audit signing key never leaves KMS.",
        ),
        Skip(
            "CKV_AWS_115",
            FUNCTION,
            every,
            "Reserved concurrency is carved out of the account's regional pool and Lambda refuses "
            "reservations that leave fewer than 100 unreserved; reserving for "
            f"{len(FUNCTIONS)} functions in each of three stages would fail deploys on accounts with the "
            "default or a lower quota. Traffic is bounded by the API stage throttle (cdk.json throttle "
            "per stage), by the schedules and, for the alert notifier, by the alert messages published.",
        ),
        Skip(
            "CKV_AWS_117",
            FUNCTION,
            every,
            "No function reaches a private network: they call AWS APIs (DynamoDB, Step Functions, SNS, "
            "SQS, S3, Athena, Glue, Secrets Manager, KMS, X-Ray) over TLS with IAM-scoped roles, and "
            "prom_pull calls the HTTPS endpoint a tenant configures, the alert notifier the subscribers' "
            "HTTPS webhooks (Slack, Teams, PagerDuty, signed). A VPC would add a NAT gateway (about "
            "$33/month per AZ) or interface endpoints (about $7.50/month each per AZ) per stage.",
        ),
        Skip("CKV_AWS_116", FUNCTION, (DEPLOY_HANDLER,), CUSTOM_RESOURCE_DLQ),
    ]
    for spec in FUNCTIONS:
        if spec.name not in ASYNC_TARGETS | ALERT_SUBSCRIBERS:
            path = f"Functions/{_stem(spec.name)}/Resource"
            skips.append(Skip("CKV_AWS_116", FUNCTION, (path,), sync_dlq_reason(spec)))
    return skips


def skips(config: StageConfig) -> list[Skip]:
    distribution = ("Web/Distribution/Resource",)
    found = [
        *_function_skips(),
        *(
            Skip(
                "CKV_AWS_59",
                "AWS::ApiGateway::Method",
                (f"Api/RestApi/Default{route.split(' ', 1)[1]}/{route.split(' ', 1)[0]}/Resource",),
                reason,
            )
            for route, reason in PUBLIC_ROUTE_CHECKS.items()
        ),
        Skip(
            "CKV_AWS_120",
            "AWS::ApiGateway::Stage",
            ("Api/RestApi/DeploymentStage.*/Resource",),
            "Every response depends on the caller (Cognito claims decide the tenant and what the role "
            "may see) and must show the latest delivered KPI run: a stage cache would serve stale runs or, "
            "keyed without the token, one user's answer to another. The smallest cache is $0.02/hour "
            "(about $14.60/month) per stage.",
        ),
        Skip(
            "CKV_AWS_18",
            "AWS::S3::Bucket",
            ("AccessLogs/Resource",),
            "This is the access-log bucket every other bucket and CloudFront log into; logging it into "
            "itself would log its own log deliveries without end. It is versioned, SSL-only and private.",
        ),
        Skip(
            "CKV_AWS_111",
            "AWS::IAM::Policy",
            ("Custom::CDKBucketDeployment*/ServiceRole/DefaultPolicy/Resource",),
            "The one unconstrained write is cloudfront:CreateInvalidation: "
            + STAR_ACTIONS[DEPLOYMENT_INVALIDATION],
        ),
    ]
    if not config.web_acl_arn:
        found.append(
            Skip(
                "CKV_AWS_68",
                "AWS::CloudFront::Distribution",
                distribution,
                f"No web ACL configured for {config.name} (webAclArn): CloudFront web ACLs are made in "
                "us-east-1 and this stack is regional. A web ACL costs $5/month + $1 per rule + $0.60 per "
                "million requests. Static assets are public by nature; /api needs a Cognito token except "
                "the ingest route, which verifies the sender before parsing.",
            )
        )
    if not config.certificate_arn:
        found.append(
            Skip(
                "CKV_AWS_174",
                "AWS::CloudFront::Distribution",
                distribution,
                f"No custom domain for {config.name}: with the default *.cloudfront.net certificate "
                "CloudFront fixes the viewer security policy and MinimumProtocolVersion cannot be set. "
                "Set cockpitDomain + certificateArn and the distribution enforces TLSv1.2_2021.",
            )
        )
    return found


def apply(stack: Stack, config: StageConfig) -> None:
    """Write each skip into its resources' `Metadata.checkov.skip`; a skip matching nothing raises."""
    prefix = stack.node.path + "/"
    resources = [c for c in stack.node.find_all() if isinstance(c, CfnResource)]
    entries: dict[str, tuple[CfnResource, list[dict[str, str]]]] = {}
    for skip in skips(config):
        matched = [
            r
            for r in resources
            if r.cfn_resource_type == skip.type
            and any(fnmatchcase(r.node.path.removeprefix(prefix), glob) for glob in skip.paths)
        ]
        if not matched:
            raise ValueError(f"checkov skip {skip.check} matches no {skip.type} at {skip.paths}")
        for resource in matched:
            entry = entries.setdefault(resource.node.path, (resource, []))
            entry[1].append({"id": skip.check, "comment": skip.reason})
    for resource, skipped in entries.values():
        resource.add_metadata("checkov", {"skip": skipped})
