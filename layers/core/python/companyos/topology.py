"""The system's wiring as data: functions, state machines, schedules, API routes.

CDK (infra/aws) and the embedded local stack (infra/local) both read this module, so the two
targets cannot drift: one definition, two targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

TableName = Literal["catalog", "signals", "kpi_log", "scores", "audit", "idempotency"]
Access = Literal["read", "write"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # folder under functions/, and the logical id stem
    description: str
    tables: dict[TableName, Access]
    memory_mb: int = 512
    timeout_s: int = 29
    api_routes: tuple[str, ...] = ()  # "<METHOD> <path>" served through API Gateway
    public_routes: tuple[str, ...] = ()  # routes without the Cognito authorizer (signed webhooks)
    starts_state_machines: tuple[str, ...] = ()
    reads_webhook_secrets: bool = False
    publishes_alerts: bool = False
    # Authorized path prefixes this function serves besides the catch-all owner of /api/{proxy+}
    # (API Gateway: `<prefix>` and `<prefix>/{proxy+}`, more specific than the catch-all; the longest
    # prefix wins, see `route_owner`).
    api_prefixes: tuple[str, ...] = ()
    reports_bucket: Access | None = None  # the board-pack reports bucket (S3)
    # State machines whose task tokens this function settles (states:SendTaskSuccess/Failure).
    settles_state_machines: tuple[str, ...] = ()
    # The audit signing key (AUDIT_SIGNING_KEY_ID): "sign" (kms:Sign, Verify, GetPublicKey) for the
    # sealer only — the one signer of digests (#17); "verify" (kms:Verify, GetPublicKey) for the
    # functions that verify chains or export evidence. Request-path writers need neither.
    audit_key: Literal["sign", "verify"] | None = None
    # State machines whose executions this function stops (states:StopExecution on their executions).
    stops_state_machines: tuple[str, ...] = ()
    # Runs SQL over the lake (runs/lake.py): the LAKE_* environment, Athena on the cost workgroup,
    # Glue reads of the CUR database, the CUR bucket read and the Athena results prefix written.
    queries_lake: bool = False
    # AWS Certificate Manager reads (acm:ListCertificates, acm:DescribeCertificate) in this account,
    # and sts:AssumeRole on the tenants' read-only role (`CERT_READER_ROLE`) in theirs.
    reads_certificates: bool = False
    # Subscribed to the alerts topic (filter: alert and escalation messages, `NOTIFIER_FILTER`): the
    # alert notifier, which posts webhooks (Slack, Teams, PagerDuty, signed) and logs every delivery.
    subscribes_alerts: bool = False
    # Creates, changes and removes SNS subscriptions of the alerts topic (the subscriber API: e-mail
    # and SMS subscribers get their own subscription with the subscriber's filter policy).
    manages_subscriptions: bool = False
    # Renders PDFs (reportlab, which imports the compiled Pillow): gets the board-pack layer, reportlab
    # + Pillow built for arm64 (infra/aws/pdf_layer.py). The other functions import neither.
    renders_pdf: bool = False


# Responses of at least this many bytes are gzip-compressed for a client that sends
# `Accept-Encoding: gzip` (the API's handlers in AWS and locally, `companyos.api.compress_response`;
# the local front door's own answers too). Below ~1 KB gzip's 18-byte framing and the CPU cost
# outweigh the saving: a small JSON answer shrinks by a few hundred bytes at most and often fits one
# TCP segment either way. CloudFront's own threshold for static files is 1,000 bytes.
COMPRESS_MIN_BYTES = 1024

# The role a tenant creates in its own AWS account for the ACM connector (read-only ACM access,
# trusting the cert_pull function's role); the function may assume only roles of this name.
CERT_READER_ROLE = "companyos-certificate-reader"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="ingest",
        description="Signed webhook ingestion: verify, parse the real payload, store signals, start runs",
        tables={"catalog": "read", "signals": "write", "audit": "write", "idempotency": "write"},
        # GET: a sender's one-time verification of the endpoint (Okta event hooks); it stores nothing
        public_routes=("POST /api/ingest/{source}", "GET /api/ingest/{source}"),
        starts_state_machines=("kpi_run",),
        reads_webhook_secrets=True,
    ),
    FunctionSpec(
        name="read_api",
        description="Cockpit read API: dashboards, evidence, drill-downs, monitoring; run corrections",
        # kpi_log write: POST /api/runs/{run_id}/corrections appends a correction run (append-only,
        # conditional writes); every other route only reads.
        tables={"catalog": "read", "scores": "read", "kpi_log": "write", "signals": "read", "audit": "write"},
        api_routes=(
            "GET /api/me",
            "GET /api/dashboards/{persona}",
            "GET /api/runs/{run_id}",
            "POST /api/runs/{run_id}/corrections",
            "GET /api/monitoring/runs",
            "GET /api/monitoring/validation",
            "GET /api/monitoring/lineage",
            "GET /api/monitoring/sla-violations",
            "GET /api/monitoring/dashboards/{audience}",
            "GET /api/scores/breakdown",
            "GET /api/drill/kpi/{kpi_id}",
            "GET /api/drill/service/{service}",
            "GET /api/drill/incidents",
            "GET /api/drill/incidents/{incident_id}",
            "GET /api/drill/changes",
            "GET /api/drill/deployments/{deployment_id}",
            "GET /api/drill/services",
        ),
        memory_mb=1024,
    ),
    FunctionSpec(
        name="kpi_run",
        description="KPI run steps for the kpi_run state machine: source, validate, compute, deliver",
        tables={"catalog": "read", "signals": "read", "kpi_log": "write", "idempotency": "write"},
        timeout_s=120,
        queries_lake=True,  # lake KPI contracts: CUR 2.0 cost (infra_cost_mtd), user SQL KPIs
    ),
    FunctionSpec(
        name="score_refresh",
        description="Recompute KPI, dimension and composite snapshots per tenant and period",
        tables={"catalog": "read", "kpi_log": "read", "signals": "read", "scores": "write"},
        timeout_s=300,
    ),
    FunctionSpec(
        name="scheduler",
        description="Schedule target: start KPI runs for every active tenant of a schedule class",
        tables={"catalog": "read"},
        starts_state_machines=("kpi_run",),
        timeout_s=60,
    ),
    FunctionSpec(
        name="approvals",
        description="Approval workflow task: park a change request on its task token, apply or reject",
        tables={"catalog": "write", "audit": "write"},
        publishes_alerts=True,
    ),
    FunctionSpec(
        name="alerts",
        description="Alert evaluation after each score refresh, delivery over SNS, escalation steps",
        tables={"catalog": "write", "scores": "read", "kpi_log": "read", "signals": "read", "audit": "write"},
        publishes_alerts=True,
        starts_state_machines=("escalation",),
        stops_state_machines=("escalation",),
        timeout_s=120,
    ),
    FunctionSpec(
        name="alerts_api",
        description="Alert inbox: alerts per persona, acknowledge, resolve; tuning, routes, silences",
        tables={"catalog": "write", "audit": "write"},
        api_prefixes=(
            "/api/alerts",
            "/api/alert-rules",
            "/api/alert-routes",
            "/api/alert-silences",
            "/api/alert-subscribers",
            "/api/alert-notifications",
        ),
        publishes_alerts=True,
        manages_subscriptions=True,
        stops_state_machines=("escalation",),
    ),
    FunctionSpec(
        name="alert_notifier",
        description="Alert notifier: each alert message to its subscribers' webhooks, every delivery logged",
        tables={"catalog": "write"},
        subscribes_alerts=True,
        timeout_s=60,
        memory_mb=256,
    ),
    FunctionSpec(
        name="admin_api",
        description="Admin control plane: KPI catalog, versions, approvals, lineage, audit, vendor register",
        # scores write: a vendor register change refreshes the tenant's inventory posture (INV#…)
        tables={"catalog": "write", "kpi_log": "read", "scores": "write", "audit": "write"},
        api_prefixes=("/api/catalog", "/api/kpis", "/api/approvals", "/api/audit", "/api/admin"),
        starts_state_machines=("approval",),
        settles_state_machines=("approval",),
        audit_key="verify",
        memory_mb=1024,
    ),
    FunctionSpec(
        name="rollup_api",
        description="Platform executive roll-up across tenants; compliance, certificate and vendor inventory",
        tables={"catalog": "write", "scores": "write", "audit": "write"},
        api_prefixes=("/api/platform", "/api/inventory"),
        memory_mb=1024,
    ),
    FunctionSpec(
        name="board_pack",
        description="Board-pack PDF of the executive roll-up: synchronous, or via Step Functions to S3 + SNS",
        tables={"catalog": "write", "scores": "read", "audit": "write"},
        api_prefixes=("/api/platform/executive/exports",),
        starts_state_machines=("board_pack",),
        reports_bucket="write",
        renders_pdf=True,
        memory_mb=1024,
        timeout_s=120,
    ),
    FunctionSpec(
        name="prom_pull",
        description="Pull connector: each tenant's Prometheus queries (SLO windows, latency, use) to signals",
        # catalog + scores write: `cert_expiry` queries sync the certificate inventory and its posture
        tables={"catalog": "write", "signals": "write", "scores": "write"},
        timeout_s=120,
        memory_mb=256,
    ),
    FunctionSpec(
        name="cert_pull",
        description="Pull connector: each tenant's AWS Certificate Manager certificates to its inventory",
        tables={"catalog": "write", "scores": "write"},
        timeout_s=120,
        memory_mb=256,
        reads_certificates=True,
    ),
    FunctionSpec(
        name="audit_sealer",
        description="Audit sealer: chains the audit table's stream of records, signs digests (KMS)",
        # catalog read: the schedule's sweep seals and heartbeats every tenant's chain
        tables={"catalog": "read", "audit": "write"},
        audit_key="sign",
        timeout_s=120,
        memory_mb=256,
    ),
)


@dataclass(frozen=True)
class StateMachineSpec:
    name: str  # statemachines/<name>.asl.json
    functions: dict[str, str]  # ASL placeholder -> function name
    tables: dict[str, TableName] = field(default_factory=dict)  # placeholder -> table
    topics: tuple[str, ...] = ()  # placeholders of SNS topic ARNs
    # Publishes to the board-pack exports topic, whose ARN comes in the execution input (no placeholder).
    publishes_exports: bool = False
    # CloudWatch Logs of its executions: ALL events with their data, or only the errors without data
    # (the KPI run: its record is our own run log, and logging every run's ~140 KB of execution data
    # was a fifth of the bill — issue #19, docs/cost.md)
    log_level: Literal["ALL", "ERROR"] = "ALL"
    log_execution_data: bool = True


STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec(
        name="kpi_run",
        functions={
            "KpiRunFunctionArn": "kpi_run",
            "ScoreRefreshFunctionArn": "score_refresh",
            "AlertsFunctionArn": "alerts",
        },
        log_level="ERROR",
        log_execution_data=False,
    ),
    StateMachineSpec(
        name="approval",
        functions={"ApprovalFunctionArn": "approvals"},
        topics=("AlertsTopicArn",),
    ),
    StateMachineSpec(name="escalation", functions={"AlertsFunctionArn": "alerts"}),
    # The exports topic ARN comes in the execution input (settings.exports_topic_arn of the starter).
    StateMachineSpec(
        name="board_pack", functions={"BoardPackFunctionArn": "board_pack"}, publishes_exports=True
    ),
)


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    expression: str  # EventBridge Scheduler expression: rate(...) or cron(...)
    schedule_class: str
    local_interval_s: int  # the local scheduler's period for the same schedule


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("kpi-realtime", "rate(5 minutes)", "realtime", 300),
    ScheduleSpec("kpi-hourly", "cron(0 * * * ? *)", "hourly", 3600),
    ScheduleSpec("kpi-daily", "cron(0 2 * * ? *)", "daily", 86400),
)


@dataclass(frozen=True)
class PullScheduleSpec:
    """A pull connector's schedule: invokes `function` with an empty event (`{}`: every tenant)."""

    name: str
    expression: str
    function: str
    local_interval_s: int


PULL_SCHEDULES: tuple[PullScheduleSpec, ...] = (
    PullScheduleSpec("prom-pull", "rate(5 minutes)", "prom_pull", 300),
    # certificates expire in days: one pull a day (06:00 UTC) is enough for the 7/30/90-day windows
    PullScheduleSpec("cert-pull", "cron(0 6 * * ? *)", "cert_pull", 86400),
    # the audit sweep: seal what the stream left pending, heartbeat digests (adapters/audit_seal.py)
    PullScheduleSpec("audit-sweep", "rate(5 minutes)", "audit_sealer", 60),
)


def function(name: str) -> FunctionSpec:
    return next(f for f in FUNCTIONS if f.name == name)


def route_owner(path: str) -> str:
    """The function serving an authorized API path: the longest matching `api_prefixes` entry, else
    the owner of the catch-all (the one function with `api_routes`)."""
    best, owner = -1, next(f.name for f in FUNCTIONS if f.api_routes)
    for f in FUNCTIONS:
        for prefix in f.api_prefixes:
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best:
                best, owner = len(prefix), f.name
    return owner


def substitutions(
    spec: StateMachineSpec,
    function_arns: dict[str, str],
    table_names: dict[str, str] | None = None,
    topic_arns: dict[str, str] | None = None,
) -> dict[str, str]:
    """The ${Placeholder} map of one state machine; CDK passes tokens, infra/local real ARNs."""
    subs = {ph: function_arns[fn] for ph, fn in spec.functions.items()}
    subs.update({ph: (table_names or {})[t] for ph, t in spec.tables.items()})
    subs.update({ph: (topic_arns or {})[ph] for ph in spec.topics})
    return subs
