"""Reasons shared by the cdk-nag acknowledgements (nag.py) and the checkov skips (checkov.py).

Each reason is derived from what the stack really does, so it cannot drift from the wiring:
`invokers(spec)` reads companyos.topology (API routes, state machines, schedules) and raises for a
function nothing invokes. `STAR_ACTIONS` lists, per kind of role, the exact action set the role may hold
on `Resource: "*"`; nag.py acknowledges IAM5 `Resource::*` only when a role's `*` statements hold exactly
that set, and tests/infra/test_templates.py checks every `*` statement of the synthesized templates
against it, so a new `*` statement fails instead of passing under an old acknowledgement.
"""

from __future__ import annotations

from companyos.topology import FUNCTIONS, PULL_SCHEDULES, STATE_MACHINES, FunctionSpec

# The KPI schedules' target (EventBridge Scheduler, asynchronous) and every pull connector's function.
SCHEDULE_TARGET = "scheduler"
ASYNC_TARGETS = frozenset({SCHEDULE_TARGET, *(p.function for p in PULL_SCHEDULES)})
# Invoked asynchronously by SNS (subscribed to the alerts topic); their dead-letter queue is the alerts DLQ.
ALERT_SUBSCRIBERS = frozenset(f.name for f in FUNCTIONS if f.subscribes_alerts)

FUNCTION_XRAY = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
STATE_MACHINE_LOGS_XRAY = frozenset(
    {
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    }
)
DEPLOYMENT_INVALIDATION = frozenset({"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"})
# the ACM connector (`reads_certificates`): tracing plus listing this account's certificates
FUNCTION_XRAY_ACM_LIST = FUNCTION_XRAY | {"acm:ListCertificates"}
# the audit sealer (#17), consumer of the audit table's stream: tracing plus listing streams
FUNCTION_XRAY_STREAM = FUNCTION_XRAY | {"dynamodb:ListStreams"}

STAR_ACTIONS: dict[frozenset[str], str] = {
    FUNCTION_XRAY: (
        "Active tracing: the Lambda service sends the function's segments with the execution role. "
        "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so "
        "AWS requires Resource '*' for exactly these two actions."
    ),
    STATE_MACHINE_LOGS_XRAY: (
        "Step Functions logging to CloudWatch Logs uses vended log delivery: logs:CreateLogDelivery, "
        "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery and ListLogDeliveries support no resource-"
        "level permissions, and AWS documents them with PutResourcePolicy, DescribeResourcePolicies and "
        "DescribeLogGroups on '*' (aws-cdk-lib's StateMachine adds this set). Tracing adds "
        "xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets, which "
        "support no resource-level permissions either."
    ),
    FUNCTION_XRAY_ACM_LIST: (
        "Active tracing (xray:PutTraceSegments, PutTelemetryRecords: no resource-level permissions), and "
        "the ACM connector's acm:ListCertificates, which supports no resource-level permissions either "
        "(AWS requires Resource '*'); it only lists. Describing is granted per certificate ARN."
    ),
    FUNCTION_XRAY_STREAM: (
        "Active tracing (xray:PutTraceSegments, PutTelemetryRecords: no resource-level permissions), and "
        "the audit sealer's event source mapping on the audit table's stream: aws-cdk-lib's "
        "DynamoEventSource grants dynamodb:ListStreams, which supports no resource-level permissions "
        "(AWS requires Resource '*'); reading the records (DescribeStream, GetShardIterator, GetRecords) "
        "is granted on the audit table's stream ARN only."
    ),
    DEPLOYMENT_INVALIDATION: (
        "aws-cdk-lib's BucketDeployment grants cloudfront:CreateInvalidation and GetInvalidation on '*' "
        "to its singleton handler, which CloudFormation invokes with this stack's distribution id only, "
        "to invalidate /* after each web deploy."
    ),
}

INGEST_CHECKS = (
    "POST /api/ingest/{source} is the one route without the Cognito authorizer: webhook senders (GitHub, "
    "PagerDuty, OPA, ...) cannot present Cognito tokens. The handler refuses a body over "
    "MAX_WEBHOOK_BYTES (413) and an unknown source (404), looks up the tenant's secret (none for an "
    "unknown tenant, answered exactly as a wrong signature), then verifies the sender's credential "
    "(an HMAC-SHA256 signature over the raw body, or OPA's bearer token) "
    "before it decodes or parses anything; an unsigned or wrongly signed request gets 401 and nothing is "
    "stored."
)

VERIFICATION_CHECKS = (
    "GET /api/ingest/{source} answers only a sender's one-time endpoint verification (Okta event hooks "
    "send X-Okta-Verification-Challenge before they activate), so it cannot carry a Cognito token either. "
    "It reads no body and stores nothing: an unknown source is 404, a source without a handshake 404 "
    "no_verification_handshake, the Authorization secret is checked exactly like the POST's (an "
    "unknown tenant answered as a wrong secret, 401), and only then is the challenge echoed."
)

# The reason of each public (unauthorized) route, by route.
PUBLIC_ROUTE_CHECKS = {
    "POST /api/ingest/{source}": INGEST_CHECKS,
    "GET /api/ingest/{source}": VERIFICATION_CHECKS,
}

CUSTOM_RESOURCE_DLQ = (
    "CloudFormation invokes the custom resource handler once per deploy and waits for the handler to "
    "PUT its result to a presigned response URL; the handler reports its own failure there and "
    "CloudFormation rolls the deploy back. A queued event could not be replayed: its response URL and "
    "the stack operation are gone by then."
)


def invokers(spec: FunctionSpec) -> list[str]:
    """Who invokes the function, from companyos.topology."""
    found: list[str] = []
    if spec.api_routes or spec.api_prefixes or spec.public_routes:
        found.append("API Gateway (Lambda proxy integration)")
    machines = [sm.name for sm in STATE_MACHINES if spec.name in sm.functions.values()]
    if machines:
        found.append(f"Step Functions lambda:invoke tasks of {', '.join(machines)}")
    if spec.name == SCHEDULE_TARGET:
        found.append("EventBridge Scheduler (KPI schedules)")
    found.extend(f"EventBridge Scheduler ({p.name})" for p in PULL_SCHEDULES if p.function == spec.name)
    if spec.subscribes_alerts:
        found.append("SNS (its subscription to the alerts topic)")
    if not found:
        raise ValueError(f"{spec.name}: nothing invokes it (companyos.topology); say who does")
    return found


def sync_dlq_reason(spec: FunctionSpec) -> str:
    """Why a function invoked only synchronously has no dead-letter queue."""
    if spec.name in ASYNC_TARGETS | ALERT_SUBSCRIBERS:
        raise ValueError(f"{spec.name} is invoked asynchronously: it needs its dead-letter queue")
    return (
        f"Invoked only synchronously, by {' and '.join(invokers(spec))}: Lambda sends to a DLQ (or an "
        "on-failure destination) only events of asynchronous invocations, so one would never receive "
        "anything. A failed request returns its error to the API client; a failed task is the state "
        "machine's error, handled by its Retry/Catch or failing the execution (execution history and "
        "log group)."
    )
