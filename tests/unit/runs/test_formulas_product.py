"""Product adoption and ABAC coverage formulas on synthetic signals, with the numbers a run delivers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from companyos.runs import formulas, formulas_product
from companyos.runs.formulas import Outcome, SignalRow

END = date(2024, 3, 1)
NOON = datetime(2024, 3, 1, 12, tzinfo=UTC)


def at(days_ago: int) -> datetime:
    return NOON - timedelta(days=days_ago)


def sig(kind: str, days_ago: int, i: int = 0, **attrs: Any) -> SignalRow:
    return SignalRow(kind, f"{kind}-{days_ago}-{i}", at(days_ago), attrs)


def outcome(name: str, signals: list[SignalRow], days: int = 7, end: date = END) -> Outcome:
    builtin = formulas.BUILTINS[name]
    by_kind: dict[str, list[SignalRow]] = {}
    for s in signals:
        by_kind.setdefault(s.kind, []).append(s)
    buckets, _ = formulas.accumulate(builtin.fold(by_kind, {}))
    return builtin.value(buckets, end, days)


def active(days: range, users_per_day: Any, accounts: int = 1000) -> list[SignalRow]:
    """`product_active` for users u0..u(n-1) on each day (n = users_per_day(days_ago)); user k
    belongs to account k % accounts."""
    return [
        sig("product_active", d, k, user_id=f"u{k}", account_id=f"a{k % accounts}")
        for d in days
        for k in range(users_per_day(d))
    ]


def test_active_tenants_dau_is_the_month_over_month_change_of_daily_active_accounts():
    # Given 10 active accounts a day for the last 7 days and 8 a day in the same week a month earlier
    rows = active(range(7), lambda d: 10) + active(range(28, 35), lambda d: 8)
    # Then the 7-day value is +25% MoM (10 vs 8 accounts a day)
    assert outcome("active_tenants_dau", rows).value == pytest.approx(25.0)


def test_a_trend_without_the_month_earlier_window_is_unknown_with_the_reason():
    rows = active(range(7), lambda d: 10)
    got = outcome("active_tenants_dau", rows)
    assert got.value is None
    assert "month-earlier" in (got.reason or "") and "covers 0 of the 7 days" in (got.reason or "")
    # and a window with telemetry on fewer than half its days is Unknown too (not a low number)
    sparse = active(range(2), lambda d: 10) + active(range(28, 35), lambda d: 10)
    assert outcome("active_tenants_dau", sparse).value is None


def test_weekly_active_users_counts_distinct_users_of_the_7_days_ending_each_day():
    # Given users u0..u4 active on day 0 and u3..u9 on day 1 (10 distinct), none before
    rows = [sig("product_active", 0, k, user_id=f"u{k}") for k in range(5)]
    rows += [sig("product_session", 1, k, user_id=f"u{k}", duration_s=60) for k in range(3, 10)]
    by_kind = {k: [s for s in rows if s.kind == k] for k in formulas_product.ACTIVITY_KINDS}
    records = formulas_product.day_rollups(by_kind, [END, END - timedelta(days=1)])
    assert records[END]["users"] == 5 and records[END]["wau"] == 10
    assert records[END - timedelta(days=1)]["wau"] == 7


def test_weekly_active_users_trend_compares_mean_daily_wau_a_month_apart():
    # 20 users every day now, 16 every day a month earlier: WAU 20 vs 16 (same users all week)
    rows = active(range(14), lambda d: 20) + active(range(28, 42), lambda d: 16)
    assert outcome("weekly_active_users", rows).value == pytest.approx(25.0)


def test_session_duration_is_summed_seconds_over_sessions_in_minutes():
    lengths = ((0, 600), (1, 1200), (2, 900))
    rows = [sig("product_session", d, d, user_id="u1", duration_s=s) for d, s in lengths]
    rows.append(sig("product_session", 3, 9, user_id="u1", duration_s=-5))  # invalid: not counted
    assert outcome("session_duration", rows).value == pytest.approx(15.0)  # 2700 s / 3 / 60
    assert outcome("session_duration", [], days=7).reason == "no product sessions in the last 7 days"


def test_feature_adoption_rate_is_weekly_feature_users_over_weekly_active_users():
    # 10 users active on the last day, 4 of them used a feature (one used two features)
    rows = active(range(1), lambda d: 10)
    rows += [sig("feature_used", 0, k, user_id=f"u{k}", feature="export") for k in range(4)]
    rows.append(sig("feature_used", 0, 99, user_id="u0", feature="search"))
    assert outcome("feature_adoption_rate", rows, days=1).value == pytest.approx(40.0)


def test_rolled_up_days_are_read_from_the_rollup_and_match_raw_days():
    # Given day 40 (beyond the raw retention) only as a product_daily rollup, and raw days now
    raw = active(range(7), lambda d: 12) + active(range(28, 35), lambda d: 6)
    by_kind = {k: [s for s in raw if s.kind == k] for k in formulas_product.ACTIVITY_KINDS}
    month_ago = [END - timedelta(days=d) for d in range(28, 35)]
    records = formulas_product.day_rollups(by_kind, month_ago)
    rollups = [
        SignalRow("product_daily", f"r{d}", datetime.combine(d, datetime.min.time(), UTC),
                  {**rec, "day": d.isoformat()})
        for d, rec in records.items()
    ]  # fmt: skip
    # When the month-earlier raw events are gone (TTL) and only their rollups remain
    recent = active(range(7), lambda d: 12)
    # Then the trend is the same as from raw: 12 vs 6 accounts a day = +100%
    assert outcome("active_tenants_dau", raw).value == pytest.approx(100.0)
    assert outcome("active_tenants_dau", recent + rollups).value == pytest.approx(100.0)
    # and a rollup wins over raw rows of the same day
    buckets, _ = formulas.accumulate(formulas_product.fold_product({"product_daily": rollups, **by_kind}, {}))
    assert buckets[month_ago[0].isoformat()]["rolled"] == 1.0
    assert buckets[END.isoformat()]["rolled"] == 0.0


def test_api_call_volume_is_the_mom_change_of_requests_per_day():
    def window(days_ago: int, service: str, value: float) -> SignalRow:
        end = datetime.combine(END - timedelta(days=days_ago - 1), datetime.min.time(), UTC)
        return SignalRow("slo_window", f"{service}{days_ago}", end,
                         {"metric": "api_requests", "value": value, "step_s": 86400})  # fmt: skip

    rows = [window(d, s, 1100.0) for d in range(7) for s in ("api", "web")]  # 2200 a day
    rows += [window(d, s, 1000.0) for d in range(28, 35) for s in ("api", "web")]  # 2000 a day
    rows.append(SignalRow("slo_window", "x", NOON, {"metric": "slo_total", "value": 1e9, "step_s": 3600}))
    assert outcome("api_call_volume", rows).value == pytest.approx(10.0)


def test_abac_policy_coverage_is_the_share_of_endpoints_every_decision_of_which_a_policy_answered():
    rows = [
        sig("authz_decision", 0, 1, app="api", path="authz/allow", undefined=False),
        sig("authz_decision", 1, 2, app="api", path="authz/allow", undefined=False),
        sig("authz_decision", 0, 3, app="web", path="authz/allow", undefined=False),
        sig("authz_decision", 2, 4, app="web", path="authz/admin", undefined=False),
        sig("authz_decision", 3, 5, app="web", path="authz/admin", undefined=True),  # no policy once
        sig("authz_decision", 0, 6, app="ingest", path="authz/allow", undefined=False),
        sig("authz_decision", 0, 7, app="ingest", path=None, query=True, undefined=True),  # ad hoc
    ]
    # 4 endpoints (api/allow, web/allow, web/admin, ingest/allow); web/admin was uncovered once
    assert outcome("abac_policy_coverage", rows).value == pytest.approx(75.0)
    # over the last 2 days every endpoint that asked was answered by a policy
    assert outcome("abac_policy_coverage", rows, days=2).value == pytest.approx(100.0)
    assert outcome("abac_policy_coverage", []).value is None
