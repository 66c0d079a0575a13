"""Roll-up assembly: worst-first ordering, org values, deltas, chevrons, Unknown handling, links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from companyos.rollup.domains import (
    COMPLIANCE_DROP_POINTS,
    DOMAIN_IDS,
    appendix_rows,
    build_domains,
    rows_per_tenant,
    worst_first,
)

from tests.unit.rollup.conftest import NOW, TODAY, entry, period, posture, row, snapshot, tenant


def domain(domains, domain_id):
    return next(d for d in domains if d["id"] == domain_id)


def test_six_domains_in_order():
    assert DOMAIN_IDS == ("dora", "incidents", "slos", "compliance", "certificates", "vendors")
    assert [d["id"] for d in build_domains([], period())] == list(DOMAIN_IDS)


def dora(cfr: float, status: str, score: float, **others: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with the four DORA keys: the change failure rate given, the other three on target
    (Healthy, score 80) unless given."""
    keys = {
        "deployment_frequency": entry(10.0, 10.0, score=80.0),
        "lead_time_for_changes": entry(4.0, 4.0, score=80.0),
        "mttr": entry(30.0, 30.0, score=80.0),
        **others,
    }
    return snapshot(change_failure_rate=entry(cfr, cfr, score=score, status=status), **keys)


def test_dora_cards_are_sorted_worst_verdict_first_then_by_the_normalised_scores():
    rows = [
        row(tenant("a", "Alpha"), dora(4.0, "healthy", 84.0)),
        row(tenant("b", "Bravo"), dora(20.0, "critical", 20.0)),
        row(tenant("c", "Charlie"), dora(10.0, "attention", 60.0)),
        row(tenant("d", "Delta")),  # no snapshot: Unknown, last
    ]

    dora_domain = domain(build_domains(rows, period()), "dora")

    assert [c["tenant"]["id"] for c in dora_domain["tenants"]] == ["b", "c", "a", "d"]
    assert [c["rank"] for c in dora_domain["tenants"]] == [1, 2, 3, 4]
    assert [c["status"] for c in dora_domain["tenants"]] == ["critical", "attention", "healthy", "unknown"]
    assert dora_domain["unknown_tenants"] == 1
    assert dora_domain["tenant_status"] == {"critical": 1, "attention": 1, "healthy": 1, "unknown": 1}
    last = dora_domain["tenants"][-1]
    assert last["metrics"]["change_failure_rate"]["reason"] == "no end-of-day 28d snapshot yet"


def test_a_card_is_as_bad_as_its_worst_metric_and_names_it_beside_the_headlines_own_band():
    # Northwind's case: a change failure rate of 4 % is Healthy; MTTR 75 min (worse than its 60 min
    # critical threshold) is Critical, so the card is Critical and says why.
    snap = dora(4.0, "healthy", 84.0, mttr=entry(75.0, 70.0, score=0.0, status="critical"))
    card = domain(build_domains([row(tenant("n", "Northwind"), snap)], period()), "dora")["tenants"][0]

    assert (card["display"], card["headline_status"]) == ("4.0%", "healthy")
    assert card["status"] == "critical" and card["coverage"] == 1.0 and card["partial"] is None
    assert card["decided_by"] == {"metric": "mttr", "name": "MTTR", "display": "75 min", "status": "critical"}


def test_a_card_measured_on_part_of_its_metrics_says_so_and_is_capped():
    # 3 of 4 DORA keys measured (75 % < 80 %): Healthy ones are capped at Attention
    snap = dora(4.0, "healthy", 84.0, mttr=entry(None, reason="not measured yet"))
    card = domain(build_domains([row(tenant("a"), snap)], period()), "dora")["tenants"][0]
    assert card["status"] == "attention" and card["coverage"] == 0.75
    assert card["partial"] == "partial: 75 % measured, missing MTTR"
    assert card["decided_by"] is None  # the cap decided, not a metric

    # 1 of 4 (25 % < 50 %): Unknown, even though the one measured key is Healthy
    only_cfr = snapshot(change_failure_rate=entry(4.0, score=84.0, status="healthy"))
    card = domain(build_domains([row(tenant("a"), only_cfr)], period()), "dora")["tenants"][0]
    assert card["status"] == "unknown" and card["coverage"] == 0.25
    assert card["partial"] == ("partial: 25 % measured, missing Deploy frequency, Lead time, MTTR")


def test_org_values_are_judged_on_the_kpis_own_thresholds():
    rows = [
        row(tenant("a"), dora(10.0, "attention", 60.0)),
        row(tenant("b"), dora(15.0, "warning", 40.0)),
    ]
    dora_domain = domain(build_domains(rows, period()), "dora")
    cfr = next(m for m in dora_domain["metrics"] if m["id"] == "change_failure_rate")
    # mean 12.5 %: between target 5 (score 80) and critical 15 (score 40): 80 - 40 x 7.5/10 = 50
    assert cfr["value"] == 12.5 and cfr["status"] == "warning"
    # the tile is its worst org metric (the other keys sit on target: Healthy)
    assert dora_domain["status"] == "warning" and dora_domain["headline_status"] == "warning"
    assert dora_domain["decided_by"]["metric"] == "change_failure_rate"
    assert dora_domain["coverage"] == 1.0 and dora_domain["partial"] is None


def test_ties_are_broken_by_tenant_name_and_unknowns_never_rank_above_known():
    cards: list[dict[str, Any]] = [
        {"tenant": {"name": "Zulu"}, "status": "warning", "severity": [10.0]},
        {"tenant": {"name": "Alpha"}, "status": "unknown", "severity": None},
        {"tenant": {"name": "Mike"}, "status": "warning", "severity": [10.0]},
        {"tenant": {"name": "Bravo"}, "status": "warning", "severity": [0.0]},
        {"tenant": {"name": "Echo"}, "status": "critical", "severity": [1.0]},  # the verdict first
    ]
    assert [c["tenant"]["name"] for c in worst_first(cards)] == ["Echo", "Mike", "Zulu", "Bravo", "Alpha"]


def test_deltas_are_against_the_previous_period_per_tenant_and_for_the_org():
    rows = [
        row(tenant("a"), snapshot(deployment_frequency=entry(3.0, 2.0, score=50.0))),
        row(tenant("b"), snapshot(deployment_frequency=entry(1.5, 2.5, score=40.0))),
    ]

    dora_domain = domain(build_domains(rows, period()), "dora")

    by_id = {c["tenant"]["id"]: c["metrics"]["deployment_frequency"] for c in dora_domain["tenants"]}
    assert by_id["a"]["delta"] == 1.0 and by_id["b"]["delta"] == -1.0
    org = next(m for m in dora_domain["metrics"] if m["id"] == "deployment_frequency")
    # per tenant on average (the KPI's target is a tenant's): (3 + 1.5) / 2, (2 + 2.5) / 2
    assert (org["value"], org["previous"], org["delta"]) == (2.25, 2.25, 0.0)
    assert org["aggregation"] == "mean" and org["tenants_known"] == 2
    assert org["series"][0]["v"] == 2.25 and len(org["series"]) == 28


def test_rates_average():
    rows = [
        row(tenant("a"), snapshot(change_failure_rate=entry(10.0, 12.0))),
        row(tenant("b"), snapshot(change_failure_rate=entry(20.0, None))),
    ]
    domains = build_domains(rows, period())
    cfr = next(m for m in domain(domains, "dora")["metrics"] if m["id"] == "change_failure_rate")
    assert cfr["value"] == 15.0
    card_b = next(c for c in domain(domains, "dora")["tenants"] if c["tenant"]["id"] == "b")
    assert card_b["metrics"]["change_failure_rate"]["delta"] is None  # no previous: no delta


# ------------------------------------------------------------------ SLOs: objectives in budget


def slo_row(service: str, attainment: float, budget_left: float, burn: float) -> dict[str, Any]:
    return {
        "id": service,
        "service": service,
        "value": attainment,
        "budget_left": budget_left,
        "burn_rate": burn,
        "status": "critical" if budget_left <= 0 else "healthy",
        "evidence": {"run_id": f"run-slo-{service}"},
    }


def slo_snapshot(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"kpis": {}, "panels": {"slo": {"available": True, "items": list(rows)}}}


def test_slos_count_objectives_in_budget_not_attainment():
    # Northwind: 1 of 4 services has budget left; attainment alone (99.8 % on average) says nothing
    northwind = slo_snapshot(
        slo_row("checkout", 99.95, 0.5, 0.5),
        slo_row("search", 99.86, -0.378, 1.38),
        slo_row("payments", 99.66, -2.436, 3.44),
        slo_row("auth", 99.79, -1.128, 2.13),
    )
    acme = slo_snapshot(slo_row("api", 99.96, 0.6, 0.4), slo_row("web", 99.93, 0.3, 0.7))
    rows = [row(tenant("n", "Northwind"), northwind), row(tenant("a", "Acme"), acme)]

    slos = domain(build_domains(rows, period()), "slos")

    n, a = slos["tenants"]  # worst first
    budget = n["metrics"]["objectives_in_budget"]
    assert (budget["value"], budget["display"]) == (25.0, "1 of 4 in budget")
    assert budget["status"] == "critical"  # a spent budget is Critical (verdict.slo_row)
    assert budget["out_of_budget"] == ["search", "payments", "auth"]
    assert budget["run_ids"] == ["run-slo-auth", "run-slo-checkout", "run-slo-payments", "run-slo-search"]
    burn = n["metrics"]["fastest_burn"]
    # 3.44x: between target 1x (80) and critical 6x (40): 40 + 40 x 2.56 / 5 = 60.48 -> Attention
    assert (burn["value"], burn["display"], burn["service"], burn["status"]) == (
        3.44,
        "3.44x",
        "payments",
        "attention",
    )
    assert n["status"] == "critical" and n["decided_by"]["metric"] == "objectives_in_budget"
    assert a["metrics"]["objectives_in_budget"]["display"] == "2 of 2 in budget"
    # Acme: every budget left; its worst objective, 99.93 %, lies between the 99.9 % target (80) and
    # the 99.95 % stretch (90): 80 + 10 x 0.03 / 0.05 = 86 -> Healthy
    assert a["metrics"]["objectives_in_budget"]["status"] == "healthy"
    # the org: 3 of 6 objectives in budget, as bad as its worst objective
    org = {m["id"]: m for m in slos["metrics"]}
    assert (org["objectives_in_budget"]["value"], org["objectives_in_budget"]["display"]) == (
        50.0,
        "3 of 6 in budget",
    )
    assert org["objectives_in_budget"]["status"] == "critical"
    assert (org["fastest_burn"]["value"], org["fastest_burn"]["status"]) == (3.44, "attention")
    assert (slos["display"], slos["status"]) == ("3 of 6 in budget", "critical")


def test_a_tenant_without_slo_rows_is_unknown_with_the_reason():
    snap = {"kpis": {}, "panels": {"slo": {"available": False, "reason": "no Prometheus SLO windows"}}}
    slos = domain(build_domains([row(tenant("a"), snap)], period()), "slos")
    card = slos["tenants"][0]
    assert card["status"] == "unknown" and card["display"] == "Unknown"
    assert card["metrics"]["objectives_in_budget"]["reason"] == "no Prometheus SLO windows"
    assert slos["status"] == "unknown" and slos["reason"] == "no Prometheus SLO windows"


def test_a_kpi_the_snapshot_lacks_is_unknown_with_the_reason():
    rows = [row(tenant("a"), snapshot(mttr=entry(45.0, 50.0, score=60.0)))]
    incidents = domain(build_domains(rows, period()), "incidents")
    card = incidents["tenants"][0]
    assert card["metrics"]["mttr"]["value"] == 45.0
    for metric in ("open", "mtta", "postmortem_coverage"):
        assert card["metrics"][metric]["value"] is None and card["metrics"][metric]["status"] == "unknown"
    assert "mtta" in card["metrics"]["mtta"]["reason"]
    org_mtta = next(m for m in incidents["metrics"] if m["id"] == "mtta")
    assert "mtta" in org_mtta["reason"]


def incident_rows(open_bands: list[str], mtta_min: float | None, run_id: str) -> dict[str, Any]:
    return {
        "available": True,
        "open": len(open_bands),
        "open_bands": open_bands,
        "mtta_min": mtta_min,
        "items": [],
        "evidence": {"run_id": run_id, "kpi_id": "mttr", "href": f"/api/runs/{run_id}"},
    }


def test_open_incidents_and_mtta_come_from_the_incident_rows_the_mttr_run_delivered():
    """The spec's incidents domain: open (summed; as bad as the worst open incident) and MTTA (the
    median minutes to acknowledge; the escalation waits of 5 and 15 minutes are the thresholds)."""
    a = {
        **snapshot(mttr=entry(45.0, score=60.0)),
        "panels": {"incidents": incident_rows(["critical"], 4.0, "run-a")},
    }
    b = {**snapshot(mttr=entry(30.0, score=80.0)), "panels": {"incidents": incident_rows([], 12.5, "run-b")}}
    incidents = domain(build_domains([row(tenant("a"), a), row(tenant("b"), b)], period()), "incidents")
    cards = {c["tenant"]["id"]: c["metrics"] for c in incidents["tenants"]}
    assert (cards["a"]["open"]["value"], cards["a"]["open"]["status"]) == (1, "critical")
    assert (cards["b"]["open"]["value"], cards["b"]["open"]["status"]) == (0, "healthy")
    assert (cards["a"]["mtta"]["display"], cards["a"]["mtta"]["status"]) == ("4 min", "healthy")
    assert (cards["b"]["mtta"]["display"], cards["b"]["mtta"]["status"]) == ("12 min", "warning")
    assert cards["a"]["open"]["run_id"] == "run-a" and cards["b"]["mtta"]["run_id"] == "run-b"
    org = {m["id"]: m for m in incidents["metrics"]}
    assert (org["open"]["value"], org["open"]["status"]) == (1, "critical")
    assert org["mtta"]["value"] == pytest.approx((4.0 + 12.5) / 2) and org["mtta"]["status"] == "warning"


def test_postmortem_coverage_is_the_delivered_share_judged_by_the_model():
    """Postmortem coverage: the incident rows' `postmortem_pct` (resolved P1/P2 incidents with a
    postmortem), shown with its count; >= 90 % Healthy, >= 70 % Warning; none due Unknown."""

    def with_pm(run_id: str, covered: int, due: int) -> dict[str, Any]:
        rows = incident_rows([], 3.0, run_id)
        pct = round(100.0 * covered / due, 1) if due else None
        rows.update(
            postmortem_pct=pct,
            postmortems={"qualifying": due, "covered": covered, "completed": covered, "pct": pct},
        )
        return {**snapshot(mttr=entry(30.0, score=80.0)), "panels": {"incidents": rows}}

    data = [row(tenant("a"), with_pm("run-a", 4, 5)), row(tenant("b"), with_pm("run-b", 1, 3))]
    data.append(row(tenant("c"), with_pm("run-c", 0, 0)))
    incidents = domain(build_domains(data, period()), "incidents")
    cards = {c["tenant"]["id"]: c["metrics"]["postmortem_coverage"] for c in incidents["tenants"]}
    assert (cards["a"]["value"], cards["a"]["display"], cards["a"]["status"]) == (
        80.0,
        "80.0% (4 of 5)",
        "warning",
    )
    assert (cards["b"]["value"], cards["b"]["status"]) == (pytest.approx(33.3), "critical")
    assert cards["a"]["run_id"] == "run-a" and cards["a"]["detail"]["qualifying"] == 5
    assert cards["c"]["value"] is None and cards["c"]["status"] == "unknown"
    assert "no P1/P2 incident" in cards["c"]["reason"]
    org = next(m for m in incidents["metrics"] if m["id"] == "postmortem_coverage")
    assert org["value"] == pytest.approx((80.0 + 33.3) / 2) and org["status"] == "critical"


def test_unknown_is_never_coloured_even_if_the_snapshot_says_otherwise():
    rows = [row(tenant("a"), snapshot(mttr=entry(None, status="healthy", reason="stale: computed 9 h ago")))]
    card = domain(build_domains(rows, period()), "incidents")["tenants"][0]
    assert card["metrics"]["mttr"]["status"] == "unknown"
    assert card["metrics"]["mttr"]["reason"] == "stale: computed 9 h ago"


def test_card_links_to_the_tenants_own_dashboard_with_the_same_period():
    rows = [row(tenant("north wind"), snapshot())]
    domains = build_domains(rows, period("90d", 90))
    assert domain(domains, "dora")["tenants"][0]["href"] == "/#/north%20wind/cto?period=90d"
    assert domain(domains, "compliance")["tenants"][0]["href"] == "/#/north%20wind/ciso?period=90d"


def test_sparklines_are_limited_to_a_custom_range():
    rows = [row(tenant("a"), snapshot(mttr=entry(30.0, 40.0, score=90.0)))]
    p = period("custom", 10)
    card = domain(build_domains(rows, p), "incidents")["tenants"][0]
    assert len(card["metrics"]["mttr"]["series"]) == 10
    assert card["metrics"]["mttr"]["series"][0]["t"] == p.start.isoformat()


# ------------------------------------------------------------------ compliance


def _controls(last_result: str, days_ago_of_last: int = 0):
    since = TODAY - timedelta(days=200)
    old_pass = NOW - timedelta(days=40)
    return [
        ("SOC2", "CC1", since, [(old_pass, "pass")]),
        ("SOC2", "CC2", since, [(old_pass, "pass"), (NOW - timedelta(days=days_ago_of_last), last_result)]),
        ("ISO27001", "A5", since, [(old_pass, "pass")]),
    ]


def test_compliance_drop_of_more_than_five_points_gets_a_red_chevron():
    rows = [
        row(tenant("a", "Alpha"), post=posture(_controls("fail"))),  # SOC2 100 -> 50
        row(tenant("b", "Bravo"), post=posture(_controls("pass"))),  # stays 100
    ]

    compliance = domain(build_domains(rows, period()), "compliance")

    assert compliance["frameworks"] == ["SOC2", "ISO27001"]
    a, b = compliance["tenants"]
    assert a["tenant"]["id"] == "a"  # worst first
    assert a["metrics"]["SOC2"]["value"] == 50.0 and a["metrics"]["SOC2"]["delta"] == -50.0
    assert a["chevron"] == {
        "direction": "down",
        "color": "red",
        "frameworks": ["SOC2"],
        "href": "/rollup.html#/controls/a?framework=SOC2",
    }
    assert b["chevron"] is None
    # judged on the compliance_score KPI (target 98 %, critical 90 %): 50 % is Critical, 100 % Excellent
    assert (a["metrics"]["SOC2"]["status"], a["metrics"]["ISO27001"]["status"]) == ("critical", "excellent")
    assert a["status"] == "critical" and a["decided_by"]["name"] == "SOC2 pass rate"
    assert b["status"] == "excellent"
    org = {m["id"]: m for m in compliance["metrics"]}
    assert org["SOC2"]["value"] == 75.0  # pooled: 3 of 4 SOC2 controls pass
    assert org["pass_rate"]["value"] == pytest.approx(100 * 5 / 6, abs=0.01)
    assert org["SOC2"]["status"] == "critical" and org["ISO27001"]["status"] == "excellent"


def test_a_drop_of_exactly_five_points_has_no_chevron():
    since = TODAY - timedelta(days=200)
    controls = [("HIPAA", f"H{i}", since, [(NOW - timedelta(days=40), "pass")]) for i in range(19)]
    controls.append(("HIPAA", "H19", since, [(NOW - timedelta(days=40), "pass"), (NOW, "fail")]))  # 100 -> 95
    card = domain(build_domains([row(tenant("a"), post=posture(controls))], period()), "compliance")[
        "tenants"
    ][0]
    assert card["metrics"]["HIPAA"]["delta"] == -COMPLIANCE_DROP_POINTS
    assert card["chevron"] is None


def test_evidence_older_than_the_controls_maximum_age_no_longer_passes():
    since = TODAY - timedelta(days=400)
    controls = [("SOC2", "CC1", since, [(NOW - timedelta(days=100), "pass")])]  # default max age 90 days
    card = domain(build_domains([row(tenant("a"), post=posture(controls))], period()), "compliance")[
        "tenants"
    ][0]
    assert card["metrics"]["SOC2"]["value"] == 0.0 and card["metrics"]["SOC2"]["previous"] == 100.0


def test_no_framework_configured_says_so():
    compliance = domain(build_domains([row(tenant("a"), post=posture())], period()), "compliance")
    assert compliance["reason"] == "no tenant in scope has set up a framework yet"
    assert compliance["tenants"][0]["severity"] is None


# ------------------------------------------------------------------ certificates and vendors


def test_certificate_windows_thresholds_links_and_ordering():
    certs_a = [
        ("api", NOW + timedelta(days=3)),
        ("web", NOW + timedelta(days=20)),
        ("old", NOW - timedelta(days=2)),
    ]
    certs_b = [("x", NOW + timedelta(days=60))]
    rows = [
        row(tenant("b", "Bravo"), post=posture(certs=certs_b)),
        row(tenant("a", "Alpha"), post=posture(certs=certs_a)),
    ]

    certs = domain(build_domains(rows, period()), "certificates")

    a, b = certs["tenants"]
    assert a["tenant"]["id"] == "a"
    m = a["metrics"]
    assert [m[k]["value"] for k in ("expired", "within_7", "within_30", "within_90")] == [1, 1, 2, 2]
    assert m["within_7"]["over_threshold"] and m["within_30"]["over_threshold"]
    assert not m["within_90"]["over_threshold"]
    assert m["within_30"]["href"] == "/rollup.html#/certs/a?within=30&status=expiring"
    assert a["status"] == "critical" and b["status"] == "healthy"
    # one per window: expired and within 7 days Critical; 2 within 30 days (> 1) Warning; 2 within 90 (<= 5)
    assert [m[k]["status"] for k in ("expired", "within_7", "within_30", "within_90")] == [
        "critical",
        "critical",
        "warning",
        "healthy",
    ]
    org = {x["id"]: x["value"] for x in certs["metrics"]}
    assert org == {"expired": 1, "within_7": 1, "within_30": 2, "within_90": 3}
    # an org count is as bad as its worst tenant's window
    assert {x["id"]: x["status"] for x in certs["metrics"]} == {
        "expired": "critical",
        "within_7": "critical",
        "within_30": "warning",
        "within_90": "healthy",
    }


def test_vendor_risk_counts_tier_one_vendors_out_of_review():
    vendors = [
        ("AWS", 1, TODAY - timedelta(days=380)),  # review due 15 days ago
        ("Stripe", 1, TODAY - timedelta(days=10)),
        ("Okta", 1, None),  # never reviewed
        ("Figma", 3, None),  # tier 3 does not count
    ]
    rows = [row(tenant("a"), post=posture(vendors=vendors)), row(tenant("b"), post=posture())]
    vendors_domain = domain(build_domains(rows, period()), "vendors")
    a = vendors_domain["tenants"][0]
    assert a["value"] == 2 and a["metrics"]["tier1_out_of_review"]["names"] == ["AWS", "Okta"]
    assert a["metrics"]["tier1_out_of_review"]["previous"] == 1  # 28 days ago AWS was still in review
    # b has an inventory snapshot without a vendor in it: no data, Unknown with the reason — not 0
    b = vendors_domain["tenants"][1]
    assert vendors_domain["value"] == 2 and b["value"] is None
    assert b["metrics"]["tier1_out_of_review"]["reason"] == "no vendor in the inventory yet"
    assert [c["status"] for c in vendors_domain["tenants"]] == ["critical", "unknown"]  # 2 overdue, no data


def test_vendor_risk_before_the_register_existed_is_no_data_not_zero():
    """A register imported 3 days ago: the previous period (28 days back) had no vendor to count, so
    the change is unknown — not "2 more than 0"; the series starts on the day the vendors were added."""
    vendors = [("AWS", 1, None), ("Okta", 1, None)]
    added = NOW - timedelta(days=3)
    rows = [row(tenant("a"), post=posture(vendors=vendors, vendors_added=added))]
    cell = domain(build_domains(rows, period()), "vendors")["tenants"][0]["metrics"]["tier1_out_of_review"]
    assert cell["value"] == 2
    assert cell["previous"] is None
    known = [p["t"] for p in cell["series"] if p["v"] is not None]
    assert known[0] == added.date().isoformat() and known[-1] == TODAY.isoformat()


# ------------------------------------------------------------------ appendix


def test_appendix_has_every_metric_of_every_tenant_and_bounds_rows_per_tenant():
    rows = [row(tenant("a"), snapshot(mttr=entry(30.0, 40.0, score=90.0)), posture(_controls("pass")))]
    domains = build_domains(rows, period())
    appendix = appendix_rows(domains)
    assert {r["domain"] for r in appendix} == {d["name"] for d in domains}
    assert len(appendix) <= rows_per_tenant()
    mttr = next(r for r in appendix if r["domain"] == "Incidents" and r["metric"] == "MTTR")
    assert (mttr["value"], mttr["previous"], mttr["delta"]) == (30.0, 40.0, -10.0)


@pytest.mark.parametrize(
    ("framework", "label"),
    [
        # Security Hub StandardsArn slugs (standards/<slug>/v/<version>), by AWS's short names
        ("aws-foundational-security-best-practices v1.0.0", "AWS FSBP v1.0.0"),
        ("cis-aws-foundations-benchmark v1.4.0", "CIS AWS Foundations v1.4.0"),
        ("pci-dss v3.2.1", "PCI DSS v3.2.1"),
        # names the tools write themselves stay as written
        ("SOC2", "SOC2"),
        ("CIS-3.0", "CIS-3.0"),
        ("NIST.800-53.r5", "NIST.800-53.r5"),
    ],
)
def test_frameworks_are_named_as_people_read_them_on_the_board_pack(framework, label):
    from companyos.domain import inventory as inv
    from companyos.rollup.domains.compliance import _compliance_names

    assert inv.framework_label(framework) == label
    assert _compliance_names([framework])[framework] == f"{label} pass rate"  # the metric's name
