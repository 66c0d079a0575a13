"""The cost contract pack: its SQL is CostQuery's, and the month-to-date window, the pro rata budget
and the breakdown folding behave as docs/pipeline.md says."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from companyos.adapters import lake
from companyos.runs import computation, contracts, delivery, formulas, sourcing
from companyos.runs.sourcing import MAX_BREAKDOWN_ITEMS
from companyos.sources.cur import CostQuery


class _Athena:
    engine = "athena"

    def query(self, sql: str, start: date, end: date) -> list[dict[str, Any]]:  # pragma: no cover
        raise AssertionError("not queried")


def test_the_pack_sql_is_exactly_what_costquery_renders_for_athena():
    c = contracts.get("infra_cost_mtd")
    q = CostQuery(_Athena(), table="cur2")
    by_object = {s.object: s for s in c.sources}
    assert lake.sql_hash(c.formula.sql or "") == lake.sql_hash(q.daily_sql("amortized"))
    assert lake.sql_hash(by_object["cur2.amortized_cost_by_service"].query or "") == lake.sql_hash(
        q.monthly_sql("service", "amortized")
    )
    assert lake.sql_hash(by_object["cur2.amortized_cost_by_team"].query or "") == lake.sql_hash(
        q.monthly_sql("tag:user_team", "amortized")
    )
    assert c.window == "month_to_date" and c.formula.lake == "cur_{tenant}"
    assert lake.resolve_name(c.formula.lake, "northwind") == "cur_northwind"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 3, 31), date(2025, 2, 28)),
        (date(2024, 3, 30), date(2024, 2, 29)),
        (date(2025, 1, 15), date(2024, 12, 15)),
    ],
)
def test_previous_month_to_the_same_day_is_clamped(day, expected):
    assert sourcing.same_day_last_month(day) == expected


def test_month_to_date_values_are_the_calendar_month_against_last_month():
    daily = {f"2025-02-{d:02d}": {"cost": 10.0} for d in range(1, 29)}
    daily |= {f"2025-03-{d:02d}": {"cost": float(d)} for d in range(1, 32)}
    fn = computation.value_fn(contracts.get("infra_cost_mtd"))
    values = computation.month_to_date(fn, daily, date(2025, 3, 5))
    assert set(values) == set(contracts.PERIODS)
    v = values["28d"]
    assert v["value"] == 1 + 2 + 3 + 4 + 5 and v["previous"] == 50.0
    assert v["time_range"] == "2025-03-01/2025-03-05" and [p["v"] for p in v["series"]] == [1, 2, 3, 4, 5]
    empty = computation.month_to_date(fn, {}, date(2025, 3, 5))["7d"]
    assert empty["value"] is None and empty["reason"]  # no rows: Unknown with the reason


def test_a_monthly_budget_is_compared_pro_rata_to_date():
    base = contracts.get("infra_cost_mtd")
    plan = contracts.Contract.model_validate(
        {
            **base.to_state(),
            "params": {"budget": 3100.0, "budget_period": "7d"},
            "extensions": [*base.extensions, "budget_vs_actual"],
        }
    )
    values = {"7d": {"value": 1200.0, "previous": 900.0, "time_range": "2025-03-01/2025-03-10"}}
    out = delivery.extensions(plan, values)["budget_vs_actual"]
    assert out["budget"] == pytest.approx(1000.0) and out["monthly_budget"] == 3100.0
    assert out["basis"] == "10/31 days" and out["variance_pct"] == pytest.approx(20.0)


def test_breakdown_keeps_the_biggest_groups_and_sums_the_rest():
    rows = [
        {"billing_period": "2025-03", "dimension": f"svc{i:02d}", "cost": float(i)}
        for i in range(1, MAX_BREAKDOWN_ITEMS + 4)
    ]
    rows.append({"billing_period": "2025-03", "dimension": None, "cost": 0.5})
    out = sourcing.breakdown(rows, "cost")
    assert len(out["items"]) == MAX_BREAKDOWN_ITEMS + 1 and out["items"][-1]["dimension"] == "(other)"
    assert out["items"][0] == {"dimension": f"svc{MAX_BREAKDOWN_ITEMS + 3:02d}", "value": 18.0}
    assert out["total"] == pytest.approx(sum(r["cost"] for r in rows)) and out["billing_periods"] == [
        "2025-03"
    ]


def test_a_breakdown_source_must_be_a_lake_query():
    base = contracts.get("infra_cost_mtd").to_state()
    base["sources"] = [
        *base["sources"],
        {"source_type": "signal", "kind": "x", "object": "x", "role": "breakdown"},
    ]
    with pytest.raises(ValueError, match="breakdown source"):
        contracts.Contract.model_validate(base)


def test_duckdb_element_at_on_a_map_is_the_value_or_null_like_athena(tmp_path):
    import duckdb

    path = str(tmp_path / "t.parquet")
    duckdb.sql("SELECT MAP {'user_team': 'core'} AS tags, DATE '2025-03-01' AS day").write_parquet(path)
    rows = lake.DuckDbLake({"t": path}).query(
        "SELECT day, element_at(tags, 'user_team') AS team, element_at(tags, 'nope') AS missing FROM t",
        date(2025, 3, 1),
        date(2025, 3, 1),
    )
    assert rows[0]["team"] == "core" and rows[0]["missing"] is None
    assert formulas.BUILTINS  # the pack loads next to the built-in formulas
