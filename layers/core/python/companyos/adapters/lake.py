"""SQL over the lake for user KPIs: one query interface, two engines.

A user KPI's contract carries SQL in the shared subset of DuckDB and Athena (Trino): it reads lake
tables by name and filters on `{start}` / `{end}`, which become `DATE 'yyyy-mm-dd'` literals (the
only substitution; the dates are validated, never user text). It returns one row per day: a `day`
column plus numeric columns.

- `DuckDbLake`: locally (infra/local, tests) over Parquet files, each table a `read_parquet` view.
  Presto functions DuckDB spells differently get a macro shim (`element_at(map, key)`: the value
  or NULL, as in Athena; DuckDB's own returns a list).
- `AthenaLake`: in AWS, through the Athena API (StartQueryExecution → GetQueryExecution →
  GetQueryResults). It is plain boto3 on purpose: the KPI run function must stay small, so no
  pandas/awswrangler layer here (the CUR cost function may use awswrangler for its big reads).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from companyos.domain.errors import NotFound, TransientError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LakeQuery(Protocol):
    engine: str

    def query(self, sql: str, start: date, end: date) -> list[dict[str, Any]]: ...


def render(sql: str, start: date, end: date) -> str:
    """Substitute the window bounds as DATE literals (the one placeholder syntax of both engines)."""
    return sql.replace("{start}", f"DATE '{start.isoformat()}'").replace("{end}", f"DATE '{end.isoformat()}'")


def sql_hash(sql: str) -> str:
    """Hash of the normalised SQL text (whitespace-insensitive), logged with every run's sourcing."""
    return hashlib.sha256(" ".join(sql.split()).encode()).hexdigest()[:16]


# Presto/Trino semantics for the functions of the shared subset DuckDB names differently.
_SHIMS = "CREATE TEMP MACRO element_at(m, k) AS map_extract_value(m, k)"


class DuckDbLake:
    engine = "duckdb"

    def __init__(self, tables: Mapping[str, str]) -> None:
        for name in tables:
            if not _IDENT.match(name):
                raise ValueError(f"bad lake table name '{name}'")
        self.tables = dict(tables)  # table name -> Parquet path or glob

    def query(self, sql: str, start: date, end: date) -> list[dict[str, Any]]:
        import duckdb  # local engine only; not part of the Lambda layer

        con = duckdb.connect(":memory:")
        try:
            con.execute(_SHIMS)
            for name, path in self.tables.items():
                literal = path.replace("'", "''")  # configured paths, not user input; views take no params
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{literal}')")
            cur = con.execute(render(sql, start, end))
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()


_NUMERIC = {"tinyint", "smallint", "integer", "int", "bigint", "double", "float", "real", "decimal"}


def _cast(value: str | None, athena_type: str) -> Any:
    if value is None:
        return None
    if athena_type.lower().split("(")[0] in _NUMERIC:
        return float(value)
    return value


class AthenaLake:
    engine = "athena"

    def __init__(
        self,
        database: str,
        workgroup: str,
        output_location: str | None = None,
        *,
        client: Any = None,
        poll_s: float = 0.5,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.database, self.workgroup, self.output_location = database, workgroup, output_location
        self.poll_s, self.timeout_s, self._sleep = poll_s, timeout_s, sleep
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from companyos.adapters.aws import aws  # boto3 only when Athena is the engine

            self._client = aws().athena
        return self._client

    def query(self, sql: str, start: date, end: date) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "QueryString": render(sql, start, end),
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
        }
        if self.output_location:
            kwargs["ResultConfiguration"] = {"OutputLocation": self.output_location}
        qid = self.client.start_query_execution(**kwargs)["QueryExecutionId"]
        self._wait(qid)
        return self._results(qid)

    def _wait(self, qid: str) -> None:
        waited = 0.0
        while True:
            status = self.client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                raise RuntimeError(f"Athena query {qid} {state}: {status.get('StateChangeReason', '')}")
            if waited >= self.timeout_s:
                raise TransientError(f"Athena query {qid} still {state} after {self.timeout_s}s")
            self._sleep(self.poll_s)
            waited += self.poll_s

    def _results(self, qid: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        header: list[str] | None = None
        types: list[str] = []
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            meta = page["ResultSet"].get("ResultSetMetadata", {}).get("ColumnInfo", [])
            types = types or [c.get("Type", "varchar") for c in meta]
            for raw in page["ResultSet"]["Rows"]:
                values = [d.get("VarCharValue") for d in raw["Data"]]
                if header is None:  # Athena returns the column names as the first row
                    header = [str(v) for v in values]
                    continue
                kinds = types or ["varchar"] * len(values)
                rows.append({h: _cast(v, t) for h, v, t in zip(header, values, kinds, strict=False)})
        return rows


LAKES: dict[str, LakeQuery] = {}


def register(name: str, lake: LakeQuery) -> None:
    LAKES[name] = lake


def resolve_name(template: str, tenant_id: str) -> str:
    """A contract's lake name for one tenant: `{tenant}` becomes the tenant id (e.g. `cur_{tenant}`)."""
    return template.replace("{tenant}", tenant_id)


def get(name: str) -> LakeQuery:
    try:
        return LAKES[name]
    except KeyError as exc:
        raise NotFound(
            f"lake '{name}' is not configured in this environment", code="lake_not_configured"
        ) from exc


class LakeSettings(BaseModel):
    """Where user KPIs' SQL runs (validated at cold start; `none`: no lake in this environment)."""

    engine: Literal["none", "duckdb", "athena"] = "none"
    duckdb_tables: dict[str, str] = Field(default_factory=dict)  # table -> Parquet path/glob
    athena_database: str = ""
    athena_workgroup: str = "primary"
    athena_output: str | None = None
    # Tenants whose costs are this environment's CUR 2.0 export (the Athena database's `cur2`
    # table): each gets the lake `cur_<tenant>` the cost contracts read.
    cur_tenants: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LakeSettings:
        return cls.model_validate(
            {
                "engine": env.get("LAKE_ENGINE", "none"),
                "duckdb_tables": json.loads(env.get("LAKE_DUCKDB_TABLES", "{}")),
                "athena_database": env.get("LAKE_ATHENA_DATABASE", ""),
                "athena_workgroup": env.get("LAKE_ATHENA_WORKGROUP", "primary"),
                "athena_output": env.get("LAKE_ATHENA_OUTPUT") or None,
                "cur_tenants": tuple(
                    t.strip() for t in env.get("LAKE_CUR_TENANTS", "").split(",") if t.strip()
                ),
            }
        )


def configure(settings: LakeSettings, name: str = "default") -> None:
    """Register the environment's lake under `name`, unless one is registered already (tests)."""
    if settings.engine == "none":
        return
    if settings.engine == "duckdb":
        made: LakeQuery = DuckDbLake(settings.duckdb_tables)
    else:
        made = AthenaLake(settings.athena_database, settings.athena_workgroup, settings.athena_output)
    for lake_name in (name, *(f"cur_{t}" for t in settings.cur_tenants)):
        if lake_name not in LAKES:
            register(lake_name, made)
