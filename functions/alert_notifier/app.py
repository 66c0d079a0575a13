"""The alert notifier: subscribed to the alerts topic (alert and escalation messages), it delivers
each message to the subscriber channels it reaches and logs every delivery (`alerts/notifier.py`).

Event: SNS's `{"Records": [{"EventSource": "aws:sns", "Sns": {"Message": ..., ...}}]}`; the
message is the routed message the publisher put under the topic's `lambda` key. A record of another
shape is refused (logged, counted), never crashes the batch; a failed post fails the invocation
after every channel was tried, so SNS retries it (its delivered channels are not posted again)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.alerts.notifier import NotifyFailed, http_post, notify
from companyos.api import bootstrap, logger
from companyos.domain import clock

cfg = bootstrap()


def _message(record: Any) -> dict[str, Any] | None:
    """The routed message of one SNS record (its body, attributes and subject), or None when the
    record is not an alert or escalation message."""
    sns = record.get("Sns") if isinstance(record, dict) else None
    if not isinstance(sns, dict):
        return None
    try:
        body = json.loads(sns.get("Message") or "")
    except (TypeError, ValueError):
        return None
    raw = sns.get("MessageAttributes")
    if not isinstance(body, dict) or not isinstance(raw, dict):
        return None
    attributes = {k: v.get("Value") for k, v in raw.items() if isinstance(v, dict)}
    if not all(isinstance(v, str) for v in attributes.values()):
        return None
    if attributes.get("kind") not in ("alert", "escalation") or not attributes.get("tenant"):
        return None
    if attributes["tenant"] != body.get("tenant") or not isinstance(body.get("alerts"), list):
        return None
    for key in ("rule", "severity", "summary", "link", "message_id"):
        if not isinstance(body.get(key), str):
            return None
    if not all(isinstance(a, dict) for a in body["alerts"]):
        return None
    return {"subject": str(sns.get("Subject") or body["summary"]), "body": body, "attributes": attributes}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = (event or {}).get("Records") if isinstance(event, dict) else None
    post = None if cfg.environment == "local" else http_post
    totals = {"delivered": 0, "recorded": 0, "duplicates": 0, "failed": 0, "refused": 0}
    failed: NotifyFailed | None = None
    for record in records if isinstance(records, list) else []:
        message = _message(record)
        if message is None:
            logger.warning("not an alert message: refused", extra={"record": str(record)[:300]})
            totals["refused"] += 1
            continue
        try:
            counts = notify(str(message["attributes"]["tenant"]), message, clock.now(), post)
        except NotifyFailed as exc:
            failed = exc
            continue
        for k, v in counts.items():
            totals[k] += v
    if failed is not None:
        raise failed
    return totals
