"""The demo's alert subscribers: each demo user subscribed to their persona's alerts through the
subscriber use case (as an administrator would through the API), with the channels the spec's
persona blocks name — so every alert the demo fires lands in someone's local outbox.

Addresses are the demo users' own e-mails, fictional phone numbers (the 555-01xx range), and Slack,
Teams and PagerDuty endpoints that exist nowhere: the local stack records, it never sends."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from companyos.alerts import subscribers
from companyos.alerts.context import runtime
from companyos.domain.alert_subscribers import SubscriberIn
from companyos.domain.auth import Principal

from infra.local.demo_tenants import PLATFORM_ADMIN, DemoTenant

PERSONA_OF_ROLE = {"ceo": "ceo", "cto": "cto", "ciso": "ciso", "head_ops": "ops", "head_product": "product"}
# the escalation targets each role stands on call for (the pack's routes: sre_primary, ciso, cto …)
ONCALL_OF_ROLE = {"cto": ("cto",), "ciso": ("security_primary", "ciso"), "head_ops": ("sre_primary",)}


def _channels(tenant_id: str, role: str, email: str, n: int) -> list[dict[str, Any]]:
    """The persona block's channels (exec-cockpit-spec): CEO email, SMS, Slack DM; CTO email,
    Slack, PagerDuty; CISO email, SMS, PagerDuty; Ops PagerDuty, SMS; Product email, Slack, PagerDuty."""
    phone = f"+1202555{100 + n:04d}"
    slack = (
        f"https://hooks.slack.com/services/TDEMO{tenant_id[:4].upper()}/BDEMO{n:04d}/demo{role}webhook000000"
    )
    # a routing key is 32 letters and digits: no "_" of a role such as head_ops
    routing_key = re.sub(r"[^A-Za-z0-9]", "", f"{tenant_id[:4]}{role}").ljust(32, "0")[:32]
    email_ch = {"type": "email", "address": email}
    by_role: dict[str, list[dict[str, Any]]] = {
        "ceo": [email_ch, {"type": "sms", "address": phone}, {"type": "slack", "address": slack}],
        "cto": [email_ch, {"type": "slack", "address": slack}, {"type": "pagerduty", "address": routing_key}],
        "ciso": [email_ch, {"type": "sms", "address": phone}, {"type": "pagerduty", "address": routing_key}],
        "head_ops": [
            email_ch,
            {"type": "pagerduty", "address": routing_key},
            {"type": "sms", "address": phone},
        ],
        "head_product": [
            email_ch,
            {
                "type": "teams",
                "address": f"https://demo.webhook.office.com/webhookb2/{tenant_id}/IncomingWebhook/{n}",
            },
            {"type": "pagerduty", "address": routing_key},
        ],
    }
    return by_role[role]


def seed(demo: DemoTenant, now: datetime) -> list[str]:
    """Subscribe the tenant's persona users; the subscriber ids."""
    admin = Principal(
        sub="demo-seed", email=PLATFORM_ADMIN[0], memberships={demo.tenant.id: "platform_admin"}
    )
    made = []
    for n, (email, role, display) in enumerate(demo.users):
        persona = PERSONA_OF_ROLE.get(role)
        if persona is None:  # administrators and auditors take no persona's alerts
            continue
        body = SubscriberIn(
            name=display,
            email=email,
            personas=(persona,),
            oncall=ONCALL_OF_ROLE.get(role, ()),
            channels=_channels(demo.tenant.id, role, email, n),
            reason="make demo: the demo users subscribed to their persona's alerts",
        )
        view = subscribers.create(runtime(), admin, demo.tenant.id, body, now)
        made.append(str(view["subscriber_id"]))
    return made
