"""What the alerting use cases share: the runtime (settings, the publisher, Step Functions, the clock)
and the audit record every state change writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from companyos.adapters.audit import AuditEvent, AuditTrail
from companyos.adapters.aws import AwsClients, aws
from companyos.adapters.config import Settings
from companyos.alerts.notify import Publisher
from companyos.domain import clock
from companyos.domain.alert_engine import Alert

SYSTEM = "system:alerts"


def _now() -> datetime:
    return clock.now()


@dataclass
class Runtime:
    """What the use cases need from the outside world (settings, SNS, Step Functions, the clock)."""

    settings: Settings
    publisher: Publisher
    now: Callable[[], datetime] = _now
    clients: AwsClients | None = field(default=None, repr=False)  # None: the process-wide `aws()`

    @property
    def sfn(self) -> Any:
        return (self.clients or aws()).sfn

    @classmethod
    def from_settings(cls, s: Settings) -> Runtime:
        return cls(settings=s, publisher=Publisher(s.alerts_topic_arn, s.alerts_dlq_url))


@cache
def runtime() -> Runtime:
    from companyos.adapters.config import settings

    return Runtime.from_settings(settings())


def audit(tenant_id: str, actor: str, role: str, action: str, alert: Alert | None, **details: Any) -> None:
    target = f"alert:{alert.alert_id}" if alert else f"tenant:{tenant_id}"
    if alert:
        details = {"rule": alert.rule_id, "labels": alert.labels, "episode": alert.episode, **details}
    AuditTrail(tenant_id).append(
        AuditEvent(
            actor=actor,
            role=role,
            action=action,
            target=target,
            reason=details.pop("reason", ""),
            details=details,
        )
    )
