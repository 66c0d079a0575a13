"""Retention classes as data: the seed's table, one class and tier per signal kind, TTL from the
signal's time, and every kind a KPI run reads kept at least as long as the runs' longest read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from companyos.domain import retention
from companyos.runs import contracts
from companyos.sources import registry

from tests.unit.sources.helpers import parse

T = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NOW = T + timedelta(hours=1)


def test_the_classes_are_the_seeds_metric_retention_policy():
    classes = {k: (v.raw_days, v.aggregated_days) for k, v in retention.retention_classes().items()}
    assert classes == {
        "service": (15, 730),  # 15 days raw, 2 years (1h rollup)
        "business": (30, 1825),  # 30 days raw, 5 years (1d rollup)
        "security": (90, 2555),  # 90 days raw, 7 years (compliance)
        "financial": (30, 2555),  # 30 days raw, 7 years
    }


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        ("prom_sample", 15),  # service, raw
        ("slo_window", 730),  # service, the 1h rollup
        ("deployment", 730),  # service event: its own rollup
        ("incident", 730),
        ("flag_evaluation", 30),  # business, raw
        ("product_active", 30),
        ("product_daily", 1825),  # business, the 1d rollup of product telemetry
        ("nps_response", 1825),
        ("vulnerability", 2555),
        ("authz_decision", 2555),
        ("billing_event", 2555),
    ],
)
def test_ttl_counts_from_the_signals_own_time(kind, days):
    assert retention.expires_at(kind, T, NOW, fallback_days=1) == T + timedelta(days=days)


def test_a_kind_without_an_entry_keeps_the_sources_retention_from_receipt():
    assert retention.expires_at("something_new", T, NOW, fallback_days=90) == NOW + timedelta(days=90)


def test_every_kind_a_kpi_run_reads_outlives_the_longest_window_it_reads():
    """The runs read `MAX_WINDOW_DAYS` (365-day window + the previous one) of signals: a kind they
    read must be stored at a tier that keeps it that long (events / rollups), never only raw. A
    `rows` source only feeds the rows delivered with the value, which cover its raw retention and
    say so (runs/rows_product.telemetry_window)."""
    read = {
        (c.kpi_id, ref.kind)
        for c in contracts.CONTRACTS.values()
        for ref in c.sources
        if ref.source_type == "signal" and ref.role != "rows"
    }
    assert read, "the contract pack reads signals"
    for kpi_id, kind in sorted(read):
        rule = retention.of_kind(kind)
        assert rule is not None, f"{kind} has no retention entry"
        if rule.days >= contracts.MAX_WINDOW_DAYS:
            continue
        # a raw kind only for the days its rollup does not cover yet: the contract reads the rollup too
        rollups = [r for r, raw in retention.ROLLUPS.items() if kind in raw and (kpi_id, r) in read]
        assert rollups, f"{kpi_id} reads raw {kind} ({rule.days} d) without its rollup"
        for r in rollups:
            kept = retention.of_kind(r)
            assert kept is not None and kept.days >= contracts.MAX_WINDOW_DAYS, r


def test_a_contract_reading_its_whole_history_reads_kinds_kept_that_long():
    """history_days (MRR folded from every billing event): the kinds it reads live at least that long,
    else the oldest accounts would silently drop out of the stock."""
    long_reads = [c for c in contracts.CONTRACTS.values() if c.history_days]
    assert {c.kpi_id for c in long_reads} >= {"net_revenue_retention", "arr_growth_rate"}
    for c in long_reads:
        for kind in c.signal_kinds():  # a lake source (the CUR export) is kept by its own bucket
            rule = retention.of_kind(kind)
            assert rule is not None and rule.days >= (c.history_days or 0), (c.kpi_id, kind)


FIXTURES = [
    ("github", "github/deployment.created.json", {"x_github_event": "deployment"}),
    ("github", "github/deployment_status.created.success.json", {"x_github_event": "deployment_status"}),
    ("github", "github/workflow_run.completed.json", {"x_github_event": "workflow_run"}),
    ("github", "github/pull_request.closed.merged.json", {"x_github_event": "pull_request"}),
    ("github", "github/push.json", {"x_github_event": "push"}),
    ("pagerduty", "pagerduty/incident.triggered.json", {}),
    ("trivy", "trivy/fluentd-multiple-lockfiles.json.golden", {}),
    ("gitleaks", "gitleaks/baseline.json", {}),
    ("opa", "opa/decision-log-upload.opa-docs.json", {}),
    ("feature_flags", "feature-flags/launchdarkly-feature-event.ld-docs.json", {}),
]


@pytest.mark.parametrize(("source", "fixture", "headers"), FIXTURES)
def test_every_kind_a_real_payload_becomes_has_a_retention_entry(source, fixture, headers):
    kinds = {s.kind for s in parse(source, fixture, **headers).signals}
    assert kinds and all(retention.of_kind(k) is not None for k in kinds), kinds


def test_our_own_formats_and_the_prometheus_pull_kinds_are_mapped():
    own = {
        "product_session",
        "product_active",
        "feature_used",
        "nps_response",
        "billing_event",
        "okr_progress",
    }
    assert own | {"prom_sample", "slo_window"} <= set(retention.KINDS)
    assert set(registry.SOURCES) >= {"analytics", "nps", "billing", "okr"}
