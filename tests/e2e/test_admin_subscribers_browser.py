"""The Subscribers and Outbox sections of the admin console in a real browser (issue #18, 2): the
demo's seeded subscribers as the alerts API lists them (personas in words, channels as chips with
masked webhook URLs and routing keys), a subscriber added with an e-mail and a Slack channel, a bad
phone number refused with the API's own message next to the form, a webhook's secret shown once,
disable and remove with a reason — and the outbox showing exactly what the API's delivery log holds,
newest first, with the local stack's "nothing leaves the machine". Every expectation is read from
the API first, never hard-coded."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.test_admin_browser import sign_in

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).parent / "screenshots"  # test artefacts, git-ignored
SLACK = "https://hooks.slack.com/services/TGLOBEX01/BTEST0001/browsertestwebhook0001"
STATUS_TEXT = {"recorded": "Recorded locally — not sent", "handed_to_sns": "Handed to SNS", "sent": "Sent"}


def api(local: Any, user: str, method: str, path: str, body: Any = None) -> Any:
    token = local.client.login(user)
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    return local.client.request(method, path, data, headers, token=token)


def subscribers(local: Any, user: str, tenant: str) -> list[dict[str, Any]]:
    reply = api(local, user, "GET", f"/api/alert-subscribers?tenant={tenant}")
    assert reply.status == 200, reply.body
    return list(reply.body["subscribers"])


def fill_subscriber(
    page: Any, name: str, email: str, personas: list[str], channels: list[tuple[str, str]]
) -> None:
    form = page.locator('[data-testid="subscriber-form"]')
    form.locator('[data-testid="subscriber-name"]').fill(name)
    form.locator('[data-testid="subscriber-email"]').fill(email)
    for persona in personas:
        form.locator(f'[data-testid="subscriber-personas"] input[value="{persona}"]').check()
    while form.locator('[data-testid="channel-row"]').count() < len(channels):
        form.locator('[data-testid="channel-add"]').click()
    for i, (kind, address) in enumerate(channels):
        row = form.locator('[data-testid="channel-row"]').nth(i)
        row.locator('[data-testid="channel-type"]').select_option(kind)
        row.locator('[data-testid="channel-address"]').fill(address)


def test_admin_sees_the_seeded_subscribers_adds_one_and_a_bad_phone_shows_the_api_message(
    local: Any, demo: Any, page: Any
) -> None:
    admin = "admin@globex.demo"
    seeded = subscribers(local, admin, "globex")
    assert seeded, "make demo subscribes Globex's persona users"
    sign_in(page, local.url, admin, "#/subscribers")
    rows = page.locator('[data-testid="subscriber-row"]')
    rows.first.wait_for()
    assert rows.count() == len(seeded)
    for sub in seeded:
        row = page.locator(f'[data-testid="subscriber-row"][data-subscriber="{sub["subscriber_id"]}"]')
        assert row.locator('[data-testid="subscriber-name-cell"]').inner_text() == sub["name"]
        chips = row.locator('[data-testid="channel-chip"]')
        assert chips.count() == len(sub["channels"])
        text = row.inner_text()
        assert sub["subscriber_id"] not in text and "undefined" not in text and "None" not in text
        for ch in sub["channels"]:
            chip = row.locator(f'[data-testid="channel-chip"][data-type="{ch["type"]}"]').inner_text()
            if ch["type"] == "pagerduty":
                assert f"…{ch['address'][-4:]}" in chip and ch["address"] not in chip
            elif ch["type"] in ("slack", "teams", "webhook"):
                assert ch["address"] not in chip and "/…" in chip
            else:
                assert ch["address"] in chip
            assert ("via SNS" in chip) == (ch["delivered_by"] == "sns")
    gwen = next(s for s in seeded if s["email"] == "cto@globex.demo")
    gwen_row = page.locator(f'[data-testid="subscriber-row"][data-subscriber="{gwen["subscriber_id"]}"]')
    assert gwen_row.locator('[data-testid="subscriber-personas"]').inner_text() == "CTO"
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-subscribers.png"), full_page=True)

    # a bad phone number: the API's message, next to the form, naming the channel
    bad = [("email", "dana@globex.demo"), ("sms", "555-1234")]
    fill_subscriber(page, "Dana (CFO office)", "dana@globex.demo", ["cfo_office"], bad)
    page.locator('[data-testid="subscriber-save"]').click()
    error = page.locator('[data-testid="subscriber-form-error"]')
    error.wait_for()
    refused = api(
        local,
        admin,
        "POST",
        "/api/alert-subscribers?tenant=globex",
        {
            "name": "Dana (CFO office)",
            "email": "dana@globex.demo",
            "personas": ["cfo_office"],
            "channels": [{"type": t, "address": a} for t, a in bad],
        },
    )
    assert refused.status == 422
    path, message = refused.body["details"]["path"], refused.body["message"]
    expected = message.removeprefix(f"{path}: ").removeprefix("Value error, ")
    assert error.locator('[data-testid="form-error-message"]').inner_text() == expected
    assert error.locator('[data-testid="form-error-field"]').inner_text().strip() == "Channel 2 (SMS):"
    assert len(subscribers(local, admin, "globex")) == len(seeded)  # nothing added
    page.screenshot(path=str(SHOTS / "admin-subscribers-bad-phone.png"), full_page=True)

    # fixed: e-mail + Slack → listed
    page.locator('[data-testid="channel-row"]').nth(1).locator('[data-testid="channel-type"]').select_option(
        "slack"
    )
    page.locator('[data-testid="channel-row"]').nth(1).locator('[data-testid="channel-address"]').fill(SLACK)
    page.locator('[data-testid="subscriber-save"]').click()
    page.locator('[data-testid="status"]:has-text("Dana (CFO office): added")').wait_for()
    dana = next(s for s in subscribers(local, admin, "globex") if s["email"] == "dana@globex.demo")
    row = page.locator(f'[data-testid="subscriber-row"][data-subscriber="{dana["subscriber_id"]}"]')
    assert row.locator('[data-testid="subscriber-personas"]').inner_text() == "CFO office"
    assert sorted(
        row.locator('[data-testid="channel-chip"]').evaluate_all("els => els.map(e => e.dataset.type)")
    ) == ["email", "slack"]
    assert "hooks.slack.com/…" in row.inner_text() and SLACK not in row.inner_text()

    # disable, then remove with a reason
    row.locator('[data-testid="subscriber-toggle"]').click()
    page.locator('[data-testid="status"]:has-text("Dana (CFO office): disabled")').wait_for()
    assert row.locator('[data-testid="subscriber-state"]').inner_text() == "Disabled"
    assert not next(s for s in subscribers(local, admin, "globex") if s["email"] == "dana@globex.demo")[
        "enabled"
    ]
    row.locator('[data-testid="subscriber-remove"]').click()
    row.locator('[data-testid="remove-reason"]').fill("left the company")
    row.locator('[data-testid="remove-confirm"]').click()
    page.locator('[data-testid="status"]:has-text("Dana (CFO office): removed")').wait_for()
    assert all(s["email"] != "dana@globex.demo" for s in subscribers(local, admin, "globex"))


def test_a_new_webhook_secret_is_shown_once(local: Any, demo: Any, page: Any) -> None:
    admin = "admin2@globex.demo"
    sign_in(page, local.url, admin, "#/subscribers")
    page.locator('[data-testid="subscriber-form"]').wait_for()
    fill_subscriber(
        page,
        "Hook (SIEM)",
        "siem@globex.demo",
        ["ciso"],
        [("webhook", "https://siem.globex.example/hooks/companyos")],
    )
    page.locator('[data-testid="subscriber-save"]').click()
    secret = page.locator('[data-testid="webhook-secret-value"]')
    secret.wait_for()
    assert secret.inner_text().startswith("whsec_")
    assert "copy it now, it is not shown again" in page.locator('[data-testid="webhook-secret"]').inner_text()
    page.screenshot(path=str(SHOTS / "admin-subscribers-secret.png"), full_page=True)
    hook = next(s for s in subscribers(local, admin, "globex") if s["email"] == "siem@globex.demo")
    assert hook["channels"][0]["secret_set"] and "secret" not in hook["channels"][0]
    page.locator('[data-testid="nav-outbox"]').click()
    page.locator('[data-testid="outbox-local-note"]').wait_for()
    page.locator('[data-testid="nav-subscribers"]').click()
    page.locator('[data-testid="subscribers-summary"]').wait_for()
    page.locator(f'[data-testid="subscriber-row"][data-subscriber="{hook["subscriber_id"]}"]').wait_for()
    assert page.locator('[data-testid="webhook-secret"]').count() == 0  # shown once
    api(local, admin, "DELETE", f"/api/alert-subscribers/{hook['subscriber_id']}?tenant=globex&reason=test")


def shown_as_answered(local: Any, user: str, path: str, page: Any) -> list[dict[str, Any]]:
    """The API's notifications as the page shows them: the section re-rendered between two equal
    answers (an escalation may page someone while the page loads)."""
    for _ in range(5):
        before = api(local, user, "GET", path).body["notifications"]
        page.evaluate("document.querySelector('main > section').dataset.stale = '1'")
        page.evaluate("window.dispatchEvent(new HashChangeEvent('hashchange'))")
        page.locator('main > section:not([data-stale]) [data-testid="outbox-summary"]').wait_for()
        if api(local, user, "GET", path).body["notifications"] == before:
            return list(before)
    raise AssertionError(f"{path} kept changing")


def ids(page: Any) -> list[str]:
    rows = page.locator('[data-testid="outbox-row"]')
    return list(rows.evaluate_all("els => els.map(e => e.dataset.notification)"))


def test_the_outbox_shows_what_the_delivery_log_holds(local: Any, demo: Any, page: Any) -> None:
    from infra.local.demo_tenants import PLATFORM_ADMIN

    user = PLATFORM_ADMIN[0]
    local.stack.deliver_notifications()
    sign_in(page, local.url, user, "#/outbox")
    page.locator('[data-testid="admin-tenant"]').select_option("northwind")
    page.locator('[data-testid="tenant-chip"][data-tenant="northwind"]').wait_for()
    page.wait_for_function("document.querySelector('h1')?.textContent === 'Alert outbox'")
    page.wait_for_load_state("networkidle")
    log = shown_as_answered(local, user, "/api/alert-notifications?tenant=northwind&limit=200", page)
    note = page.locator('[data-testid="outbox-local-note"]').inner_text()
    assert "On the local stack nothing leaves the machine" in note
    rows = page.locator('[data-testid="outbox-row"]')
    if not log:
        assert "No notifications yet" in page.locator('[data-testid="outbox-summary"]').inner_text()
        return
    assert ids(page) == [n["notification_id"] for n in log]  # newest first, as the API answers
    statuses = rows.locator('[data-testid="outbox-status"]').all_inner_texts()
    assert Counter(statuses) == Counter(STATUS_TEXT.get(n["status"], "") for n in log)
    assert rows.locator('[data-testid="outbox-who"]').all_inner_texts() == [n["subscriber_name"] for n in log]
    summary = page.locator('[data-testid="outbox-summary"]').inner_text()
    assert summary.startswith(f"{len(log)} notification")
    text = page.locator("main").inner_text()
    for raw in ("undefined", "None", "null", log[0]["delivered_at"][:19], log[0]["notification_id"]):
        assert raw not in text, raw
    # each rendered body as the channel got it: JSON pretty-printed, text as it is
    picked = [j for j, n in enumerate(log) if n["channel_type"] in ("email", "slack", "pagerduty")][:3]
    for i in sorted({0, len(log) - 1, *picked}):
        rows.nth(i).locator("summary").click()
        pre = rows.nth(i).locator('[data-testid="outbox-rendered"]').inner_text()
        body = log[i]["rendered"]["body"]
        try:
            assert json.loads(pre) == json.loads(body)
        except json.JSONDecodeError:
            assert pre.strip() == body.strip()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-outbox.png"), full_page=True)

    # one subscriber's outbox: what its own endpoint answers
    who = log[0]["subscriber_id"]
    page.locator('[data-testid="outbox-subscriber"]').select_option(who)
    page.wait_for_url(f"**#/outbox/{quote(who)}")
    page.locator(f'h1:has-text("Outbox of {log[0]["subscriber_name"]}")').wait_for()
    own = shown_as_answered(
        local, user, f"/api/alert-subscribers/{who}/notifications?tenant=northwind&limit=200", page
    )
    assert own and ids(page) == [n["notification_id"] for n in own]
    assert page.locator('[data-testid="outbox-who"]').count() == 0  # one subscriber: no "to whom"


def test_an_auditor_is_told_subscribers_are_for_admins(local: Any, demo: Any, page: Any) -> None:
    sign_in(page, local.url, "auditor@globex.demo", "#/subscribers")
    page.locator('[data-testid="admins-only"]').wait_for()
    assert page.locator('[data-testid="subscriber-form"]').count() == 0
