"""The alert notifier: one routed message (from the alerts topic) to every subscriber channel it
reaches, each delivery logged once.

For each subscriber of the message's tenant and each of its channels that the message's attributes
match (`alert_subscribers.matches`, the very rule of the SNS filter policies): render it for that
endpoint (`channels.render`) and
- e-mail / SMS: SNS delivers it through the subscriber's own subscription — logged `handed_to_sns`;
- Slack, Teams, PagerDuty, signed webhook: POST it — logged `sent` (2xx) or `failed`.
On the local stack nothing leaves the machine: every delivery is logged `recorded`, which is the
local outbox — what each subscriber would have received.

A notification's id is (message id, subscriber, channel): a message SNS hands over twice is posted
and logged once. A failed post is logged (with its own id) and fails the invocation at the end, so
SNS retries it; the channels that succeeded are not posted again on the retry.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from companyos.adapters.subscribers_repo import Notification, SubscriberRepo
from companyos.alerts.channels import Rendered, render
from companyos.alerts.routing import sms_text
from companyos.domain.alert_rules import load_pack
from companyos.domain.alert_subscribers import Subscriber, SubscriberChannel, matches

POST_TIMEOUT_S = 5
Poster = Callable[[Rendered], tuple[int, str]]  # -> (HTTP status, short detail)


class NotifyFailed(Exception):
    """Some posts failed (logged); raised after every channel was tried, so SNS retries."""


def http_post(rendered: Rendered) -> tuple[int, str]:
    """POST the rendered body to its URL (https only); the status and a short detail."""
    assert rendered.url is not None and rendered.url.startswith("https://")
    request = urllib.request.Request(
        rendered.url, data=rendered.body.encode(), headers=rendered.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as reply:
            return int(reply.status), reply.read(200).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read(200).decode(errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return 0, f"{type(exc).__name__}: {exc}"[:200]


def notification_id(message_id: str, subscriber_id: str, channel_id: str) -> str:
    return hashlib.sha256(f"{message_id}|{subscriber_id}|{channel_id}".encode()).hexdigest()[:32]


def _masked_url(url: str | None) -> str | None:
    """A webhook URL without its secret path (Slack and Teams URLs are credentials)."""
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


def _stored_rendering(ch: SubscriberChannel, rendered: Rendered) -> dict[str, Any]:
    """What the log keeps of a rendering: the body, without credentials."""
    body = rendered.body
    if ch.type == "pagerduty":  # the routing key is the credential
        body = body.replace(ch.address, "…" + ch.address[-4:])
    headers = {k: v for k, v in rendered.headers.items() if k != "X-CompanyOS-Signature"}
    if "X-CompanyOS-Signature" in rendered.headers:
        headers["X-CompanyOS-Signature"] = rendered.headers["X-CompanyOS-Signature"].split(",")[0] + ",v1=…"
    return {"url": _masked_url(rendered.url), "subject": rendered.subject, "headers": headers, "body": body}


def notify(tenant_id: str, message: dict[str, Any], now: datetime, post: Poster | None) -> dict[str, int]:
    """Deliver one routed message (its subject, body and attributes, as SNS hands them over); `post`
    None: the local stack (record, send nothing). Counts of what happened."""
    repo = SubscriberRepo(tenant_id)
    if "sms" not in message:  # the SMS as SNS sends it from the same body
        message = {**message, "sms": sms_text(message["body"], load_pack().channels["sms"].max_chars or 140)}
    attributes = {k: str(v) for k, v in (message.get("attributes") or {}).items()}
    message_id = str(message["body"].get("message_id") or "")
    counts = {"delivered": 0, "recorded": 0, "duplicates": 0, "failed": 0}
    for sub in repo.all():
        for ch in sub.channels:
            if not matches(tenant_id, sub, ch, attributes):
                continue
            outcome = _deliver(repo, sub, ch, message, message_id, attributes, now, post)
            counts[outcome] += 1
    if counts["failed"]:
        raise NotifyFailed(
            f"{counts['failed']} post(s) of message {message_id} failed; logged, retried by SNS"
        )
    return counts


def _deliver(
    repo: SubscriberRepo,
    sub: Subscriber,
    ch: SubscriberChannel,
    message: dict[str, Any],
    message_id: str,
    attributes: dict[str, str],
    now: datetime,
    post: Poster | None,
) -> str:
    nid = notification_id(message_id, sub.subscriber_id, ch.channel_id)
    if repo.logged(nid):
        return "duplicates"
    rendered = render(ch, message, int(now.timestamp()))
    if post is None:
        status, detail, outcome = (
            "recorded",
            "local stack: recorded, not sent (nothing leaves the machine)",
            "recorded",
        )
    elif ch.native:
        status, detail, outcome = "handed_to_sns", f"SNS delivers it ({ch.type} subscription)", "delivered"
    else:
        code, text = post(rendered)
        ok = 200 <= code < 300
        status, outcome = ("sent", "delivered") if ok else ("failed", "failed")
        detail = f"HTTP {code}" + (f": {text}" if text and not ok else "")
    record = Notification(
        notification_id=nid if outcome != "failed" else f"{nid[:20]}-failed-{int(now.timestamp() * 1000)}",
        subscriber_id=sub.subscriber_id,
        channel_id=ch.channel_id,
        channel_type=ch.type,
        message_id=message_id,
        delivered_at=now,
        status=status,
        detail=detail[:300],
        attributes=attributes,
        rendered=_stored_rendering(ch, rendered),
    )
    if not repo.log(record) and outcome != "failed":
        return "duplicates"  # a concurrent delivery of the same message logged it first
    return outcome
