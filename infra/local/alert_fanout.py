"""The local stand-in for the alert notifier's SNS subscription: a queue subscribed to the alerts
topic with the notifier's filter policy (`NOTIFIER_FILTER`, as CDK subscribes the Lambda), drained
into the `alert_notifier` function in SNS's Lambda event shape — by a background poller, or at once
with `drain()` (tests and the seed)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
from companyos.alerts.topology import NOTIFIER_FILTER

Consumer = Callable[[dict[str, Any]], Any]
BATCH = 10


class AlertFanout:
    def __init__(self, topic_arn: str, prefix: str, consume: Consumer, interval_s: float = 0.5) -> None:
        self.consume, self.interval_s = consume, interval_s
        sqs = boto3.client("sqs")
        self.queue_url = sqs.create_queue(QueueName=f"{prefix}-alert-notifier")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.subscription_arn = boto3.client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={
                "FilterPolicy": json.dumps(NOTIFIER_FILTER),
                "FilterPolicyScope": "MessageAttributes",
            },
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def drain(self) -> int:
        """Hand every queued message to the notifier now; the number delivered. A message the
        notifier failed on stays queued (visible again later), as SNS retries a failed invocation."""
        sqs = boto3.client("sqs")
        delivered = 0
        with self._lock:
            while True:
                got = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=BATCH, VisibilityTimeout=5
                )
                messages = got.get("Messages") or []
                if not messages:
                    return delivered
                for m in messages:
                    envelope = json.loads(m["Body"])
                    try:
                        self.consume({"Records": [{"EventSource": "aws:sns", "Sns": envelope}]})
                    except Exception as exc:
                        print(f"[alert-notifier] failed (retried): {exc}")
                        continue
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
                    delivered += 1

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True, name="alert-notifier").start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.drain()
            except Exception as exc:
                print(f"[alert-notifier] poll failed (retried): {exc}")

    def stop(self) -> None:
        self._stop.set()
