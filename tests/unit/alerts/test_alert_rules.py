"""The alert pack: every alert the specs name, the severity matrix exactly as the spec's table,
escalation routes, and tenant tuning validation."""

from __future__ import annotations

import pytest
from companyos.domain.alert_rules import (
    EscalationRoutes,
    RuleTuning,
    effective_rules,
    load_pack,
    parse_duration,
    parse_pack,
    tune,
)
from pydantic import ValidationError

SEED_ALERTS = {
    # exec-cockpit-spec.md: CEO, CTO, CISO alerts
    "NRRBelowTarget", "HealthScoreCritical", "ChurnRiskAlert", "SLOBudgetBurning", "SLOBudgetExhausted",
    "P1IncidentDeclared", "DORARegression", "CriticalDependencyOutdated", "CriticalCVEDetected",
    "CVESLABreached", "AnomalyDetected", "ComplianceDropped", "SecretCommitted", "ABACPolicyGap",
    # kpi-health-model.md "Alert Thresholds"
    "CriticalVulnerabilityUnpatched", "ABACPolicyCoverageDropped",
    # kpi-observability-admin.md "Alerting Strategy"
    "KpiSlaBreach", "KpiValidationHardFail", "KpiRuntimeAnomaly",
}  # fmt: skip

# exec-cockpit-spec.md "Alert Severity Matrix", cell by cell ("-" = not notified)
SPEC_MATRIX = """
P1 Incident          | SMS   | PagerDuty | Email     | PagerDuty | Email
SLO Budget Exhausted | Email | PagerDuty | -         | PagerDuty | -
Critical CVE         | -     | Email     | PagerDuty | Email     | -
NRR Below Target     | Slack | -         | -         | -         | Email
Churn Risk           | Slack | -         | -         | -         | PagerDuty
Cost Anomaly         | Email | Email     | -         | PagerDuty | -
Compliance Drop      | -     | Email     | PagerDuty | -         | -
"""
PERSONAS = ("ceo", "cto", "ciso", "ops", "product")

# exec-cockpit-spec.md's persona alert blocks (ceo_alerts, cto_alerts, ciso_alerts): `delivery`
# as written there (slack_dm is our slack channel)
SPEC_DELIVERY = {
    ("ceo", "NRRBelowTarget"): "email, slack_dm",
    ("ceo", "HealthScoreCritical"): "email, slack_dm, sms",
    ("ceo", "ChurnRiskAlert"): "email",
    ("cto", "SLOBudgetBurning"): "slack_dm, email",
    ("cto", "SLOBudgetExhausted"): "pagerduty, slack_dm",
    ("cto", "P1IncidentDeclared"): "pagerduty, sms, slack_dm",
    ("cto", "DORARegression"): "email",
    ("cto", "CriticalDependencyOutdated"): "email",
    ("ciso", "CriticalCVEDetected"): "pagerduty, slack_dm, sms",
    ("ciso", "CVESLABreached"): "email, slack_dm",
    ("ciso", "AnomalyDetected"): "slack_dm, email",
    ("ciso", "ComplianceDropped"): "email",
    ("ciso", "SecretCommitted"): "pagerduty, slack_dm",
    ("ciso", "ABACPolicyGap"): "email, slack_dm",
}


def test_every_alert_the_specs_name_is_a_rule():
    ids = {r.id for r in load_pack().rules}
    assert ids >= SEED_ALERTS


def test_the_matrix_is_the_spec_table_cell_by_cell():
    pack = load_pack()
    for line in SPEC_MATRIX.strip().splitlines():
        row, *cells = [c.strip() for c in line.split("|")]
        alert_type = row.lower().replace(" ", "_")
        expected = {p: c.lower() for p, c in zip(PERSONAS, cells, strict=True) if c != "-"}
        assert pack.matrix[alert_type] == expected, row


def test_rules_of_a_matrix_row_route_by_the_matrix_others_by_their_seed_delivery():
    pack = load_pack()
    assert pack.routes_of(pack.rule("SLOBudgetExhausted")) == [
        ("ceo", "email"),
        ("cto", "pagerduty"),
        ("ops", "pagerduty"),
        ("cto", "slack"),
    ]  # fmt: skip  (the matrix row, then the CTO block's slack_dm)
    assert pack.routes_of(pack.rule("HealthScoreCritical")) == [
        ("ceo", "email"),
        ("ceo", "slack"),
        ("ceo", "sms"),
    ]
    assert pack.routes_of(pack.rule("KpiSlaBreach")) == [("cfo_office", "email"), ("ops", "slack")]


@pytest.mark.parametrize(("persona", "rule_id"), sorted(SPEC_DELIVERY))
def test_a_rule_notifies_its_matrix_row_and_every_channel_of_its_persona_block(persona, rule_id):
    """Delivery is the union: the severity matrix row (when the rule has one) plus the persona
    block's channels. Before, a rule with a matrix row dropped its block's channels (the CEO's NRR
    email, the CTO's P1 SMS and Slack, the CISO's critical-CVE Slack and SMS, ...)."""
    pack = load_pack()
    rule = pack.rule(rule_id)
    routes = pack.routes_of(rule)
    block = {
        (persona, c.strip().replace("slack_dm", "slack"))
        for c in SPEC_DELIVERY[(persona, rule_id)].split(",")
    }
    assert block <= set(routes)
    if rule.alert_type is not None:
        assert set(pack.matrix[rule.alert_type].items()) <= set(routes)
    assert len(routes) == len(set(routes))  # each (persona, channel) once


def test_thresholds_and_for_durations_follow_the_specs():
    pack = load_pack()
    exhausted = pack.rule("SLOBudgetExhausted")  # per SLO: error_budget_remaining < 0.1 for 5m
    assert exhausted.row is not None and (exhausted.row.panel, exhausted.row.field) == ("slo", "budget_left")
    assert (exhausted.op, exhausted.threshold, exhausted.for_s, exhausted.period) == ("<", 0.1, 300, "28d")
    assert pack.rule("SLOBudgetBurning").for_s == 300  # error_budget_burn_rate > 6 for 5m
    unpatched = pack.rule("CriticalVulnerabilityUnpatched")
    assert (unpatched.op, unpatched.threshold, unpatched.for_s, unpatched.severity) == (
        ">",
        7.0,
        3600,
        "critical",
    )
    assert pack.rule("ABACPolicyCoverageDropped").for_s == 600
    assert pack.rule("NRRBelowTarget").threshold == 100.0  # nrr_ratio < 1.0 in percent


def test_default_escalation_routes_are_the_spec_routes():
    routes = load_pack().escalation
    rel = routes.match("critical", "reliability")
    assert rel and rel.receiver == "sre_primary"
    assert [(s.after_s, s.notify) for s in rel.escalation] == [(300, "sre_secondary"), (900, "cto")]
    sec = routes.match("critical", "security")
    assert sec and [sec.receiver, *[s.notify for s in sec.escalation]] == ["security_primary", "ciso", "cto"]
    fin = routes.match("high", "financials")
    assert (
        fin
        and fin.receiver == "finops_team"
        and [(s.after_s, s.notify) for s in fin.escalation] == [(1800, "cfo")]
    )
    assert routes.match("warning", "reliability") is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("3d", 259200), (7, 7)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "-1m", "", "1w"])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_tuning_changes_threshold_and_for_and_is_revalidated():
    pack = load_pack()
    rule = pack.rule("NRRBelowTarget")
    tuned = tune(rule, RuleTuning.model_validate({"threshold": 105, "for": "10m"}))
    assert (tuned.threshold, tuned.for_s) == (105, 600)
    with pytest.raises(ValueError):
        tune(rule, RuleTuning.model_validate({"threshold": "high"}))  # numeric rule, string threshold
    with pytest.raises(ValueError):
        tune(pack.rule("KpiSlaBreach"), RuleTuning.model_validate({"threshold": 3}))  # boolean rule
    with pytest.raises(ValidationError):
        RuleTuning.model_validate({"for": "-5m"})
    with pytest.raises(ValidationError):
        RuleTuning.model_validate({"for_s": 30 * 86400})  # longer than a week


def test_disabled_rules_are_left_out_of_the_effective_set():
    pack = load_pack()
    rules = effective_rules(pack, {"DORARegression": RuleTuning(enabled=False)})
    assert "DORARegression" not in {r.id for r in rules}
    assert len(rules) == len(pack.rules) - 1


def test_escalation_routes_must_escalate_in_order_and_not_overlap():
    with pytest.raises(ValidationError):
        EscalationRoutes.model_validate(
            {"routes": [{"severity": "critical", "dimension": "security", "receiver": "a",
                         "escalation": [{"after": "15m", "notify": "b"}, {"after": "5m", "notify": "c"}]}]}
        )  # fmt: skip
    one = {"severity": "critical", "dimension": "security", "receiver": "a"}
    with pytest.raises(ValidationError):
        EscalationRoutes.model_validate({"routes": [one, one]})


def test_a_pack_naming_an_unknown_matrix_row_or_inhibited_rule_is_refused():
    base = (
        "pack: alerts\nversion: 1.0.0\npersonas: [ceo]\nchannels: {email: {}}\nmatrix: {}\nescalation: {}\n"
    )
    rule = (
        "rules:\n  - {id: A, summary: s, source: health, op: '<', threshold: 1, severity: high,"
        " dimension: company, persona: ceo, %s}\n"
    )
    with pytest.raises(ValidationError, match="not a row"):
        parse_pack(base + rule % "alert_type: nope")
    with pytest.raises(ValidationError, match="unknown rule"):
        parse_pack(base + rule % "routes: [{persona: ceo, channels: [email]}], inhibits: [{rule: B}]")
