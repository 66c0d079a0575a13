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


def test_dora_cards_are_sorted_worst_first_by_the_normalised_scores():
    rows = [
        row(tenant("a", "Alpha"), snapshot(change_failure_rate=entry(4.0, 5.0, score=100.0))),
        row(tenant("b", "Bravo"), snapshot(change_failure_rate=entry(20.0, 10.0, score=20.0))),
        row(tenant("c", "Charlie"), snapshot(change_failure_rate=entry(10.0, 10.0, score=70.0))),
        row(tenant("d", "Delta")),  # no snapshot: Unknown, last
    ]

    dora = domain(build_domains(rows, period()), "dora")

    assert [c["tenant"]["id"] for c in dora["tenants"]] == ["b", "c", "a", "d"]
    assert [c["rank"] for c in dora["tenants"]] == [1, 2, 3, 4]
    assert dora["tenants"][-1]["status"] == "unknown" and dora["unknown_tenants"] == 1
    assert dora["tenants"][-1]["metrics"]["change_failure_rate"]["reason"] == "no end-of-day 28d snapshot yet"


def test_ties_are_broken_by_tenant_name_and_unknowns_never_rank_above_known():
    cards: list[dict[str, Any]] = [
        {"tenant": {"name": "Zulu"}, "severity": [10.0]},
        {"tenant": {"name": "Alpha"}, "severity": None},
        {"tenant": {"name": "Mike"}, "severity": [10.0]},
        {"tenant": {"name": "Bravo"}, "severity": [0.0]},
    ]
    assert [c["tenant"]["name"] for c in worst_first(cards)] == ["Mike", "Zulu", "Bravo", "Alpha"]


def test_deltas_are_against_the_previous_period_per_tenant_and_for_the_org():
    rows = [
        row(tenant("a"), snapshot(deployment_frequency=entry(3.0, 2.0, score=50.0))),
        row(tenant("b"), snapshot(deployment_frequency=entry(1.5, 2.5, score=40.0))),
    ]

    dora = domain(build_domains(rows, period()), "dora")

    by_id = {c["tenant"]["id"]: c["metrics"]["deployment_frequency"] for c in dora["tenants"]}
    assert by_id["a"]["delta"] == 1.0 and by_id["b"]["delta"] == -1.0
    org = next(m for m in dora["metrics"] if m["id"] == "deployment_frequency")
    assert (org["value"], org["previous"], org["delta"]) == (4.5, 4.5, 0.0)  # deploy frequency sums
    assert org["aggregation"] == "sum" and org["tenants_known"] == 2
    assert org["series"][0]["v"] == 4.5 and len(org["series"]) == 28


def test_rates_average_and_the_fastest_burn_is_the_max():
    rows = [
        row(tenant("a"), snapshot(change_failure_rate=entry(10.0, 12.0), error_budget_burn_rate=entry(2.0))),
        row(tenant("b"), snapshot(change_failure_rate=entry(20.0, None), error_budget_burn_rate=entry(7.5))),
    ]
    domains = build_domains(rows, period())
    cfr = next(m for m in domain(domains, "dora")["metrics"] if m["id"] == "change_failure_rate")
    burn = next(m for m in domain(domains, "slos")["metrics"] if m["id"] == "fastest_burn")
    assert cfr["value"] == 15.0 and burn["value"] == 7.5
    card_b = next(c for c in domain(domains, "dora")["tenants"] if c["tenant"]["id"] == "b")
    assert card_b["metrics"]["change_failure_rate"]["delta"] is None  # no previous: no delta


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
    org = {m["id"]: m for m in compliance["metrics"]}
    assert org["SOC2"]["value"] == 75.0  # pooled: 3 of 4 SOC2 controls pass
    assert org["pass_rate"]["value"] == pytest.approx(100 * 5 / 6, abs=0.01)


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
    org = {x["id"]: x["value"] for x in certs["metrics"]}
    assert org == {"expired": 1, "within_7": 1, "within_30": 2, "within_90": 3}


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
    assert vendors_domain["value"] == 2 and vendors_domain["tenants"][1]["value"] == 0


# ------------------------------------------------------------------ appendix


def test_appendix_has_every_metric_of_every_tenant_and_bounds_rows_per_tenant():
    rows = [row(tenant("a"), snapshot(mttr=entry(30.0, 40.0, score=90.0)), posture(_controls("pass")))]
    domains = build_domains(rows, period())
    appendix = appendix_rows(domains)
    assert {r["domain"] for r in appendix} == {d["name"] for d in domains}
    assert len(appendix) <= rows_per_tenant()
    mttr = next(r for r in appendix if r["domain"] == "Incidents" and r["metric"] == "MTTR")
    assert (mttr["value"], mttr["previous"], mttr["delta"]) == (30.0, 40.0, -10.0)
