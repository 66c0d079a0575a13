"""Delivery to SNS with retries; what cannot be delivered goes to the alerts dead-letter queue.

An alert is never lost: its pending notifications are stored on the alert item (the outbox) in the
same write as its state change, and cleared only once published or dead-lettered. If even the DLQ
is unreachable, `DeliveryFailed` propagates so the task is retried and the outbox stays.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Literal

from companyos.adapters.aws import AwsClients, AwsError, aws
from companyos.alerts.routing import Message
from companyos.domain import clock

log = logging.getLogger(__name__)
Outcome = Literal["delivered", "dead_lettered"]


class DeliveryFailed(Exception):
    """Neither SNS nor the dead-letter queue accepted a message (retry the whole task)."""


class Publisher:
    def __init__(
        self,
        topic_arn: str,
        dlq_url: str,
        *,
        attempts: int = 3,
        base_delay_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        clients: AwsClients | None = None,
    ) -> None:
        self.topic_arn, self.dlq_url = topic_arn, dlq_url
        self.attempts, self.base_delay_s, self.sleep = attempts, base_delay_s, sleep
        self.clients = clients  # None: the process-wide `aws()` at each call

    @property
    def sns(self) -> Any:
        return (self.clients or aws()).sns

    @property
    def sqs(self) -> Any:
        return (self.clients or aws()).sqs

    def publish(self, message: Message) -> Outcome:
        error: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.base_delay_s * 2 ** (attempt - 1))
            try:
                if not self.topic_arn:
                    raise RuntimeError("no alerts topic configured (ALERTS_TOPIC_ARN)")
                self.sns.publish(**message.publish_args(self.topic_arn))
                return "delivered"
            except (*AwsError, RuntimeError) as exc:
                error = exc
                log.warning("alert publish failed (attempt %d/%d): %s", attempt + 1, self.attempts, exc)
        self._dead_letter(message, error)
        return "dead_lettered"

    def _dead_letter(self, message: Message, error: Exception | None) -> None:
        doc = {
            "failed_at": clock.now().isoformat(),
            "error": repr(error),
            "attempts": self.attempts,
            "topic_arn": self.topic_arn,
            "message": message.to_dict(),
        }
        try:
            if not self.dlq_url:
                raise RuntimeError("no alerts dead-letter queue configured (ALERTS_DLQ_URL)")
            self.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(doc, default=str))
        except (*AwsError, RuntimeError) as exc:
            raise DeliveryFailed(f"alert could not be published nor dead-lettered: {exc}") from exc
