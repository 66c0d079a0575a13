"""Every rule of the alert pack reads something the product computes (issue #18, 1).

A rule whose input nothing produces can never fire: before, 8 of the 21 rules read event metrics no
connector sends (critical_cve_count, anomaly_score, …), a KPI without a contract, or the tenant-wide
attainment instead of each SLO's row. Here each rule's input is traced to its producer: a KPI run's
delivery (a contract in a shipped pack), a breakdown row a KPI run delivers (a panel of the snapshot
fed by a run with a contract), a signal kind an ingest source stores, the score refresh (composite,
dimensions) or the run log. What is not produced yet is named in `NOT_PRODUCED` with the reason the
product gives (docs/alerts.md) — and the test fails when one gets a producer and is still listed.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path

import companyos.sources
import pytest
from companyos.domain import retention
from companyos.domain.alert_rules import Rule, load_pack
from companyos.domain.panel_runs import PANEL_RUNS
from companyos.runs import contracts

# Rules whose input no source produces yet, with the reason docs/alerts.md gives. Empty since
# ChurnRiskAlert reads the accounts-at-risk rows of the net_revenue_retention run (Stripe).
NOT_PRODUCED: dict[str, str] = {}
SOURCES_DIR = Path(companyos.sources.__file__).parent


def sources_text() -> str:
    return "\n".join(
        (SOURCES_DIR / f"{m.name}.py").read_text() for m in pkgutil.iter_modules([str(SOURCES_DIR)])
    )


def producer(rule: Rule) -> str | None:
    """What produces the rule's input, or None."""
    if rule.source == "kpi":
        return f"the {rule.metric} run" if rule.metric in contracts.CONTRACTS else None
    if rule.source == "row":
        assert rule.row is not None
        runs = [k for k in PANEL_RUNS.get(rule.row.panel, ()) if k in contracts.CONTRACTS]
        return f"rows of the {'/'.join(runs)} run" if runs else None
    if rule.source in ("health", "dimension"):
        return "the score refresh (composite and dimension scores of the snapshot)"
    if rule.source == "run":
        return "the run log (END rows of the KPI runs)"
    if rule.source == "signal":
        assert rule.signal is not None
        kind = rule.signal.kind
        stored = kind in retention.KINDS and f'"{kind}"' in sources_text()
        return f"{kind} signals" if stored else None
    if rule.source == "slo_burn":
        return "slo_window signals (Prometheus pull)" if "slo_window" in retention.KINDS else None
    return None  # "metric": only an event could hand it in, and no connector sends one


@pytest.mark.parametrize("rule", load_pack().rules, ids=lambda r: r.id)
def test_every_rule_reads_what_the_product_computes(rule: Rule) -> None:
    found = producer(rule)
    if rule.id in NOT_PRODUCED:
        assert found is None, f"{rule.id} now reads {found}: take it out of NOT_PRODUCED"
        return
    assert found is not None, f"{rule.id} reads {rule.sample_key}, which nothing produces"


def test_the_rules_the_issue_found_silent_read_the_delivered_rows() -> None:
    pack = load_pack()
    by_id = {r.id: r for r in pack.rules}
    assert by_id["SLOBudgetExhausted"].sample_key == ("row", "slo.budget_left")
    assert by_id["CriticalCVEDetected"].sample_key == ("row", "vulns[severity=critical].open")
    assert by_id["CVESLABreached"].sample_key == ("row", "vulns.overdue")
    assert by_id["CostAnomaly"].metric in contracts.CONTRACTS
    assert by_id["ComplianceDropped"].metric in contracts.CONTRACTS
    assert by_id["ChurnRiskAlert"].sample_key == ("row", "accounts_at_risk.segments[id=enterprise].accounts")
    assert PANEL_RUNS["accounts_at_risk"] == ("net_revenue_retention",)
