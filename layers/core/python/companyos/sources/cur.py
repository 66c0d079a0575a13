"""AWS CUR 2.0 costs through one `CostQuery` interface, over the lake engines of `runs/lake.py`.

`CostQuery` builds SQL in the subset DuckDB and Athena (Trino) share, over a CUR 2.0 table (AWS Data
Exports, `COST_AND_USAGE_REPORT`; the Glue table partitioned by `billing_period=YYYY-MM`) and runs
it through a `LakeQuery`: `AthenaLake` in AWS, `DuckDbLake` over the same Parquet locally. The one
dialect difference it needs — reading a key of the `resource_tags` map — is rendered per engine
(`element_at(m, k)` in Athena, which is NULL for a missing key; `m[k]` in DuckDB).

`write_demo_cur` generates demo CUR 2.0 Parquet with the real CUR 2.0 column names and types
(`CUR2_COLUMNS`, a subset of the 125 columns of AWS' CUR 2.0 table; a test checks every name and
declared type against the column list in ../shared/fixtures/real/aws-cur/), partitioned like the
Data Exports bucket: `<dir>/billing_period=YYYY-MM/*.parquet`.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from companyos.adapters.lake import LakeQuery

# The CUR 2.0 columns the generator writes and the queries read: name -> DuckDB type
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
_ISO = "%Y-%m-%dT%H:%M:%SZ"
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


# ---------------------------------------------------------------------------- demo Parquet


@dataclass(frozen=True)
class DemoAccount:
    account_id: str
    name: str
    teams: tuple[str, ...]
    daily_usd: float  # mean on-demand spend per day across its services


_SERVICES = (  # (product code, usage type, operation, unit share of the spend)
    ("AmazonEC2", "BoxUsage:m6i.large", "RunInstances", 0.45),
    ("AmazonRDS", "InstanceUsage:db.r6g.large", "CreateDBInstance", 0.2),
    ("AmazonS3", "TimedStorage-ByteHrs", "StandardStorage", 0.1),
    ("AWSLambda", "Request", "Invoke", 0.08),
    ("AmazonDynamoDB", "ReadRequestUnits", "PayPerRequestThroughput", 0.07),
    ("AmazonCloudFront", "DataTransfer-Out-Bytes", "GET", 0.1),
)


def write_demo_cur(
    out_dir: str | Path, accounts: list[DemoAccount], start: date, days: int, seed: str = "demo"
) -> Path:
    """Daily CUR 2.0 line items for `days` days from `start`, with Savings Plan coverage on EC2
    (covered usage + negation + the recurring fee), written as Parquet partitioned by billing period."""
    import duckdb  # local engine only; not part of the Lambda layer

    rng = random.Random(seed)
    names = list(CUR2_COLUMNS)
    plain = [n for n in names if n not in ("product", "resource_tags")]
    rows: list[tuple[Any, ...]] = []
    for day in range(days):
        d = datetime.combine(start + timedelta(days=day), datetime.min.time(), UTC).replace(tzinfo=None)
        period_start = d.replace(day=1)
        period_end = (period_start + timedelta(days=32)).replace(day=1)
        for acct in accounts:
            for code, usage_type, operation, share in _SERVICES:
                team = rng.choice(acct.teams)
                cost = round(acct.daily_usd * share * rng.uniform(0.8, 1.25), 6)
                covered = code == "AmazonEC2"
                line_type = "SavingsPlanCoveredUsage" if covered else "Usage"
                base = {
                    "bill_billing_period_start_date": period_start,
                    "bill_billing_period_end_date": period_end,
                    "bill_payer_account_id": accounts[0].account_id,
                    "identity_line_item_id": f"{rng.getrandbits(128):032x}",
                    "identity_time_interval": f"{d:{_ISO}}/{d + timedelta(days=1):{_ISO}}",
                    "line_item_line_item_type": line_type,
                    "line_item_usage_account_id": acct.account_id,
                    "line_item_usage_account_name": acct.name,
                    "line_item_product_code": code,
                    "line_item_usage_type": usage_type,
                    "line_item_operation": operation,
                    "line_item_resource_id": f"arn:aws:{code.lower()}:us-east-1:{acct.account_id}:{team}",
                    "line_item_usage_start_date": d,
                    "line_item_usage_end_date": d + timedelta(days=1),
                    "line_item_usage_amount": round(cost * 10, 3),
                    "line_item_unblended_cost": cost,
                    "line_item_currency_code": "USD",
                    "product_servicecode": code,
                    "product_region_code": "us-east-1",
                    "pricing_public_on_demand_cost": cost,
                    "savings_plan_savings_plan_effective_cost": round(cost * 0.72, 6) if covered else 0.0,
                    "savings_plan_total_commitment_to_date": 0.0,
                    "savings_plan_used_commitment": 0.0,
                    "reservation_effective_cost": 0.0,
                    "reservation_unused_amortized_upfront_fee_for_billing_period": 0.0,
                    "reservation_unused_recurring_fee": 0.0,
                    "_team": team,
                    "_period": f"{d:%Y-%m}",
                }
                rows.append(tuple(base[n] for n in [*plain, "_team", "_period"]))
                if covered:  # the negation cancels the on-demand price of the covered usage
                    neg = {
                        **base,
                        "line_item_line_item_type": "SavingsPlanNegation",
                        "line_item_unblended_cost": -cost,
                    }
                    neg["identity_line_item_id"] = f"{rng.getrandbits(128):032x}"
                    neg["savings_plan_savings_plan_effective_cost"] = 0.0
                    rows.append(tuple(neg[n] for n in [*plain, "_team", "_period"]))
                    commitment = round(cost * 0.75, 6)  # hourly commitment, slightly over-bought
                    fee = {
                        **base,
                        "line_item_line_item_type": "SavingsPlanRecurringFee",
                        "line_item_product_code": "ComputeSavingsPlans",
                        "line_item_unblended_cost": commitment,
                        "savings_plan_savings_plan_effective_cost": 0.0,
                        "savings_plan_total_commitment_to_date": commitment,
                        "savings_plan_used_commitment": round(cost * 0.72, 6),
                        "identity_line_item_id": f"{rng.getrandbits(128):032x}",
                    }
                    rows.append(tuple(fee[n] for n in [*plain, "_team", "_period"]))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        # rows go in as JSON lines with declared types: one read, no per-row INSERT round trips
        staged = out / "_rows.jsonl"
        staged.write_text(
            "\n".join(
                json.dumps(dict(zip([*plain, "_team", "_period"], r, strict=True)), default=str) for r in rows
            )
        )
        types = {n: CUR2_COLUMNS[n] for n in plain} | {"_team": "VARCHAR", "_period": "VARCHAR"}
        columns = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
        source = str(staged).replace("'", "''")
        con.execute(
            f"CREATE TABLE raw AS SELECT * FROM read_json('{source}',"
            f" format='newline_delimited', columns={columns})"
        )
        staged.unlink()
        select = ", ".join(
            "MAP {'product_name': line_item_product_code, 'region': product_region_code} AS product"
            if n == "product"
            else "MAP {'user_team': _team, 'user_environment': 'production'} AS resource_tags"
            if n == "resource_tags"
            else n
            for n in names
        )
        target = str(out).replace("'", "''")
        con.execute(
            f"COPY (SELECT {select}, _period AS {PARTITION} FROM raw) TO '{target}'"
            f" (FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)"
        )
    finally:
        con.close()
    return out


def parquet_glob(out_dir: str | Path) -> str:
    """The `read_parquet` glob of a partitioned CUR folder (DuckDB reads `billing_period` from it)."""
    return str(Path(out_dir) / f"{PARTITION}=*" / "*.parquet")
