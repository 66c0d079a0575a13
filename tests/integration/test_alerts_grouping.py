"""One incident's burst is one message (issue #18, 5: the grouping window): after a message of a
rule, the rule's other alerts that fire within the pack's interval (5 minutes) wait and go out
together when it ends — Alertmanager's group_interval. Three P1 incidents opened in three
evaluations a minute apart: the first is paged at once; the second and third are held (their
escalation pages are not) and reach the CTO's PagerDuty as one message of two alerts when the
window's flush runs."""

from __future__ import annotations

from datetime import timedelta

from companyos.domain import clock

from tests.conftest import Running, clock_at
from tests.integration.conftest import make_tenant
from tests.integration.test_alerts_flow import Inbox, evaluate, put_incident


def test_a_burst_of_incidents_across_evaluations_is_one_message_after_the_first(local: Running):
    from companyos.adapters.alerts_repo import AlertRepo
    from companyos.domain.alert_rules import load_pack

    assert load_pack().group_interval_s == 300
    t = make_tenant(local, "alerts-burst", "Alerts Burst Co")
    inbox = Inbox(local, t.id, only=("cto.pagerduty", "esc.sre_primary"))
    start = clock.now()
    put_incident(t.id, "B1", "P1", "triggered", 1)
    first = evaluate(local, t.id, snapshot=False)
    assert first["held"] == 0
    [message] = inbox.drain("cto.pagerduty")
    assert [a["labels"]["incident"] for a in message["body"]["alerts"]] == ["B1"]
    for minute, incident in ((1, "B2"), (2, "B3")):
        with clock_at(start + timedelta(minutes=minute)):
            put_incident(t.id, incident, "P1", "triggered", 1)
            out = evaluate(local, t.id, snapshot=False)
        assert out["held"] > 0 and out["messages"] == 0, out  # held for the window …
        assert len(out["escalations"]) == 1  # … but its escalation is not
    assert inbox.drain("cto.pagerduty") == []
    held = [a for a in AlertRepo(t.id).alerts().values() if a.outbox]
    assert sorted(a.labels["incident"] for a in held) == ["B2", "B3"]
    # When the window ends, its flush (a step of the escalation machine) sends both as one message
    state = {
        "kind": "flush",
        "tenant_id": t.id,
        "rule": "P1IncidentDeclared",
        "status": "firing",
        "phase": "flush",
    }
    with clock_at(start + timedelta(minutes=5, seconds=2)):
        done = local.stack.invoke("alerts", {"step": "escalate", "state": state})
    assert done["done"] is True and done["held"] == 0
    [grouped] = inbox.drain("cto.pagerduty")
    assert sorted(a["labels"]["incident"] for a in grouped["body"]["alerts"]) == ["B2", "B3"]
    assert grouped["body"]["summary"].startswith("2 alerts: P1 incident")
    assert all(not a.outbox for a in AlertRepo(t.id).alerts().values())
    # a second flush of the same window finds nothing left to send
    with clock_at(start + timedelta(minutes=5, seconds=3)):
        again = local.stack.invoke("alerts", {"step": "escalate", "state": state})
    assert again["messages"] == 0 and inbox.drain("cto.pagerduty") == []


def test_a_kpi_in_two_periods_snapshots_is_judged_in_its_rules_period_only(local: Running):
    """The demo's storm: DORARegression (a 7d rule) re-fired as a new episode at every evaluation,
    one firing e-mail per tick, none audited — the 28d snapshot's change failure rate (below the
    threshold) was a second sample of the same alert, resolving it, then the 7d one re-fired it."""
    from companyos.adapters.audit import AuditTrail
    from companyos.adapters.repos import ScoreStore

    from tests.integration.test_alerts_flow import alert_of, put_snapshot

    t = make_tenant(local, "alerts-periods", "Alerts Periods Co")
    inbox = Inbox(local, t.id, only=("cto.email",))
    put_snapshot(t.id, {"change_failure_rate": 20.0})  # the 7d snapshot: above 15 %
    month = {"kpis": {"change_failure_rate": {"kpi_id": "change_failure_rate", "value": 10.0}},
             "health": {"score": 80.0, "three_way": "healthy", "dimensions": []}, "panels": {}}  # fmt: skip
    ScoreStore(t.id).put_snapshot("28d", month, clock.now())  # the 28d one: below it
    for _ in range(3):
        evaluate(local, t.id)
    alert = alert_of(t.id, "DORARegression")
    assert (alert.state, alert.episode, alert.value) == ("firing", 1, 20.0)
    assert [m["attributes"]["rule"] for m in inbox.drain("cto.email")] == ["DORARegression"]
    fired = [e for e in AuditTrail(t.id).events() if e["action"] == "alert.firing"]
    assert len(fired) == 1
