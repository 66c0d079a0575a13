"""cdk-nag: the AwsSolutions and Serverless packs over the whole app, and every acknowledgement in one place.

cdk-nag 3 reports through CDK's Validations: an unacknowledged error fails synth. Each acknowledgement
names one finding (IAM5 findings carry the wildcard in their id) and says why it is acceptable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from aws_cdk import Acknowledgment, DefaultStackSynthesizer, Token, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from companyos.topology import FUNCTIONS, FunctionSpec
from constructs import IConstruct, Node

from infra.aws.cost import CUR_PREFIX, RESULTS_PREFIX
from infra.aws.functions import ASYNC_TARGETS, UNTRACED
from infra.aws.reports import EXPORTS_PREFIX

if TYPE_CHECKING:
    from infra.aws.alerts import Alerts
    from infra.aws.api import Api
    from infra.aws.cost import Cost
    from infra.aws.functions import Functions
    from infra.aws.pipeline import Pipeline
    from infra.aws.reports import Reports
    from infra.aws.web import Web

MANAGED = "arn:<AWS::Partition>:iam::aws:policy/service-role"
XRAY = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource::*)."
SFN_LOGS = (
    "Step Functions vended log delivery (logs:CreateLogDelivery, ...) and X-Ray support no resource-level "
    "permissions (Resource::*)."
)
CDK_DEPLOYMENT = (
    "CDK-managed BucketDeployment handler (singleton, runs only during deployment): its runtime, managed "
    "role policy and S3 wildcards are set by aws-cdk-lib and scoped to the asset and site buckets."
)


class Resolves(Protocol):
    """A CDK Stack as `nag_ref` uses it: it resolves tokens to their CloudFormation form."""

    def resolve(self, obj: Any) -> Any: ...


class CockpitConstructs(Resolves, Protocol):
    """What the acknowledgements read: a Stack holding the bounded-context constructs.
    `infra.aws.stage.CockpitStack` is one; stage imports this module, this module does not import stage."""

    functions: Functions
    alerts: Alerts
    pipeline: Pipeline
    api: Api
    web: Web
    reports: Reports
    cost: Cost

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


def acknowledge(stack: CockpitConstructs) -> None:
    functions = stack.functions.functions
    for spec in FUNCTIONS:
        _acknowledge_function(stack, spec)
    dlq_reason = (
        "The alerts DLQ is itself a dead-letter queue: SNS subscriptions redrive to it and publishers fall "
        "back to it; messages are kept 14 days for replay."
    )
    _ack(stack.alerts.dlq, "Serverless-SQSRedrivePolicy", dlq_reason)
    _ack(stack.alerts.dlq, "AwsSolutions-SQS3", dlq_reason)
    for name in UNTRACED:
        _ack(
            functions[name],
            "Serverless-LambdaTracing",
            "The read API is latency-bound: the X-Ray SDK import adds 0.2-0.4 s to every cold start.",
        )
    for machine in stack.pipeline.state_machines.values():
        _ack(machine.role, "AwsSolutions-IAM5[Resource::*]", SFN_LOGS)

    _ack(
        stack.api.rest_api,
        f"AwsSolutions-IAM4[Policy::{MANAGED}/AmazonAPIGatewayPushToCloudWatchLogs]",
        "The account-level API Gateway logging role needs this AWS-managed policy for execution logs.",
    )
    _ack(
        stack.api.rest_api,
        "AwsSolutions-APIG3",
        "No regional WAF yet: the API is behind the Cognito authorizer, throttled per stage, and its one "
        "public route rejects unsigned requests. A web ACL is a planned follow-up (docs/decisions.md).",
    )
    distribution = stack.web.distribution
    if not stack.web.custom_certificate:
        _ack(
            distribution,
            "AwsSolutions-CFR4",
            "No custom domain configured: the default *.cloudfront.net certificate fixes the viewer policy; "
            "set cockpitDomain + certificateArn to enforce TLSv1.2_2021.",
        )
    _ack(distribution, "AwsSolutions-CFR1", "Executives sign in from anywhere; no geographic restriction.")
    _ack(
        distribution,
        "AwsSolutions-CFR2",
        "CloudFront web ACLs must live in us-east-1 while this stack is regional; static assets are public "
        "by nature and /api is authenticated and throttled. Planned with the custom domain.",
    )
    _acknowledge_bucket_deployment(stack)


def _acknowledge_function(stack: CockpitConstructs, spec: FunctionSpec) -> None:
    fn = stack.functions.functions[spec.name]
    if spec.name not in UNTRACED:
        _ack(fn.role, "AwsSolutions-IAM5[Resource::*]", XRAY)  # type: ignore[arg-type]
    if spec.name not in ASYNC_TARGETS:
        _ack(
            fn,
            "Serverless-LambdaDLQ",
            "Invoked synchronously (API Gateway or Step Functions): failures return to the caller "
            "and the state machines' Retry/Catch record them; only the async schedule targets have a DLQ.",
        )
    else:
        _ack(
            fn.dead_letter_queue,  # type: ignore[arg-type]
            "Serverless-SQSRedrivePolicy",
            "This queue is itself the dead-letter queue of a schedule target; it keeps failed events "
            "14 days.",
        )
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
        method, path = route.split(" ", 1)
        resource = stack.api.rest_api.root.resource_for_path(path).node.find_child(method)
        reason = (
            "Public webhook: senders (GitHub, PagerDuty, ...) cannot present Cognito tokens; the "
            "function verifies the HMAC signature with the tenant's secret before reading the body."
        )
        _ack(resource, "AwsSolutions-APIG4", reason)
        _ack(resource, "AwsSolutions-COG4", reason)


def _acknowledge_bucket_deployment(stack: CockpitConstructs) -> None:
    handler = next(c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment"))
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    assets = (
        DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
            "${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        .replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", stack.region)
    )
    rules = [
        "AwsSolutions-L1",
        "Serverless-LambdaLatestVersion",
        "Serverless-LambdaDLQ",
        "Serverless-LambdaTracing",
        f"AwsSolutions-IAM4[Policy::{MANAGED}/AWSLambdaBasicExecutionRole]",
        "AwsSolutions-IAM5[Resource::*]",
        *(
            f"AwsSolutions-IAM5[Action::s3:{a}]"
            for a in ("GetBucket*", "GetObject*", "List*", "Abort*", "DeleteObject*")
        ),
        f"AwsSolutions-IAM5[Resource::arn:{nag_ref(stack, stack.partition)}:s3:::{assets}/*]",
        f"AwsSolutions-IAM5[Resource::{nag_ref(stack, stack.web.bucket.bucket_arn)}/*]",
    ]
    for rule in rules:
        _ack(handler, rule, CDK_DEPLOYMENT)
