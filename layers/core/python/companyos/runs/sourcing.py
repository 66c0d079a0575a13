"""The source step: read a contract's inputs (signals, findings, lake queries, other KPIs) once and
fold them into the per-day buckets the later steps read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from companyos.adapters import lake
from companyos.adapters.repos import RunLog, SignalStore
from companyos.domain.errors import NotFound
from companyos.runs import contracts, formulas
from companyos.runs import rows as rows_registry
from companyos.runs.contracts import PERIODS, Contract, SourceRef
from companyos.runs.formula_base import same_day_last_month
from companyos.runs.formulas import SignalRow
from companyos.runs.run_state import State, contract_of, log_of, sourcing_sk

LAKE_SOURCE = "lake"  # the `source` of lake rows a built-in formula reads (evidence: lake.<kind>)
MAX_BREAKDOWN_ITEMS = 15  # groups kept per breakdown (the rest is summed as "(other)": small payloads)


def current_window(contract: Contract, end: date) -> tuple[date, date]:
    """The contract's current window ending at `end`: the month to date, else the last 28 days."""
    if contract.window == "month_to_date":
        return end.replace(day=1), end
    return end - timedelta(days=PERIODS["28d"] - 1), end


def _since(contract: Contract, as_of: datetime) -> datetime:
    """How far back the source step reads: the previous month's start for month-to-date contracts
    (current + previous month to date), else the contract's history_days, else current + previous
    window of the longest period."""
    if contract.window == "month_to_date":
        first = same_day_last_month(as_of.date()).replace(day=1)
        return datetime.combine(first, datetime.min.time(), UTC)
    return as_of - timedelta(days=contract.history_days or contracts.MAX_WINDOW_DAYS)


def breakdown(rows: list[dict[str, Any]], column: str) -> dict[str, Any]:
    """Rows of a breakdown query (`dimension`, the value `column`, optional `billing_period`) →
    the biggest groups first, the rest summed as "(other)"."""
    per: dict[str, float] = {}
    periods: set[str] = set()
    for r in rows:
        val = r.get(column)
        if isinstance(val, int | float | Decimal) and not isinstance(val, bool):
            key = str(r.get("dimension") if r.get("dimension") is not None else "(none)")
            per[key] = per.get(key, 0.0) + float(val)
        if r.get("billing_period"):
            periods.add(str(r["billing_period"]))
    ranked = sorted(per.items(), key=lambda kv: kv[1], reverse=True)
    kept, rest = ranked[:MAX_BREAKDOWN_ITEMS], ranked[MAX_BREAKDOWN_ITEMS:]
    if rest:
        kept.append(("(other)", sum(v for _, v in rest)))
    return {
        "total": round(sum(per.values()), 6),
        "billing_periods": sorted(periods),
        "items": [{"dimension": k, "value": round(v, 6)} for k, v in kept],
    }


@dataclass
class _Reading:
    """One source step's reads: where it reads (tenant, contract, [since, as_of], lake) and what it
    read so far, source by source."""

    tenant_id: str
    contract: Contract
    since: datetime
    as_of: datetime
    lake_name: str
    signals: dict[str, list[SignalRow]] = field(default_factory=dict)
    lake_rows: list[dict[str, Any]] = field(default_factory=list)
    breakdowns: list[dict[str, Any]] = field(default_factory=list)
    other_kpis: dict[str, Any] = field(default_factory=dict)
    latest: str | None = None

    def fresher(self, newest: str | None) -> None:
        self.latest = max(filter(None, (self.latest, newest)), default=None)


def _read_rows(reading: _Reading, ref: SourceRef, got: list[SignalRow]) -> dict[str, Any]:
    """Signal or finding rows of a kind: kept for the formula, their count and newest time."""
    reading.signals.setdefault(ref.kind, []).extend(got)
    newest = max((s.occurred_at.isoformat() for s in got), default=None)
    if ref.role != "rows":  # a `rows` source feeds the delivered rows only: not fresher values
        reading.fresher(newest)
    return {"count": len(got), "latest_at": newest, **({"role": "rows"} if ref.role == "rows" else {})}


def _read_breakdown(reading: _Reading, ref: SourceRef) -> dict[str, Any]:
    sql = ref.query or ""
    start, end = current_window(reading.contract, reading.as_of.date())
    got_rows = lake.get(reading.lake_name).query(sql, start, end)
    part = breakdown(got_rows, reading.contract.formula.column)
    window = {
        "object": ref.object,
        "range": [start.isoformat(), end.isoformat()],
        "sql_hash": lake.sql_hash(sql),
    }
    reading.breakdowns.append(window | part)
    return {"count": len(got_rows), "latest_at": None, "sql_hash": lake.sql_hash(sql), "role": "breakdown"}


def _read_lake(reading: _Reading, ref: SourceRef) -> dict[str, Any]:
    """A SQL formula's daily rows; for a built-in formula (the source's own `query`), its rows reach
    the formula and the rows builder as rows of the source's kind (`day` is their time)."""
    sql = ref.query or reading.contract.formula.sql or ""
    got = lake.get(reading.lake_name).query(sql, reading.since.date(), reading.as_of.date())
    if reading.contract.formula.builtin is None:
        reading.lake_rows = got
    else:  # the builtin folds them with its signals (e.g. CUR cost beside product telemetry)
        reading.signals.setdefault(ref.kind, []).extend(lake_signal_rows(ref.kind, got))
    days = [str(r.get("day"))[:10] for r in got if r.get("day") is not None]
    newest = max(days, default=None)
    reading.fresher(f"{newest}T23:59:59+00:00" if newest else None)
    return {"count": len(got), "latest_at": newest, "sql_hash": lake.sql_hash(sql)}


def lake_signal_rows(kind: str, rows: list[dict[str, Any]]) -> list[SignalRow]:
    """A lake query's daily rows (a `day` column) as rows of `kind` for a builtin formula that reads
    the lake beside signals: one row per query row, at the day's midnight, numbers as floats."""
    out = []
    for i, r in enumerate(rows):
        day = r.get("day")
        if day is None:
            continue
        at = datetime.combine(date.fromisoformat(str(day)[:10]), datetime.min.time(), UTC)
        attrs = {k: float(v) if isinstance(v, Decimal) else v for k, v in r.items() if k != "day"}
        out.append(SignalRow(kind, f"lake-{i}", at, attrs, source=LAKE_SOURCE))
    return out


def _read_kpi(reading: _Reading, ref: SourceRef) -> dict[str, Any]:
    other = latest_delivered(reading.tenant_id, ref.kind)
    reading.other_kpis[ref.kind] = other
    return {
        "count": 1 if other else 0,
        "source_version": (other or {}).get("contract_version"),
        "latest_at": (other or {}).get("as_of"),
        "source_run_id": (other or {}).get("run_id"),
    }


def _read(reading: _Reading, ref: SourceRef) -> dict[str, Any]:
    """Read one source of the contract; its sourcing row."""
    row: dict[str, Any] = {
        "source_type": ref.source_type,
        "source_object": ref.object,
        "source_version": None,
        "attributes": ref.kind,
        "sql_hash": None,
    }
    if ref.source_type == "signal":
        got = _signal_rows(reading.tenant_id, ref.kind, reading.since, reading.as_of)
        return row | _read_rows(reading, ref, got)
    if ref.source_type == "finding":
        return row | _read_rows(reading, ref, finding_rows(reading.tenant_id, ref.kind))
    if ref.source_type == "lake" and ref.role == "breakdown":
        return row | _read_breakdown(reading, ref)
    if ref.source_type == "lake":
        return row | _read_lake(reading, ref)
    if ref.source_type == "kpi":
        return row | _read_kpi(reading, ref)
    raise NotFound(
        f"no {ref.source_type} connector is configured for '{ref.kind}'", code="source_connector_unavailable"
    )


def source(state: State) -> State:
    contract = contract_of(state)
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    lake_name = lake.resolve_name(contract.formula.lake, state["tenant_id"])
    reading = _Reading(state["tenant_id"], contract, _since(contract, as_of), as_of, lake_name)
    sourcing = [_read(reading, ref) for ref in contract.sources]
    signals, lake_rows = reading.signals, reading.lake_rows
    daily, rows = _fold(contract, signals, lake_rows)
    log = log_of(state)
    run_id = state["run"]["run_id"]
    for row in sourcing:
        row["run_id"] = run_id
        log.append(run_id, sourcing_sk(row), "sourcing", row)
    read = sum(len(v) for v in signals.values()) + len(lake_rows) + len(reading.other_kpis)
    inputs = {"daily": daily, "rows": rows, "read": read, "latest_at": reading.latest, "sourcing": sourcing}
    if reading.breakdowns:
        inputs["breakdowns"] = reading.breakdowns
    panels = _panel_rows(contract, signals, state["tenant_id"], as_of)
    if panels:
        # the rows go to the run log, not the state machine payload; the delivery names them
        log.append(run_id, "ROWS", "rows", {"run_id": run_id, "kpi_id": contract.kpi_id, "periods": panels})
        inputs["panels"] = sorted({key for by_key in panels.values() for key in by_key})
    return {**state, "inputs": inputs, "kpis": reading.other_kpis}


def _signal_rows(tenant_id: str, kind: str, since: datetime, as_of: datetime) -> list[SignalRow]:
    return [
        SignalRow(
            s.kind, s.signal_id, s.occurred_at, s.attributes, s.entity, s.service, s.source, s.delivery_id
        )
        for s in SignalStore(tenant_id).query(kind, since, as_of)
    ]


def _panel_rows(
    contract: Contract, signals: dict[str, list[SignalRow]], tenant_id: str, as_of: datetime
) -> dict[str, dict[str, Any]]:
    """The breakdown rows the contract's formula delivers with its value (runs/rows.py), per period,
    from the very signals this run read."""
    build = rows_registry.builder(contract.formula.builtin)
    if build is None:
        return {}
    ctx = rows_registry.RowsContext(tenant_id, as_of, contract.params)
    return {period: build(signals, ctx, days) for period, days in PERIODS.items()}


def finding_rows(tenant_id: str, kind: str) -> list[SignalRow]:
    """Current finding states (first seen, open/fixed) of one kind, as rows for the formulas."""
    store = SignalStore(tenant_id)
    findings = getattr(store, "findings", None)  # provided by the ingestion of scanner reports
    if findings is None:
        return []
    return [
        SignalRow(
            kind,
            f.key,
            f.changed_at,
            {
                **f.attributes,
                "vuln_id": f.key,
                "status": f.status,
                "first_seen": f.first_seen.isoformat(),
                "fixed_at": f.fixed_at.isoformat() if f.fixed_at else None,
                "scanner": f.scanner,
            },
            f.scope,
            f.service,
            f.scanner,
        )
        for f in findings(kind=kind)
    ]


def _fold(
    contract: Contract, signals: dict[str, list[SignalRow]], lake_rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], int]:
    if contract.formula.sql is not None:
        return formulas.accumulate(formulas.fold_rows(lake_rows))
    builtin = formulas.BUILTINS.get(contract.formula.builtin or "")
    if builtin is None:
        raise NotFound(
            f"formula '{contract.formula.builtin}' is not registered", code="formula_not_registered"
        )
    return formulas.accumulate(builtin.fold(signals, contract.params))


def latest_delivered(tenant_id: str, kpi_id: str) -> dict[str, Any] | None:
    """The newest delivered values of a KPI: {run_id, contract_version, as_of, values{period: v}}."""
    log = RunLog(tenant_id)
    for run in log.recent_runs(kpi_id, limit=10):
        delivery = log.row(run["run_id"], "DELIVERY")
        if delivery is not None:
            return {
                "run_id": run["run_id"],
                "contract_version": run.get("contract_version"),
                "as_of": delivery.get("as_of"),
                "values": {p: v.get("value") for p, v in delivery.get("values", {}).items()},
            }
    return None
