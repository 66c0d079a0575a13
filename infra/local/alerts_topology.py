"""Local resources of alert delivery: the alerts dead-letter queue, and the escalation state
machine's ARN in the settings (CDK builds the same from `companyos.alerts.topology`)."""

from __future__ import annotations

import boto3
from companyos.adapters.config import Settings
from companyos.alerts.topology import DLQ_NAME, DLQ_RETENTION_S


def provision_alerts(settings: Settings, state_machines: dict[str, str], prefix: str) -> Settings:
    """The alerts DLQ and the escalation state machine ARN into the settings."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName=f"{prefix}-{DLQ_NAME}", Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_S)}
    )["QueueUrl"]
    return settings.model_copy(
        update={"alerts_dlq_url": url, "escalation_state_machine_arn": state_machines.get("escalation", "")}
    )
