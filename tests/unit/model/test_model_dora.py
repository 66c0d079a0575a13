"""DORA metrics and performance levels from versioned benchmark sets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from companyos.domain.dora import (
    Level,
    UnknownBenchmarkError,
    assess,
    benchmark_set,
    benchmark_sets,
    change_failure_rate,
    change_lead_time_hours,
    deployment_days_medians,
    deployment_frequency,
    deployment_frequency_level,
    lead_time_hours,
    performance_level,
    time_to_restore_minutes,
)

T0 = datetime(2025, 12, 1, tzinfo=UTC)
FIXTURE = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "real" / "dora"
FIXTURE_2024 = FIXTURE / "dora-2024-performance-levels.txt"


# ----------------------------------------------------------------------------- metrics


def test_deployment_frequency_is_deploys_per_day_over_the_window():
    # Given 14 deploys over a 7-day window
    deploys = [T0 + timedelta(hours=12 * i) for i in range(14)]
    # Then the team deploys twice a day
    assert deployment_frequency(deploys, 7) == 2.0


def test_deployment_frequency_with_an_end_counts_only_deploys_inside_the_window():
    deploys = [T0 - timedelta(days=d) for d in (0.5, 1, 2, 8, 30)]
    assert deployment_frequency(deploys, 7, end=T0) == pytest.approx(3 / 7)


def test_deployment_frequency_needs_a_positive_window():
    with pytest.raises(ValueError, match="window_days"):
        deployment_frequency([T0], 0)


def test_change_failure_rate_is_failed_changes_over_deployments_in_percent():
    assert change_failure_rate(deployments=40, failed=6) == 15.0
    assert change_failure_rate(deployments=0, failed=0) is None


@pytest.mark.parametrize(("total", "failed"), [(3, 4), (-1, 0), (5, -1)])
def test_change_failure_rate_rejects_impossible_counts(total, failed):
    with pytest.raises(ValueError):
        change_failure_rate(total, failed)


def test_lead_time_is_the_median_commit_to_deploy_in_hours():
    pairs = [(T0, T0 + timedelta(hours=h)) for h in (1, 2, 30)]
    assert lead_time_hours(pairs) == 2.0
    assert lead_time_hours([]) is None
    with pytest.raises(ValueError):
        lead_time_hours([(T0, T0 - timedelta(hours=1))])


def test_time_to_restore_is_the_median():
    # DORA's "time to restore service" is a median: one 90-minute outlier does not move it
    assert time_to_restore_minutes([10, 20, 90]) == 20.0
    assert time_to_restore_minutes([10, 20, 30, 90]) == 25.0
    assert time_to_restore_minutes([]) is None
    with pytest.raises(ValueError):
        time_to_restore_minutes([-1])


def test_a_changes_lead_time_sums_its_stages_and_drops_negative_ones():
    # first commit -> opened 24 h, opened -> merged 1 h, merged -> deployed 2 h: 27 h
    assert change_lead_time_hours(T0, T0 + timedelta(hours=24), T0 + timedelta(hours=25),
                                  T0 + timedelta(hours=27)) == 27.0  # fmt: skip
    # a first commit authored after the PR opened (a rebase) counts its coding stage as 0
    assert change_lead_time_hours(T0 + timedelta(hours=5), T0, T0 + timedelta(hours=1),
                                  T0 + timedelta(hours=3)) == 3.0  # fmt: skip
    # a commit without a PR: commit -> deployed
    assert change_lead_time_hours(T0, None, None, T0 + timedelta(hours=4)) == 4.0
    assert change_lead_time_hours(None, None, None, T0) is None


def test_deployment_days_medians_are_per_whole_week_and_month_back_from_the_end():
    end = date(2024, 3, 3)  # a Sunday
    mondays = [end - timedelta(days=6 + 7 * i) for i in range(4)]
    # ten deploys every Monday are one deployment day a week (DevLake: high, not elite)
    assert deployment_days_medians(mondays * 10, end, 28) == (1.0, pytest.approx(4 * 30 / 28))
    weekdays = [end - timedelta(days=i) for i in range(28) if (end - timedelta(days=i)).weekday() < 5]
    assert deployment_days_medians(weekdays, end, 28)[0] == 5.0
    # a 7-day window is one week; 60 days hold two 30-day months: [2, 0] -> lower median 0
    assert deployment_days_medians(weekdays, end, 7) == (5.0, pytest.approx(5 * 30 / 7))
    assert deployment_days_medians([end, end - timedelta(days=1)], end, 60) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("per_week", "per_month", "level"),
    [(5, 22, Level.ELITE), (4, 17, Level.HIGH), (1, 4, Level.HIGH), (0, 2, Level.MEDIUM),
     (0, 1, Level.MEDIUM), (0, 0.5, Level.LOW)],
)  # fmt: skip
def test_deployment_frequency_level_reads_the_deployment_days_medians(per_week, per_month, level):
    for benchmark in ("dora-2023", "dora-2024"):
        assert deployment_frequency_level(per_week, per_month, benchmark) is level


@pytest.mark.parametrize(
    ("metric", "value", "level"),
    [
        # "between one day and one week": exactly one week is the next range (DevLake: < 7 d)
        ("lead_time", 168.0, Level.MEDIUM),
        ("lead_time", 167.9, Level.HIGH),
        ("lead_time", 720.0, Level.LOW),
        ("time_to_restore", 1440.0, Level.MEDIUM),
        ("time_to_restore", 10080.0, Level.LOW),
        # change fail rates are closed: 5 % is elite, 10 % high (DevLake: <= .05, <= .10)
        ("change_failure_rate", 5.0, Level.ELITE),
        ("change_failure_rate", 10.0, Level.HIGH),
    ],
)
def test_2023_level_edges_are_open_or_closed_as_the_report_reads(metric, value, level):
    assert performance_level(metric, value, "dora-2023") is level


# ----------------------------------------------------------------------------- levels


def test_at_least_the_2023_and_2024_benchmark_sets_are_shipped():
    assert {"dora-2023", "dora-2024"} <= set(benchmark_sets())
    with pytest.raises(UnknownBenchmarkError):
        benchmark_set("dora-1999")


@pytest.mark.parametrize(
    ("metric", "value", "level"),
    [
        ("deployment_frequency", 3.0, Level.ELITE),
        ("deployment_frequency", 1.0, Level.ELITE),
        ("deployment_frequency", 0.5, Level.HIGH),
        ("deployment_frequency", 0.1, Level.MEDIUM),
        ("deployment_frequency", 0.01, Level.LOW),
        ("lead_time_for_changes", 4.0, Level.ELITE),
        ("lead_time_for_changes", 24.0, Level.HIGH),
        ("lead_time_for_changes", 200.0, Level.MEDIUM),
        ("lead_time_for_changes", 1000.0, Level.LOW),
        ("change_failure_rate", 4.0, Level.ELITE),
        ("change_failure_rate", 45.0, Level.LOW),
        ("mttr", 30.0, Level.ELITE),
        ("mttr", 60.0, Level.HIGH),
        ("mttr", 20000.0, Level.LOW),
    ],
)
def test_levels_against_the_default_2024_set(metric, value, level):
    assert performance_level(metric, value) is level


@pytest.mark.parametrize(
    ("metric", "value", "level_2023", "level_2024"),
    [
        # 2024 inverted High (20%) and Medium (10%) change fail rates
        ("change_failure_rate", 12.0, Level.MEDIUM, Level.HIGH),
        ("change_failure_rate", 18.0, Level.LOW, Level.HIGH),
        # 2024 Medium recovers in less than a day; 2023 Medium took one day to one week
        ("time_to_restore", 2 * 1440.0, Level.MEDIUM, Level.LOW),
        # where the reports agree, so do the levels
        ("change_failure_rate", 5.0, Level.ELITE, Level.ELITE),
        ("lead_time", 100.0, Level.HIGH, Level.HIGH),
    ],
)
def test_2023_and_2024_levels_differ_exactly_where_the_reports_differ(metric, value, level_2023, level_2024):
    assert performance_level(metric, value, "dora-2023") is level_2023
    assert performance_level(metric, value, "dora-2024") is level_2024


def test_an_unknown_metric_name_is_rejected():
    with pytest.raises(ValueError, match="not a DORA metric"):
        performance_level("velocity", 1.0)


def test_assess_gives_every_metric_a_level_or_none_when_unmeasured():
    a = assess({"deployment_frequency": 2.0, "mttr": 45.0, "lead_time_for_changes": None}, "dora-2023")
    assert a.levels == {
        "deployment_frequency": Level.ELITE,
        "lead_time": None,
        "change_failure_rate": None,
        "time_to_restore": Level.ELITE,
    }
    assert a.model_dump(mode="json")["benchmark"] == "dora-2023"


# ----------------------------------------------------------------------------- real fixture


def _fixture_rows() -> dict[str, list[str]]:
    """The report-wording table of the fixture: level -> [lead time, deploy freq, CFR, recovery, share]."""
    rows: dict[str, list[str]] = {}
    for line in FIXTURE_2024.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] in ("Elite", "High", "Medium", "Low") and cells[0] not in rows:
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.skipif(not FIXTURE_2024.exists(), reason=f"real DORA fixture folder absent: {FIXTURE}")
def test_the_shipped_2024_set_agrees_with_the_real_2024_report_table():
    # Given the 2024 cluster table as recorded in the shared real fixture
    rows = _fixture_rows()
    assert set(rows) == {"Elite", "High", "Medium", "Low"}
    shipped = benchmark_set("dora-2024")
    for name, (lead, freq, cfr, recovery, share) in rows.items():
        level = Level(name.lower())
        # Then every cell's wording and every change fail rate / share matches the shipped set
        assert shipped.metrics["lead_time"].levels[level].report == lead
        assert shipped.metrics["deployment_frequency"].levels[level].report == freq
        assert shipped.metrics["time_to_restore"].levels[level].report == recovery
        assert shipped.metrics["change_failure_rate"].levels[level].bound == float(cfr.rstrip("%"))
        assert shipped.respondents[level] == float(share.rstrip("%"))


def test_a_benchmark_metric_must_define_all_four_levels():
    from companyos.domain.dora import MetricBenchmark
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="elite, high, medium and low"):
        MetricBenchmark(report_name="x", unit="h", better="lower", levels={"elite": {"report": "fast"}})
