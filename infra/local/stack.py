"""Provision and run the system on a moto server: tables, secrets, topics, state machines, schedules.

Everything is built from the same definitions CDK uses: tables from the pynamodb models, state
machines from statemachines/*.asl.json with `topology.substitutions`, schedules from
`topology.SCHEDULES`, function environments from `Settings.to_env()`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from companyos import topology
from companyos.adapters.audit import configure_signer
from companyos.adapters.config import Settings, settings, table_names
from companyos.adapters.models import create_all
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from infra.local.alert_fanout import AlertFanout
from infra.local.alerts_topology import provision_alerts
from infra.local.audit_stream import AuditStream
from infra.local.lambdas import ROOT, HandlerRegistry, patch_moto_lambda
from infra.local.moto_fixes import patch_moto_sfn_stop_race, patch_moto_sns_or_policies
from infra.local.moto_patches import (
    patch_in_process_transport,
    patch_moto_acm_clock,
    patch_moto_backend_lookup,
    patch_moto_queries,
    patch_moto_sfn_clients,
    patch_moto_sfn_jsonpath,
    patch_moto_transactions,
)
from infra.local.powertools_local import patch_powertools_per_thread_event
from infra.local.reports import provision_reports

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "companyos-local"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def provision_audit_key() -> str:
    """The audit digest signing key: asymmetric ECC_NIST_P256 SIGN_VERIFY, as CDK creates it."""
    kms = boto3.client("kms")
    key_id = kms.create_key(
        KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description=f"{PREFIX} audit digest signing"
    )["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{PREFIX}-audit-signing", TargetKeyId=key_id)
    return str(key_id)


@dataclass
class LocalStack:
    moto_port: int = 0
    in_process: bool = True  # serve this process's own AWS calls without the loopback HTTP server
    settings: Settings | None = None
    state_machines: dict[str, str] = field(default_factory=dict)
    _server: ThreadedMotoServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    registry: HandlerRegistry = field(default_factory=lambda: HandlerRegistry(REGION, ACCOUNT, PREFIX))
    audit_stream: AuditStream | None = None
    alert_fanout: AlertFanout | None = None

    def start(self) -> LocalStack:
        self.moto_port = self.moto_port or free_port()
        default_user_config.update(
            {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._server.start()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto_port}",
                "MOTO_PORT": str(self.moto_port),
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_SERVICE_NAME": "companyos",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                "POWERTOOLS_METRICS_NAMESPACE": "CompanyOS",
            }
        )
        patch_moto_lambda(self.registry)
        patch_powertools_per_thread_event()  # concurrent requests in one process: each its own event
        patch_moto_transactions()  # moto deep-copies a table per transaction item: quadratic at volume
        patch_moto_queries()  # moto sorts the whole table for every Query
        patch_moto_sfn_clients()  # moto builds a boto client for every Step Functions task
        patch_moto_sfn_jsonpath()  # ... and re-parses every JSONPath on every evaluation
        patch_moto_acm_clock()  # ACM's expiry checks read the stack's clock
        patch_moto_backend_lookup()  # every request took moto's global lock to find its backend
        patch_moto_sns_or_policies()  # moto over-counts `$or` filter policies (subscribers on call)
        patch_moto_sfn_stop_race()  # moto fails a StopExecution of an execution that just started
        if self.in_process:  # this process's AWS calls skip the loopback HTTP (other clients use it)
            patch_in_process_transport(self.moto_port)
        self._provision()
        return self

    def _provision(self) -> None:
        names = table_names(PREFIX)
        create_all(names, REGION)
        topic_arn = boto3.client("sns").create_topic(Name=f"{PREFIX}-alerts")["TopicArn"]
        base = Settings(
            environment="local",
            region=REGION,
            tables=names,
            alerts_topic_arn=topic_arn,
            webhook_secret_prefix=f"{PREFIX}/webhooks",
        )
        arns = {f.name: self.registry.arn(f.name) for f in topology.FUNCTIONS}
        sfn = boto3.client("stepfunctions")
        for spec in topology.STATE_MACHINES:
            asl = (ROOT / "statemachines" / f"{spec.name}.asl.json").read_text()
            for placeholder, value in topology.substitutions(
                spec, arns, {}, {"AlertsTopicArn": topic_arn}
            ).items():
                asl = asl.replace("${" + placeholder + "}", value)
            self.state_machines[spec.name] = sfn.create_state_machine(
                name=f"{PREFIX}-{spec.name}",
                definition=asl,
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-sfn",
            )["stateMachineArn"]
        self.settings = base.model_copy(
            update={
                "kpi_run_state_machine_arn": self.state_machines["kpi_run"],
                "approval_state_machine_arn": self.state_machines["approval"],
                "audit_signing_key_id": provision_audit_key(),
            }
        )
        configure_signer(
            self.settings.audit_signing_key_id
        )  # in-process verifiers (tests, CLI) check digests
        self.settings = provision_alerts(self.settings, self.state_machines, PREFIX)
        self.settings = provision_reports(self.settings, self.state_machines, PREFIX)  # board pack (#8)
        os.environ.update(self.settings.to_env())
        settings.cache_clear()
        # the audit table's stream feeds the sealer, as the event source mapping does in AWS (#17)
        self.audit_stream = AuditStream(names.audit, lambda batch: self.invoke("audit_sealer", batch))
        self.audit_stream.start()
        # the alerts topic's notifier subscription, as CDK subscribes the alert_notifier Lambda (#18)
        self.alert_fanout = AlertFanout(
            self.settings.alerts_topic_arn, PREFIX, lambda event: self.invoke("alert_notifier", event)
        )
        self.alert_fanout.start()

    # ------------------------------------------------------------------ operations

    def put_webhook_secret(self, tenant_id: str, source: str, secret: str) -> None:
        assert self.settings
        sm = boto3.client("secretsmanager")
        name = f"{self.settings.webhook_secret_prefix}/{tenant_id}/{source}"
        value = json.dumps({"secrets": [secret]})
        try:
            sm.create_secret(Name=name, SecretString=value)
        except sm.exceptions.ResourceExistsException:
            sm.put_secret_value(SecretId=name, SecretString=value)

    def seal_audit(self) -> int:
        """Deliver the audit stream to the sealer now (what the background poller does every 0.5 s);
        the number of records delivered. Tests and the seed call it to read their writes sealed."""
        assert self.audit_stream
        return self.audit_stream.drain()

    def deliver_notifications(self) -> int:
        """Hand the alerts topic's queued messages to the notifier now (what its poller does every
        0.5 s); the number delivered. Tests and the seed call it to read the outbox complete."""
        assert self.alert_fanout
        return self.alert_fanout.drain()

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.registry.invoke(function, event)

    def invoke_api(self, function: str, event: dict[str, Any]) -> Any:
        """The front door's invocation: concurrent requests in separate execution environments, each
        serving one request at a time, as Lambda serves them."""
        return self.registry.invoke_concurrently(function, event)

    def wait_for_execution(self, arn: str, timeout_s: float = 60) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            desc = sfn.describe_execution(executionArn=arn)
            if desc["status"] != "RUNNING":
                return dict(desc)
            time.sleep(0.1)
        raise TimeoutError(f"execution {arn} still running after {timeout_s}s")

    def executions(self, machine: str = "kpi_run") -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        listed = sfn.list_executions(stateMachineArn=self.state_machines[machine])["executions"]
        return [dict(e) for e in listed]

    def start_scheduler(self) -> None:
        """The local stand-in for EventBridge Scheduler: same schedule tables, same targets (the KPI
        schedules invoke `scheduler` with their class, the pull schedules their function with `{}`)."""
        for spec in topology.SCHEDULES:
            threading.Thread(target=self._tick, args=(spec,), daemon=True, name=f"sched-{spec.name}").start()
        for pull in topology.PULL_SCHEDULES:
            threading.Thread(target=self._pull, args=(pull,), daemon=True, name=f"pull-{pull.name}").start()

    def _pull(self, spec: topology.PullScheduleSpec) -> None:
        while not self._stop.wait(spec.local_interval_s):
            try:
                self.invoke(spec.function, {})
            except Exception as exc:
                print(f"[scheduler] {spec.name} failed: {exc}")

    def _tick(self, spec: topology.ScheduleSpec) -> None:
        while not self._stop.wait(spec.local_interval_s):
            try:
                self.invoke("scheduler", {"schedule_class": spec.schedule_class})
            except Exception as exc:
                print(f"[scheduler] {spec.name} failed: {exc}")

    def stop(self) -> None:
        self._stop.set()
        if self.audit_stream:
            self.audit_stream.stop()
        if self.alert_fanout:
            self.alert_fanout.stop()
        if self._server:
            self._server.stop()
