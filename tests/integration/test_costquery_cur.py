"""CUR 2.0 costs through one CostQuery: demo Parquet with the real CUR 2.0 column names (checked
against the column list in ../shared at test time), real SQL in DuckDB over the partitioned files,
and the same questions through the Athena adapter against moto's preset query results."""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date

import boto3
import pytest
from companyos.adapters.lake import AthenaLake, DuckDbLake
from companyos.sources import cur
from companyos.sources.cur import CostQuery

from infra.local.demo_cur import DemoAccount, write_demo_cur
from tests.conftest import Running, real_fixture

GLUE_TO_DUCKDB = {
    "string": "VARCHAR",
    "double": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "map<string,string>": "MAP(VARCHAR, VARCHAR)",
}
ACCOUNTS = [
    DemoAccount("111122223333", "northwind-prod", ("api", "web"), 400.0),
    DemoAccount("444455556666", "northwind-data", ("ingest",), 150.0),
]


def real_cur2_columns() -> dict[str, str]:
    text = real_fixture("aws-cur/cur2-columns.cid-data-collection-framework.txt").decode()
    cols = {}
    for line in text.splitlines():
        if line.startswith("# ---"):
            break  # the FOCUS list follows
        if line and not line.startswith("#"):
            name, glue = line.split("\t")
            cols[name] = glue
    return cols


def test_every_generated_column_is_a_real_cur2_column_with_its_declared_type():
    real = real_cur2_columns()
    assert len(real) == 125
    assert set(cur.CUR2_COLUMNS) <= set(real), sorted(set(cur.CUR2_COLUMNS) - set(real))
    for name, duck in cur.CUR2_COLUMNS.items():
        if real[name] != "-":  # the CID Glue table declares a type for this column
            assert GLUE_TO_DUCKDB[real[name]] == duck, name


@pytest.fixture(scope="module")
def demo_cur(tmp_path_factory) -> str:
    out = write_demo_cur(tmp_path_factory.mktemp("cur") / "cur2", ACCOUNTS, date(2025, 1, 1), 90)
    return str(out)


def test_the_demo_export_is_partitioned_by_billing_period_with_the_real_schema(demo_cur):
    import duckdb

    assert sorted(os.listdir(demo_cur)) == [f"billing_period=2025-0{m}" for m in (1, 2, 3)]
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{cur.parquet_glob(demo_cur)}')")
    schema = {row[0]: row[1] for row in described.fetchall()}
    assert {k: schema[k] for k in cur.CUR2_COLUMNS} == cur.CUR2_COLUMNS
    assert schema["billing_period"] == "VARCHAR"


def test_duckdb_runs_monthly_cost_by_service_account_and_tag(demo_cur):
    costs = CostQuery(DuckDbLake({"cur": cur.parquet_glob(demo_cur)}))

    by_account = costs.monthly("account", date(2025, 2, 1), date(2025, 2, 28))
    by_team = costs.monthly("tag:user_team", date(2025, 2, 1), date(2025, 2, 28))
    by_service = {r.dimension: r.cost for r in costs.monthly("service", date(2025, 2, 1), date(2025, 2, 28))}
    amortized = {
        r.dimension: r.cost
        for r in costs.monthly("service", date(2025, 2, 1), date(2025, 2, 28), metric="amortized")
    }
    missing_tag = costs.monthly("tag:cost_center", date(2025, 2, 1), date(2025, 2, 28))

    assert {r.billing_period for r in by_account} == {"2025-02"}
    assert [r.dimension for r in by_account] == ["111122223333", "444455556666"]  # most expensive first
    assert {r.dimension for r in by_team} == {"api", "web", "ingest"}
    total = sum(r.cost for r in by_account)
    assert sum(r.cost for r in by_team) == pytest.approx(total)
    assert sum(by_service.values()) == pytest.approx(total) == pytest.approx(sum(amortized.values()))
    # Savings Plans: unblended puts the commitment on the plan and nets EC2 to 0; amortized moves
    # the effective cost back onto EC2 and leaves only the unused commitment on the plan
    assert by_service["AmazonEC2"] == pytest.approx(0)
    assert amortized["AmazonEC2"] > amortized["ComputeSavingsPlans"] > 0
    assert [(r.dimension, r.cost) for r in missing_tag] == [("(untagged)", pytest.approx(total))]


def test_the_window_prunes_billing_periods_and_days(demo_cur):
    costs = CostQuery(DuckDbLake({"cur": cur.parquet_glob(demo_cur)}))
    rows = costs.daily(date(2025, 1, 30), date(2025, 2, 2))
    assert [str(r["day"]) for r in rows] == ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    assert all(300 < float(r["cost"]) < 900 for r in rows)
    months = {r.billing_period for r in costs.monthly("service", date(2025, 1, 15), date(2025, 3, 5))}
    assert months == {"2025-01", "2025-02", "2025-03"}


def test_bad_group_by_and_tag_keys_are_refused_before_any_sql():
    costs = CostQuery(DuckDbLake({}))
    for bad in ("tag:x'; DROP TABLE cur; --", "owner", "tag:"):
        with pytest.raises(ValueError):
            costs.monthly_sql(bad)


def test_the_athena_adapter_answers_the_same_question_from_presets(local: Running):
    boto3.client("s3").create_bucket(Bucket="cur-athena-results")
    col = {"CatalogName": "hive", "SchemaName": "", "TableName": "", "Precision": 0, "Scale": 0,
           "Nullable": "UNKNOWN", "CaseSensitive": False}  # fmt: skip
    preset = {
        "results": [
            {
                "rows": [
                    {"Data": [{"VarCharValue": v} for v in ("billing_period", "dimension", "cost")]},
                    {"Data": [{"VarCharValue": v} for v in ("2025-02", "api", "5611.9")]},
                    {"Data": [{"VarCharValue": v} for v in ("2025-02", "(untagged)", "12")]},
                ],
                "column_info": [
                    {"Name": "billing_period", "Label": "billing_period", "Type": "varchar", **col},
                    {"Name": "dimension", "Label": "dimension", "Type": "varchar", **col},
                    {"Name": "cost", "Label": "cost", "Type": "double", **col},
                ],
            }
        ]
    }  # fmt: skip
    req = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/moto-api/static/athena/query-results",
        data=json.dumps(preset).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(req).status == 201
    athena = AthenaLake("cid_cur", "primary", "s3://cur-athena-results/q/", poll_s=0.0)

    rows = CostQuery(athena, table="cur2").monthly("tag:user_team", date(2025, 2, 1), date(2025, 2, 28))

    assert [(r.billing_period, r.dimension, r.cost) for r in rows] == [
        ("2025-02", "api", 5611.9),
        ("2025-02", "(untagged)", 12.0),
    ]
    client = boto3.client("athena")
    qid = client.list_query_executions()["QueryExecutionIds"][-1]
    execution = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    sql = execution["Query"]
    assert "element_at(resource_tags, 'user_team')" in sql and "FROM cur2" in sql
    assert "billing_period BETWEEN substr(CAST(DATE '2025-02-01' AS VARCHAR), 1, 7)" in sql
    assert execution["QueryExecutionContext"]["Database"] == "cid_cur"
