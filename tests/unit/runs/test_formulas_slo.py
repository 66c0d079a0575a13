"""The Prometheus-fed KPI formulas (runs/formulas_slo.py) on synthetic pull-connector signals, and
their contract pack (runs/packs/slo-contracts-v1.yaml): the numbers a KPI run delivers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from companyos.domain import kpis, slo
from companyos.runs import contracts, delivery, formulas, validation
from companyos.runs.formulas import SignalRow

END = date(2024, 3, 1)
MIDNIGHT = datetime(2024, 3, 1, tzinfo=UTC)
_ids = iter(range(10**6))


def window(service: str, end: datetime, metric: str, value: Any, step_s: int = 86400) -> SignalRow:
    """A slo_window signal as the pull connector stores it (occurred_at = the window's end)."""
    attrs = {"metric": metric, "value": value, "step_s": step_s, "window": "1d" if step_s == 86400 else "1h"}
    return SignalRow("slo_window", f"w{next(_ids)}", end, attrs, service)


def counts(service: str, end: datetime, good: float, total: float, step_s: int = 86400) -> list[SignalRow]:
    return [window(service, end, "slo_good", good, step_s), window(service, end, "slo_total", total, step_s)]


def sample(service: str, at: datetime, metric: str, value: Any) -> SignalRow:
    attrs = {"metric": metric, "value": value, "step_s": 3600, "window": "1h"}
    return SignalRow("prom_sample", f"s{next(_ids)}", at, attrs, service)


def run(name: str, signals: list[SignalRow], days: int = 7, params: dict | None = None) -> formulas.Outcome:
    builtin = formulas.BUILTINS[name]
    by_kind: dict[str, list[SignalRow]] = {}
    for s in signals:
        by_kind.setdefault(s.kind, []).append(s)
    buckets, _ = formulas.accumulate(builtin.fold(by_kind, params or {}))
    return builtin.value(buckets, END, days)


@pytest.fixture
def two_services() -> list[SignalRow]:
    """api: 0.05% errors a day (meets 99.9%), web: 1% errors a day (burns 10x), 27-29 Feb as 1d
    windows (stamped 00:00 of the next day); api today only as 1h windows (no 1d window yet), and
    an api 1h window on 29 Feb that must not be added to that day's 1d window."""
    rows: list[SignalRow] = []
    for d in (2, 1, 0):  # windows ending 28 Feb, 29 Feb and 1 Mar 00:00 = days 27, 28, 29 Feb
        rows += counts("api", MIDNIGHT - timedelta(days=d), 9995, 10000)
        rows += counts("web", MIDNIGHT - timedelta(days=d), 9900, 10000)
    rows += counts("api", MIDNIGHT + timedelta(hours=10), 500, 500, 3600)
    rows += counts("api", MIDNIGHT + timedelta(hours=11), 500, 500, 3600)
    rows += counts("api", MIDNIGHT - timedelta(hours=12), 0, 500, 3600)  # 29 Feb: the 1d window wins
    return rows


def test_slo_attainment_is_the_mean_of_per_service_daily_attainments(two_services):
    # service-days: api 27/28/29 Feb 99.95%, api 1 Mar 100% (1h windows), web 27/28/29 Feb 99%
    out = run("slo_attainment", two_services)
    assert out.value == pytest.approx(100 * (3 * 0.9995 + 1.0 + 3 * 0.99) / 7)  # 99.55%
    assert out.value == pytest.approx(99.55)
    # today alone: only api's hourly windows, all good
    assert run("slo_attainment", two_services, days=1).value == pytest.approx(100.0)


def test_error_budget_burn_rate_is_the_burn_of_all_requests_in_the_window(two_services):
    # good = 3*9995 + 1000 + 3*9900 = 60685 of 61000: 0.516% errors against a 0.1% budget
    out = run("error_budget_burn_rate", two_services)
    assert out.value == pytest.approx(slo.burn_rate(60685, 61000, 0.999))
    assert out.value == pytest.approx(315 / 61000 / 0.001)  # 5.16x
    assert run("error_budget_burn_rate", two_services, days=1).value == pytest.approx(0.0)


def test_a_contract_objective_overrides_the_dictionary_target():
    web = counts("web", MIDNIGHT, 9900, 10000)
    assert run("error_budget_burn_rate", web, params={"objective": 0.99}).value == pytest.approx(1.0)
    assert run("error_budget_burn_rate", web).value == pytest.approx(10.0)  # 99.9% from the dictionary
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        run("error_budget_burn_rate", web, params={"objective": 99.9})


def test_no_windows_with_requests_is_unknown_with_the_reason():
    out = run("slo_attainment", [])
    assert out.value is None and "slo_window" in str(out.reason) and "7 days" in str(out.reason)
    idle = counts("api", MIDNIGHT, 0, 0)
    assert run("error_budget_burn_rate", idle).value is None
    old = counts("api", MIDNIGHT - timedelta(days=20), 10, 10)
    assert run("slo_attainment", old).value is None and run("slo_attainment", old, days=28).value == 100.0


def test_extrapolation_overshoot_is_good_and_a_real_mismatch_is_left_out():
    rows = counts("api", MIDNIGHT, 10000.4, 10000.0) + counts("web", MIDNIGHT, 12000, 10000)
    assert run("slo_attainment", rows).value == pytest.approx(100.0)  # web's window is not counted
    assert run("error_budget_burn_rate", rows).value == pytest.approx(0.0)


def test_a_sample_stored_twice_counts_once_and_one_count_alone_is_no_window():
    rows = counts("web", MIDNIGHT, 9900, 10000) + counts("web", MIDNIGHT, 9900, 10000)
    rows.append(window("api", MIDNIGHT, "slo_total", 10000))  # its slo_good was never pulled
    assert run("slo_attainment", rows).value == pytest.approx(99.0)


def test_negative_counts_reach_the_non_negative_pre_validation():
    builtin = formulas.BUILTINS["slo_attainment"]
    buckets, rows = formulas.accumulate(builtin.fold({"slo_window": counts("api", MIDNIGHT, -5, 100)}, {}))
    assert rows == 1 and buckets["2024-02-29"]["negative_count"] == -5
    rule = next(r for r in contracts.get("slo_attainment").pre_rules if r.type == "non_negative")
    ok, details = validation.check_pre(rule, {"daily": buckets, "rows": rows, "read": 2}, MIDNIGHT)
    assert not ok and details == "1 negative values in the inputs"


def test_infra_utilization_is_the_mean_of_daily_means_per_service_and_resource_in_percent():
    today = MIDNIGHT + timedelta(hours=9)
    rows = [
        sample("api", today, "cpu_utilisation", 0.5),
        sample("api", today + timedelta(hours=1), "cpu_utilisation", 0.7),
        sample("api", today, "memory_utilisation", 0.9),
        sample("api", today, "memory_utilisation", 0.9),  # the same sample stored twice
        sample("web", today - timedelta(days=3), "cpu_utilisation", 0.2),
        sample("web", today, "latency_p95_s", 0.4),  # not a utilisation metric
        sample("web", today, "cpu_utilisation", "NaN"),  # Prometheus NaN: no value
    ]
    params = contracts.get("infra_utilization").params
    # today: api cpu (0.5 + 0.7) / 2 = 60 %, api memory 90 % (a sample stored twice counts once)
    assert run("infra_utilization", rows, days=1, params=params).value == pytest.approx(75.0)
    # the week adds web's cpu day three days ago: (60 + 90 + 20) / 3
    assert run("infra_utilization", rows, days=7, params=params).value == pytest.approx(170 / 3)
    cpu_only = {**params, "metrics": ["cpu_utilisation"]}
    assert run("infra_utilization", rows, days=1, params=cpu_only).value == pytest.approx(60.0)
    out = run("infra_utilization", rows[-2:], params=params)
    assert out.value is None and "prom_sample" in str(out.reason)


def daily(service: str, day_end: datetime, metric: str, value: float) -> SignalRow:
    """A `prom_daily` mean: a 1 d window stamped at its end (00:00 of the next day)."""
    attrs = {"metric": metric, "value": value, "step_s": 86400, "window": "1d"}
    return SignalRow("prom_daily", f"d{next(_ids)}", day_end, attrs, service)


def test_infra_utilization_reads_the_daily_rollup_where_the_raw_samples_have_expired():
    params = contracts.get("infra_utilization").params
    today = MIDNIGHT + timedelta(hours=9)
    # 20 days ago and 60 days ago: only the rollup is left (raw samples live 15 days)
    rows = [
        daily("api", MIDNIGHT - timedelta(days=19), "cpu_utilisation", 0.4),  # the day 20 days ago
        daily("api", MIDNIGHT - timedelta(days=59), "cpu_utilisation", 0.8),
        # yesterday: the rollup wins over that day's raw samples, never both
        daily("api", MIDNIGHT, "cpu_utilisation", 0.5),
        sample("api", MIDNIGHT - timedelta(hours=3), "cpu_utilisation", 0.9),
        # today: no 1 d window yet, the raw samples count
        sample("api", today, "cpu_utilisation", 0.3),
    ]
    assert run("infra_utilization", rows, days=2, params=params).value == pytest.approx(40.0)  # (50 + 30) / 2
    assert run("infra_utilization", rows, days=28, params=params).value == pytest.approx(40.0)  # (40+50+30)/3
    assert run("infra_utilization", rows, days=90, params=params).value == pytest.approx(50.0)  # + 80


def test_the_slo_pack_is_computable_fits_the_dictionary_and_its_schedule():
    from companyos import topology

    classes = {s.schedule_class: s.expression for s in topology.SCHEDULES}
    dictionary = kpis.load_dictionary()
    pack = contracts.load_pack("slo-contracts-v1.yaml")
    assert {c.kpi_id for c in pack.contracts} == {
        "slo_attainment",
        "error_budget_burn_rate",
        "infra_utilization",
    }
    for c in pack.contracts:
        assert contracts.CONTRACTS[c.kpi_id] == c  # loaded as a built-in pack
        assert c.formula.builtin in formulas.BUILTINS, c.kpi_id
        assert dictionary.get(c.kpi_id).refresh == c.schedule_class, c.kpi_id
        assert classes[c.schedule_class] == c.schedule_cron, c.kpi_id
        assert c.pre_rules and c.post_rules and c.sources[0].source_type == "signal", c.kpi_id
    assert set(contracts.consumers_of("slo_window")) >= {"slo_attainment", "error_budget_burn_rate"}


def test_verdicts_follow_the_dictionary_thresholds():
    att, burn = contracts.get("slo_attainment"), contracts.get("error_budget_burn_rate")
    # attainment: 99.95 stretch → 90; 99.9 target → 80; 99.55: 40 + 40 * 0.05 / 0.4 = 45;
    # 99.5 critical → 40 (the Warning floor); 98.0 far past critical → 0
    assert [delivery.verdict(att, v) for v in (99.95, 99.9, 99.55, 99.5, 98.0)] == [
        "Excellent", "Healthy", "Warning", "Warning", "Critical",
    ]  # fmt: skip
    # burn: 0.4x: 90 + 10 * 0.1 / 0.5 = 92; 1x → 80; 5.16x: 40 + 40 * 0.84 / 5 = 46.7; 6x → 40;
    # 10x: 40 * (1 - 4 / 5) = 8
    assert [delivery.verdict(burn, v) for v in (0.4, 1.0, 5.16, 6.0, 10.0)] == [
        "Excellent", "Healthy", "Warning", "Warning", "Critical",
    ]  # fmt: skip
