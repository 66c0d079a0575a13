"""Legacy AWS Cost and Usage Report → the CUR 2.0 layout `CostQuery` reads.

Tenants still on the legacy CUR (before AWS Data Exports) have one of two layouts:

- the CSV export (`.csv` or `.csv.gz`, large months split over several files), with slash-named
  columns: `identity/LineItemId, …, lineItem/UnblendedCost, …, product/…, resourceTags/user:team`;
- the Athena/Parquet integration's snake_case names (`line_item_unblended_cost`,
  `product_product_name`, tags flattened as `resource_tags_user_team`), as Parquet or CSV.

`convert_legacy_cur(sources, out_dir)` reads them with DuckDB and writes CostQuery's CUR 2.0 columns
(`cur.CUR2_COLUMNS`, the same schema as the demo export) as Parquet partitioned
`<out_dir>/billing_period=YYYY-MM/`, so `DuckDbLake({"cur2": cur.parquet_glob(out_dir)})` (or the
Glue table over the same files) answers the same cost questions as for a CUR 2.0 tenant.

Mapping: every legacy name is first put in its Athena form (`lineItem/UsageAccountId` →
`line_item_usage_account_id`: an underscore before each capital, lower case, every other
non-alphanumeric run → `_`), which is the CUR 2.0 name for the top-level columns. Product attributes
become the `product` map (`product/ProductName` → `product['product_name']`), resource tags the
`resource_tags` map with CUR 2.0's keys (`resourceTags/user:Cost Center` and
`resource_tags_user_cost_center` → `resource_tags['user_cost_center']`). `product_region_code` falls
back to `product/region`, the availability zone, then the pricing location name (2018-era exports
have only `product/location`, e.g. "US East (N. Virginia)").

Bad input is refused before anything is written, as `InvalidPayload` with a `code`: a required column
missing (`missing_columns`, the names as the file spells them), a Savings Plan / RI line without the
columns its amortized cost needs (`missing_columns`), a value that is not a number / UTC timestamp
(`invalid_value`), an unreadable file (`malformed_cur`), no line items (`no_line_items`). Rows shorter
than the header (trailing fields missing) are read with those fields NULL.

CLI: `python -m companyos.sources.cur_legacy <legacy file>... <lake dir>` prints the report as JSON.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from companyos.adapters.regions import region_descriptions
from companyos.domain.errors import InvalidPayload, NotFound
from companyos.sources.cur import CUR2_COLUMNS, PARTITION

# CostQuery's top-level CUR 2.0 columns and their names in the legacy CSV (for messages; each one's
# Athena form is the CUR 2.0 name, which a unit test checks). `line_item_usage_account_name` is new
# in CUR 2.0: legacy exports have no such column, so it is written NULL. `product` and
# `resource_tags` are maps built from the flattened `product/*` and `resourceTags/*` columns.
LEGACY_NAMES: dict[str, str] = {
    "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "bill_payer_account_id": "bill/PayerAccountId",
    "identity_line_item_id": "identity/LineItemId",
    "identity_time_interval": "identity/TimeInterval",
    "line_item_line_item_type": "lineItem/LineItemType",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_usage_account_name": "lineItem/UsageAccountName",
    "line_item_product_code": "lineItem/ProductCode",
    "line_item_usage_type": "lineItem/UsageType",
    "line_item_operation": "lineItem/Operation",
    "line_item_resource_id": "lineItem/ResourceId",
    "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate",
    "line_item_usage_amount": "lineItem/UsageAmount",
    "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_currency_code": "lineItem/CurrencyCode",
    "product_servicecode": "product/servicecode",
    "product_region_code": "product/regionCode",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "savings_plan_total_commitment_to_date": "savingsPlan/TotalCommitmentToDate",
    "savings_plan_used_commitment": "savingsPlan/UsedCommitment",
    "reservation_effective_cost": "reservation/EffectiveCost",
    "reservation_unused_amortized_upfront_fee_for_billing_period": (
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"
    ),
    "reservation_unused_recurring_fee": "reservation/UnusedRecurringFee",
}
# Without these a line cannot be put in a billing period, a day, a cost or a group.
REQUIRED = (
    "bill_billing_period_start_date",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_product_code",
    "line_item_usage_account_id",
    "line_item_unblended_cost",
)
NOT_NULL = (  # required and non-empty on every line
    "bill_billing_period_start_date",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_unblended_cost",
)
# The columns CostQuery's amortized cost (`cur._AMORTIZED`) reads for a line type: a file with such
# lines must have them (AWS adds them to the export once the account has Savings Plans / RIs).
AMORTIZED_INPUTS: dict[str, tuple[str, ...]] = {
    "SavingsPlanCoveredUsage": ("savings_plan_savings_plan_effective_cost",),
    "SavingsPlanRecurringFee": ("savings_plan_total_commitment_to_date", "savings_plan_used_commitment"),
    "DiscountedUsage": ("reservation_effective_cost",),
    "RIFee": (
        "reservation_unused_amortized_upfront_fee_for_billing_period",
        "reservation_unused_recurring_fee",
    ),
}
_AMOUNTS = {c for cols in AMORTIZED_INPUTS.values() for c in cols}
_TAGS_PREFIX, _PRODUCT_PREFIX = "resource_tags_", "product_"
# UTC only: CUR writes `Z` (or nothing); an offset would need converting, so it is refused instead.
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+]00(:?00)?)?$"
_REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"


def athena_name(name: str) -> str:
    """A legacy CUR column in its Athena/Parquet form (`savingsPlan/SavingsPlanARN` →
    `savings_plan_savings_plan_a_r_n`); snake_case names map to themselves."""
    spaced = re.sub(r"([A-Z])", r"_\1", name).lower()
    return re.sub(r"[^a-z0-9]+", "_", spaced).strip("_")


@dataclass(frozen=True)
class FileReport:
    path: str
    layout: str  # "legacy-csv" (slash names) | "legacy-athena" (snake_case names)
    rows: int
    absent: tuple[str, ...]  # CUR 2.0 columns this file has no column for (written NULL)
    tag_keys: tuple[str, ...]  # resource_tags keys (CUR 2.0 naming)
    empty_columns: tuple[str, ...]  # source columns without a value on any line (e.g. short rows)


@dataclass(frozen=True)
class PeriodTotals:
    rows: int
    unblended_cost: float


@dataclass(frozen=True)
class ConversionReport:
    out_dir: str
    files: tuple[FileReport, ...]
    periods: dict[str, PeriodTotals]  # billing period -> what was written
    replaced: tuple[str, ...]  # billing periods that already had a partition in out_dir
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", sum(p.rows for p in self.periods.values()))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _location_regions() -> dict[str, str]:
    """Pricing location name → region code, from the SDK's region descriptions ("US East (N.
    Virginia)" → us-east-1); the pricing API still says "EU (Frankfurt)" where botocore says Europe."""
    names: dict[str, str] = {}
    for desc, code in region_descriptions().items():
        names[desc] = code
        if desc.startswith("Europe ("):
            names["EU (" + desc.removeprefix("Europe (")] = code
    return names


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        return next(csv.reader(f), [])


class _Source:
    """One legacy file as a DuckDB view `src_<n>`, its columns grouped by their Athena name."""

    def __init__(self, con: Any, path: Path, n: int) -> None:
        self.path, self.view = path, f"src_{n}"
        name = path.name.lower()
        kind = "csv" if name.endswith((".csv", ".csv.gz")) else "parquet" if name.endswith(".parquet") else ""
        if not kind:
            raise InvalidPayload(
                f"{path.name}: a legacy CUR is .csv, .csv.gz or .parquet",
                code="unsupported_format",
                details={"file": str(path)},
            )
        literal = _literal(str(path))
        reader = (
            f"read_parquet({literal})"
            if kind == "parquet"
            # every field as text (account ids keep their zeros; values are parsed below), rows
            # shorter than the header padded with NULL
            else f"read_csv({literal}, header = true, all_varchar = true, null_padding = true,"
            " delim = ',', quote = '\"', escape = '\"')"
        )
        try:
            con.execute(f"CREATE VIEW {self.view} AS SELECT * FROM {reader}")
            self.columns: list[str] = [r[0] for r in con.execute(f"DESCRIBE {self.view}").fetchall()]
        except Exception as exc:  # DuckDB's IO/parse errors have no common base class worth naming
            raise InvalidPayload(
                f"{path.name}: not a readable {kind.upper()} file: {exc}",
                code="malformed_cur",
                details={"file": str(path)},
            ) from exc
        if kind == "csv" and len(self.columns) > len(header := _csv_header(path)):
            # DuckDB pads short lines, but for a line longer than the header it adds `columnNNN`
            raise InvalidPayload(
                f"{path.name}: line(s) with more fields than the header's {len(header)}",
                code="malformed_cur",
                details={"file": str(path), "header_fields": len(header), "fields": len(self.columns)},
            )
        self.layout = "legacy-csv" if any("/" in c for c in self.columns) else "legacy-athena"
        self.by_name: dict[str, list[str]] = {}
        for col in self.columns:
            self.by_name.setdefault(athena_name(col), []).append(col)

    def spelled(self, cur2: str) -> str:
        """The name of a CUR 2.0 column as this file's layout spells it."""
        return LEGACY_NAMES.get(cur2, cur2) if self.layout == "legacy-csv" else cur2

    def raw(self, cur2: str) -> str | None:
        """The file's value for a column (first non-empty of the columns with that Athena name)."""
        cols = self.by_name.get(cur2)
        if not cols:
            return None
        parts = [_text(_quote(c)) for c in cols]
        return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"

    def map_of(self, prefix: str) -> tuple[list[str], str]:
        """A CUR 2.0 map column from the flattened columns `<prefix><key>`: its keys and expression."""
        keys = sorted(n.removeprefix(prefix) for n in self.by_name if n.startswith(prefix))
        if not keys:
            return [], "MAP {}::MAP(VARCHAR, VARCHAR)"
        entries = ", ".join(f"{{'k': {_literal(k)}, 'v': {self.raw(prefix + k)}}}" for k in keys)
        return keys, f"map_from_entries(list_filter([{entries}], lambda e: e.v IS NOT NULL))"


def _parsed(kind: str, raw: str) -> str:
    if kind == "TIMESTAMP":
        return (
            f"CASE WHEN regexp_full_match({raw}, {_literal(_TIMESTAMP)}) THEN TRY_CAST(regexp_replace("
            f"replace({raw}, 'T', ' '), '(Z|[+]00(:?00)?)$', '') AS TIMESTAMP) END"
        )
    if kind == "DOUBLE":
        return f"TRY_CAST({raw} AS DOUBLE)"
    return raw


def _region(src: _Source, locations: dict[str, str]) -> str:
    options = [src.raw("product_region_code")]
    if region := src.raw("product_region"):
        options.append(f"CASE WHEN regexp_full_match({region}, {_literal(_REGION)}) THEN {region} END")
    if zone := src.raw("line_item_availability_zone"):
        options.append(f"NULLIF(regexp_extract({zone}, '^([a-z]{{2}}(-[a-z]+)+-[0-9]+)[a-z]$', 1), '')")
    if location := src.raw("product_location"):
        cases = " ".join(f"WHEN {_literal(n)} THEN {_literal(c)}" for n, c in sorted(locations.items()))
        options.append(f"CASE {location} {cases} END")
    present = [o for o in options if o]
    return f"COALESCE({', '.join(present)})" if present else "NULL"


def _refuse(src: _Source, message: str, code: str, **details: Any) -> InvalidPayload:
    return InvalidPayload(
        f"{src.path.name}: {message}", code=code, details={"file": str(src.path), **details}
    )


def _check(con: Any, src: _Source) -> tuple[int, tuple[str, ...]]:
    """Refuse the file if CostQuery could not cost it; return its line count and empty columns."""
    missing = [src.spelled(c) for c in REQUIRED if c not in src.by_name]
    if missing:
        raise _refuse(src, f"missing column(s) {', '.join(missing)}", "missing_columns",
                      layout=src.layout, missing=missing)  # fmt: skip
    # one scan: line count, filled columns, line types, unparseable and missing values
    probes: dict[str, str] = {"rows": "count(*)"}
    probes |= {f"filled:{c}": f"count({_text(_quote(c))})" for c in src.columns}
    probes["types"] = f"list(DISTINCT {src.raw('line_item_line_item_type')})"
    typed = [c for c, kind in CUR2_COLUMNS.items() if kind in ("TIMESTAMP", "DOUBLE") and c in src.by_name]
    for c in typed:
        raw = src.raw(c) or "NULL"
        value = _parsed(CUR2_COLUMNS[c], raw)
        probes[f"bad:{c}"] = f"count(*) FILTER ({raw} IS NOT NULL AND {value} IS NULL)"
        probes[f"example:{c}"] = f"min({raw}) FILTER ({value} IS NULL)"
    probes |= {f"empty:{c}": f"count(*) FILTER ({src.raw(c)} IS NULL)" for c in NOT_NULL}
    select = ", ".join(f"{expr} AS {_quote(name)}" for name, expr in probes.items())
    row = con.execute(f"SELECT {select} FROM {src.view}").fetchone()
    got = dict(zip(probes, row, strict=True))
    if not got["rows"]:
        raise _refuse(src, "no line items", "no_line_items")
    for c in typed:
        if bad := got[f"bad:{c}"]:
            kind = "UTC timestamp" if CUR2_COLUMNS[c] == "TIMESTAMP" else "number"
            example = got[f"example:{c}"]
            raise _refuse(
                src,
                f"{bad} value(s) of {src.spelled(c)} are not a {kind} (e.g. {example!r})",
                "invalid_value",
                column=src.spelled(c), rows=bad, example=example,
            )  # fmt: skip
    for c in NOT_NULL:
        if empty_lines := got[f"empty:{c}"]:
            raise _refuse(src, f"{empty_lines} line(s) have no {src.spelled(c)}", "invalid_value",
                          column=src.spelled(c), rows=empty_lines)  # fmt: skip
    commitment_types = sorted(set(got["types"] or ()) & set(AMORTIZED_INPUTS))
    needed = sorted({c for t in commitment_types for c in AMORTIZED_INPUTS[t]} - set(src.by_name))
    if needed:
        names = [src.spelled(c) for c in needed]
        raise _refuse(
            src,
            f"has {', '.join(commitment_types)} lines but not the column(s) their amortized cost needs:"
            f" {', '.join(names)}",
            "missing_columns",
            layout=src.layout, missing=names,
        )  # fmt: skip
    return int(got["rows"]), tuple(c for c in src.columns if not got[f"filled:{c}"])


def _select(src: _Source, locations: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """The file as CostQuery's CUR 2.0 columns + the partition; also its absent columns and tag keys."""
    exprs: list[str] = []
    absent: list[str] = []
    tag_keys: list[str] = []
    for name, kind in CUR2_COLUMNS.items():
        if name == "product":
            expr = src.map_of(_PRODUCT_PREFIX)[1]
        elif name == "resource_tags":
            tag_keys, expr = src.map_of(_TAGS_PREFIX)
        elif name == "product_region_code":
            expr = _region(src, locations)
        elif (raw := src.raw(name)) is None:
            absent.append(name)
            expr = "NULL"
        else:
            expr = _parsed(kind, raw)
            if name in _AMOUNTS:  # blank amortization amounts are 0 on lines they do not apply to
                expr = f"COALESCE({expr}, 0.0)"
        exprs.append(f"CAST({expr} AS {kind}) AS {name}")
    period_start = _parsed("TIMESTAMP", src.raw("bill_billing_period_start_date") or "NULL")
    exprs.append(f"strftime({period_start}, '%Y-%m') AS {PARTITION}")
    return f"SELECT {', '.join(exprs)} FROM {src.view}", absent, tag_keys


def convert_legacy_cur(sources: Path | str | Sequence[Path | str], out_dir: Path | str) -> ConversionReport:
    """Convert legacy CUR files into CUR 2.0-layout Parquet under `out_dir/billing_period=YYYY-MM/`.

    A billing period present in the sources replaces that period's partition in `out_dir` (a month
    is converted whole, from all its files at once; re-running is idempotent); other periods stay.
    """
    import duckdb  # local engine only; not part of the Lambda layer

    paths = [Path(sources)] if isinstance(sources, str | Path) else [Path(s) for s in sources]
    if not paths:
        raise InvalidPayload("no legacy CUR file given", code="no_line_items")
    for path in paths:
        if not path.is_file():
            raise NotFound(f"{path}: no such file", code="source_not_found", details={"file": str(path)})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    locations = _location_regions()
    con = duckdb.connect(":memory:")
    staging = Path(tempfile.mkdtemp(prefix=".cur-legacy-", dir=out))  # outside CostQuery's glob
    try:
        selects, files = [], []
        for n, path in enumerate(paths):
            src = _Source(con, path, n)
            rows, empty = _check(con, src)
            select, absent, tag_keys = _select(src, locations)
            selects.append(select)
            files.append(FileReport(str(path), src.layout, rows, tuple(absent), tuple(tag_keys), empty))
        con.execute(
            f"COPY ({' UNION ALL '.join(selects)}) TO {_literal(str(staging))}"
            f" (FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)"
        )
        written = con.execute(
            f"SELECT {PARTITION}, count(*), sum(line_item_unblended_cost) FROM read_parquet("
            f"{_literal(str(staging / f'{PARTITION}=*' / '*.parquet'))}, hive_partitioning = true)"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        periods = {str(p): PeriodTotals(int(n), float(cost or 0.0)) for p, n, cost in written}
        replaced = []
        for period in periods:  # swap each month in whole: CostQuery never sees half a month
            target = out / f"{PARTITION}={period}"
            if target.exists():
                replaced.append(period)
                shutil.rmtree(target)
            (staging / f"{PARTITION}={period}").rename(target)
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
    return ConversionReport(str(out), tuple(files), periods, tuple(replaced))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m companyos.sources.cur_legacy",
        description="Convert legacy AWS CUR files (CSV, CSV.gz or Athena Parquet) into CUR 2.0-layout"
        " Parquet partitioned billing_period=YYYY-MM/, as CostQuery reads it.",
    )
    parser.add_argument("sources", nargs="+", type=Path, help="legacy CUR file(s), e.g. all parts of a month")
    parser.add_argument("lake_dir", type=Path, help="the CUR 2.0 folder to write (billing_period=YYYY-MM/)")
    args = parser.parse_args(argv)
    try:
        report = convert_legacy_cur(args.sources, args.lake_dir)
    except (InvalidPayload, NotFound) as exc:
        print(json.dumps(exc.to_body(), indent=2), file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
