"""One Stage per environment holding the Cockpit stack, composed from the bounded-context constructs."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Environment, Stack, Stage
from companyos.adapters.config import table_names
from companyos.topology import STATE_MACHINES
from constructs import Construct

from infra.aws import checkov, nag
from infra.aws.alerts import Alerts
from infra.aws.api import Api
from infra.aws.audit import AuditSigning
from infra.aws.buckets import access_log_bucket
from infra.aws.config import StageConfig
from infra.aws.cost import Cost
from infra.aws.data import Data
from infra.aws.functions import Functions
from infra.aws.log_key import create_logs_key
from infra.aws.pipeline import Pipeline, state_machine_arn
from infra.aws.reports import Reports
from infra.aws.subscribers import load, native_subscriptions
from infra.aws.web import Web

ROOT = Path(__file__).resolve().parents[2]


class CockpitStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.prefix,
            description=f"CompanyOS Exec Cockpit ({config.name})",
            termination_protection=config.retain_data,
        )
        self.config = config
        self.logs_key = create_logs_key(self, retain=config.retain_data)
        logs = access_log_bucket(self, "AccessLogs")
        self.data = Data(self, "Data", names=table_names(config.prefix), retain=config.retain_data)
        records = load(ROOT / config.alert_subscribers_file) if config.alert_subscribers_file else []
        self.alerts = Alerts(
            self,
            "Alerts",
            prefix=config.prefix,
            emails=config.alert_emails,
            retain=config.retain_data,
            subscribers=tuple(native_subscriptions(records)),
        )
        self.reports = Reports(self, "Reports", log_bucket=logs, retain=config.retain_data)
        self.audit = AuditSigning(self, "AuditSigning", prefix=config.prefix, retain=config.retain_data)
        self.cost = Cost(self, "Cost", config=config, log_bucket=logs)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            data=self.data,
            alerts=self.alerts,
            reports=self.reports,
            audit=self.audit,
            cost=self.cost,
            state_machine_arns={
                sm.name: state_machine_arn(self, config.prefix, sm.name) for sm in STATE_MACHINES
            },
        )
        # the audit table's stream feeds the sealer, the one signer of the audit digests (#17)
        self.audit.feed_sealer(
            self.functions.functions["audit_sealer"], self.data.tables["audit"], self.data.key
        )
        self.pipeline = Pipeline(
            self,
            "Pipeline",
            config=config,
            data=self.data,
            functions=self.functions,
            alerts=self.alerts,
            reports=self.reports,
        )
        self.api = Api(self, "Api", config=config, functions=self.functions.functions)
        self.web = Web(self, "Web", config=config, api=self.api, log_bucket=logs)
        CfnOutput(self, "CockpitUrl", value=self.web.url)
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "UserPoolId", value=self.api.user_pool.user_pool_id)
        CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic.topic_arn)
        CfnOutput(self, "ExportsTopicArn", value=self.reports.topic.topic_arn)
        CfnOutput(self, "ReportsBucket", value=self.reports.bucket.bucket_name)
        nag.acknowledge(self)
        checkov.apply(self, config)


class CockpitStage(Stage):
    def __init__(self, scope: Construct, config: StageConfig) -> None:
        super().__init__(scope, config.name, env=Environment(account=config.account, region=config.region))
        self.config = config
        self.stack = CockpitStack(self, "Cockpit", config=config)
