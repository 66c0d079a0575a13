"""infra_cost_per_active_unit: month-to-date cost / month-to-date MAU, month over month
(runs/formulas_unit_cost.py), from daily CUR rows and analytics events, with the numbers written
out here by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from companyos.runs import computation, contracts, formulas, rows
from companyos.runs.formulas import SignalRow
from companyos.runs.formulas_product import day_rollups, rollup_record
from companyos.runs.sourcing import lake_signal_rows

AS_OF = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _cur(day: date, cost: float) -> dict:
    return {"day": day, "cost": cost}


def _active(day: date, user: str, n: int = 0) -> SignalRow:
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9, minutes=n)
    return SignalRow("product_active", f"a-{day}-{user}-{n}", at, {"user_id": user}, source="analytics")


def _signals(cur_rows: list[dict], events: list[SignalRow]) -> dict[str, list[SignalRow]]:
    return {"cur2": lake_signal_rows("cur2", cur_rows), "product_active": events}


def _feb_mar() -> tuple[list[dict], list[SignalRow]]:
    """February: 20 USD a day, users u1..u4 (u1 every day). March: 30 USD a day to the 8th (the CUR
    export lags two days behind the 10th), users u1..u5, u6 only on the 10th (after the last cost day)."""
    cur_rows = [_cur(date(2025, 2, d), 20.0) for d in range(1, 29)]
    cur_rows += [_cur(date(2025, 3, d), 30.0) for d in range(1, 9)]
    events = [_active(date(2025, 2, d), "u1") for d in range(1, 29)]
    events += [_active(date(2025, 2, 3), u) for u in ("u2", "u3")] + [_active(date(2025, 2, 12), "u4")]
    events += [_active(date(2025, 3, d), "u1") for d in range(1, 11)]
    events += [_active(date(2025, 3, 2), u) for u in ("u2", "u3", "u4")] + [_active(date(2025, 3, 7), "u5")]
    events += [_active(date(2025, 3, 10), "u6")]
    return cur_rows, events


def _run(signals: dict) -> dict:
    contract = contracts.get("infra_cost_per_active_unit")
    builtin = formulas.BUILTINS["infra_cost_per_active_unit"]
    daily, _ = formulas.accumulate(builtin.fold(signals, contract.params))
    return computation.month_to_date(computation.value_fn(contract), daily, AS_OF.date())["28d"]


def test_the_change_of_cost_per_mau_month_to_date_against_last_month_to_the_same_day():
    v = _run(_signals(*_feb_mar()))
    march = (8 * 30.0) / 5  # 1st..8th: 240 USD, u1..u5 active (u6 came on the 10th, after the CUR)
    february = (8 * 20.0) / 3  # 1st..8th of February: 160 USD, u1..u3 (u4 came on the 12th)
    assert v["value"] == pytest.approx(100.0 * (march / february - 1.0))
    d = v["detail"]
    assert d["through"] == "2025-03-08" and d["previous_through"] == "2025-02-08"
    assert d["cost"] == 240.0 and d["mau"] == 5.0 and d["previous_cost"] == 160.0 and d["previous_mau"] == 3.0
    assert d["cost_per_unit"] == pytest.approx(48.0) and d["previous_cost_per_unit"] == pytest.approx(160 / 3)
    assert v["time_range"] == "2025-03-01/2025-03-10"


def test_last_months_mau_comes_from_the_rollup_when_its_raw_events_are_gone():
    cur_rows, events = _feb_mar()
    feb_days = [date(2025, 2, d) for d in range(1, 29)]
    raw = {"product_active": [e for e in events if e.occurred_at.month == 2]}
    rolled = day_rollups(raw, feb_days)
    assert rolled[date(2025, 2, 8)]["mtd_users"] == 3.0 and rolled[date(2025, 2, 28)]["mtd_users"] == 4.0
    rollups = [
        SignalRow("product_daily", f"r-{d}", datetime.combine(d, datetime.min.time(), UTC),
                  {**rec, "day": d.isoformat()}, source="analytics")
        for d, rec in rolled.items()
    ]  # fmt: skip
    assert rollup_record(rollups[0]) is not None and "mtd_users" in rollup_record(rollups[0])[1]
    signals = _signals(cur_rows, [e for e in events if e.occurred_at.month == 3]) | {"product_daily": rollups}
    assert _run(signals)["value"] == pytest.approx(100.0 * ((240 / 5) / (160 / 3) - 1.0))


def test_without_last_months_telemetry_or_cost_the_value_is_unknown_with_the_reason():
    cur_rows, events = _feb_mar()
    march_only = [e for e in events if e.occurred_at.month == 3]
    v = _run(_signals(cur_rows, march_only))
    assert v["value"] is None and "previous month" in v["reason"] and "telemetry covers 0" in v["reason"]
    v = _run(_signals([r for r in cur_rows if r["day"].month == 3], events))
    assert v["value"] is None and "no cost for 2025-02-01..2025-02-08" in v["reason"]
    v = _run(_signals([], events))
    assert v["value"] is None and "no cost for 2025-03-01..2025-03-10" in v["reason"]


def test_old_rollups_without_mtd_users_still_read_for_the_other_product_kpis():
    fields = ("accounts", "users", "wau", "feature_wau", "sessions", "session_s", "events")
    old = SignalRow("product_daily", "r", AS_OF, dict.fromkeys(fields, 1.0))
    day, record = rollup_record(old) or (None, {})
    assert day == AS_OF.date() and "mtd_users" not in record


def test_the_delivered_rows_are_cost_mau_cost_per_unit_and_the_change():
    signals = _signals(*_feb_mar())
    build = rows.builder("infra_cost_per_active_unit")
    assert build is not None
    entry = build(signals, rows.RowsContext("t", AS_OF, {}), 28)["unit_cost"]
    assert entry["available"] is True
    by = {i["id"]: i for i in entry["items"]}
    assert (by["cost"]["value"], by["cost"]["previous"]) == (240.0, 160.0)
    assert (by["mau"]["value"], by["mau"]["previous"]) == (5.0, 3.0)
    assert by["cost_per_unit"]["previous"] == pytest.approx(160 / 3)
    assert by["change"]["value"] == pytest.approx(100.0 * (48.0 / (160 / 3) - 1.0))
    objects = {s["object"]: s["count"] for s in entry["evidence"]["sources"]}
    assert objects == {"lake.cur2": 36, "analytics.product_active": len(_feb_mar()[1])}
    empty = build({}, rows.RowsContext("t", AS_OF, {}), 28)["unit_cost"]
    assert empty["available"] is False and empty["reason"]


def test_the_cost_is_read_with_the_very_sql_of_infra_cost_mtd():
    from companyos.adapters import lake

    unit, mtd = contracts.get("infra_cost_per_active_unit"), contracts.get("infra_cost_mtd")
    assert lake.sql_hash(unit.sources[0].query or "") == lake.sql_hash(mtd.formula.sql or "")
    assert unit.formula.lake == mtd.formula.lake and unit.window == "month_to_date"
