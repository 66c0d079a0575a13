"""cdk-nag: the AwsSolutions and Serverless packs over the whole app, and every acknowledgement in one place.

cdk-nag 3 reports through CDK's Validations: an unacknowledged error fails synth. Each acknowledgement
names one finding (IAM5 findings carry the wildcard in their id) and says why it is acceptable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from aws_cdk import Acknowledgment, DefaultStackSynthesizer, Token, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from companyos.topology import FUNCTIONS, STATE_MACHINES, FunctionSpec
from constructs import IConstruct, Node

from infra.aws.cost import CUR_PREFIX, RESULTS_PREFIX
from infra.aws.reasons import (
    ASYNC_TARGETS,
    CUSTOM_RESOURCE_DLQ,
    DEPLOYMENT_INVALIDATION,
    FUNCTION_XRAY,
    FUNCTION_XRAY_ACM_LIST,
    FUNCTION_XRAY_STREAM,
    INGEST_CHECKS,
    PUBLIC_ROUTE_CHECKS,
    STAR_ACTIONS,
    STATE_MACHINE_LOGS_XRAY,
    sync_dlq_reason,
)
from infra.aws.reports import EXPORTS_PREFIX

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam

    from infra.aws.alerts import Alerts
    from infra.aws.api import Api
    from infra.aws.audit import AuditSigning
    from infra.aws.config import StageConfig
    from infra.aws.cost import Cost
    from infra.aws.functions import Functions
    from infra.aws.pipeline import Pipeline
    from infra.aws.reports import Reports
    from infra.aws.web import Web

MANAGED = "arn:<AWS::Partition>:iam::aws:policy/service-role"


class Resolves(Protocol):
    """A CDK Stack as `nag_ref` uses it: it resolves tokens to their CloudFormation form."""

    def resolve(self, obj: Any) -> Any: ...


class CockpitConstructs(Resolves, Protocol):
    """What the acknowledgements read: a Stack holding the bounded-context constructs.
    `infra.aws.stage.CockpitStack` is one; stage imports this module, this module does not import stage."""

    config: StageConfig
    functions: Functions
    alerts: Alerts
    pipeline: Pipeline
    api: Api
    web: Web
    reports: Reports
    cost: Cost
    audit: AuditSigning

    @property
    def node(self) -> Node: ...

    @property
    def account(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def partition(self) -> str: ...


def apply_checks(scope: IConstruct) -> None:
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope), ServerlessChecks(scope))


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    raise ValueError(f"cannot render {value!r} like cdk-nag")


def nag_ref(stack: Resolves, value: str) -> str:
    """A (tokenised) ARN as cdk-nag spells it in a finding id, e.g. `<Bucket1234.Arn>/*`."""
    return _render(stack.resolve(value))


def star_actions(stack: Resolves, role: iam.IRole) -> frozenset[str]:
    """The actions a role's default policy allows on `Resource: "*"` (as synthesized)."""
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        return frozenset()
    document = stack.resolve(policy.document)  # type: ignore[attr-defined]
    actions: set[str] = set()
    for statement in document.get("Statement", []):
        resources = statement.get("Resource", [])
        if "*" in ([resources] if isinstance(resources, str) else resources):
            action = statement["Action"]
            actions.update([action] if isinstance(action, str) else action)
    return frozenset(actions)


def _ack_star(stack: Resolves, scope: IConstruct, role: iam.IRole, expected: frozenset[str]) -> None:
    """IAM5 `Resource::*` names no action, so it is acknowledged only for the exact action set it was
    reviewed for: a role holding any other action on '*' fails synth here instead of passing silently."""
    actual = star_actions(stack, role)
    if actual != expected:
        raise ValueError(
            f"{role.node.path}: actions on Resource '*' are {sorted(actual)}, reviewed for "
            f"{sorted(expected)}; review the new statement and add its reason to infra/aws/reasons.py"
        )
    _ack(scope, "AwsSolutions-IAM5[Resource::*]", f"{', '.join(sorted(expected))}: {STAR_ACTIONS[expected]}")


def acknowledge(stack: CockpitConstructs) -> None:
    for spec in FUNCTIONS:
        _acknowledge_function(stack, spec)
    dlq_reason = (
        "The alerts DLQ is itself a dead-letter queue: SNS subscriptions redrive to it, publishers fall "
        "back to it and the alert notifier's failed invocations land in it; messages are kept 14 days "
        "for replay."
    )
    _ack(stack.alerts.dlq, "Serverless-SQSRedrivePolicy", dlq_reason)
    _ack(stack.alerts.dlq, "AwsSolutions-SQS3", dlq_reason)
    sealer_reason = (
        "The audit sealer's stream mapping sends a batch that failed every retry here (its on-failure "
        "destination: shard and sequence numbers, kept 14 days); it is itself the dead-letter queue, "
        "and the 5-minute sweep seals those records anyway."
    )
    _ack(stack.audit.sealer_failures, "Serverless-SQSRedrivePolicy", sealer_reason)  # type: ignore[arg-type]
    _ack(stack.audit.sealer_failures, "AwsSolutions-SQS3", sealer_reason)  # type: ignore[arg-type]
    for name, machine in stack.pipeline.state_machines.items():
        _ack_star(stack, machine.role, machine.role, STATE_MACHINE_LOGS_XRAY)
        if next(s for s in STATE_MACHINES if s.name == name).log_level != "ALL":
            _ack(
                machine,
                "AwsSolutions-SF1",
                "The KPI run's record is the append-only run log (every step's row, shown on the run "
                "page); logging each execution's events with their data too cost $0.50/GB on ~140 KB a "
                "run (docs/decisions.md #19, docs/cost.md). It logs its errors; X-Ray tracing is on.",
            )
    _ack(
        stack.api.rest_api,
        f"AwsSolutions-IAM4[Policy::{MANAGED}/AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway writes execution logs through one account-level role (AWS::ApiGateway::Account); "
        "AWS publishes AmazonAPIGatewayPushToCloudWatchLogs as the policy for that role.",
    )
    _ack(
        stack.api.rest_api,
        "AwsSolutions-APIG3",
        "No regional web ACL yet ($5/month + $1 per rule + $0.60 per million requests, docs/decisions.md "
        f"#17): every route but the two ingest routes (a delivery POST, a sender's verification GET) "
        f"needs a Cognito token, the stage is throttled at "
        f"{stack.config.rate_limit} req/s (burst {stack.config.burst_limit}), and: {INGEST_CHECKS}",
    )
    _acknowledge_distribution(stack)
    _acknowledge_bucket_deployment(stack)


def _acknowledge_distribution(stack: CockpitConstructs) -> None:
    distribution = stack.web.distribution
    if not stack.web.custom_certificate:
        _ack(
            distribution,
            "AwsSolutions-CFR4",
            "No custom domain in this stage: with the default *.cloudfront.net certificate CloudFront fixes "
            "the viewer security policy (MinimumProtocolVersion cannot be set). Set cockpitDomain + "
            "certificateArn and the distribution enforces TLSv1.2_2021.",
        )
    _ack(
        distribution,
        "AwsSolutions-CFR1",
        "Executives sign in from wherever they travel, so no country is blocked; sign-in is Cognito with "
        "MFA required.",
    )
    if not stack.config.web_acl_arn:
        _ack(
            distribution,
            "AwsSolutions-CFR2",
            "No web ACL in this stage: CloudFront web ACLs must be made in us-east-1 and this stack is "
            "regional; set webAclArn to one made there ($5/month + $1 per rule + $0.60 per million "
            "requests). The static assets are public by nature; /api needs Cognito tokens except the "
            "ingest route, which verifies the sender before parsing.",
        )


def _acknowledge_function(stack: CockpitConstructs, spec: FunctionSpec) -> None:
    fn = stack.functions.functions[spec.name]
    star = FUNCTION_XRAY_ACM_LIST if spec.reads_certificates else FUNCTION_XRAY
    if spec.audit_key == "sign":  # the sealer reads the audit table's stream
        star = FUNCTION_XRAY_STREAM
    _ack_star(stack, fn.role, fn.role, star)  # type: ignore[arg-type]
    if spec.reads_certificates:
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, stack.functions.certificate_arn_pattern)}]",
            "acm:DescribeCertificate on this account's certificates in any region the tenants configure; "
            "certificate ids are made by ACM at issue/import time.",
        )
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, stack.functions.cert_reader_role_pattern)}]",
            "sts:AssumeRole on the one read-only role name a tenant creates in its own AWS account for the "
            "ACM connector (the account ids are the tenants', configured at onboarding); the role's trust "
            "policy names this function's role and, optionally, an external id.",
        )
    _acknowledge_dead_letters(stack, spec)
    for machine in spec.stops_state_machines:
        executions = nag_ref(stack, stack.functions.execution_arn_pattern(machine))
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{executions}]",
            f"states:StopExecution acts on executions, named per alert episode at run time; the grant is "
            f"limited to the executions of the {machine} state machine.",
        )
    if spec.reports_bucket:
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, stack.reports.bucket.bucket_arn)}/"
            f"{EXPORTS_PREFIX}*]",
            "Board-pack PDFs are written to exports/<job id>/<file>, job ids made at request time; the "
            "grant is object Get/Put under that prefix of the reports bucket only.",
        )
    if spec.queries_lake:
        cost = stack.cost
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, cost.cur_bucket.bucket_arn)}/{CUR_PREFIX}/*]",
            "AWS Data Exports writes CUR 2.0 Parquet as <prefix>/<export>/data/BILLING_PERIOD=<yyyy-mm>/"
            "<file>, names made at delivery; the grant is s3:GetObject under the export prefix only.",
        )
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, cost.results_bucket.bucket_arn)}"
            f"/{RESULTS_PREFIX}/*]",
            "Athena writes each query's results as results/<query execution id>.csv(.metadata) as the "
            "caller; ids are made per query. The grant is object Get/Put/multipart under that prefix only.",
        )
    if spec.reads_webhook_secrets:
        prefix = stack.functions.webhook_secret_arn_pattern
        _ack(
            fn.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::{nag_ref(stack, prefix)}]",
            "Webhook secrets are created per tenant and source at onboarding as "
            "<prefix>/<tenant>/<source>; the grant is limited to that prefix (Secrets Manager ARNs "
            "also end in a random suffix).",
        )
    for route in spec.public_routes:
        if route not in PUBLIC_ROUTE_CHECKS:
            raise ValueError(f"{route}: a public route needs its reason in reasons.PUBLIC_ROUTE_CHECKS")
        method, path = route.split(" ", 1)
        resource = stack.api.rest_api.root.resource_for_path(path).node.find_child(method)
        _ack(resource, "AwsSolutions-APIG4", PUBLIC_ROUTE_CHECKS[route])
        _ack(resource, "AwsSolutions-COG4", PUBLIC_ROUTE_CHECKS[route])


def _acknowledge_dead_letters(stack: CockpitConstructs, spec: FunctionSpec) -> None:
    """A synchronously invoked function has no DLQ (why: `sync_dlq_reason`); a schedule target's own
    DLQ is itself a dead-letter queue; the alert notifier's is the alerts DLQ (acknowledged once)."""
    fn = stack.functions.functions[spec.name]
    if spec.subscribes_alerts:
        return
    if spec.name not in ASYNC_TARGETS:
        _ack(fn, "Serverless-LambdaDLQ", sync_dlq_reason(spec))
        return
    _ack(
        fn.dead_letter_queue,  # type: ignore[arg-type]
        "Serverless-SQSRedrivePolicy",
        "This queue is itself the dead-letter queue of a schedule target; it keeps failed events 14 days.",
    )


def _acknowledge_bucket_deployment(stack: CockpitConstructs) -> None:
    """The BucketDeployment handler is aws-cdk-lib's singleton: runtime, role and grants are its own."""
    handler = next(c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment"))
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    assets = (
        DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
            "${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", stack.region)
    )
    runtime = (
        "aws-cdk-lib 2.275 fixes the BucketDeployment handler's runtime (python3.13) and exposes no "
        "setting for it; it runs only while CloudFormation deploys the web build."
    )
    read = "grantRead of the CDK file-assets bucket, where the web build zip is the source of the deploy"
    write = "grantReadWrite of the site bucket: the handler syncs the build in and prunes files it dropped"
    reasons = {
        "AwsSolutions-L1": runtime,
        "Serverless-LambdaLatestVersion": runtime,
        "Serverless-LambdaDLQ": CUSTOM_RESOURCE_DLQ,
        "Serverless-LambdaTracing": (
            "BucketDeployment exposes no tracing setting; each run is one CloudFormation custom resource "
            "event, recorded in the stack events and its DeployLogs log group."
        ),
        f"AwsSolutions-IAM4[Policy::{MANAGED}/AWSLambdaBasicExecutionRole]": (
            "aws-cdk-lib gives its singleton handler role the AWS-managed basic execution policy: "
            "logs:CreateLogGroup, CreateLogStream and PutLogEvents, nothing else."
        ),
        "AwsSolutions-IAM5[Action::s3:GetBucket*]": f"{read}, and {write}.",
        "AwsSolutions-IAM5[Action::s3:GetObject*]": f"{read}, and {write}.",
        "AwsSolutions-IAM5[Action::s3:List*]": f"{read}, and {write}.",
        "AwsSolutions-IAM5[Action::s3:Abort*]": f"{write} (aborting its own multipart uploads).",
        "AwsSolutions-IAM5[Action::s3:DeleteObject*]": f"{write} (deleting the pruned files).",
        f"AwsSolutions-IAM5[Resource::arn:{nag_ref(stack, stack.partition)}:s3:::{assets}/*]": (
            f"{read}: asset objects are named by content hash at synth time."
        ),
        f"AwsSolutions-IAM5[Resource::{nag_ref(stack, stack.web.bucket.bucket_arn)}/*]": (
            f"{write}: any key of the web build, in the site bucket only."
        ),
    }
    for rule, reason in reasons.items():
        _ack(handler, rule, reason)
    _ack_star(stack, handler, handler.role, DEPLOYMENT_INVALIDATION)  # type: ignore[attr-defined]
