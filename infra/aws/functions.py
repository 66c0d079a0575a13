"""Functions: one Lambda per `companyos.topology.FUNCTIONS` entry, all made by one helper.

Every function gets its own role holding exactly what its FunctionSpec declares (tables read/write,
state machines started / settled / stopped, webhook secrets, alert publishing + the alerts DLQ, the
alerts topic's subscriptions, the reports bucket, audit signing), an explicit log group, arm64 and the
three layers: Powertools (AWS-managed), third-party deps (bundled locally, no Docker) and the domain
package; a function that `renders_pdf` (board_pack) also gets the board-pack layer, reportlab + arm64
Pillow fetched as wheels at synth (infra/aws/pdf_layer.py). The environment is
the full `Settings.to_env()` map with real resource references, except `AUDIT_SIGNING_KEY_ID`, which only
functions with an `audit_key` get: the sealer signs with it, the verifiers verify (infra/aws/audit.py).
A function that `subscribes_alerts` (the alert notifier) is subscribed to the alerts topic and, being
invoked asynchronously by SNS, dead-letters to the alerts DLQ after Lambda's retries.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
from pathlib import Path
from typing import cast

import jsii
from aws_cdk import (
    Annotations,
    ArnFormat,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from companyos.adapters.config import Settings, TableNames
from companyos.topology import CERT_READER_ROLE, FUNCTIONS, FunctionSpec
from constructs import Construct

from infra.aws import pdf_layer
from infra.aws.alerts import Alerts
from infra.aws.audit import AuditSigning
from infra.aws.config import StageConfig
from infra.aws.cost import Cost
from infra.aws.data import Data
from infra.aws.log_key import logs_key
from infra.aws.reasons import ASYNC_TARGETS
from infra.aws.reports import Reports

ROOT = Path(__file__).resolve().parents[2]
# The newest Python runtime aws-cdk-lib 2.275 knows (Runtime.PYTHON_3_14).
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# Third-party packages the domain package imports that neither the Lambda runtime (boto3/botocore) nor
# the Powertools layer provides; all pure Python. The Powertools layer is built with its `[all]` extra, so
# it already ships pydantic, pyjwt and cryptography: duplicating them here would put two versions in
# /opt/python, and CDK sorts layers (recognizeLayerVersion), so which one wins is not ours to choose.
DEPS: tuple[str, ...] = ("pynamodb", "PyYAML", "defusedxml")
# Compiled extensions that are optional speed-ups with a pure-Python fallback (skipped when copying).
OPTIONAL_EXTENSIONS = {"PyYAML"}

TABLE_READ = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
]
TABLE_WRITE = [
    *TABLE_READ,
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
KEY_READ = ["kms:Decrypt", "kms:DescribeKey"]
KEY_WRITE = [*KEY_READ, "kms:Encrypt", "kms:GenerateDataKey"]


@jsii.implements(ILocalBundling)
class _InstalledDistributions:
    """Local bundling without Docker or network: copy the installed pure-Python distributions (the
    versions pinned by pyproject.toml, so the layer matches what the tests ran) into `python/`."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        target = Path(output_dir) / "python"
        for name in self.names:
            dist = md.distribution(name)
            for file in dist.files or ():
                if file.parts[0] == ".." or "__pycache__" in file.parts or file.suffix == ".pyc":
                    continue
                if file.suffix in {".so", ".pyd"}:
                    if name in OPTIONAL_EXTENSIONS:
                        continue
                    raise RuntimeError(f"{name} ships a compiled extension ({file}); build it for arm64")
                dest = target / str(file)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(str(dist.locate_file(file))), dest)
        return True


class Functions(Construct):
    """`functions[name]` for every FunctionSpec; `roles[name]` the function's role."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        data: Data,
        alerts: Alerts,
        reports: Reports,
        audit: AuditSigning,
        cost: Cost,
        state_machine_arns: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self._config, self._data, self._alerts = config, data, alerts
        self._reports, self._audit, self._cost = reports, audit, cost
        self._state_machine_arns = state_machine_arns
        # Secrets are named <prefix>/<tenant>/<source>; reading them is granted on the prefix only.
        self.webhook_secret_arn_pattern = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{config.webhook_secret_prefix}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.layers = self._layers()
        self.pdf_layer = self._pdf_layer()
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in FUNCTIONS:
            self.functions[spec.name] = self._function(spec)

    def _layers(self) -> list[lambda_.ILayerVersion]:
        powertools_arn = ssm.StringParameter.value_for_string_parameter(
            self,
            f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{self._config.powertools_version}",
        )
        deps = lambda_.LayerVersion(
            self,
            "DepsLayer",
            description="Third-party deps: " + ", ".join(f"{n}=={md.version(n)}" for n in DEPS),
            code=lambda_.Code.from_asset(
                str(ROOT / "infra/aws/deps"),
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(
                    image=DockerImage.from_registry("unused-local-bundling-only"),
                    local=cast(ILocalBundling, _InstalledDistributions(DEPS)),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        core = lambda_.LayerVersion(
            self,
            "CoreLayer",
            description="CompanyOS domain package (layers/core/python/companyos)",
            code=lambda_.Code.from_asset(
                str(ROOT / "layers/core"), exclude=["**/__pycache__", "**/*.pyc", "**/*.egg-info"]
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )
        return [
            lambda_.LayerVersion.from_layer_version_arn(self, "PowertoolsLayer", powertools_arn),
            deps,
            core,
        ]

    def _pdf_layer(self) -> lambda_.LayerVersion | None:
        """reportlab + Pillow for arm64 CPython 3.14, from the cache or fetched now; None only when the
        synth said to skip it (offline) and nothing is cached, which is then said on stderr and as a
        warning on this construct."""
        target = pdf_layer.Target.for_lambda(RUNTIME.name, ARCHITECTURE.name)
        skip = os.environ.get(pdf_layer.SKIP_ENV, "").lower() not in {"", "0", "false"} or str(
            self.node.try_get_context(pdf_layer.SKIP_CONTEXT)
        ).lower() in {"1", "true"}
        folder = pdf_layer.layer_folder(target, skip=skip)
        if folder is None:
            Annotations.of(self).add_warning_v2("companyos:boardPackLayerSkipped", pdf_layer.SKIPPED_WARNING)
            return None
        pinned = pdf_layer.pins()
        return lambda_.LayerVersion(
            self,
            "BoardPackLayer",
            description="Board-pack PDF deps (arm64): " + ", ".join(f"{n}=={v}" for n, v in pinned.items()),
            code=lambda_.Code.from_asset(
                str(folder),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=folder.name,  # the cache key: pins, platforms, Python version
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
        )

    def _environment(self, spec: FunctionSpec) -> dict[str, str]:
        tables = self._data.tables
        settings = Settings(
            environment=self._config.name,
            region=Stack.of(self).region,
            tables=TableNames(**{logical: table.table_name for logical, table in tables.items()}),
            kpi_run_state_machine_arn=self._state_machine_arns["kpi_run"],
            alerts_topic_arn=self._alerts.topic.topic_arn,
            alerts_dlq_url=self._alerts.dlq.queue_url,
            escalation_state_machine_arn=self._state_machine_arns["escalation"],
            approval_state_machine_arn=self._state_machine_arns["approval"],
            audit_signing_key_id=self._audit.key.key_id if spec.audit_key else "",
            webhook_secret_prefix=self._config.webhook_secret_prefix,
            cockpit_url=f"https://{self._config.cockpit_domain}" if self._config.cockpit_domain else "",
            org_name=self._config.org_name,
            strict_residency=self._config.strict_residency,
            reports_bucket=self._reports.bucket.bucket_name,
            exports_topic_arn=self._reports.topic.topic_arn,
            board_pack_state_machine_arn=self._state_machine_arns["board_pack"],
            board_pack_sync_max_rows=self._config.board_pack_sync_max_rows,
            export_link_ttl_s=self._config.export_link_ttl_s,
        )
        return {
            **settings.to_env(),
            **(self._cost.lake_environment(self._config.cur_tenants) if spec.queries_lake else {}),
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": "CompanyOS",
        }

    def _function(self, spec: FunctionSpec) -> lambda_.Function:
        stem = "".join(part.title() for part in spec.name.split("_"))
        role = iam.Role(
            self,
            f"{stem}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"CompanyOS {spec.name}: least privilege from companyos.topology",
        )
        log_group = logs.LogGroup(
            self,
            f"{stem}Logs",
            retention=self._config.log_retention,
            encryption_key=logs_key(self),
            removal_policy=RemovalPolicy.RETAIN if self._config.retain_data else RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        self.log_groups[spec.name] = log_group
        fn = lambda_.Function(
            self,
            stem,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="app.handler",
            code=lambda_.Code.from_asset(
                str(ROOT / "functions" / spec.name), exclude=["**/__pycache__", "**/*.pyc", "tests"]
            ),
            layers=[*self.layers, self.pdf_layer] if spec.renders_pdf and self.pdf_layer else self.layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            environment=self._environment(spec),
            dead_letter_queue=self._alerts.dlq
            if spec.subscribes_alerts
            else self._dead_letter_queue(stem)
            if spec.name in ASYNC_TARGETS
            else None,
        )
        self._grant(spec, role)
        if spec.subscribes_alerts:
            self._alerts.subscribe_notifier(fn)
            # Lambda sends the failed SNS event with this role: SendMessage (granted by CDK) and a data
            # key of the alerts key, which encrypts the DLQ.
            self._alerts.grant_dead_letter_key(role)
        elif fn.dead_letter_queue is not None:
            # Lambda sends the failed event with this role: SendMessage (granted by CDK) and, the queue
            # being KMS-encrypted, a data key of the data key.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self._data.key.key_arn]
                )
            )
        return fn

    def _dead_letter_queue(self, stem: str) -> sqs.Queue:
        return sqs.Queue(
            self,
            f"{stem}DeadLetters",
            # The data key (already granted to every function): failed events carry tenant input.
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self._data.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

    def _grant(self, spec: FunctionSpec, role: iam.Role) -> None:
        for logical, access in spec.tables.items():
            table = self._data.tables[logical]
            indexes = [f"{table.table_arn}/index/{name}" for name in self._data.index_names(logical)]
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=TABLE_WRITE if access == "write" else TABLE_READ,
                    resources=[table.table_arn, *indexes],
                )
            )
            actions = KEY_WRITE if access == "write" else KEY_READ
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=[self._data.key.key_arn]))
        for machine in spec.starts_state_machines:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[self._state_machine_arns[machine]]
                )
            )
        if spec.reads_webhook_secrets:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=[self.webhook_secret_arn_pattern]
                )
            )
        if spec.settles_state_machines:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                    resources=[self._state_machine_arns[m] for m in spec.settles_state_machines],
                )
            )
        if spec.stops_state_machines:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["states:StopExecution"],
                    resources=[self.execution_arn_pattern(m) for m in spec.stops_state_machines],
                )
            )
        self._grant_services(spec, role)

    def _grant_services(self, spec: FunctionSpec, role: iam.Role) -> None:
        """Grants of the other bounded contexts' constructs (alerts, reports, audit, cost) and ACM."""
        if spec.publishes_alerts:
            self._alerts.grant_publish(role)
            self._alerts.grant_dead_letter(role)
        if spec.manages_subscriptions:
            self._alerts.grant_manage_subscriptions(role)
        if spec.reports_bucket:
            self._reports.grant_objects(role, spec.reports_bucket)
        if spec.audit_key == "sign":
            self._audit.grant_sign(role)
        elif spec.audit_key == "verify":
            self._audit.grant_verify(role)
        if spec.queries_lake:
            self._cost.grant_query(role)
        if spec.reads_certificates:
            self._grant_certificates(role)

    def _grant_certificates(self, role: iam.Role) -> None:
        """ACM reads in this account (list: '*' only; describe: its certificates), and assuming the
        tenants' read-only role of the one agreed name in their accounts."""
        role.add_to_policy(iam.PolicyStatement(actions=["acm:ListCertificates"], resources=["*"]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["acm:DescribeCertificate"], resources=[self.certificate_arn_pattern])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[self.cert_reader_role_pattern],
            )
        )

    @property
    def cert_reader_role_pattern(self) -> str:
        """The tenants' read-only ACM role, in any account (`topology.CERT_READER_ROLE`)."""
        return f"arn:{Stack.of(self).partition}:iam::*:role/{CERT_READER_ROLE}"

    @property
    def certificate_arn_pattern(self) -> str:
        stack = Stack.of(self)
        return f"arn:{stack.partition}:acm:*:{stack.account}:certificate/*"

    def execution_arn_pattern(self, machine: str) -> str:
        """`arn:...:execution:<state machine name>:*`: the executions of one machine (names per alert)."""
        return self._state_machine_arns[machine].replace(":stateMachine:", ":execution:") + ":*"
