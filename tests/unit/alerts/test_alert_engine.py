"""Alert states (pending → firing → resolved), `for` durations, de-duplication, Unknown values,
inhibition, new episodes and disabled rules — the pure evaluator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from companyos.alerts.observe import slo_samples
from companyos.domain.alert_engine import Alert, Sample, condition, evaluate, fingerprint, summarise
from companyos.domain.alert_rules import RuleTuning, effective_rules, load_pack

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PACK = load_pack()
RULES = list(PACK.rules)


def kpi(kpi_id: str, value):
    return Sample("kpi", kpi_id, {"kpi": kpi_id}, value, {"evidence": f"/api/runs/r-{kpi_id}?tenant=t"})


def slo_row(service: str, budget_left):
    """A row of the SLO table the slo_attainment run delivered (budget_left: a ratio)."""
    key = PACK.rule("SLOBudgetExhausted").sample_key
    return Sample(*key, {"service": service}, budget_left, {"evidence": "/api/runs/r-slo?tenant=t"})


class Tenant:
    """Carries alert state between evaluations like the store does."""

    def __init__(self, rules=RULES):
        self.state: dict[str, Alert] = {}
        self.rules = rules

    def eval(self, samples, at):
        ev = evaluate("acme", self.rules, samples, self.state, at)
        self.state.update(ev.changed)
        return ev

    def alert(self, rule_id, **labels):
        return self.state.get(fingerprint("acme", rule_id, labels))


def test_identity_is_tenant_rule_and_labels():
    a = fingerprint("acme", "SLOBudgetBurning", {"service": "api", "slo": "availability"})
    assert a == fingerprint("acme", "SLOBudgetBurning", {"slo": "availability", "service": "api"})
    assert a != fingerprint("umbrella", "SLOBudgetBurning", {"service": "api", "slo": "availability"})
    assert a != fingerprint("acme", "SLOBudgetBurning", {"service": "web", "slo": "availability"})


def test_a_rule_without_for_fires_at_once_and_notifies_once():
    t = Tenant()
    ev = t.eval([kpi("net_revenue_retention", 95.0)], T0)
    a = t.alert("NRRBelowTarget", kpi="net_revenue_retention")
    assert a.state == "firing" and a.episode == 1 and a.value == 95.0 and a.threshold == 100.0
    assert a.summary == "Net revenue retention 95.0% is below 100%"
    assert [(n.alert.rule_id, n.status) for n in ev.notifications] == [("NRRBelowTarget", "firing")]
    # Given it is already firing, re-evaluating (same or new value) sends nothing: de-duplicated
    assert t.eval([kpi("net_revenue_retention", 95.0)], T0 + timedelta(minutes=5)).notifications == []
    assert t.eval([kpi("net_revenue_retention", 93.0)], T0 + timedelta(minutes=10)).notifications == []
    assert t.alert("NRRBelowTarget", kpi="net_revenue_retention").value == 93.0


def test_for_duration_keeps_an_alert_pending_until_it_held_long_enough():
    t = Tenant()
    t.eval([slo_row("api", 0.05)], T0)
    assert t.alert("SLOBudgetExhausted", service="api").state == "pending"
    assert t.eval([slo_row("api", 0.04)], T0 + timedelta(minutes=4)).notifications == []
    ev = t.eval([slo_row("api", -0.2)], T0 + timedelta(minutes=5))
    a = t.alert("SLOBudgetExhausted", service="api")
    assert a.state == "firing" and a.since == T0.isoformat()
    assert a.summary == "Service api has -20.0% of its error budget left (below 10%)"
    assert [n.status for n in ev.notifications] == ["firing"]


def test_a_pending_alert_whose_condition_clears_goes_back_to_inactive_silently():
    t = Tenant()
    t.eval([slo_row("api", 0.05)], T0)
    ev = t.eval([slo_row("api", 0.5)], T0 + timedelta(minutes=2))
    assert t.alert("SLOBudgetExhausted", service="api").state == "inactive"
    assert ev.notifications == []
    # and the `for` clock restarts
    t.eval([slo_row("api", 0.05)], T0 + timedelta(minutes=3))
    t.eval([slo_row("api", 0.05)], T0 + timedelta(minutes=7))
    assert t.alert("SLOBudgetExhausted", service="api").state == "pending"


def test_each_slo_is_its_own_alert():
    """Per SLO, not the tenant-wide attainment: two overspent services are two alerts, a healthy one none."""
    t = Tenant()
    rows = [slo_row("api", -0.158), slo_row("web", -0.938), slo_row("gateway", 0.207)]
    t.eval(rows, T0)
    t.eval(rows, T0 + timedelta(minutes=5))
    assert t.alert("SLOBudgetExhausted", service="api").state == "firing"
    assert t.alert("SLOBudgetExhausted", service="web").state == "firing"
    assert t.alert("SLOBudgetExhausted", service="gateway") is None  # never pending, nothing stored


def test_firing_resolves_with_a_resolved_notification_and_a_new_crossing_is_a_new_episode():
    t = Tenant()
    t.eval([kpi("change_failure_rate", 20.0)], T0)
    ev = t.eval([kpi("change_failure_rate", 10.0)], T0 + timedelta(hours=1))
    a = t.alert("DORARegression", kpi="change_failure_rate")
    assert a.state == "resolved" and a.resolved_by == "rule"
    assert [(n.status, n.alert.rule_id) for n in ev.notifications] == [("resolved", "DORARegression")]
    ev = t.eval([kpi("change_failure_rate", 30.0)], T0 + timedelta(hours=2))
    a = t.alert("DORARegression", kpi="change_failure_rate")
    assert a.state == "firing" and a.episode == 2 and a.resolved_at is None
    assert [n.status for n in ev.notifications] == ["firing"]


def test_unknown_values_never_fire_and_never_resolve():
    t = Tenant()
    assert t.eval([kpi("net_revenue_retention", None)], T0).changed == {}
    t.eval([kpi("net_revenue_retention", 90.0)], T0)
    ev = t.eval([kpi("net_revenue_retention", None)], T0 + timedelta(hours=1))
    assert ev.notifications == [] and t.alert("NRRBelowTarget", kpi="net_revenue_retention").state == "firing"


def test_conditions_by_operator_and_kind():
    r = PACK.rule("P1IncidentDeclared")
    assert condition(r, "P1") is True and condition(r, "P2") is False and condition(r, "(closed)") is False
    sla = PACK.rule("KpiSlaBreach")
    assert condition(sla, True) is True and condition(sla, False) is False and condition(sla, 1) is None
    assert condition(PACK.rule("NRRBelowTarget"), "n/a") is None


def test_summaries_never_break_on_missing_fields():
    r = PACK.rule("P1IncidentDeclared")
    assert summarise(r, "P1", {"incident": "Q1"}, {"title": "DB down"}) == "P1 incident Q1: DB down"
    assert summarise(r, "P1", {}, {}) == "P1 incident ?: ?"
    assert "NRRBelowTarget" in summarise(PACK.rule("NRRBelowTarget"), "x", {}, {})


def burn_windows(rate_1h: float, rate_5m: float, rate_6h: float, rate_30m: float, rate_3d: float):
    """(good, total) counts giving these burn rates for a 99.9% objective."""

    def counts(rate):
        return [1_000_000 - rate * 1000, 1_000_000]

    return {"5m": counts(rate_5m), "1h": counts(rate_1h), "30m": counts(rate_30m),
            "6h": counts(rate_6h), "3d": counts(rate_3d)}  # fmt: skip


def slo(rates):
    return slo_samples([{"service": "api", "slo": "availability", "objective": 0.999, "windows": rates}])


def test_slo_burn_uses_the_multiwindow_rules_fast_page_inhibits_slow_ticket():
    t = Tenant()
    labels = {"service": "api", "slo": "availability"}
    # Given a fast burn (20x over 1h and 5m) that has also burnt 2x over 3d/6h, for 5 minutes
    first = t.eval(slo(burn_windows(20, 20, 8, 8, 2)), T0)
    assert t.alert("SLOBudgetBurning", **labels).state == "pending"  # the page waits `for: 5m`
    # a pending alert inhibits nothing (as in Alertmanager, which never sees pending alerts): the
    # ticket, which has no `for`, goes out first
    assert [n.alert.rule_id for n in first.notifications] == ["SLOBudgetBurningSlow"]
    ev = t.eval(slo(burn_windows(20, 20, 8, 8, 2)), T0 + timedelta(minutes=5))
    fast, slow = t.alert("SLOBudgetBurning", **labels), t.alert("SLOBudgetBurningSlow", **labels)
    assert fast.state == "firing" and fast.value == pytest.approx(20.0)
    assert slow.state == "firing" and slow.inhibited_by == fast.alert_id
    # Then the page is notified once it held 5 minutes, and the ticket is inhibited by it
    assert [n.alert.rule_id for n in ev.notifications] == ["SLOBudgetBurning"]
    # When the fast burn stops but the slow one continues (2x over 3d and 6h), the page resolves; the
    # ticket, notified before the page fired, is not notified again
    ev = t.eval(slo(burn_windows(2, 2, 2, 2, 2)), T0 + timedelta(hours=1))
    assert [(n.alert.rule_id, n.status) for n in ev.notifications] == [("SLOBudgetBurning", "resolved")]
    assert t.alert("SLOBudgetBurningSlow", **labels).inhibited_by is None
    assert t.eval(slo(burn_windows(2, 2, 2, 2, 2)), T0 + timedelta(hours=2)).notifications == []


def test_slo_burn_alerts_use_the_factors_of_the_slo_period():
    # 14x over 1h and 5m: above a 28-day SLO's 13.44 (0.02 * 672 h / 1 h), below a 30-day one's 14.4
    windows = burn_windows(14, 14, 1, 1, 0.5)

    def page(period_days):
        t = Tenant()
        samples = slo_samples([{"service": "api", "slo": "availability", "objective": 0.999,
                                "period_days": period_days, "windows": windows}])  # fmt: skip
        t.eval(samples, T0)
        t.eval(samples, T0 + timedelta(minutes=5))
        return t.alert("SLOBudgetBurning", service="api", slo="availability")

    fired = page(28)
    assert fired is not None and fired.state == "firing" and fired.value == pytest.approx(14.0)
    quiet = page(30)
    assert quiet is None or quiet.state != "firing"


def test_inhibition_is_per_label_set():
    t = Tenant()
    other = slo_samples([{"service": "web", "slo": "availability", "objective": 0.999,
                          "windows": burn_windows(2, 2, 2, 2, 2)}])  # fmt: skip
    t.eval(slo(burn_windows(20, 20, 8, 8, 2)) + other, T0)
    ev = t.eval(slo(burn_windows(20, 20, 8, 8, 2)) + other, T0 + timedelta(minutes=5))
    api, web = (
        t.alert("SLOBudgetBurningSlow", service="api", slo="availability"),
        t.alert("SLOBudgetBurningSlow", service="web", slo="availability"),
    )
    # api's page inhibits api's ticket, not web's
    assert api.inhibited_by is not None and web.inhibited_by is None and web.state == "firing"
    assert [(n.alert.rule_id, n.alert.labels["service"]) for n in ev.notifications] == [
        ("SLOBudgetBurning", "api")
    ]


def test_slo_without_windows_is_unknown_and_a_quiet_slo_is_zero():
    assert {s.metric: s.value for s in slo({"5m": [10, 10]})} == {"page": None, "ticket": None}
    assert {s.metric: s.value for s in slo(burn_windows(0, 0, 0, 0, 0))} == {"page": 0.0, "ticket": 0.0}


def test_abac_coverage_drop_inhibits_the_gap_alert_for_the_same_kpi():
    t = Tenant(effective_rules(PACK, {"ABACPolicyCoverageDropped": RuleTuning(for_s=0)}))
    ev = t.eval([kpi("abac_policy_coverage", 90.0)], T0)
    assert [n.alert.rule_id for n in ev.notifications] == ["ABACPolicyCoverageDropped"]
    assert t.alert("ABACPolicyGap", kpi="abac_policy_coverage").inhibited_by is not None


def test_disabling_a_rule_resolves_its_firing_alerts():
    t = Tenant()
    t.eval([kpi("change_failure_rate", 20.0)], T0)
    t.rules = effective_rules(PACK, {"DORARegression": RuleTuning(enabled=False)})
    ev = t.eval([kpi("change_failure_rate", 20.0)], T0 + timedelta(minutes=5))
    a = t.alert("DORARegression", kpi="change_failure_rate")
    assert a.state == "resolved" and a.resolved_by == "rule_disabled"
    assert [n.status for n in ev.notifications] == ["resolved"]


def test_tenants_tuned_threshold_changes_what_fires():
    t = Tenant(effective_rules(PACK, {"NRRBelowTarget": RuleTuning(threshold=90.0)}))
    assert t.eval([kpi("net_revenue_retention", 95.0)], T0).notifications == []
    assert [n.alert.rule_id for n in t.eval([kpi("net_revenue_retention", 85.0)], T0).notifications] == [
        "NRRBelowTarget"
    ]
