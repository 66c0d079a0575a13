"""AWS CUR 2.0 costs through one `CostQuery` interface, over the lake engines of `runs/lake.py`.

`CostQuery` builds SQL in the subset DuckDB and Athena (Trino) share, over a CUR 2.0 table (AWS Data
Exports, `COST_AND_USAGE_REPORT`; the Glue table partitioned by `billing_period=YYYY-MM`) and runs
it through a `LakeQuery`: `AthenaLake` in AWS, `DuckDbLake` over the same Parquet locally. The one
dialect difference it needs — reading a key of the `resource_tags` map — is rendered per engine
(`element_at(m, k)` in Athena, which is NULL for a missing key; `m[k]` in DuckDB).

`CUR2_COLUMNS` are the CUR 2.0 columns the queries read, with their real names and types (a subset of
the 125 columns of AWS' CUR 2.0 table; a test checks every name and declared type against the column
list in ../shared/fixtures/real/aws-cur/). The demo's generated export (`infra/local/demo_cur.py`, not
shipped in this layer) writes them partitioned like the Data Exports bucket:
`<dir>/billing_period=YYYY-MM/*.parquet`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from companyos.adapters.lake import LakeQuery

# The CUR 2.0 columns the demo export writes and the queries read: name -> DuckDB type
# (Glue: string -> VARCHAR, double -> DOUBLE, timestamp -> TIMESTAMP, map<string,string> -> MAP).
CUR2_COLUMNS: dict[str, str] = {
    "bill_billing_period_start_date": "TIMESTAMP",
    "bill_billing_period_end_date": "TIMESTAMP",
    "bill_payer_account_id": "VARCHAR",
    "identity_line_item_id": "VARCHAR",
    "identity_time_interval": "VARCHAR",
    "line_item_line_item_type": "VARCHAR",
    "line_item_usage_account_id": "VARCHAR",
    "line_item_usage_account_name": "VARCHAR",
    "line_item_product_code": "VARCHAR",
    "line_item_usage_type": "VARCHAR",
    "line_item_operation": "VARCHAR",
    "line_item_resource_id": "VARCHAR",
    "line_item_usage_start_date": "TIMESTAMP",
    "line_item_usage_end_date": "TIMESTAMP",
    "line_item_usage_amount": "DOUBLE",
    "line_item_unblended_cost": "DOUBLE",
    "line_item_currency_code": "VARCHAR",
    "product_servicecode": "VARCHAR",
    "product_region_code": "VARCHAR",
    "pricing_public_on_demand_cost": "DOUBLE",
    "savings_plan_savings_plan_effective_cost": "DOUBLE",
    "savings_plan_total_commitment_to_date": "DOUBLE",
    "savings_plan_used_commitment": "DOUBLE",
    "reservation_effective_cost": "DOUBLE",
    "reservation_unused_amortized_upfront_fee_for_billing_period": "DOUBLE",
    "reservation_unused_recurring_fee": "DOUBLE",
    "product": "MAP(VARCHAR, VARCHAR)",
    "resource_tags": "MAP(VARCHAR, VARCHAR)",
}
PARTITION = "billing_period"  # Data Exports' partition (not a column of the export itself)

GroupBy = Literal["service", "account", "region", "usage_type"]
Metric = Literal["unblended", "amortized"]

_DIMENSIONS: dict[str, str] = {
    "service": "line_item_product_code",
    "account": "line_item_usage_account_id",
    "region": "product_region_code",
    "usage_type": "line_item_usage_type",
}
# Amortized cost as the CID dashboards compute it: Savings Plans and RIs spread over the usage
# they cover; their fees only for the unused part; the negation lines cancel the on-demand price.
_AMORTIZED = (
    "CASE line_item_line_item_type"
    " WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost"
    " WHEN 'SavingsPlanRecurringFee'"
    " THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment"
    " WHEN 'SavingsPlanNegation' THEN 0"
    " WHEN 'SavingsPlanUpfrontFee' THEN 0"
    " WHEN 'DiscountedUsage' THEN reservation_effective_cost"
    " WHEN 'RIFee' THEN reservation_unused_amortized_upfront_fee_for_billing_period"
    " + reservation_unused_recurring_fee"
    " ELSE line_item_unblended_cost END"
)
_COST = {"unblended": "line_item_unblended_cost", "amortized": _AMORTIZED}
_TAG_KEY = re.compile(r"^[A-Za-z0-9_:.@/+=-]{1,128}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class CostRow:
    billing_period: str  # YYYY-MM
    dimension: str
    cost: float


class CostQuery:
    """Cost questions over a CUR 2.0 table, in SQL both engines run."""

    def __init__(self, lake: LakeQuery, table: str = "cur") -> None:
        if not _TABLE.match(table):
            raise ValueError(f"bad CUR table name '{table}'")
        self.lake, self.table = lake, table

    def _dimension(self, group_by: str) -> str:
        if group_by.startswith("tag:"):
            key = group_by.removeprefix("tag:")
            if not _TAG_KEY.match(key):
                raise ValueError(f"bad tag key '{key}'")
            value = (
                f"element_at(resource_tags, '{key}')"
                if self.lake.engine == "athena"
                else f"resource_tags['{key}']"
            )
            return f"COALESCE({value}, '(untagged)')"
        try:
            return f"COALESCE({_DIMENSIONS[group_by]}, '(none)')"
        except KeyError as exc:
            raise ValueError(f"cannot group costs by '{group_by}'") from exc

    def _where(self) -> str:
        # the partition filter first (Athena prunes billing periods), then the exact usage days
        return (
            f"{PARTITION} BETWEEN substr(CAST({{start}} AS VARCHAR), 1, 7)"
            " AND substr(CAST({end} AS VARCHAR), 1, 7)"
            " AND CAST(line_item_usage_start_date AS DATE) BETWEEN {start} AND {end}"
        )

    def monthly_sql(self, group_by: str, metric: Metric = "unblended") -> str:
        return (
            f"SELECT {PARTITION} AS billing_period, {self._dimension(group_by)} AS dimension,"
            f" SUM({_COST[metric]}) AS cost FROM {self.table} WHERE {self._where()}"
            " GROUP BY 1, 2 ORDER BY 1, 3 DESC"
        )

    def daily_sql(self, metric: Metric = "unblended") -> str:
        """One row per day (`day`, `cost`): the shape a lake KPI contract reads."""
        return (
            f"SELECT CAST(line_item_usage_start_date AS DATE) AS day, SUM({_COST[metric]}) AS cost"
            f" FROM {self.table} WHERE {self._where()} GROUP BY 1 ORDER BY 1"
        )

    def monthly(self, group_by: str, start: date, end: date, metric: Metric = "unblended") -> list[CostRow]:
        rows = self.lake.query(self.monthly_sql(group_by, metric), start, end)
        return [
            CostRow(str(r["billing_period"]), str(r["dimension"]), round(float(r["cost"]), 6)) for r in rows
        ]

    def daily(self, start: date, end: date, metric: Metric = "unblended") -> list[dict[str, Any]]:
        return self.lake.query(self.daily_sql(metric), start, end)


def parquet_glob(out_dir: str | Path) -> str:
    """The `read_parquet` glob of a partitioned CUR folder (DuckDB reads `billing_period` from it)."""
    return str(Path(out_dir) / f"{PARTITION}=*" / "*.parquet")
