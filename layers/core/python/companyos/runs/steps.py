"""The steps of the kpi_run state machine.

Each step takes the run state (a JSON dict) and returns it updated, writing its own append-only
run-log rows. `dispatch` is the one entry point (the Lambda handler calls it):

- An *attempt* is one row of kpi_log_run: it has a RUN header and exactly one END row whose status
  is success / failed / partial / skipped. When the state machine retries a step (Retry on
  TransientError), the failed attempt is ended `failed` by the step that raised, and the retry is a
  new attempt (`retry_seq` + 1, run id `<base>-r<n>`, lineage_ref → the previous attempt) that
  carries the sourcing and validation rows it reuses.
- Every END also writes one row of the per-tenant run index (pk `<tenant>#RUNS`), the
  pre-joined overview the monitoring views read with one Query.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from companyos.adapters import lake
from companyos.adapters.repos import RunLog, SignalStore
from companyos.domain import clock, kpis
from companyos.domain import verdict as verdict_model
from companyos.domain.errors import DomainError, NotFound, TransientError
from companyos.runs import contracts, formulas
from companyos.runs import rows as rows_registry
from companyos.runs.contracts import PERIODS, Contract, Rule
from companyos.runs.formulas import SignalRow

State = dict[str, Any]
TERMINAL = ("success", "failed", "partial", "skipped")
MAX_ATTEMPTS_PROBED = 12  # record_failure looks this far for retried attempts
MAX_BREAKDOWN_ITEMS = 15  # groups kept per breakdown (the rest is summed as "(other)": small payloads)

__all__ = ["TERMINAL", "State", "TransientError", "correct_run", "dispatch"]


def _now() -> datetime:
    return clock.now()


def _base_run_id(state: State) -> str:
    """Deterministic per (execution, tenant, KPI): a retried or failed step finds the same run."""
    seed = f"{state['execution_id']}|{state['tenant_id']}|{state['kpi_id']}"
    started = str(state.get("execution_started_at") or "")
    stamp = re.sub(r"[^0-9T]", "", started)[:15] or "run"
    return f"{stamp}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def attempt_id(base: str, seq: int) -> str:
    return base if seq == 0 else f"{base}-r{seq}"


def _as_of(state: State) -> datetime:
    raw = (state.get("trigger") or {}).get("as_of")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else _now()


def _contract(state: State) -> Contract:
    return Contract.from_state(state["contract"])


def _log(state: State) -> RunLog:
    return RunLog(state["tenant_id"])


# ------------------------------------------------------------------------ attempts


def _header(state: State, contract: Contract | None, seq: int, previous: str | None) -> dict[str, Any]:
    trigger = state.get("trigger") or {}
    started = _now()
    base = _base_run_id(state)
    run_id = attempt_id(base, seq)
    return {
        "run_id": run_id,
        "base_run_id": base,
        "tenant_id": state["tenant_id"],
        "environment": state.get("environment"),
        "region": state.get("region"),
        "kpi_id": state["kpi_id"],
        "contract_version": contract.version if contract else "unknown",
        "contract_owner": state.get("contract_owner", "builtin"),
        "variant_label": contract.variant_label if contract else None,
        "trigger_type": trigger.get("type", "manual"),
        "triggered_by": trigger.get("by", ""),
        "schedule_cron": contract.schedule_cron if contract else None,
        "started_at": started.isoformat(),
        "as_of": _as_of(state).isoformat(),
        "retry_seq": seq,
        "lineage_ref": f"retry-of:{previous}" if previous else f"execution:{state.get('execution_id', '')}",
        "execution_id": state.get("execution_id"),
    }


def _write_header(state: State, header: dict[str, Any], gsi_started_at: str | None = None) -> None:
    _log(state).append(
        header["run_id"],
        "RUN",
        "run",
        header,
        kpi_id=state["kpi_id"],
        started_at=gsi_started_at or header["started_at"],
    )


def begin(state: State, environment: str, retry_count: int = 0) -> State:
    """Resolve the contract and write the attempt's RUN header (retry_seq = the step's retry count)."""
    contract, active = contracts.resolve(state["tenant_id"], state["kpi_id"])
    owner = "tenant" if active and contract.tenant_id else ("platform" if active else "builtin")
    state = {**state, "environment": environment, "contract": contract.to_state(), "contract_owner": owner}
    base = _base_run_id(state)
    previous = attempt_id(base, retry_count - 1) if retry_count else None
    if previous:
        _end_if_open(state, previous)
    header = _header(state, contract, retry_count, previous)
    _write_header(state, header)
    return {**state, "run": header}


def _new_attempt(state: State, retry_count: int) -> State:
    """The state machine retried a step: end the previous attempt if it was left open, start the next
    one, and carry the rows it reuses (sourcing, pre-validation) so each attempt's log is whole."""
    run = state["run"]
    seq = int(run["retry_seq"]) + retry_count
    previous = attempt_id(run["base_run_id"], seq - 1)
    _end_if_open(state, previous)
    header = _header(state, _contract(state), seq, previous)
    _write_header(state, header)
    log = _log(state)
    for row in state.get("inputs", {}).get("sourcing", []):
        log.append(header["run_id"], _sourcing_sk(row), "sourcing", {**row, "run_id": header["run_id"]})
    for phase, record in (("pre", "pre_validation"),):
        for row in (state.get(phase) or {}).get("results", []):
            data = {**row, "run_id": header["run_id"], "carried_from": previous}
            log.append(header["run_id"], f"PRE#{row['rule_id']}", record, data)
    return {**state, "run": header}


def _end_if_open(state: State, run_id: str) -> None:
    """An attempt left without an END (its Lambda crashed or timed out) is ended `failed` now."""
    log = _log(state)
    header = log.row(run_id, "RUN")
    if header is not None and log.row(run_id, "END") is None:
        _finish({**state, "run": header}, "failed", "ATTEMPT_LOST", "the attempt ended without a result")


def dispatch(step: str, state: State, *, environment: str, retry_count: int = 0) -> State:
    """Run one step of one attempt; an exception ends the attempt `failed` before it propagates."""
    if step == "record_failure":
        return record_failure(state)
    if step == "source":
        state = begin(state, environment, retry_count)
    elif retry_count and "run" in state:
        state = _new_attempt(state, retry_count)
    try:
        return STEPS[step](state)
    except Exception as exc:
        code = exc.code if isinstance(exc, DomainError) else type(exc).__name__
        _finish(state, "failed", code, str(exc)[:1000])
        raise


# ------------------------------------------------------------------------ source


def _sourcing_sk(row: dict[str, Any]) -> str:
    return f"SOURCING#{row['source_type']}#{row['source_object']}"


def _same_day_last_month(day: date) -> date:
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


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
        first = _same_day_last_month(as_of.date()).replace(day=1)
        return datetime.combine(first, datetime.min.time(), UTC)
    return as_of - timedelta(days=contract.history_days or contracts.MAX_WINDOW_DAYS)


def _breakdown(rows: list[dict[str, Any]], column: str) -> dict[str, Any]:
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


def source(state: State) -> State:
    contract = _contract(state)
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    since = _since(contract, as_of)
    signals: dict[str, list[SignalRow]] = {}
    sourcing: list[dict[str, Any]] = []
    lake_rows: list[dict[str, Any]] = []
    breakdowns: list[dict[str, Any]] = []
    lake_name = lake.resolve_name(contract.formula.lake, state["tenant_id"])
    other_kpis: dict[str, Any] = {}
    latest: str | None = None
    for ref in contract.sources:
        row: dict[str, Any] = {
            "source_type": ref.source_type,
            "source_object": ref.object,
            "source_version": None,
            "attributes": ref.kind,
            "sql_hash": None,
        }
        if ref.source_type == "signal":
            got = _signal_rows(state["tenant_id"], ref.kind, since, as_of)
            signals.setdefault(ref.kind, []).extend(got)
            newest = max((s.occurred_at.isoformat() for s in got), default=None)
            # a `rows` source feeds the delivered rows only: it does not make the value fresher
            latest = latest if ref.role == "rows" else max(filter(None, (latest, newest)), default=None)
            row.update(count=len(got), latest_at=newest, **({"role": "rows"} if ref.role == "rows" else {}))
        elif ref.source_type == "finding":
            got = _finding_rows(state["tenant_id"], ref.kind)
            signals.setdefault(ref.kind, []).extend(got)
            newest = max((s.occurred_at.isoformat() for s in got), default=None)
            latest = max(filter(None, (latest, newest)), default=None)
            row.update(count=len(got), latest_at=newest)
        elif ref.source_type == "lake" and ref.role == "breakdown":
            sql = ref.query or ""
            start, end = current_window(contract, as_of.date())
            got_rows = lake.get(lake_name).query(sql, start, end)
            part = _breakdown(got_rows, contract.formula.column)
            breakdowns.append(
                {
                    "object": ref.object,
                    "range": [start.isoformat(), end.isoformat()],
                    "sql_hash": lake.sql_hash(sql),
                }
                | part
            )
            row.update(count=len(got_rows), latest_at=None, sql_hash=lake.sql_hash(sql), role="breakdown")
        elif ref.source_type == "lake":
            sql = ref.query or contract.formula.sql or ""
            lake_rows = lake.get(lake_name).query(sql, since.date(), as_of.date())
            days = [str(r.get("day"))[:10] for r in lake_rows if r.get("day") is not None]
            newest = max(days, default=None)
            latest = max(filter(None, (latest, f"{newest}T23:59:59+00:00" if newest else None)), default=None)
            row.update(count=len(lake_rows), latest_at=newest, sql_hash=lake.sql_hash(sql))
        elif ref.source_type == "kpi":
            other = latest_delivered(state["tenant_id"], ref.kind)
            other_kpis[ref.kind] = other
            row.update(
                count=1 if other else 0,
                source_version=(other or {}).get("contract_version"),
                latest_at=(other or {}).get("as_of"),
                source_run_id=(other or {}).get("run_id"),
            )
        else:
            raise NotFound(
                f"no {ref.source_type} connector is configured for '{ref.kind}'",
                code="source_connector_unavailable",
            )
        sourcing.append(row)
    daily, rows = _fold(contract, signals, lake_rows)
    log = _log(state)
    run_id = state["run"]["run_id"]
    for row in sourcing:
        row["run_id"] = run_id
        log.append(run_id, _sourcing_sk(row), "sourcing", row)
    read = sum(len(v) for v in signals.values()) + len(lake_rows) + len(other_kpis)
    inputs = {"daily": daily, "rows": rows, "read": read, "latest_at": latest, "sourcing": sourcing}
    if breakdowns:
        inputs["breakdowns"] = breakdowns
    panels = _panel_rows(contract, signals, state["tenant_id"], as_of)
    if panels:
        # the rows go to the run log, not the state machine payload; the delivery names them
        log.append(run_id, "ROWS", "rows", {"run_id": run_id, "kpi_id": contract.kpi_id, "periods": panels})
        inputs["panels"] = sorted({key for by_key in panels.values() for key in by_key})
    return {**state, "inputs": inputs, "kpis": other_kpis}


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


def _finding_rows(tenant_id: str, kind: str) -> list[SignalRow]:
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


# ------------------------------------------------------------------------ validation


def _numbers(daily: dict[str, Any]) -> list[float]:
    out: list[float] = []
    for counters in daily.values():
        for val in counters.values():
            out.extend(val if isinstance(val, list) else [val])
    return out


def _check_pre(rule: Rule, inputs: dict[str, Any], as_of: datetime) -> tuple[bool, str]:
    p = rule.params
    if rule.type == "availability":
        if "min_signals" in p:
            need = p["min_signals"]
            return inputs["read"] >= need, f"{inputs['read']} source rows read (need ≥ {need})"
        need = p.get("min_rows", 1)
        return inputs["rows"] >= need, f"{inputs['rows']} usable source rows (need ≥ {need})"
    if rule.type == "freshness":
        latest = inputs.get("latest_at")
        if not latest:
            return False, "no source rows, freshness cannot be established"
        age_h = (as_of - datetime.fromisoformat(latest)).total_seconds() / 3600
        return age_h <= p["max_age_hours"], f"newest row is {age_h:.1f} h old (max {p['max_age_hours']} h)"
    if rule.type == "non_negative":
        negatives = sum(1 for v in _numbers(inputs["daily"]) if v < 0)
        return negatives == 0, f"{negatives} negative values in the inputs"
    # row_count
    lo, hi = p.get("min"), p.get("max")
    ok = (lo is None or inputs["rows"] >= lo) and (hi is None or inputs["rows"] <= hi)
    return ok, f"{inputs['rows']} rows (expected within [{lo}, {hi}])"


def _rule_row(run_id: str, rule: Rule, ok: bool, details: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "rule_id": rule.id,
        "rule_type": rule.type,
        "severity": rule.severity,
        "result": "pass" if ok else "fail",
        "details": details,
    }


def pre_validate(state: State) -> State:
    contract = _contract(state)
    run_id = state["run"]["run_id"]
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    hard_fail, warnings, results = False, [], []
    for rule in contract.pre_rules:
        ok, details = _check_pre(rule, state["inputs"], as_of)
        row = _rule_row(run_id, rule, ok, details)
        _log(state).append(run_id, f"PRE#{rule.id}", "pre_validation", row)
        results.append(row)
        if not ok and rule.severity == "error":
            hard_fail = True
        elif not ok:
            warnings.append(rule.id)
    return {**state, "pre": {"hard_fail": hard_fail, "warnings": warnings, "results": results}}


def _unit(kpi_id: str) -> str:
    """The KPI's unit for messages (' %' for percentages), '' when the dictionary has no entry."""
    try:
        unit = kpis.load_dictionary().get(kpi_id).unit
    except KeyError:
        return ""
    return " %" if unit in ("percent", "percent_change") else f" {unit}"


def _jump(rule: Rule, value: float, previous: float | None, unit: str) -> tuple[bool, str]:
    """A variance rule: |value - previous| relative to max(|previous|, min_base), at most
    max_change_pct. `min_base` (in the KPI's unit) keeps the check meaningful where a relative change
    is not: a previous value of 0 (0 → 3 P1 incidents), a tiny one, or a sign change (ARR growth
    -2 % → +3 %). Without min_base a previous 0 cannot be compared: the rule passes, saying so (the
    behaviour of contracts written before min_base)."""
    if previous is None:
        return True, "no previous value to compare"
    p = rule.params
    base, limit = max(abs(previous), float(p.get("min_base", 0.0))), p["max_change_pct"]
    if base == 0:  # as before min_base existed: a change from 0 is not a relative change
        return True, f"{previous:.4g}{unit} → {value:.4g}{unit}: no relative change from 0 (no min_base)"
    change = abs(value - previous) / base * 100
    ok = change <= limit
    moved = f"{previous:.4g}{unit} → {value:.4g}{unit}"
    return ok, f"{change:.0f}% change vs the previous window ({moved}, max {limit}%)"


def _check_post(rule: Rule, value: float | None, previous: float | None, state: State) -> tuple[bool, str]:
    if value is None:
        return True, "no value to check"
    p, unit = rule.params, _unit(state["kpi_id"])
    if rule.type == "value_range":  # the previous window's value is delivered (and shown) too
        lo, hi = p.get("min"), p.get("max")
        span = f"the plausible range [{_bound(lo, '-inf')}, {_bound(hi, 'inf')}]"
        for label, x in (("", value), ("previous window ", previous)):
            if x is not None and not ((lo is None or x >= lo) and (hi is None or x <= hi)):
                return False, f"{label}{x:.4g}{unit} outside {span}"
        return True, f"{value:.4g}{unit} within {span}"
    if rule.type == "variance":
        return _jump(rule, value, previous, unit)
    # cross_kpi: this KPI's value against another KPI's latest delivered value of the same period
    other = latest_delivered(state["tenant_id"], p["kpi"])
    other_value = ((other or {}).get("values") or {}).get(p.get("period", "7d"))
    if other_value is None:
        return True, f"no delivered value of {p['kpi']} to compare"
    bound = other_value * float(p.get("factor", 1.0))
    ok = value <= bound if p.get("op", "lte") == "lte" else value >= bound
    return ok, f"value {value:.4g} {p.get('op', 'lte')} {bound:.4g} ({p['kpi']} x {p.get('factor', 1.0)})"


def _bound(x: float | None, unbounded: str) -> str:
    return unbounded if x is None else f"{x:g}"


def post_validate(state: State) -> State:
    """Every post rule over every period's value (and its previous window). A rule's details are the
    first failing period's (`1203 % outside the plausible range [-100, 300] (365d)`), else the
    headline's (7d)."""
    contract = _contract(state)
    run_id = state["run"]["run_id"]
    blocked, warnings, results = False, list(state.get("pre", {}).get("warnings", [])), []
    for rule in contract.post_rules:
        checks = [
            (period, *_check_post(rule, v["value"], v["previous"], state))
            for period, v in state["values"].items()
        ]
        failed = [(period, details) for period, ok, details in checks if not ok]
        ok = not failed
        details = f"{failed[0][1]} ({failed[0][0]})" if failed else next(d for p, _, d in checks if p == "7d")
        row = _rule_row(run_id, rule, ok, details)
        _log(state).append(run_id, f"POST#{rule.id}", "post_validation", row)
        results.append(row)
        if not ok and rule.severity == "error":
            blocked = True
        elif not ok:
            warnings.append(rule.id)
    return {**state, "post": {"blocked": blocked, "warnings": warnings, "results": results}}


# ------------------------------------------------------------------------ compute


ValueFn = Callable[[Any, date, int], formulas.Outcome]


def _value_fn(contract: Contract) -> ValueFn:
    f = contract.formula
    if f.sql is not None:
        return lambda b, end, days: formulas.aggregate(
            b, end, days, f.aggregate, f.column, f.numerator, f.denominator, f.scale
        )
    builtin = formulas.BUILTINS.get(f.builtin or "")
    if builtin is None:
        raise NotFound(f"formula '{f.builtin}' is not registered", code="formula_not_registered")
    return builtin.value


def compute(state: State) -> State:
    contract = _contract(state)
    formula = _value_fn(contract)
    daily = state["inputs"]["daily"]
    end = datetime.fromisoformat(state["run"]["as_of"]).date()
    if contract.window == "month_to_date":
        return {**state, "values": _month_to_date(formula, daily, end)}
    values = {}
    for period, days in PERIODS.items():
        cur = formula(daily, end, days)
        prev = formula(daily, end - timedelta(days=days), days)
        values[period] = {
            "value": cur.value,
            "reason": cur.reason,
            "previous": prev.value,
            "series": _series(formula, daily, end, days),
            "time_range": f"{(end - timedelta(days=days - 1)).isoformat()}/{end.isoformat()}",
            **({"detail": dict(cur.detail)} if cur.detail else {}),
        }
    return {**state, "values": values}


def _month_to_date(formula: ValueFn, daily: dict, end: date) -> dict[str, Any]:
    """Every period reports the calendar month up to `end`, against the previous month to the same
    day; the series is the month's daily values."""
    prev_end = _same_day_last_month(end)
    cur, prev = formula(daily, end, end.day), formula(daily, prev_end, prev_end.day)
    entry = {
        "value": cur.value,
        "reason": cur.reason,
        "previous": prev.value,
        "series": _series(formula, daily, end, end.day),
        "time_range": f"{end.replace(day=1).isoformat()}/{end.isoformat()}",
    }
    return {period: dict(entry) for period in PERIODS}


def _series(formula: ValueFn, daily: dict, end: date, days: int) -> list[dict[str, Any]]:
    """Daily points for short periods, weekly points (7-day windows) for long ones."""
    step = 1 if days <= 28 else 7
    points = []
    for i in range(days // step - 1, -1, -1):
        point_end = end - timedelta(days=i * step)
        points.append({"t": point_end.isoformat(), "v": formula(daily, point_end, step).value})
    return points


# ------------------------------------------------------------------------ delivery


def verdict(contract: Contract, value: float | None) -> str | None:
    """The contract's own verdict bands (a user KPI), else the one verdict model's band of the
    value (model/verdict.py): the same word the cockpit shows for the same number."""
    if value is None:
        return None
    if contract.verdict_bands:
        return next((b.label for b in contract.verdict_bands if b.contains(value)), None)
    try:
        defn = kpis.load_dictionary().get(contract.kpi_id)
    except KeyError:
        return None
    return verdict_model.kpi_band(defn, value).label


def _extensions(contract: Contract, values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    month = values.get("28d", {})
    if "mom" in contract.extensions:
        cur, prev = month.get("value"), month.get("previous")
        out["mom"] = {
            "value": cur,
            "previous": prev,
            "change_pct": (cur - prev) / abs(prev) * 100 if cur is not None and prev else None,
        }
    if "budget_vs_actual" in contract.extensions:
        period = contract.params.get("budget_period", "28d")
        window = values.get(period, {})
        actual, budget = window.get("value"), float(contract.params["budget"])
        planned: dict[str, Any] = {}
        if contract.window == "month_to_date":  # a monthly budget, pro rata to the day of the month
            end = date.fromisoformat(str(window["time_range"]).split("/")[1])
            month_days = calendar.monthrange(end.year, end.month)[1]
            planned = {"monthly_budget": budget, "basis": f"{end.day}/{month_days} days"}
            budget = budget * end.day / month_days
        out["budget_vs_actual"] = {
            **planned,
            "period": period,
            "budget": budget,
            "actual": actual,
            "variance": actual - budget if actual is not None else None,
            "variance_pct": (actual - budget) / abs(budget) * 100 if actual is not None and budget else None,
        }
    return out


def deliver(state: State) -> State:
    contract = _contract(state)
    run_id = state["run"]["run_id"]
    status = "partial" if state["post"]["warnings"] else "success"
    headline = state["values"]["7d"]
    row = {
        "run_id": run_id,
        "kpi_id": contract.kpi_id,
        "contract_version": contract.version,
        "time_grain": contract.time_grain,
        "time_range": headline["time_range"],
        "scd_view": "as_reported",
        "extensions": list(contract.extensions),
        "extension_values": _extensions(contract, state["values"]),
        "verdict": verdict(contract, headline["value"]),
        "as_of": state["run"]["as_of"],
        "values": state["values"],
        "warnings": state["post"]["warnings"],
        "sources": _sources(state),
        "output_sample": {"7d": headline["value"]},
        **({"breakdowns": state["inputs"]["breakdowns"]} if state["inputs"].get("breakdowns") else {}),
        **({"panels": state["inputs"]["panels"]} if state["inputs"].get("panels") else {}),
        **({"window": contract.window} if contract.window != "rolling" else {}),
    }
    _log(state).append(run_id, "DELIVERY", "delivery", row)
    return _finish(
        {**state, "delivery": {"verdict": row["verdict"], "time_range": row["time_range"]}}, status
    )


def _sources(state: State) -> list[dict[str, Any]]:
    return [
        {
            "type": s["source_type"],
            "object": s["source_object"],
            "count": s.get("count", 0),
            "latest_at": s.get("latest_at"),
            **({"sql_hash": s["sql_hash"]} if s.get("sql_hash") else {}),
            **({"version": s["source_version"]} if s.get("source_version") else {}),
            **({"role": s["role"]} if s.get("role") else {}),
        }
        for s in state["inputs"]["sourcing"]
    ]


# ------------------------------------------------------------------------ terminal steps


def skip(state: State) -> State:
    failed = [
        r["rule_id"] for r in state["pre"]["results"] if r["result"] == "fail" and r["severity"] == "error"
    ]
    return _finish(
        state, "skipped", "PRE_VALIDATION_FAILED", f"hard pre-validation rule failed: {', '.join(failed)}"
    )


def block(state: State) -> State:
    failed = [
        f"{r['rule_id']}: {state['kpi_id']} {r['details']}"
        for r in state["post"]["results"]
        if r["result"] == "fail" and r["severity"] == "error"
    ]
    return _finish(state, "failed", "POST_VALIDATION_FAILED", f"delivery blocked by: {'; '.join(failed)}")


def record_failure(state: State) -> State:
    """Catch target: end the newest attempt of this run `failed` unless its step already did."""
    err = state.get("error") or {}
    log = _log(state)
    base = (state.get("run") or {}).get("base_run_id") or _base_run_id(state)
    seq = int((state.get("run") or {}).get("retry_seq", 0))
    newest = None
    for n in range(seq, seq + MAX_ATTEMPTS_PROBED):
        header = log.row(attempt_id(base, n), "RUN")
        if header is None and n > seq:
            break
        newest = header or newest
    if newest is None:  # failed before any header existed (e.g. no contract): log the attempt anyway
        newest = _header(state, None, 0, None)
        _write_header(state, newest)
    end = log.row(newest["run_id"], "END")
    if end is not None:
        return _result(state, newest, end)
    return _finish({**state, "run": newest}, "failed", _error_code(err), _error_message(err))


def _error_code(err: dict[str, Any]) -> str:
    return str(err.get("Error") or "UNKNOWN")


def _error_message(err: dict[str, Any]) -> str:
    """The error message of a Lambda failure cause (JSON with errorMessage), else the raw cause."""
    import json

    cause = str(err.get("Cause") or "")
    try:
        doc = json.loads(cause)
    except ValueError:
        return cause[:1000]
    return str(doc.get("errorMessage", cause) if isinstance(doc, dict) else cause)[:1000]


def _sla(state: State, started: datetime, finished: datetime, duration: float) -> tuple[bool, str | None]:
    raw = state.get("contract")
    if not raw:
        return False, None
    sla = Contract.from_state(raw).sla
    if duration > sla.max_duration_s:
        return True, f"took {duration:.1f} s (max {sla.max_duration_s:g} s)"
    if sla.finish_by and (state["run"].get("trigger_type") == "time"):
        hh, mm = (int(x) for x in sla.finish_by.split(":"))
        deadline = started.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if finished > deadline:
            return True, f"finished at {finished:%H:%M} UTC, after the {sla.finish_by} UTC deadline"
    return False, None


def _finish(state: State, status: str, code: str | None = None, message: str | None = None) -> State:
    run = state["run"]
    finished = _now()
    started = datetime.fromisoformat(run["started_at"])
    duration = (finished - started).total_seconds()
    breached, sla_reason = _sla(state, started, finished, duration)
    inputs = state.get("inputs") or {}
    end = {
        "run_id": run["run_id"],
        "status": status,
        "finished_at": finished.isoformat(),
        "duration_s": round(duration, 3),
        "rows_processed": inputs.get("read", 0),
        "sla_breached": breached,
        "sla_reason": sla_reason,
        "retry_seq": run.get("retry_seq", 0),
        "error_code": code,
        "error_message": message,
    }
    end["events"] = _events(state, status, end)
    log = _log(state)
    if log.append(run["run_id"], "END", "end", end):
        log.append_index(run["started_at"], run["run_id"], _overview(state, end))
    else:  # this attempt already ended (a retried terminal step): report what was recorded
        end = log.row(run["run_id"], "END") or end
    return _result(state, run, end)


def _result(state: State, run: dict[str, Any], end: dict[str, Any]) -> State:
    return {
        "tenant_id": state["tenant_id"],
        "kpi_id": state["kpi_id"],
        "run_id": run["run_id"],
        "status": end["status"],
        "retry_seq": run.get("retry_seq", 0),
        "sla_breached": end.get("sla_breached", False),
        "events": end.get("events", []),
    }


def _events(state: State, status: str, end: dict[str, Any]) -> list[dict[str, Any]]:
    """Alert hooks for the alert router: SLA breach and hard validation failures, with a deep link."""
    run = state["run"]
    link = f"/api/runs/{run['run_id']}?tenant={state['tenant_id']}"
    events = []
    if end["sla_breached"]:
        events.append(
            {"type": "kpi_sla_breach", "severity": "high", "reason": end["sla_reason"], "href": link}
        )
    if end["error_code"] in ("PRE_VALIDATION_FAILED", "POST_VALIDATION_FAILED"):
        events.append(
            {
                "type": "kpi_validation_failed",
                "severity": "medium",
                "reason": end["error_message"],
                "href": link,
            }
        )
    return events


_HEADER_FIELDS = (
    "run_id", "base_run_id", "tenant_id", "environment", "kpi_id", "contract_version", "variant_label",
    "trigger_type", "triggered_by", "schedule_cron", "started_at", "as_of", "retry_seq", "lineage_ref",
)  # fmt: skip
_END_FIELDS = (
    "status", "finished_at", "duration_s", "rows_processed", "sla_breached", "sla_reason", "error_code",
    "error_message",
)  # fmt: skip


def _overview(state: State, end: dict[str, Any]) -> dict[str, Any]:
    """One pre-joined row per attempt (vw_kpi_run_overview + validation summary + lineage + SLA)."""
    run = state["run"]
    checks = (state.get("pre") or {}).get("results", []) + (state.get("post") or {}).get("results", [])
    failed_rules = [
        {k: r[k] for k in ("rule_id", "rule_type", "severity")}
        | {"phase": "pre" if r in (state.get("pre") or {}).get("results", []) else "post"}
        for r in checks
        if r["result"] == "fail"
    ]
    delivery = state.get("delivery") or {}
    return {
        **{k: run.get(k) for k in _HEADER_FIELDS},
        **{k: end[k] for k in _END_FIELDS},
        "verdict": delivery.get("verdict"),
        "time_range": delivery.get("time_range"),
        "pre_fail_count": sum(1 for r in failed_rules if r["phase"] == "pre"),
        "post_fail_count": sum(1 for r in failed_rules if r["phase"] == "post"),
        "failed_rules": failed_rules,
        "sources": [
            {k: s.get(k) for k in ("source_type", "source_object", "source_version", "sql_hash")}
            for s in (state.get("inputs") or {}).get("sourcing", [])
        ],
    }


# ------------------------------------------------------------------------ corrections


def correct_run(
    tenant_id: str, original_run_id: str, *, values: dict[str, float | None], reason: str, by: str
) -> dict[str, Any]:
    """Restate a delivered run without touching it: append a correction run (run id
    `<original>-c<n>`) whose lineage_ref points to the original and whose delivery carries the
    corrected values (scd_view `restated`). The original's rows stay exactly as they were."""
    log = RunLog(tenant_id)
    header = log.row(original_run_id, "RUN")
    delivery = log.row(original_run_id, "DELIVERY")
    if header is None or delivery is None:
        raise NotFound(f"run '{original_run_id}' has no delivery to correct", code="run_not_found")
    unknown = set(values) - set(PERIODS)
    if unknown:
        raise DomainError(f"unknown periods {sorted(unknown)}", code="invalid_period")
    n = 1
    while True:
        run_id = f"{original_run_id}-c{n}"
        corrected = {
            "run_id": run_id,
            "base_run_id": run_id,
            **{
                k: header.get(k)
                for k in ("tenant_id", "environment", "kpi_id", "contract_version", "variant_label")
            },
            "trigger_type": "manual",
            "triggered_by": by,
            "schedule_cron": None,
            "started_at": _now().isoformat(),
            "as_of": header.get("as_of"),
            "retry_seq": 0,
            "lineage_ref": f"correction-of:{original_run_id}",
            "correction_reason": reason,
        }
        # The by_kpi key sorts the correction right after the original: it supersedes the
        # original's values, not those of runs that came later.
        gsi_started_at = f"{header['started_at']}#c{n}"
        # A concurrent correction that took this number wins it (the write is conditional): next.
        if log.row(run_id, "RUN") is None and log.append(
            run_id, "RUN", "run", corrected, kpi_id=header["kpi_id"], started_at=gsi_started_at
        ):
            break
        n += 1
    new_values = {
        p: {**v, **({"value": values[p]} if p in values else {})} for p, v in delivery["values"].items()
    }
    restated = {
        **delivery,
        "run_id": run_id,
        "values": new_values,
        "scd_view": "restated",
        "output_sample": {"7d": new_values["7d"]["value"]},
        "corrects": original_run_id,
    }
    log.append(run_id, "DELIVERY", "delivery", restated)
    state = {
        "tenant_id": tenant_id,
        "kpi_id": header["kpi_id"],
        "run": corrected,
        "delivery": {"verdict": delivery.get("verdict"), "time_range": delivery.get("time_range")},
    }
    return _finish(state, "success")


STEPS: dict[str, Callable[[State], State]] = {
    "source": source,
    "pre_validate": pre_validate,
    "compute": compute,
    "post_validate": post_validate,
    "deliver": deliver,
    "skip": skip,
    "block": block,
}
