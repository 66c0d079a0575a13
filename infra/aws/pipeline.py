"""Pipeline: the Step Functions state machines (ASL files + substitutions) and the KPI schedules."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_stepfunctions as sfn
from companyos.topology import PULL_SCHEDULES, SCHEDULES, STATE_MACHINES, substitutions
from constructs import Construct

from infra.aws.alerts import Alerts
from infra.aws.config import StageConfig
from infra.aws.data import Data
from infra.aws.functions import KEY_WRITE, ROOT, TABLE_WRITE, Functions
from infra.aws.log_key import logs_key
from infra.aws.reasons import SCHEDULE_TARGET
from infra.aws.reports import Reports


def state_machine_name(prefix: str, name: str) -> str:
    return f"{prefix}-{name.replace('_', '-')}"


def state_machine_arn(scope: Construct, prefix: str, name: str) -> str:
    """Known before the machine exists, so functions that start runs need no construct ordering."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(prefix, name),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        data: Data,
        functions: Functions,
        alerts: Alerts,
        reports: Reports,
    ) -> None:
        super().__init__(scope, id)
        self._config = config
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        function_arns = {name: fn.function_arn for name, fn in functions.functions.items()}
        table_names = {logical: table.table_name for logical, table in data.tables.items()}
        self.state_machines: dict[str, sfn.StateMachine] = {}
        for spec in STATE_MACHINES:
            stem = "".join(part.title() for part in spec.name.split("_"))
            role = iam.Role(self, f"{stem}Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[function_arns[fn] for fn in sorted(set(spec.functions.values()))],
                )
            )
            for table in sorted(set(spec.tables.values())):
                role.add_to_policy(
                    iam.PolicyStatement(actions=TABLE_WRITE, resources=[data.tables[table].table_arn])
                )
                role.add_to_policy(iam.PolicyStatement(actions=KEY_WRITE, resources=[data.key.key_arn]))
            if spec.topics:
                alerts.grant_publish(role)
            if spec.publishes_exports:
                reports.grant_publish(role)
            self.state_machines[spec.name] = sfn.StateMachine(
                self,
                stem,
                state_machine_name=state_machine_name(config.prefix, spec.name),
                definition_body=sfn.DefinitionBody.from_file(
                    str(ROOT / "statemachines" / f"{spec.name}.asl.json")
                ),
                definition_substitutions=substitutions(
                    spec,
                    function_arns,
                    table_names,
                    {placeholder: alerts.topic.topic_arn for placeholder in spec.topics},
                ),
                state_machine_type=sfn.StateMachineType.STANDARD,
                role=role,
                logs=sfn.LogOptions(
                    destination=logs.LogGroup(
                        self,
                        f"{stem}Logs",
                        retention=config.log_retention,
                        encryption_key=logs_key(self),
                        removal_policy=removal,
                    ),
                    level=sfn.LogLevel.ALL if spec.log_level == "ALL" else sfn.LogLevel.ERROR,
                    include_execution_data=spec.log_execution_data,
                ),
                tracing_enabled=True,
            )
        self._schedules(functions)

    def _schedules(self, functions: Functions) -> None:
        """EventBridge Scheduler → the `scheduler` function, once per schedule class. The function starts
        kpi_run executions; each execution ends with the score refresh step. The pull connectors'
        schedules (`PULL_SCHEDULES`) invoke their function with `{}` (every tenant)."""
        target = functions.functions[SCHEDULE_TARGET]
        pulled = [functions.functions[p.function] for p in PULL_SCHEDULES]
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="EventBridge Scheduler: invoke the CompanyOS scheduler function",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[target.function_arn, *(fn.function_arn for fn in pulled)],
            )
        )
        group = scheduler.CfnScheduleGroup(self, "Group", name=self._config.prefix)
        for spec in SCHEDULES:
            cfn = scheduler.CfnSchedule(
                self,
                "".join(part.title() for part in spec.name.split("-")),
                name=f"{self._config.prefix}-{spec.name}",
                group_name=group.name,
                description=f"Start {spec.schedule_class} KPI runs for every active tenant",
                schedule_expression=spec.expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=target.function_arn,
                    role_arn=role.role_arn,
                    input=json.dumps({"schedule_class": spec.schedule_class}),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                    ),
                ),
            )
            cfn.add_resource_dependency(group)
        for pull in PULL_SCHEDULES:
            cfn = scheduler.CfnSchedule(
                self,
                "".join(part.title() for part in pull.name.split("-")),
                name=f"{self._config.prefix}-{pull.name}",
                group_name=group.name,
                description=f"Pull connector {pull.function} for every tenant that configured it",
                schedule_expression=pull.expression,
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=functions.functions[pull.function].function_arn,
                    role_arn=role.role_arn,
                    input="{}",
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=pull.local_interval_s, maximum_retry_attempts=1
                    ),
                ),
            )
            cfn.add_resource_dependency(group)
