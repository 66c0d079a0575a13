"""Demo CUR 2.0: a generated AWS Data Exports CUR 2.0 Parquet export per tenant, queried through the
real `CostQuery` over DuckDB, and Northwind's monthly cloud budget (a tenant contract version).

`write_demo_cur` writes daily line items with the real CUR 2.0 column names and types
(`companyos.sources.cur.CUR2_COLUMNS`, a subset of the 125 columns of AWS' CUR 2.0 table; a test checks
every name and declared type against the column list in ../shared/fixtures/real/aws-cur/), partitioned
like the Data Exports bucket: `<dir>/billing_period=YYYY-MM/*.parquet`. Demo-only: not in the Lambda layer.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from companyos.adapters import lake
from companyos.runs import contracts
from companyos.sources import cur
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.cur import CUR2_COLUMNS, PARTITION

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

CUR_EXPORTS: dict[str, str] = {}  # tenant -> Parquet folder
_ISO = "%Y-%m-%dT%H:%M:%SZ"


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
# the staged row: the plain columns, then the tag and partition values the Parquet COPY maps
_PLAIN = [n for n in CUR2_COLUMNS if n not in ("product", "resource_tags")]
_STAGED = [*_PLAIN, "_team", "_period"]


def write_demo_cur(
    out_dir: str | Path, accounts: list[DemoAccount], start: date, days: int, seed: str = "demo"
) -> Path:
    """Daily CUR 2.0 line items for `days` days from `start`, with Savings Plan coverage on EC2
    (covered usage + negation + the recurring fee), written as Parquet partitioned by billing period."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for day in range(days):
        d = datetime.combine(start + timedelta(days=day), datetime.min.time(), UTC).replace(tzinfo=None)
        rows += _line_items(d, accounts, rng)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_parquet(out, rows)
    return out


def _line_items(d: datetime, accounts: list[DemoAccount], rng: random.Random) -> Iterator[dict[str, Any]]:
    """One day's line items of every account and service, as staged rows."""
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
            yield base
            if covered:
                yield from _savings_plan_lines(base, cost, rng)


def _savings_plan_lines(base: dict[str, Any], cost: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """The negation that cancels the on-demand price of covered usage, and the recurring fee."""
    neg = {**base, "line_item_line_item_type": "SavingsPlanNegation", "line_item_unblended_cost": -cost}
    neg["identity_line_item_id"] = f"{rng.getrandbits(128):032x}"
    neg["savings_plan_savings_plan_effective_cost"] = 0.0
    yield neg
    commitment = round(cost * 0.75, 6)  # hourly commitment, slightly over-bought
    yield {
        **base,
        "line_item_line_item_type": "SavingsPlanRecurringFee",
        "line_item_product_code": "ComputeSavingsPlans",
        "line_item_unblended_cost": commitment,
        "savings_plan_savings_plan_effective_cost": 0.0,
        "savings_plan_total_commitment_to_date": commitment,
        "savings_plan_used_commitment": round(cost * 0.72, 6),
        "identity_line_item_id": f"{rng.getrandbits(128):032x}",
    }


def _write_parquet(out: Path, rows: list[dict[str, Any]]) -> None:
    con = duckdb.connect(":memory:")
    try:
        # rows go in as JSON lines with declared types: one read, no per-row INSERT round trips
        staged = out / "_rows.jsonl"
        staged.write_text("\n".join(json.dumps({n: r[n] for n in _STAGED}, default=str) for r in rows))
        types = {n: CUR2_COLUMNS[n] for n in _PLAIN} | {"_team": "VARCHAR", "_period": "VARCHAR"}
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
            for n in CUR2_COLUMNS
        )
        target = str(out).replace("'", "''")
        con.execute(
            f"COPY (SELECT {select}, _period AS {PARTITION} FROM raw) TO '{target}'"
            f" (FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)"
        )
    finally:
        con.close()


# ---------------------------------------------------------------------------- the demo tenants' export


def seed_cur(demo: DemoTenant, now: datetime) -> int:
    accounts = [
        DemoAccount(
            f"{abs(hash_int(demo.tenant.id, i)) % 10**12:012d}",
            f"{demo.tenant.id}-{name}",
            tuple(s for _, s, _ in demo.repos),
            demo.requests_per_s * factor,
        )
        for i, (name, factor) in enumerate((("prod", 9.0), ("shared", 2.5)))
    ]
    folder = tempfile.mkdtemp(prefix=f"companyos-cur-{demo.tenant.id}-")
    start = (now - timedelta(days=75)).date().replace(day=1)
    write_demo_cur(folder, accounts, start, (now.date() - start).days + 1, seed=demo.tenant.id)
    CUR_EXPORTS[demo.tenant.id] = folder
    # the table name of the CUR 2.0 Glue table in AWS (infra/aws/cost.py), which the cost contracts read
    lake.register(f"cur_{demo.tenant.id}", lake.DuckDbLake({"cur2": cur.parquet_glob(folder)}))
    costs = cur.CostQuery(lake.get(f"cur_{demo.tenant.id}"), table="cur2")
    if demo.cost_plan_growth is not None:
        _cost_plan(demo.tenant.id, costs, now.date(), demo.cost_plan_growth)
    return len(costs.monthly("service", start, now.date()))


def _cost_plan(tenant_id: str, costs: cur.CostQuery, today: date, growth: float) -> None:
    """The tenant's monthly cloud budget: last month's amortized CUR cost x (1 + growth), as a tenant
    version of the infra_cost_mtd contract with the budget_vs_actual extension (pro rata to date)."""
    last_end = today.replace(day=1) - timedelta(days=1)
    spent = sum(r.cost for r in costs.monthly("account", last_end.replace(day=1), last_end, "amortized"))
    base = contracts.get("infra_cost_mtd")
    plan = contracts.Contract.model_validate(
        {
            **base.to_state(),
            "tenant_id": tenant_id,
            "variant_label": f"monthly budget: last month x {1 + growth:g}",
            "params": {**base.params, "budget": round(spent * (1 + growth), -2), "budget_period": "7d"},
            "extensions": [*base.extensions, "budget_vs_actual"],
        }
    )
    store = contracts.ContractStore(tenant_id)
    if store.version(plan.kpi_id, plan.version) is None:
        store.publish(plan)
    store.activate(plan.kpi_id, plan.version)


def hash_int(*parts: object) -> int:
    return int(hmac_sha256_hex("cur", "|".join(map(str, parts)).encode())[:12], 16)
