"""User KPIs as SQL over the lake: DuckDB over real Parquet locally, Athena's API in AWS (tested
against moto's preset query results), both behind one query interface."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date

import boto3
import pytest

from tests.conftest import Running
from tests.integration.test_pipeline_runs import AS_OF, attempts, run

SQL = (
    "SELECT usage_date AS day, SUM(unblended_cost) AS cost, SUM(active_users) AS users "
    "FROM cur WHERE usage_date BETWEEN {start} AND {end} GROUP BY 1 ORDER BY 1"
)


@pytest.fixture(scope="module")
def parquet(tmp_path_factory) -> str:
    """A small CUR-like Parquet file written by DuckDB itself: 60 days, cost 100/day, 50 users/day."""
    import duckdb

    path = str(tmp_path_factory.mktemp("lake") / "cur.parquet")
    con = duckdb.connect(":memory:")
    con.sql(
        "SELECT (DATE '2024-01-02' + i::INTEGER) AS usage_date, 100.0 AS unblended_cost, 50 AS active_users "
        "FROM range(60) t(i)"
    ).write_parquet(path)
    con.close()
    return path


def test_duckdb_lake_runs_the_shared_sql_over_parquet(parquet):
    from companyos.adapters.lake import DuckDbLake

    rows = DuckDbLake({"cur": parquet}).query(SQL, date(2024, 2, 1), date(2024, 2, 7))

    assert [str(r["day"])[:10] for r in rows][:2] == ["2024-02-01", "2024-02-02"] and len(rows) == 7
    assert rows[0]["cost"] == 100.0 and rows[0]["users"] == 50


def test_a_sql_kpi_runs_through_the_state_machine_with_its_sql_hash_logged(local: Running, parquet):
    from companyos.adapters import lake
    from companyos.runs.contracts import Contract, ContractStore

    from tests.integration.conftest import make_tenant

    make_tenant(local, "wayne", "Wayne Enterprises")
    lake.register("default", lake.DuckDbLake({"cur": parquet}))
    contract = Contract.model_validate(
        {
            "kpi_id": "cloud_cost_per_user",
            "version": "1.0.0",
            "tenant_id": "wayne",
            "sources": [{"source_type": "lake", "kind": "cur", "object": "cur", "query": SQL}],
            "formula": {"sql": SQL, "aggregate": "ratio", "numerator": "cost", "denominator": "users"},
            "params": {"budget": 1.5, "budget_period": "28d"},
            "pre_rules": [
                {"id": "rows_present", "type": "row_count", "severity": "error", "params": {"min": 7}},
                {"id": "no_negative_cost", "type": "non_negative", "severity": "error"},
            ],
            "post_rules": [
                {"id": "positive", "type": "value_range", "severity": "error", "params": {"min": 0}}
            ],
            "verdict_bands": [{"label": "Adequate", "max": 2.5}, {"label": "Critical", "min": 2.5}],
            "sla": {"max_duration_s": 600},
            "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
            "extensions": ["previous_window", "mom", "budget_vs_actual"],
        }
    )
    ContractStore("wayne").publish(contract)
    ContractStore("wayne").activate("cloud_cost_per_user", "1.0.0")
    try:
        run(local, "wayne", ["cloud_cost_per_user"])
    finally:
        lake.LAKES.pop("default", None)

    (attempt,) = attempts("wayne", "cloud_cost_per_user")
    assert attempt["end"][0]["status"] == "success", attempt["end"]
    sourcing = attempt["sourcing"][0]
    assert sourcing["source_type"] == "lake" and sourcing["sql_hash"] == lake.sql_hash(SQL)
    delivery = attempt["delivery"][0]
    assert delivery["values"]["7d"]["value"] == pytest.approx(2.0)  # 700 / 350
    assert delivery["verdict"] == "Adequate"
    assert delivery["extension_values"]["budget_vs_actual"]["variance"] == pytest.approx(0.5)
    assert AS_OF.date().isoformat() in delivery["time_range"]


def _column(name: str, athena_type: str) -> dict:
    return {"Name": name, "Type": athena_type, "Label": name, "Nullable": "UNKNOWN", "CaseSensitive": False}


def test_athena_adapter_reads_preset_results_through_the_athena_api(local: Running):
    from companyos.adapters.lake import AthenaLake

    boto3.client("s3").create_bucket(Bucket="athena-results")
    preset = {
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": "day"}, {"VarCharValue": "cost"}]},
                    {"Data": [{"VarCharValue": "2024-02-01"}, {"VarCharValue": "12.5"}]},
                    {"Data": [{"VarCharValue": "2024-02-02"}, {"VarCharValue": "7"}]},
                ],
                "column_info": [_column("day", "date"), _column("cost", "double")],
            }
        ]
    }
    req = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/moto-api/static/athena/query-results",
        data=json.dumps(preset).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(req).status == 201

    rows = AthenaLake("cur", "primary", "s3://athena-results/q/", poll_s=0.0).query(
        SQL, date(2024, 2, 1), date(2024, 2, 7)
    )

    assert rows == [{"day": "2024-02-01", "cost": 12.5}, {"day": "2024-02-02", "cost": 7.0}]
    executions = boto3.client("athena").list_query_executions()["QueryExecutionIds"]
    query = boto3.client("athena").get_query_execution(QueryExecutionId=executions[-1])["QueryExecution"]
    assert "DATE '2024-02-01'" in query["Query"] and "{start}" not in query["Query"]
