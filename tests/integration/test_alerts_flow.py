"""Alerts end to end on embedded AWS: KPI values (score snapshots), incidents (signals) and SLO
windows cross thresholds → the real `alerts` Lambda evaluates → SNS messages with the matrix's
persona/channel attributes reach exactly the subscribers whose filter policies match (moto SNS →
SQS) → escalation executions run in Step Functions → acknowledging through the API stops them."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from companyos.domain import clock

from tests.conftest import Running, clock_at
from tests.integration.conftest import make_tenant

PERSONAS = ("ceo", "cto", "ciso", "ops", "product")
CHANNELS = ("sms", "pagerduty", "email", "slack")


# ------------------------------------------------------------------------------------ helpers


class Inbox:
    """SQS queues subscribed to the alerts topic with the production filter policies.

    moto 5.2.5 delivers a topic's messages to the first page (100) of its subscriptions only, so
    each test subscribes just the queues it reads (the matrix tenant subscribes them all)."""

    def __init__(self, local: Running, tenant_id: str, only: tuple[str, ...] = ()) -> None:
        from companyos.alerts.topology import Subscriber, subscribe

        self.sqs = boto3.client("sqs")
        self.tenant_id = tenant_id
        self.queues: dict[str, str] = {}
        topic = local.stack.settings.alerts_topic_arn
        subs = [Subscriber(tenant_id, "", "sqs", persona=p, channel=c) for p in PERSONAS for c in CHANNELS]
        subs += [Subscriber(tenant_id, "", "sqs", persona=t, channel=c)
                 for t, c in (("cfo_office", "email"), ("data_quality", "email"))]  # fmt: skip
        subs += [Subscriber(tenant_id, "", "sqs", target=t)
                 for t in ("sre_primary", "sre_secondary", "security_primary", "ciso", "cto")]  # fmt: skip
        for sub in subs:
            key = (sub.target and f"esc.{sub.target}") or f"{sub.persona}.{sub.channel}"
            if only and key not in only:
                continue
            url = self.sqs.create_queue(QueueName=f"{tenant_id}-{key.replace('.', '-')}")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            subscribe(topic, Subscriber(**{**sub.__dict__, "endpoint": arn}))
            self.queues[key] = url

    def drain(self, key: str) -> list[dict[str, Any]]:
        """Every message on one queue (SNS envelopes, parsed), removed from the queue."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queues[key], MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not got:
                return out
            for m in got:
                env = json.loads(m["Body"])
                attrs = {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()}
                out.append(
                    {"attributes": attrs, "subject": env.get("Subject"), "body": json.loads(env["Message"])}
                )
                self.sqs.delete_message(QueueUrl=self.queues[key], ReceiptHandle=m["ReceiptHandle"])

    def drain_all(self) -> dict[str, list[dict[str, Any]]]:
        return {k: msgs for k in self.queues if (msgs := self.drain(k))}


def put_snapshot(
    tenant_id: str,
    values: dict[str, float | None],
    health: float | None = 80.0,
    panels: dict[str, Any] | None = None,
) -> None:
    """What the score refresh writes: the latest 7d snapshot with KPI values and evidence (and the
    breakdown rows the runs delivered, `panels`)."""
    from companyos.adapters.repos import ScoreStore

    kpis = {
        k: {"kpi_id": k, "name": k, "value": v, "display": str(v),
            "evidence": {"href": f"/api/runs/run-{k}?tenant={tenant_id}"}}
        for k, v in values.items()
    }  # fmt: skip
    data = {"kpis": kpis, "health": {"score": health, "three_way": "healthy", "dimensions": []}}
    ScoreStore(tenant_id).put_snapshot("7d", data | {"panels": panels or {}}, clock.now())


def vulns_panel(tenant_id: str, critical_open: int) -> dict[str, Any]:
    """The vulnerability summary rows the vuln_sla_compliance run delivers (runs/rows_security.py)."""
    evidence = {"run_id": "run-vulns", "href": f"/api/runs/run-vulns?tenant={tenant_id}"}
    row = {"id": "critical", "severity": "critical", "open": critical_open, "overdue": 0,
           "oldest_age_days": 2.0, "sla_days": 7, "evidence": evidence}  # fmt: skip
    return {"vulns": {"available": True, "items": [row], "evidence": evidence}}


def evaluate(local: Running, tenant_id: str, **extra: Any) -> dict[str, Any]:
    """The EvaluateAlerts task exactly as the kpi_run state machine calls it (after RefreshScores)."""
    event = {"refreshed": [{"tenant_id": tenant_id}], "results": [], **extra}
    result: dict[str, Any] = local.stack.invoke("alerts", event)
    return result["evaluated"][0]


def add_user(local: Running, tenant_id: str, role: str) -> str:
    from companyos.adapters.repos import Catalog

    email = f"{role}@{tenant_id}.test"
    Catalog().put_member(tenant_id, email, role, role)
    local.idp.add_user(email, role, {tenant_id: role})
    return local.client.login(email)


def api(local: Running, token: str, method: str, path: str, body: Any = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    return local.client.request(method, path, data, headers, token=token)


def alert_of(tenant_id: str, rule_id: str):
    from companyos.adapters.alerts_repo import AlertRepo

    return next(a for a in AlertRepo(tenant_id).alerts().values() if a.rule_id == rule_id)


def wait_until(check, timeout_s: float = 20.0, every_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError("condition not reached in time")


def put_incident(tenant_id: str, incident_id: str, priority: str, status: str, seq: int) -> None:
    from companyos.adapters.repos import SignalStore, StoredSignal

    now = clock.now()
    attrs = {"incident_id": incident_id, "priority": priority, "status": status, "title": "Checkout down"}
    sig = StoredSignal(
        "incident",
        "pagerduty",
        f"{incident_id}-{seq}",
        now,
        "svc",
        "checkout",
        f"d-{incident_id}-{seq}",
        attrs,
    )
    assert SignalStore(tenant_id).put_delivery(
        "pagerduty", f"d-{incident_id}-{seq}", [sig], retention_days=30
    )


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def quiet(local: Running):
    """A tenant with one subscriber queue per persona x channel and per escalation target."""
    t = make_tenant(local, "alerts-matrix", "Alerts Matrix Co")
    return t, Inbox(local, t.id)


# ------------------------------------------------------------------------------------ tests


def test_a_kpi_crossing_its_threshold_notifies_exactly_the_matrix_subscribers_once(local, quiet):
    tenant, inbox = quiet
    # Given NRR above target: nothing fires
    put_snapshot(tenant.id, {"net_revenue_retention": 104.0})
    assert evaluate(local, tenant.id)["transitions"] == []
    assert inbox.drain_all() == {}
    # When it drops below 100%
    put_snapshot(tenant.id, {"net_revenue_retention": 96.5})
    out = evaluate(local, tenant.id)
    assert [t["to"] for t in out["transitions"]] == ["firing"]
    # Then the CEO gets Slack and Head of Product gets email (the severity matrix row), and the CEO
    # email too (the CEO block's delivery: email, slack_dm) — nobody else
    got = inbox.drain_all()
    assert sorted(got) == ["ceo.email", "ceo.slack", "product.email"]
    [msg] = got["ceo.slack"]
    assert msg["attributes"] == {
        "kind": "alert", "tenant": tenant.id, "persona": "ceo", "channel": "slack", "severity": "high",
        "dimension": "financials", "rule": "NRRBelowTarget", "status": "firing",
    }  # fmt: skip
    body = msg["body"]
    assert body["tenant"] == tenant.id and body["summary"] == "Net revenue retention 96.5% is below 100%"
    assert (body["alerts"][0]["value"], body["alerts"][0]["threshold"]) == (96.5, 100.0)
    assert body["link"].endswith(f"/#/{tenant.id}/ceo?period=7d")
    assert body["alerts"][0]["evidence"] == f"/api/runs/run-net_revenue_retention?tenant={tenant.id}"
    # When the same snapshot is evaluated again (a retried task, the next schedule): no repeat
    assert evaluate(local, tenant.id)["messages"] == 0
    assert inbox.drain_all() == {}
    # When NRR recovers: one resolved message per (non-SMS) subscriber
    put_snapshot(tenant.id, {"net_revenue_retention": 101.0})
    evaluate(local, tenant.id)
    got = inbox.drain_all()
    assert sorted(got) == ["ceo.email", "ceo.slack", "product.email"]
    assert got["ceo.slack"][0]["attributes"]["status"] == "resolved"


def test_a_p1_incident_pages_the_matrix_row_and_escalates(local, quiet):
    tenant, inbox = quiet
    put_incident(tenant.id, "Q1P1", "P1", "triggered", 1)
    out = evaluate(local, tenant.id, snapshot=False)
    got = inbox.drain_all()
    alert_queues = {k: v for k, v in got.items() if not k.startswith("esc.")}
    assert sorted(alert_queues) == [  # the matrix row, and the CTO block's SMS and Slack
        "ceo.sms",
        "ciso.email",
        "cto.pagerduty",
        "cto.slack",
        "cto.sms",
        "ops.pagerduty",
        "product.email",
    ]
    assert got["cto.pagerduty"][0]["body"]["summary"] == "P1 incident Q1P1: Checkout down"
    # critical x reliability matches the SRE route: an escalation execution started
    [arn] = out["escalations"]
    assert boto3.client("stepfunctions").describe_execution(executionArn=arn)["status"] in (
        "RUNNING",
        "SUCCEEDED",
    )
    # When the incident resolves in PagerDuty, the alert resolves (and stops escalating)
    put_incident(tenant.id, "Q1P1", "P1", "resolved", 2)
    evaluate(local, tenant.id, snapshot=False)
    assert alert_of(tenant.id, "P1IncidentDeclared").state == "resolved"
    local.stack.wait_for_execution(arn, timeout_s=30)
    inbox.drain_all()


def test_fast_burn_page_inhibits_the_slow_burn_ticket_of_the_same_slo(local, quiet):
    tenant, inbox = quiet

    def windows(fast: float, slow: float) -> dict[str, list[float]]:
        def c(rate: float) -> list[float]:
            return [100_000 - rate * 100, 100_000]

        return {"5m": c(fast), "1h": c(fast), "30m": c(fast), "6h": c(max(fast, slow)), "3d": c(slow)}

    slo = [{"service": "checkout", "slo": "availability", "objective": 0.999, "windows": windows(20, 2)}]
    start = clock.now()
    evaluate(local, tenant.id, snapshot=False, slo=slo)
    # The ticket has no `for`; the page waits 5 minutes (pending inhibits nothing, as in Alertmanager)
    got = inbox.drain_all()
    assert [m["attributes"]["rule"] for m in got["cto.email"]] == ["SLOBudgetBurningSlow"]
    assert alert_of(tenant.id, "SLOBudgetBurning").state == "pending"
    with clock_at(start + timedelta(minutes=5, seconds=1)):  # the pending alert's `since` is after `start`
        evaluate(local, tenant.id, snapshot=False, slo=slo)
    got = inbox.drain_all()
    # SLOBudgetBurning routes CTO slack + email; from now on it inhibits the ticket of the same SLO
    assert [m["attributes"]["rule"] for m in got["cto.email"]] == ["SLOBudgetBurning"]
    assert [m["attributes"]["rule"] for m in got["cto.slack"]] == ["SLOBudgetBurning"]
    assert (
        alert_of(tenant.id, "SLOBudgetBurningSlow").inhibited_by
        == alert_of(tenant.id, "SLOBudgetBurning").alert_id
    )
    # When the fast burn stops but the slow burn continues, the page resolves; the ticket (already
    # sent) is not sent again
    slo[0]["windows"] = windows(0.5, 2)
    with clock_at(start + timedelta(minutes=6)):
        evaluate(local, tenant.id, snapshot=False, slo=slo)
        evaluate(local, tenant.id, snapshot=False, slo=slo)
    got = inbox.drain_all()
    assert sorted((m["attributes"]["rule"], m["attributes"]["status"]) for m in got["cto.email"]) == [
        ("SLOBudgetBurning", "resolved")
    ]  # fmt: skip


class Flaky:
    """An SNS client that fails the first `failures` publishes (then behaves), like a throttled API."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def publish(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Publish")
        return self.real.publish(**kwargs)


def test_sns_errors_are_retried_and_undeliverable_alerts_land_in_the_dlq(local, monkeypatch):
    from companyos.adapters.aws import AwsClients
    from companyos.alerts.context import runtime

    tenant = make_tenant(local, "alerts-dlq", "Alerts DLQ Co")
    inbox = Inbox(local, tenant.id, only=("cto.email", "ciso.pagerduty"))
    publisher = runtime().publisher
    real = boto3.client("sns")
    # Given SNS fails twice, then recovers: the alert is delivered by the retries
    monkeypatch.setattr(publisher, "clients", AwsClients(overrides={"sns": Flaky(real, failures=2)}))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0})
    out = evaluate(local, tenant.id)
    assert (out["messages"], out["dead_lettered"]) == (1, 0)
    assert [m["attributes"]["rule"] for m in inbox.drain("cto.email")] == ["DORARegression"]
    # Given SNS keeps failing: the message goes to the DLQ whole, and the alert is still firing
    monkeypatch.setattr(publisher, "clients", AwsClients(overrides={"sns": Flaky(real, failures=10_000)}))
    put_snapshot(tenant.id, {"change_failure_rate": 22.0, "compliance_score": 80.0})
    out = evaluate(local, tenant.id)
    # ComplianceDropped: CTO email, CISO PagerDuty (matrix), CISO email (the CISO block)
    assert (out["messages"], out["dead_lettered"]) == (3, 3)
    assert inbox.drain_all() == {}
    sqs = boto3.client("sqs")
    dlq = local.stack.settings.alerts_dlq_url
    dead = []
    while got := sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []):
        for m in got:
            doc = json.loads(m["Body"])
            if doc["message"]["attributes"]["tenant"] == tenant.id:
                dead.append(doc)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(d["message"]["attributes"]["persona"] for d in dead) == ["ciso", "ciso", "cto"]
    assert all(d["message"]["attributes"]["rule"] == "ComplianceDropped" and d["attempts"] == 3 for d in dead)
    assert alert_of(tenant.id, "ComplianceDropped").state == "firing"


def test_escalation_without_ack_notifies_three_levels_and_with_ack_exactly_one(local):
    tenant = make_tenant(local, "alerts-esc", "Alerts Escalation Co")
    inbox = Inbox(local, tenant.id, only=("esc.security_primary", "esc.ciso", "esc.cto"))
    admin = add_user(local, tenant.id, "tenant_admin")
    # Given the tenant's security route escalates after 1s and 2s (routes are data, per tenant)
    routes = {
        "routes": [
            {
                "severity": "critical",
                "dimension": "security",
                "receiver": "security_primary",
                "escalation": [{"after": "1s", "notify": "ciso"}, {"after": "2s", "notify": "cto"}],
            }
        ]
    }
    assert api(local, admin, "PUT", f"/api/alert-routes?tenant={tenant.id}", routes).status == 200
    # When a secret is committed (critical, security) and nobody acknowledges
    put_snapshot(tenant.id, {"secret_scan_violations": 1.0})
    [arn] = evaluate(local, tenant.id)["escalations"]
    done = local.stack.wait_for_execution(arn, timeout_s=60)
    # Then the receiver, then each escalation step, was notified — three notifications
    assert done["status"] == "SUCCEEDED"
    order = [
        m["attributes"]["target"]
        for k in ("esc.security_primary", "esc.ciso", "esc.cto")
        for m in inbox.drain(k)
    ]
    assert order == ["security_primary", "ciso", "cto"]
    levels = alert_of(tenant.id, "SecretCommitted").escalation["notified"]
    assert [(n["target"], n["level"]) for n in levels] == [("security_primary", 0), ("ciso", 1), ("cto", 2)]
    assert levels[0]["at"] < levels[1]["at"] < levels[2]["at"]
    inbox.drain_all()

    # Given a slower route, when a critical CVE fires and the CISO acknowledges after the first page
    routes["routes"][0]["escalation"] = [{"after": "4s", "notify": "ciso"}, {"after": "8s", "notify": "cto"}]
    assert api(local, admin, "PUT", f"/api/alert-routes?tenant={tenant.id}", routes).status == 200
    ciso = add_user(local, tenant.id, "ciso")
    put_snapshot(tenant.id, {"secret_scan_violations": 1.0}, panels=vulns_panel(tenant.id, critical_open=2))
    [arn] = evaluate(local, tenant.id)["escalations"]
    wait_until(lambda: inbox.drain("esc.security_primary"))
    alert = alert_of(tenant.id, "CriticalCVEDetected")
    reply = api(
        local, ciso, "POST", f"/api/alerts/{alert.alert_id}/ack?tenant={tenant.id}", {"note": "on it"}
    )
    assert reply.status == 200 and reply.body["acknowledged"] is True
    # Then the escalation stops: after both steps would have run, only that one page was sent
    time.sleep(5)
    local.stack.wait_for_execution(arn, timeout_s=30)
    assert inbox.drain("esc.ciso") == [] and inbox.drain("esc.cto") == []
    assert (
        alert_of(tenant.id, "CriticalCVEDetected").escalation["notified"][0]["target"] == "security_primary"
    )
    assert len(alert_of(tenant.id, "CriticalCVEDetected").escalation["notified"]) == 1


def run_kpis(local: Running, tenant_id: str, kpis: tuple[str, ...], name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name=name,
        input=json.dumps({"pairs": [{"tenant_id": tenant_id, "kpi_id": k} for k in kpis],
                          "trigger": {"type": "manual", "by": "alerts-test"}}),
    )["executionArn"]  # fmt: skip
    return local.stack.wait_for_execution(arn, timeout_s=120)


def test_the_kpi_run_state_machine_evaluates_alerts_after_the_score_refresh(local):
    # Given a tenant without any source data, its KPI runs stop at the hard pre-validation gate
    tenant = make_tenant(local, "alerts-pipeline", "Alerts Pipeline Co")
    inbox = Inbox(local, tenant.id, only=("data_quality.email",))
    done = run_kpis(local, tenant.id, ("deployment_frequency",), "alerts-pipeline-1")
    # Then EvaluateAlerts ran on the RefreshScores output: the hard fail is an alert to data quality
    assert done["status"] == "SUCCEEDED"
    [evaluated] = json.loads(done["output"])["alerts"]["evaluated"]
    assert evaluated["tenant_id"] == tenant.id
    assert any(t["rule"] == "KpiValidationHardFail" and t["to"] == "firing" for t in evaluated["transitions"])
    assert evaluated["messages"] == 1 and evaluated["dead_lettered"] == 0, evaluated
    [msg] = inbox.drain("data_quality.email")
    assert msg["body"]["alerts"][0]["labels"] == {"kpi": "deployment_frequency"}
    assert msg["body"]["alerts"][0]["evidence"].startswith("/api/runs/")
    # When the next run fails the same way, the alert is already firing: no second message
    assert run_kpis(local, tenant.id, ("deployment_frequency",), "alerts-pipeline-2")["status"] == "SUCCEEDED"
    assert inbox.drain("data_quality.email") == []


def test_an_alerting_failure_never_fails_the_kpi_run(local, monkeypatch):
    from companyos.alerts import evaluation

    tenant = make_tenant(local, "alerts-broken", "Alerts Broken Co")

    def broken(rt: Any, event: Any) -> Any:
        raise RuntimeError("alert evaluation exploded")

    monkeypatch.setattr(evaluation, "evaluate_event", broken)
    done = run_kpis(local, tenant.id, ("deployment_frequency",), "alerts-broken-1")
    assert done["status"] == "SUCCEEDED"
    out = json.loads(done["output"])
    assert out["alerts_error"]["Error"] == "RuntimeError" and "refreshed" in out


def test_an_escalation_page_logged_while_the_evaluator_delivers_is_kept_and_nothing_fails(local):
    """The race the escalation step and an evaluation can run: the step logs a page on the alert
    after the evaluator read it. The evaluator's save re-reads and re-applies its change instead of
    failing, and neither write is lost."""
    from companyos.adapters.alerts_repo import AlertRepo
    from companyos.alerts.context import Runtime
    from companyos.alerts.delivery import deliver
    from companyos.alerts.writes import record_escalation
    from companyos.domain.alert_engine import Alert
    from companyos.domain.alert_rules import load_pack

    make_tenant(local, "alerts-race", "Alerts Race")
    alert = Alert(
        alert_id="race-1",
        tenant_id="alerts-race",
        rule_id="P1IncidentDeclared",
        labels={"incident": "QRACE"},
        state="firing",
        severity="critical",
        dimension="reliability",
        persona="cto",
        summary="P1 incident QRACE",
        episode=1,
        escalation={"execution_arn": "arn:test", "notified": []},
        outbox=["firing"],
    )
    AlertRepo("alerts-race").save(alert)

    evaluator = AlertRepo("alerts-race")
    seen = evaluator.alerts()["race-1"]  # the evaluator reads the alert (and its version)
    step = AlertRepo("alerts-race")  # the escalation step logs a page meanwhile
    record_escalation(step, step.get("race-1"), {"level": 0, "target": "cto.pagerduty"})

    rt = Runtime.from_settings(local.stack.settings)
    out = deliver(rt, evaluator, load_pack(), {"race-1": seen})

    stored = AlertRepo("alerts-race").get("race-1")
    assert out["messages"] >= 1 and stored.outbox == []  # delivered once, outbox cleared
    assert stored.escalation is not None
    assert stored.escalation["notified"] == [{"level": 0, "target": "cto.pagerduty"}]  # the page is kept


def test_two_evaluations_racing_over_one_recovery_audit_and_notify_it_once(local, monkeypatch):
    """Two score refreshes 150 ms apart both saw the alert firing and both resolved it: the probe saw
    `alert.resolved` logged twice. The late evaluator's save re-reads the alert, finds it resolved
    already, and reports no transition of its own."""
    from companyos.adapters.alerts_repo import AlertRepo
    from companyos.adapters.audit import AuditTrail

    tenant = make_tenant(local, "alerts-twice", "Alerts Twice")
    put_snapshot(tenant.id, {"net_revenue_retention": 96.5})
    assert [t["to"] for t in evaluate(local, tenant.id)["transitions"]] == ["firing"]
    stale = AlertRepo(tenant.id).alerts()  # what the late evaluator reads before the first one saves
    put_snapshot(tenant.id, {"net_revenue_retention": 101.0})
    assert [t["to"] for t in evaluate(local, tenant.id)["transitions"]] == ["resolved"]

    monkeypatch.setattr(AlertRepo, "alerts", lambda self: stale)
    late = evaluate(local, tenant.id)

    assert late["transitions"] == [] and late["messages"] == 0
    actions = [e["action"] for e in AuditTrail(tenant.id).events()]
    assert actions.count("alert.firing") == 1 and actions.count("alert.resolved") == 1, actions


def test_overlapping_evaluations_make_one_episode_one_audit_entry_and_one_message_per_channel(local):
    """Six failed deploys within seconds started overlapping evaluations of one tenant: one episode
    was audited three times and its one-recipient rule sent four messages (a stale result re-applied
    over another run's write; each delivery also sent the other runs' pending outbox entries)."""
    from concurrent.futures import ThreadPoolExecutor

    from companyos.adapters.audit import AuditTrail

    tenant = make_tenant(local, "alerts-parallel", "Alerts Parallel Co")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 40.0})  # DORARegression: CTO email only
    with ThreadPoolExecutor(max_workers=6) as pool:
        outs = list(pool.map(lambda _: evaluate(local, tenant.id), range(6)))
    firing = [t for o in outs for t in o["transitions"] if t["rule"] == "DORARegression"]
    assert [t["to"] for t in firing] == ["firing"]  # one evaluation made the transition
    assert sum(o["messages"] for o in outs) == 1
    assert [m["attributes"]["rule"] for m in inbox.drain("cto.email")] == ["DORARegression"]
    events = [e for e in AuditTrail(tenant.id).events() if e["action"] == "alert.firing"]
    assert len(events) == 1
    alert = alert_of(tenant.id, "DORARegression")
    assert (alert.state, alert.episode, alert.outbox) == ("firing", 1, [])


def test_a_claim_left_by_a_deliverer_that_died_is_sent_by_the_next_evaluation_once(local):
    """A delivery claims the outbox, then its Lambda dies before publishing: within the lease the
    next evaluation leaves the claim alone (its owner may still be publishing); after it, the claim
    is taken over and sent — once."""
    from companyos.adapters.alerts_repo import AlertRepo
    from companyos.alerts.delivery import LEASE_S

    tenant = make_tenant(local, "alerts-lease", "Alerts Lease Co")
    inbox = Inbox(local, tenant.id, only=("cto.email",))
    put_snapshot(tenant.id, {"change_failure_rate": 40.0})
    evaluate(local, tenant.id)
    assert [m["attributes"]["rule"] for m in inbox.drain("cto.email")] == ["DORARegression"]
    # Given the alert resolves and its "resolved" notification is claimed by a deliverer that dies
    repo = AlertRepo(tenant.id)
    alert = alert_of(tenant.id, "DORARegression")
    repo.get(alert.alert_id)
    dead = {"status": "resolved", "claim": "dead-deliverer", "at": clock.now().isoformat()}
    repo.save(alert.model_copy(update={"state": "resolved", "sending": [dead]}))
    put_snapshot(tenant.id, {"change_failure_rate": 5.0})
    assert evaluate(local, tenant.id)["messages"] == 0  # within the lease: not ours
    assert inbox.drain("cto.email") == []
    with clock_at(clock.now() + timedelta(seconds=LEASE_S + 1)):
        assert evaluate(local, tenant.id)["messages"] == 1
        assert evaluate(local, tenant.id)["messages"] == 0
    got = inbox.drain("cto.email")
    assert [(m["attributes"]["rule"], m["attributes"]["status"]) for m in got] == [
        ("DORARegression", "resolved")
    ]
    assert alert_of(tenant.id, "DORARegression").sending == []


def test_after_the_last_level_an_unacknowledged_alert_is_paged_again_until_someone_acks(local):
    """Past the last escalation level an unacknowledged P1 stayed firing for an hour with no
    reminder; the route's `repeat` now pages its last target again at the interval, `times` times,
    and an acknowledgement stops the repeats."""
    tenant = make_tenant(local, "alerts-repeat", "Alerts Repeat Co")
    inbox = Inbox(local, tenant.id, only=("esc.sre_primary", "esc.cto"))
    put_incident(tenant.id, "RP1", "P1", "triggered", 1)
    [arn] = evaluate(local, tenant.id, snapshot=False)["escalations"]
    boto3.client("stepfunctions").stop_execution(executionArn=arn)  # the steps are driven by hand below
    alert = alert_of(tenant.id, "P1IncidentDeclared")
    # a route paging sre_primary, then cto, then cto again every 30 minutes, twice
    state = {"tenant_id": tenant.id, "alert_id": alert.alert_id, "episode": alert.episode,
             "targets": ["sre_primary", "cto"], "waits": [0, 0], "level": 0, "wait_s": 0, "done": False,
             "repeat_s": 1800, "repeats": 2}  # fmt: skip
    waits = []
    while not state["done"]:
        state = local.stack.invoke("alerts", {"step": "escalate", "state": state})
        waits.append(state["wait_s"])
    assert waits == [0, 1800, 1800, 0]  # to cto; to the 1st repeat; to the 2nd; done
    pages = [
        (n["target"], n["level"], n.get("repeat"))
        for n in alert_of(tenant.id, "P1IncidentDeclared").escalation["notified"]
    ]
    # (the execution's own first step may have paged sre_primary before it was stopped)
    assert pages[-4:] == [("sre_primary", 0, None), ("cto", 1, None), ("cto", 2, 1), ("cto", 3, 2)]
    assert pages[:-4] in ([], [("sre_primary", 0, None)])
    assert [m["attributes"]["target"] for m in inbox.drain("esc.cto")] == ["cto", "cto", "cto"]
    # When someone acknowledges, a pending repeat pages nobody
    api(
        local,
        add_user(local, tenant.id, "cto"),
        "POST",
        f"/api/alerts/{alert.alert_id}/ack?tenant={tenant.id}",
        {},
    )
    out = local.stack.invoke("alerts", {"step": "escalate", "state": {**state, "level": 2, "done": False}})
    assert out["stopped"] == "acknowledged" and inbox.drain("esc.cto") == []


def test_the_pack_routes_repeat_their_last_target():
    from companyos.domain.alert_rules import load_pack

    routes = {(r.severity, r.dimension): r for r in load_pack().escalation.routes}
    rel = routes[("critical", "reliability")]
    assert rel.repeat is not None and (rel.repeat.after_s, rel.repeat.times) == (1800, 4)
