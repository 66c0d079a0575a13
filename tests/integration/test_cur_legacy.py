"""Tenants on the legacy AWS CUR: both real legacy layouts in ../shared/fixtures/real/aws-cur/ (the
slash-named CSV export and the snake_case Athena columns) are converted into the CUR 2.0 layout, and
CostQuery's own SQL (and the infra_cost_mtd contract's) over the result gives the numbers this test
reads from the raw files with Python's csv module: total, per product code, usage day, account,
region and tag. Also the short-row edge case (each line of the CSV export one field shorter than its
header), gzip, re-conversion, and refusals with a code."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest
from companyos.adapters.lake import DuckDbLake
from companyos.domain.errors import InvalidPayload, NotFound
from companyos.runs import contracts
from companyos.sources import cur
from companyos.sources.cur import CostQuery
from companyos.sources.cur_legacy import convert_legacy_cur, main

from infra.local.demo_cur import DemoAccount, write_demo_cur
from tests.conftest import REAL, ROOT, Running, real_fixture

LEGACY_CSV = "aws-cur/legacy-cur.koku-test_cur.csv"
ATHENA_CSV = "aws-cur/legacy-cur-athena-columns.koku-2022-07-01-alt-columns.csv"
JUNE_2018 = (date(2018, 6, 1), date(2018, 6, 30))
JULY_2022 = (date(2022, 7, 1), date(2022, 7, 31))
# AWS pricing location names -> region codes, written out here independently of the converter
REGIONS = {"US East (N. Virginia)": "us-east-1", "US West (N. California)": "us-west-1",
           "US West (Oregon)": "us-west-2"}  # fmt: skip


def raw_table(relative: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(real_fixture(relative).decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def records(header: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    """Each line by column name; missing trailing fields are empty (as the converter must read them)."""
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(buf.getvalue().encode()))
    else:
        path.write_text(buf.getvalue())
    return path


def sums(lines: list[dict[str, str]], key, cost: str = "lineItem/UnblendedCost") -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for line in lines:
        out[key(line)] += float(line[cost])
    return dict(out)


def cents6(values: dict[str, float]) -> dict[str, float]:
    """What CostQuery.monthly reports for these sums: rounded to 6 decimals (a millionth of a dollar)."""
    return {k: pytest.approx(round(v, 6), abs=1e-12) for k, v in values.items()}


def costs(out_dir: Path) -> CostQuery:
    return CostQuery(DuckDbLake({"cur2": cur.parquet_glob(out_dir)}), table="cur2")


def by_dimension(q: CostQuery, group_by: str, window, metric: cur.Metric = "unblended") -> dict[str, float]:
    return {r.dimension: r.cost for r in q.monthly(group_by, *window, metric=metric)}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> tuple[Path, list[dict[str, str]], list[list[str]], list[str]]:
    """The real legacy CSV export, read as-is from ../shared, converted once."""
    header, rows = raw_table(LEGACY_CSV)
    out = tmp_path_factory.mktemp("lake") / "cur2"

    convert_legacy_cur(REAL / LEGACY_CSV, out)
    return out, records(header, rows), rows, header


def test_the_real_legacy_export_has_short_rows_and_all_of_them_are_converted(legacy):
    out, lines, rows, header = legacy
    assert len(header) == 131 and header[-1] == "costCategory/CostCenter"
    assert len(rows) == 19 and {len(r) for r in rows} == {130}  # the parser edge case itself
    [(written,)] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{cur.parquet_glob(out)}')").fetchall()
    assert written == 19
    assert sorted(os.listdir(out)) == ["billing_period=2018-06"]
    # the fields before the missing one did not shift: the public on-demand cost (field 120 of 130)
    # and the product attributes are each line's own, matched by line item id
    got = {
        r[0]: r[1:]
        for r in duckdb.sql(
            "SELECT identity_line_item_id, pricing_public_on_demand_cost, product['servicecode'],"
            f" product['product_name'], product['location'] FROM read_parquet('{cur.parquet_glob(out)}')"
        ).fetchall()
    }
    for line in lines:
        assert got[line["identity/LineItemId"]] == (
            float(line["pricing/publicOnDemandCost"]),
            line["product/servicecode"],
            line["product/ProductName"],
            line["product/location"],
        )


def test_costquery_over_the_converted_legacy_export_matches_the_raw_csv(legacy):
    out, lines, _, _ = legacy
    q = costs(out)
    total = sum(float(line["lineItem/UnblendedCost"]) for line in lines)
    assert total > 0

    assert by_dimension(q, "service", JUNE_2018) == cents6(
        sums(lines, lambda line: line["lineItem/ProductCode"])
    )
    assert by_dimension(q, "account", JUNE_2018) == cents6(
        sums(lines, lambda line: line["lineItem/UsageAccountId"])
    )
    assert by_dimension(q, "usage_type", JUNE_2018) == cents6(
        sums(lines, lambda line: line["lineItem/UsageType"])
    )
    # 2018 exports have no region code: it comes from the pricing location name
    assert set(sums(lines, lambda line: line["product/location"])) <= set(REGIONS)
    assert by_dimension(q, "region", JUNE_2018) == cents6(
        sums(lines, lambda line: REGIONS[line["product/location"]])
    )
    daily = {str(r["day"]): float(r["cost"]) for r in q.daily(*JUNE_2018)}
    assert daily == pytest.approx(sums(lines, lambda line: line["lineItem/UsageStartDate"][:10]), rel=1e-9)
    # no resourceTags/ columns in this export: every cent is untagged, none lost
    assert by_dimension(q, "tag:user_team", JUNE_2018) == cents6({"(untagged)": total})
    # all plain usage: amortized is unblended
    assert by_dimension(q, "service", JUNE_2018, "amortized") == by_dimension(q, "service", JUNE_2018)
    assert q.daily(date(2018, 7, 1), date(2018, 7, 31)) == []


def test_a_gzipped_month_in_two_parts_with_resource_tags_feeds_the_infra_cost_contract(tmp_path):
    """The real lines, split like a large month (report-1.csv.gz, report-2.csv.gz) and tagged with a
    `resourceTags/user:team` column: the contract's own SQL gives the raw per-team and total cost."""
    header, rows = raw_table(LEGACY_CSV)
    teams = {"US East (N. Virginia)": "api", "US West (Oregon)": "web"}  # N. California: untagged
    lines = records(header, rows)
    tagged = [[*line.values(), teams.get(line["product/location"], "")] for line in lines]
    header = [*header, "resourceTags/user:team"]
    parts = [
        write_csv(tmp_path / "report-1.csv.gz", header, tagged[:10]),
        write_csv(tmp_path / "report-2.csv.gz", header, tagged[10:]),
    ]
    out = tmp_path / "lake"
    report = convert_legacy_cur(parts, out)

    assert [f.rows for f in report.files] == [10, 9] and report.files[0].tag_keys == ("user_team",)
    expected_team = sums(lines, lambda line: teams.get(line["product/location"], "(untagged)"))
    total = sum(expected_team.values())
    assert report.periods["2018-06"].rows == 19
    assert report.periods["2018-06"].unblended_cost == pytest.approx(total, rel=1e-9)

    contract = contracts.get("infra_cost_mtd")
    lake = DuckDbLake({"cur2": cur.parquet_glob(out)})
    by_object = {s.object: s for s in contract.sources}
    daily = lake.query(contract.formula.sql or "", *JUNE_2018)
    assert sum(float(r["cost"]) for r in daily) == pytest.approx(total, rel=1e-9)
    team_rows = lake.query(by_object["cur2.amortized_cost_by_team"].query or "", *JUNE_2018)
    assert {r["dimension"]: float(r["cost"]) for r in team_rows} == pytest.approx(expected_team, rel=1e-9)
    assert {r["billing_period"] for r in team_rows} == {"2018-06"}
    service_rows = lake.query(by_object["cur2.amortized_cost_by_service"].query or "", *JUNE_2018)
    assert {r["dimension"]: float(r["cost"]) for r in service_rows} == pytest.approx({"AmazonEC2": total})


def test_the_real_athena_layout_converts_with_its_flattened_tags(tmp_path):
    header, rows = raw_table(ATHENA_CSV)
    lines = records(header, rows)

    report = convert_legacy_cur(REAL / ATHENA_CSV, tmp_path / "lake")
    (file,) = report.files
    assert file.layout == "legacy-athena" and file.rows == len(lines) == 2
    assert set(file.tag_keys) == {"aws_created_by", "user_c25_key", "user_insights_project"}
    q = costs(tmp_path / "lake")

    def col(name: str):
        return lambda line: line[name]

    cost = "line_item_unblended_cost"
    assert by_dimension(q, "service", JULY_2022) == cents6(sums(lines, col("line_item_product_code"), cost))
    assert by_dimension(q, "account", JULY_2022) == cents6(
        sums(lines, col("line_item_usage_account_id"), cost)
    )
    days = {str(r["day"]): float(r["cost"]) for r in q.daily(*JULY_2022)}
    assert days == cents6(sums(lines, lambda line: line["line_item_usage_start_date"][:10], cost))
    # tags: `resource_tags_aws_created_by` is the CUR 2.0 key `aws_created_by`; empty user tags are absent
    assert by_dimension(q, "tag:aws_created_by", JULY_2022) == pytest.approx(
        sums(lines, col("resource_tags_aws_created_by"), cost)
    )
    assert set(by_dimension(q, "tag:user_insights_project", JULY_2022)) == {"(untagged)"}
    # no product_region_code value in this file: product_region carries the code
    assert {line["product_region_code"] for line in lines} == {""}
    assert by_dimension(q, "region", JULY_2022) == cents6(sums(lines, col("product_region"), cost))
    names = duckdb.sql(
        f"SELECT DISTINCT product['product_name'] FROM read_parquet('{cur.parquet_glob(tmp_path / 'lake')}')"
    ).fetchall()
    assert names == [(lines[0]["product_product_name"],)]


def test_the_athena_layout_as_typed_parquet_converts_to_the_same_lines(tmp_path):
    """The Athena integration delivers Parquet with typed columns (timestamps, doubles): the same real
    lines as Parquet give the same CUR 2.0 rows as the CSV."""
    parquet = tmp_path / "athena.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM read_csv_auto('{REAL / ATHENA_CSV}')) TO '{parquet}' (FORMAT parquet)"
    )
    types = dict(
        row[:2] for row in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{parquet}')").fetchall()
    )
    assert types["line_item_usage_start_date"] == "TIMESTAMP" and types["bill_payer_account_id"] == "BIGINT"
    assert types["line_item_unblended_cost"] in ("BIGINT", "DOUBLE")
    convert_legacy_cur(parquet, tmp_path / "from-parquet")
    convert_legacy_cur(REAL / ATHENA_CSV, tmp_path / "from-csv")

    def rows(folder: Path) -> list[tuple]:
        glob = cur.parquet_glob(folder)
        return duckdb.sql(f"SELECT * FROM read_parquet('{glob}') ORDER BY identity_time_interval").fetchall()

    assert len(rows(tmp_path / "from-csv")) == 2
    assert rows(tmp_path / "from-parquet") == rows(tmp_path / "from-csv")


def test_savings_plan_lines_of_the_athena_layout_are_amortized_like_cur2(tmp_path):
    """The real Athena-layout header with its two lines turned into a covered-usage / negation pair:
    amortized cost is the plan's effective cost, unblended nets to zero — as the raw file says."""
    header, rows = raw_table(ATHENA_CSV)
    lines = records(header, rows)
    lines[0] |= {"line_item_line_item_type": "SavingsPlanCoveredUsage", "line_item_unblended_cost": "0.0116",
                 "savings_plan_savings_plan_effective_cost": "0.0081"}  # fmt: skip
    lines[1] |= {"line_item_line_item_type": "SavingsPlanNegation", "line_item_unblended_cost": "-0.0116"}
    src = write_csv(tmp_path / "sp.csv", header, [list(line.values()) for line in lines])
    convert_legacy_cur(src, tmp_path / "lake")
    q = costs(tmp_path / "lake")

    def amortized(line: dict[str, str]) -> float:
        kind = line["line_item_line_item_type"]
        if kind == "SavingsPlanCoveredUsage":
            return float(line["savings_plan_savings_plan_effective_cost"])
        return 0.0 if kind == "SavingsPlanNegation" else float(line["line_item_unblended_cost"])

    assert by_dimension(q, "service", JULY_2022, "amortized") == {"mra": pytest.approx(0.0081)}
    assert sum(amortized(line) for line in lines) == pytest.approx(0.0081)
    assert by_dimension(q, "service", JULY_2022) == {"mra": pytest.approx(0.0, abs=1e-12)}


def test_reconverting_a_month_replaces_it_and_leaves_other_months(legacy, tmp_path):
    _, lines, _, _ = legacy
    out = tmp_path / "lake"
    write_demo_cur(out, [DemoAccount("111122223333", "prod", ("api",), 100.0)], date(2025, 1, 1), 3)

    first = convert_legacy_cur(REAL / LEGACY_CSV, out)
    again = convert_legacy_cur(REAL / LEGACY_CSV, out)
    assert first.replaced == () and again.replaced == ("2018-06",)
    assert sorted(os.listdir(out)) == ["billing_period=2018-06", "billing_period=2025-01"]  # no staging left
    total = sum(float(line["lineItem/UnblendedCost"]) for line in lines)
    assert by_dimension(costs(out), "service", JUNE_2018) == cents6({"AmazonEC2": total})
    assert by_dimension(costs(out), "service", (date(2025, 1, 1), date(2025, 1, 3)))  # demo month intact


def test_a_file_missing_required_columns_is_refused_with_their_names(tmp_path):
    header, rows = raw_table(LEGACY_CSV)
    drop = {header.index("lineItem/UnblendedCost"), header.index("lineItem/UsageStartDate")}
    src = write_csv(
        tmp_path / "cut.csv",
        [h for i, h in enumerate(header) if i not in drop],
        [[v for i, v in enumerate(r) if i not in drop] for r in rows],
    )
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(src, tmp_path / "lake")
    assert err.value.code == "missing_columns" and err.value.status == 422
    assert err.value.details["missing"] == ["lineItem/UsageStartDate", "lineItem/UnblendedCost"]
    assert err.value.details["layout"] == "legacy-csv"
    assert not list((tmp_path / "lake").glob("billing_period=*"))

    a_header, a_rows = raw_table(ATHENA_CSV)  # the snake_case layout names its own columns
    cut = a_header.index("line_item_line_item_type")
    src = write_csv(tmp_path / "cut-athena.csv", a_header[:cut] + a_header[cut + 1 :],
                    [r[:cut] + r[cut + 1 :] for r in a_rows])  # fmt: skip
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(src, tmp_path / "lake")
    assert err.value.details["missing"] == ["line_item_line_item_type"]


def test_savings_plan_lines_without_their_columns_and_bad_values_are_refused(tmp_path):
    header, rows = raw_table(LEGACY_CSV)
    lines = records(header, rows)
    lines[3]["lineItem/LineItemType"] = "SavingsPlanCoveredUsage"  # the 2018 export has no savingsPlan/
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(
            write_csv(tmp_path / "sp.csv", header, [list(x.values()) for x in lines]), tmp_path
        )
    assert err.value.code == "missing_columns"
    assert err.value.details["missing"] == ["savingsPlan/SavingsPlanEffectiveCost"]

    for column, bad in (
        ("lineItem/UnblendedCost", "1,05"),
        ("lineItem/UsageStartDate", "2018-06-01T00:00:00+02:00"),
    ):
        lines = records(header, rows)
        lines[5][column] = bad
        src = write_csv(tmp_path / "bad.csv", header, [list(x.values()) for x in lines])
        with pytest.raises(InvalidPayload) as err:
            convert_legacy_cur(src, tmp_path / "lake")
        assert err.value.code == "invalid_value"
        assert err.value.details == {"file": str(src), "column": column, "rows": 1, "example": bad}
    lines = records(header, rows)
    lines[0]["bill/BillingPeriodStartDate"] = ""
    src = write_csv(tmp_path / "bad.csv", header, [list(x.values()) for x in lines])
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(src, tmp_path / "lake")
    assert err.value.code == "invalid_value" and err.value.details["column"] == "bill/BillingPeriodStartDate"
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(write_csv(tmp_path / "empty.csv", header, []), tmp_path / "lake")
    assert err.value.code == "no_line_items"
    long_row = [*rows[:2], [*rows[2], "", "surplus"]]  # more fields than the header: not a CUR line
    with pytest.raises(InvalidPayload) as err:
        convert_legacy_cur(write_csv(tmp_path / "long.csv", header, long_row), tmp_path / "lake")
    assert err.value.code == "malformed_cur"
    with pytest.raises(NotFound) as missing:
        convert_legacy_cur(tmp_path / "nope.csv", tmp_path / "lake")
    assert missing.value.code == "source_not_found"
    assert not list((tmp_path / "lake").glob("billing_period=*"))


def test_the_cli_converts_and_reports_or_exits_2_with_the_error_code(legacy, tmp_path, capsys):

    _, lines, _, _ = legacy
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "core" / "python")}
    command = [
        sys.executable,
        "-m",
        "companyos.sources.cur_legacy",
        str(REAL / LEGACY_CSV),
        str(tmp_path / "lake"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == 19 and report["files"][0]["layout"] == "legacy-csv"
    assert "costCategory/CostCenter" in report["files"][0]["empty_columns"]
    total = sum(float(line["lineItem/UnblendedCost"]) for line in lines)
    assert report["periods"]["2018-06"]["unblended_cost"] == pytest.approx(total, rel=1e-9)

    assert main([str(tmp_path / "x.txt"), str(tmp_path / "lake")]) == 2
    assert json.loads(capsys.readouterr().err)["code"] == "source_not_found"
    (tmp_path / "x.txt").write_text("identity/LineItemId\n1\n")
    assert main([str(tmp_path / "x.txt"), str(tmp_path / "lake")]) == 2
    assert json.loads(capsys.readouterr().err)["code"] == "unsupported_format"


def test_a_legacy_tenant_gets_infra_cost_mtd_from_the_kpi_run_pipeline(local: Running, tmp_path):
    """The real 2018 export, converted, registered as the tenant's lake `cur_<tenant>`: the kpi_run
    state machine delivers June 2018 to date as the raw file's total, with the service breakdown."""
    import boto3
    from companyos.adapters import lake

    from tests.integration.conftest import make_tenant
    from tests.integration.test_pipeline_runs import attempts

    header, rows = raw_table(LEGACY_CSV)
    lines = records(header, rows)
    total = sum(float(line["lineItem/UnblendedCost"]) for line in lines)
    out = tmp_path / "lake"
    convert_legacy_cur(REAL / LEGACY_CSV, out)
    make_tenant(local, "legacyco", "Legacy Co")
    lake.register("cur_legacyco", DuckDbLake({"cur2": cur.parquet_glob(out)}))
    arn = boto3.client("stepfunctions").start_execution(
        stateMachineArn=local.stack.state_machines["kpi_run"],
        name="legacy-cur-2018-06",
        input=json.dumps(
            {
                "pairs": [{"tenant_id": "legacyco", "kpi_id": "infra_cost_mtd"}],
                "trigger": {"type": "manual", "by": "test", "as_of": "2018-06-30T12:00:00+00:00"},
            }
        ),
    )["executionArn"]
    assert local.stack.wait_for_execution(arn, timeout_s=120)["status"] == "SUCCEEDED"

    (attempt,) = attempts("legacyco", "infra_cost_mtd")
    delivery = attempt["delivery"][0]
    value = delivery["values"]["28d"]
    assert value["time_range"] == "2018-06-01/2018-06-30"
    assert value["value"] == pytest.approx(total, rel=1e-9)
    assert value["previous"] is None  # nothing converted for May 2018: unknown, not zero
    by = {b["object"]: b for b in delivery["breakdowns"]}
    services = {i["dimension"]: i["value"] for i in by["cur2.amortized_cost_by_service"]["items"]}
    assert services == cents6(sums(lines, lambda line: line["lineItem/ProductCode"]))
    assert by["cur2.amortized_cost_by_service"]["billing_periods"] == ["2018-06"]
    # a monthly-granularity export: every line starts June 1, so the run is delivered but flagged stale
    assert {r["rule_id"]: r["result"] for r in attempt["pre_validation"]}["cur_fresh"] == "fail"
    assert attempt["end"][0]["status"] == "partial"
