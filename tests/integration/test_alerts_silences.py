"""Silences and maintenance through the local front door (issue #18, 4): a silence by matchers mutes
the alerts it selects — they still fire and show in the inbox with why, their notifications are
recorded as silenced and audited, none is sent — and when it is expired the held-back firing
notification goes out once. A KPI paused for maintenance mutes the rules that read it, and a
delivery no longer starts the paused KPI's event runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.admin_helpers import ALWAYS_OPEN
from tests.integration.conftest import make_tenant
from tests.integration.test_alerts_api import audit_actions
from tests.integration.test_alerts_flow import Inbox, add_user, alert_of, api, evaluate, put_snapshot

NRR_VERSION = "2.1.0"  # the shipped contract's (runs/packs/health-contracts-v1.yaml)


@pytest.fixture(scope="module")
def tenant(local: Running):
    t = make_tenant(local, "alerts-silence", "Alerts Silence Co")
    tokens = {role: add_user(local, t.id, role) for role in ("ceo", "tenant_admin", "auditor")}
    tokens["cto"] = t.cto_token
    return t, tokens


def silence(local, token, tenant_id, matchers, minutes=60, reason="deploy freeze drill"):
    body = {
        "matchers": matchers,
        "ends_at": (clock.now() + timedelta(minutes=minutes)).isoformat(),
        "reason": reason,
    }
    return api(local, token, "POST", f"/api/alert-silences?tenant={tenant_id}", body)


def test_a_silenced_alert_fires_shows_why_and_sends_nothing_until_the_silence_ends(local, tenant):
    t, tok = tenant
    inbox = Inbox(local, t.id, only=("cto.email",))
    made = silence(local, tok["cto"], t.id, {"rule": "DORARegression"})
    assert made.status == 200 and made.body["state"] == "active" and made.body["author"] == f"cto@{t.id}.test"
    # When the change failure rate crosses its threshold
    put_snapshot(t.id, {"change_failure_rate": 30.0})
    out = evaluate(local, t.id)
    # Then the alert fires, but its notification is recorded as silenced, not sent
    assert [tr["to"] for tr in out["transitions"] if tr["rule"] == "DORARegression"] == ["firing"]
    assert (out["messages"], out["silenced"]) == (0, 1)
    assert inbox.drain("cto.email") == []
    alert = alert_of(t.id, "DORARegression")
    assert alert.state == "firing" and alert.silenced["silence_id"] == made.body["silence_id"]
    assert [(n["status"], n["by"]) for n in alert.silenced_notifications] == [("firing", "silence")]
    assert "alert.notification_silenced" in audit_actions(t.id)
    # And the inbox shows it with why
    listed = api(local, tok["cto"], "GET", f"/api/alerts?tenant={t.id}&persona=cto")
    [shown] = [a for a in listed.body["alerts"] if a["rule_id"] == "DORARegression"]
    assert shown["silenced"]["reason"] == "deploy freeze drill" and shown["silenced"]["by"] == "silence"
    # Re-evaluating sends nothing either
    assert evaluate(local, t.id)["messages"] == 0
    # When the silence is expired by hand, the still-firing alert is notified — once
    sid = made.body["silence_id"]
    ended = api(local, tok["cto"], "DELETE", f"/api/alert-silences/{sid}?tenant={t.id}", None)
    assert ended.status == 200 and ended.body["state"] == "expired"
    assert evaluate(local, t.id)["messages"] == 1
    assert evaluate(local, t.id)["messages"] == 0
    assert [m["attributes"]["rule"] for m in inbox.drain("cto.email")] == ["DORARegression"]
    assert alert_of(t.id, "DORARegression").silenced is None
    again = api(local, tok["cto"], "DELETE", f"/api/alert-silences/{sid}?tenant={t.id}", None)
    assert (again.status, again.body["code"]) == (409, "silence_expired")
    listed = api(local, tok["auditor"], "GET", f"/api/alert-silences?tenant={t.id}").body["silences"]
    assert [(s["silence_id"], s["state"]) for s in listed] == [(sid, "expired")]


FAR = "2100-01-01T00:00:00+00:00"  # beyond the 90-day limit from the fixed clock (2026)


def body_of(matchers=None, ends_at=None, reason="x"):
    return {"matchers": {"rule": "A"} if matchers is None else matchers, "ends_at": ends_at, "reason": reason}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (body_of({}, FAR), 422, "invalid_request"),
        (body_of(ends_at="2100-01-01T00:00:00"), 422, "invalid_request"),  # naive: no offset
        (body_of(ends_at=FAR, reason=" "), 422, "invalid_request"),
        (body_of({"Bad Name": "A"}, FAR), 422, "invalid_request"),
        (body_of(ends_at="2000-01-01T00:00:00+00:00"), 422, "invalid_window"),
        (body_of(ends_at=FAR), 422, "invalid_window"),
    ],
    ids=["no-matcher", "naive-end", "blank-reason", "bad-label", "ended", "longer-than-90-days"],
)
def test_a_silence_that_cannot_apply_is_refused_with_a_code_and_nothing_stored(
    local, tenant, body, status, code
):
    t, tok = tenant
    before = api(local, tok["cto"], "GET", f"/api/alert-silences?tenant={t.id}").body["silences"]
    reply = api(local, tok["cto"], "POST", f"/api/alert-silences?tenant={t.id}", body)
    assert (reply.status, reply.body["code"]) == (status, code)
    assert api(local, tok["cto"], "GET", f"/api/alert-silences?tenant={t.id}").body["silences"] == before


def test_only_roles_that_act_on_alerts_may_silence(local, tenant):
    t, tok = tenant
    reply = silence(local, tok["auditor"], t.id, {"rule": "NRRBelowTarget"})
    assert (reply.status, reply.body["code"]) == (403, "action_forbidden")


def test_a_kpi_paused_for_maintenance_mutes_its_rules_and_starts_no_event_runs(local, tenant):
    from companyos.ingest_runs import start_event_runs

    t, tok = tenant
    inbox = Inbox(local, t.id, only=("ceo.email", "ceo.slack", "product.email"))
    # Given NRR is paused for maintenance (a global pause through the admin API)
    admin = tok["tenant_admin"]
    assert api(local, admin, "PUT", f"/api/admin/change-window?tenant={t.id}", ALWAYS_OPEN).status == 200
    pause = {"reason": "billing export migration", "eta": "Friday"}
    path = f"/api/kpis/net_revenue_retention/versions/{NRR_VERSION}/pause?tenant={t.id}"
    reply = api(local, admin, "POST", path, pause)
    assert reply.status == 200, reply.body
    # When NRR drops below target
    put_snapshot(t.id, {"net_revenue_retention": 92.0, "change_failure_rate": 30.0})
    out = evaluate(local, t.id)
    # Then NRRBelowTarget fires, muted by the maintenance, and nobody is notified
    alert = alert_of(t.id, "NRRBelowTarget")
    assert alert.state == "firing"
    assert alert.silenced == {
        "by": "maintenance",
        "kpi": "net_revenue_retention",
        "reason": "billing export migration",
        "until": None,
    }
    assert out["messages"] == 0 and inbox.drain_all() == {}
    # And a delivery that NRR reads starts no run of it while it is paused
    started: list[dict] = []
    runs = start_event_runs(t.id, "billing", "d-1", {"billing_event"}, lambda n, p: started.append(p))
    assert "net_revenue_retention" not in runs
    assert all(pair["kpi_id"] != "net_revenue_retention" for p in started for pair in p["pairs"])


def test_a_silenced_critical_alert_pages_nobody_and_escalates_once_the_silence_ends(local, tenant):
    """A silence mutes the escalation pages too: a P1 under a silence starts no escalation; once
    the silence is expired the next evaluation notifies it and starts its escalation."""
    from tests.integration.test_alerts_flow import put_incident

    t, tok = tenant
    made = silence(local, tok["cto"], t.id, {"rule": "P1IncidentDeclared"}, reason="game day")
    put_incident(t.id, "SIL1", "P1", "triggered", 1)
    out = evaluate(local, t.id, snapshot=False)
    assert out["escalations"] == [] and alert_of(t.id, "P1IncidentDeclared").escalation is None
    api(local, tok["cto"], "DELETE", f"/api/alert-silences/{made.body['silence_id']}?tenant={t.id}", None)
    out = evaluate(local, t.id, snapshot=False)
    assert len(out["escalations"]) == 1 and out["messages"] > 0
    put_incident(t.id, "SIL1", "P1", "resolved", 2)  # stop it
    evaluate(local, t.id, snapshot=False)
