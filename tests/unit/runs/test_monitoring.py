"""Monitoring dashboard data from run-index rows (pure): what exec, ops and dev are told."""

from __future__ import annotations

from typing import Any

import pytest
from companyos.views import monitoring


def row(kpi: str, status: str, minute: int, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": f"{kpi}-{minute}",
        "kpi_id": kpi,
        "status": status,
        "started_at": f"2024-03-01T10:{minute:02d}:00+00:00",
        "duration_s": 1.0,
        "retry_seq": 0,
        "sla_breached": False,
        **extra,
    }


def test_exec_run_health_counts_kpis_by_their_newest_attempt_never_averages_them():
    rows = [
        row("a", "success", 1, verdict="Adequate"),
        row("a", "partial", 2, verdict="Low"),  # newest: partial -> Attention
        row("b", "failed", 3, sla_breached=True),
        row("b", "skipped", 4),  # newest: skipped -> Warning
        row("c", "success", 5),  # delivered without a verdict -> Unknown (it used to count as 100)
        row("d", "failed", 6),
        row("d", "success", 7, verdict="Adequate"),  # newest: delivered and judged -> Healthy
    ]
    data = monitoring.exec_dashboard(rows)
    assert "kpi_health_index" not in data  # no second 0-100 health number
    health = data["run_health"]
    assert health["kpis"] == 4
    assert health["counts"] == {
        "critical": 0,
        "warning": 1,
        "attention": 1,
        "healthy": 1,
        "excellent": 0,
        "unknown": 1,
    }
    assert health["run_ids"]["unknown"] == ["c-5"] and health["run_ids"]["warning"] == ["b-4"]
    by_kpi = {k["kpi_id"]: k for k in data["kpi_runs"]}
    assert (by_kpi["a"]["runs"], by_kpi["a"]["delivered"], by_kpi["a"]["status"]) == (2, 2, "attention")
    assert (by_kpi["b"]["delivered"], by_kpi["b"]["newest_status"]) == (0, "skipped")
    assert by_kpi["c"]["status"] == "unknown" and by_kpi["c"]["verdict"] is None
    # 6 of 7 attempts within their SLA
    assert data["sla_compliance_pct"] == pytest.approx(100 * 6 / 7, abs=0.01) and data["sla_breaches"] == 1
    # every figure names the runs behind it
    assert data["sla_breach_run_ids"] == ["b-3"]
    assert {k: v["verdict_run_id"] for k, v in by_kpi.items()} == {
        "a": "a-2",
        "b": None,
        "c": "c-5",
        "d": "d-7",
    }
    assert data["top_failing_kpis"] == [
        {"kpi_id": "b", "failures": 2, "runs": 2, "run_ids": ["b-3", "b-4"]},
        {"kpi_id": "d", "failures": 1, "runs": 2, "run_ids": ["d-6"]},
    ]


def test_ops_retry_success_rate_and_skips():
    rows = [
        row("a", "failed", 1, error_code="TransientError"),
        row("a", "success", 2, retry_seq=1),
        row("c", "failed", 3, retry_seq=2, error_code="TransientError"),
        row(
            "d",
            "skipped",
            4,
            failed_rules=[{"phase": "pre", "rule_type": "availability", "severity": "error"}],
        ),
    ]
    data = monitoring.ops_dashboard(rows)
    assert data["retries"] == {
        "retried_attempts": 2,
        "succeeded": 1,
        "failed": 1,
        "success_rate_pct": 50.0,
        "run_ids": ["a-2", "c-3"],
    }
    assert data["runs_skipped"] == 1 and data["skipped_run_ids"] == ["d-4"]
    assert data["validation_failures_by_rule_type"] == [
        {"phase": "pre", "rule_type": "availability", "severity": "error", "count": 1, "run_ids": ["d-4"]}
    ]


def test_dev_sql_hash_changes_and_duration_anomalies():
    src = [{"source_object": "cur", "sql_hash": "h1"}]
    rows = [row("q", "success", m, sources=src, duration_s=2.0) for m in range(6)]
    rows.append(row("q", "success", 10, sources=[{"source_object": "cur", "sql_hash": "h2"}], duration_s=9.0))
    data = monitoring.dev_dashboard(rows, "t1")
    assert [(c["from"], c["to"], c["run_id"]) for c in data["sql_hash_changes"]] == [("h1", "h2", "q-10")]
    assert data["error_codes"] == []
    (anomaly,) = data["duration_anomalies"]
    assert anomaly["run_id"] == "q-10" and anomaly["baseline_s"] == 2.0 and anomaly["factor"] == 4.5
