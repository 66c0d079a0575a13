"""AWS CUR 2.0 costs through the real run pipeline to the Ops cockpit (issues #4/#5/#7).

Given a tenant's CUR 2.0 export (demo Parquet, the real CUR 2.0 columns) registered as its lake
`cur_<tenant>`, when the kpi_run state machine runs the built-in `infra_cost_mtd` contract, then the
delivered month-to-date cost, last month to the same day, budget vs plan and the breakdowns by
service and team are exactly what plain SQL over the same Parquet says — and the Ops dashboard shows
them from one snapshot read, each number with its KPI run, billing period and query hash.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import Running
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_dashboards_personas import dynamodb_calls
from tests.integration.test_pipeline_runs import attempts

AS_OF = datetime(2025, 3, 18, 12, 0, tzinfo=UTC)
TENANT = "costco"
_names = itertools.count()

# Amortized cost, written here independently of CostQuery (the demo export has Savings Plan
# covered usage, its negation and the recurring fee; every other line is plain usage).
AMORTIZED = (
    "CASE WHEN line_item_line_item_type = 'SavingsPlanCoveredUsage'"
    " THEN savings_plan_savings_plan_effective_cost"
    " WHEN line_item_line_item_type = 'SavingsPlanNegation' THEN 0.0"
    " WHEN line_item_line_item_type = 'SavingsPlanRecurringFee'"
    " THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment"
    " ELSE line_item_unblended_cost END"
)


def run_cost(local: Running, tenant_id: str) -> dict[str, Any]:
    return run_kpis(local, tenant_id, ["infra_cost_mtd"], AS_OF, f"cost-{tenant_id}-{next(_names)}")


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> str:
    """Jan 20 to Mar 18 2025 of daily CUR 2.0 line items, two accounts, three teams."""
    from companyos.sources import cur

    from infra.local.demo_cur import DemoAccount, write_demo_cur

    folder = tmp_path_factory.mktemp("cur2")
    accounts = [
        DemoAccount("111122223333", "prod", ("payments", "search"), 400.0),
        DemoAccount("444455556666", "shared", ("platform",), 90.0),
    ]
    write_demo_cur(folder, accounts, date(2025, 1, 20), 58, seed="costco")
    return cur.parquet_glob(folder)


def sql(glob: str, query: str) -> list[tuple[Any, ...]]:
    """Plain DuckDB over the Parquet files (hive partitions), not through the lake or CostQuery."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"CREATE VIEW x AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
        return con.execute(query).fetchall()
    finally:
        con.close()


def cost_between(glob: str, start: str, end: str, group: str | None = None) -> Any:
    where = f"CAST(line_item_usage_start_date AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'"
    if group is None:
        return sql(glob, f"SELECT SUM({AMORTIZED}) FROM x WHERE {where}")[0][0]
    rows = sql(glob, f"SELECT {group} AS g, SUM({AMORTIZED}) FROM x WHERE {where} GROUP BY 1")
    return {g: v for g, v in rows}


@pytest.fixture(scope="module")
def costco(local: Running, export: str) -> TenantFixture:
    from companyos.adapters import lake
    from companyos.runs import contracts

    tenant = make_tenant(local, TENANT, "Cost Co")
    lake.register(f"cur_{TENANT}", lake.DuckDbLake({"cur2": export}))
    # The tenant's plan: 12,000 USD a month (a tenant version of the built-in contract)
    base = contracts.get("infra_cost_mtd")
    plan = contracts.Contract.model_validate(
        {
            **base.to_state(),
            "tenant_id": TENANT,
            "params": {"budget": 12000.0, "budget_period": "7d"},
            "extensions": [*base.extensions, "budget_vs_actual"],
        }
    )
    contracts.ContractStore(TENANT).publish(plan)
    contracts.ContractStore(TENANT).activate("infra_cost_mtd", plan.version)
    result = run_cost(local, TENANT)
    assert result["results"][0]["status"] in ("success", "partial"), result
    return tenant


def test_infra_cost_mtd_is_the_month_to_date_amortized_cost_of_the_export(costco, export):
    from companyos.adapters import lake
    from companyos.runs import contracts

    mtd = cost_between(export, "2025-03-01", "2025-03-18")
    feb = cost_between(export, "2025-02-01", "2025-02-18")
    assert mtd > 0 and feb > 0
    (attempt,) = attempts(TENANT, "infra_cost_mtd")
    assert attempt["end"][0]["status"] == "success", attempt["end"]
    delivery = attempt["delivery"][0]
    for period in ("7d", "28d", "90d", "365d"):  # month to date, whatever the cockpit period
        v = delivery["values"][period]
        assert v["value"] == pytest.approx(mtd, rel=1e-9) and v["previous"] == pytest.approx(feb, rel=1e-9)
        assert v["time_range"] == "2025-03-01/2025-03-18"
    series = delivery["values"]["7d"]["series"]
    assert [p["t"] for p in series][:2] == ["2025-03-01", "2025-03-02"] and len(series) == 18
    assert series[-1]["v"] == pytest.approx(cost_between(export, "2025-03-18", "2025-03-18"), rel=1e-9)
    plan = delivery["extension_values"]["budget_vs_actual"]
    assert plan["monthly_budget"] == 12000.0 and plan["basis"] == "18/31 days"
    assert plan["budget"] == pytest.approx(12000.0 * 18 / 31)
    assert plan["variance"] == pytest.approx(mtd - 12000.0 * 18 / 31, rel=1e-9)
    assert delivery["extension_values"]["mom"]["change_pct"] == pytest.approx(100 * (mtd - feb) / feb)
    # the sourcing log names the SQL that ran, by hash
    contract = contracts.get("infra_cost_mtd")
    hashes = {r["source_object"]: r["sql_hash"] for r in attempt["sourcing"]}
    assert hashes["cur2.amortized_cost_per_day"] == lake.sql_hash(contract.formula.sql or "")
    assert hashes["cur2.amortized_cost_by_team"] == lake.sql_hash(contract.sources[2].query or "")
    assert {r["rule_id"]: r["result"] for r in attempt["pre_validation"]} == {
        "cost_rows_available": "pass",
        "cur_fresh": "pass",
        "daily_cost_non_negative": "pass",
    }


def test_the_breakdowns_are_the_export_grouped_by_service_and_team(costco, export):
    (attempt,) = attempts(TENANT, "infra_cost_mtd")
    by = {b["object"]: b for b in attempt["delivery"][0]["breakdowns"]}
    services = cost_between(export, "2025-03-01", "2025-03-18", "line_item_product_code")
    teams = cost_between(export, "2025-03-01", "2025-03-18", "resource_tags['user_team']")
    got = {i["dimension"]: i["value"] for i in by["cur2.amortized_cost_by_service"]["items"]}
    assert got == pytest.approx({k: round(v, 6) for k, v in services.items()})
    assert {i["dimension"]: i["value"] for i in by["cur2.amortized_cost_by_team"]["items"]} == pytest.approx(
        {k: round(v, 6) for k, v in teams.items()}
    )
    assert set(teams) == {"payments", "search", "platform"}
    for b in by.values():
        assert b["billing_periods"] == ["2025-03"] and b["range"] == ["2025-03-01", "2025-03-18"]
        assert b["total"] == pytest.approx(sum(services.values()), rel=1e-9)


def test_the_ops_dashboard_shows_the_cost_with_its_run_from_one_read(local, costco, export):
    from companyos.adapters.repos import Catalog
    from companyos.views import snapshots

    snapshots.refresh(Catalog().get_tenant(TENANT), AS_OF)
    (attempt,) = attempts(TENANT, "infra_cost_mtd")
    run_id = attempt["run"][0]["run_id"]
    local.idp.add_user(f"ops@{TENANT}.test", "Ops", {TENANT: "head_ops"})
    Catalog().put_member(TENANT, f"ops@{TENANT}.test", "head_ops", "Ops")
    token = local.client.login(f"ops@{TENANT}.test")
    with dynamodb_calls(TENANT) as calls:
        resp = local.client.request("GET", f"/api/dashboards/ops?tenant={TENANT}&period=7d", token=token)
    assert resp.status == 200 and len(calls) <= 2, calls
    panels = {p["id"]: p for p in resp.body["panels"]}
    tile = next(i for p in resp.body["panels"] for i in p["items"] if i.get("id") == "infra_cost_mtd")
    mtd = cost_between(export, "2025-03-01", "2025-03-18")
    planned = 12000.0 * 18 / 31
    assert tile["value"] == pytest.approx(round(mtd, 2)) and tile["display"] == f"${mtd:,.0f}"
    pct = 100 * (mtd - planned) / planned
    assert tile["reason"].startswith(f"{'▲' if pct > 0 else '▼'} {abs(pct):.0f}% vs plan")
    assert tile["status"] == ("healthy" if pct <= 0 else "attention" if pct <= 10 else "warning")
    ev = tile["evidence"]
    assert ev["run_id"] == run_id and ev["billing_periods"] == ["2025-03"] and len(ev["sql_hash"]) == 16
    cost = panels["cost"]
    assert cost["kind"] == "bars" and "2025-03-01 to 2025-03-18" in cost["summary"]
    services = cost_between(export, "2025-03-01", "2025-03-18", "line_item_product_code")
    shown = {i["id"]: i["value"] for i in cost["items"] if i["group"] == "service"}
    assert shown == {f"service:{k}": round(v, 2) for k, v in services.items()}
    for item in cost["items"]:
        assert item["evidence"]["run_id"] == run_id and item["evidence"]["billing_periods"] == ["2025-03"]
        assert item["evidence"]["sql_hash"]


def test_a_tenant_without_a_cur_export_sees_the_reason_not_a_number(local):
    from companyos.adapters.repos import Catalog
    from companyos.views import panels_data

    make_tenant(local, "nocur", "No CUR Co")
    result = run_cost(local, "nocur")
    assert result["results"][0]["status"] == "failed"
    (attempt,) = attempts("nocur", "infra_cost_mtd")
    assert attempt["end"][0]["error_code"] == "lake_not_configured"
    rows = panels_data.build(Catalog().get_tenant("nocur").id, AS_OF)["7d"]
    assert rows["infra_cost"]["available"] is False
    assert "lake 'cur_nocur' is not configured" in rows["infra_cost"]["reason"]
