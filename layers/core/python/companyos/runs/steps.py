"""The steps of the kpi_run state machine. Each takes the run state (a JSON dict) and returns it
updated; each writes its own append-only run-log rows, so a retried step never writes twice."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from companyos.runs import contracts, formulas
from companyos.runs.contracts import PERIODS, Contract, Rule
from companyos.store.repos import RunLog, SignalStore

State = dict[str, Any]
TERMINAL = ("success", "failed", "partial", "skipped")


class TransientError(Exception):
    """A retryable failure (the state machine retries it with backoff and jitter)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _run_id(state: State) -> str:
    """Deterministic per (execution, tenant, KPI): a retried or failed step finds the same run."""
    seed = f"{state['execution_id']}|{state['tenant_id']}|{state['kpi_id']}"
    started = str(state.get("execution_started_at") or "")
    stamp = re.sub(r"[^0-9T]", "", started)[:15] or "run"
    return f"{stamp}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def _as_of(state: State) -> datetime:
    raw = (state.get("trigger") or {}).get("as_of")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else _now()


# ------------------------------------------------------------------------ source


def source(state: State, environment: str) -> State:
    contract = contracts.get(state["kpi_id"])
    log = RunLog(state["tenant_id"])
    started = _now()
    as_of = _as_of(state)
    run_id = _run_id(state)
    trigger = state.get("trigger") or {}
    header = {
        "run_id": run_id,
        "tenant_id": state["tenant_id"],
        "environment": environment,
        "kpi_id": contract.kpi_id,
        "contract_version": contract.version,
        "trigger_type": trigger.get("type", "manual"),
        "triggered_by": trigger.get("by", ""),
        "schedule_cron": contract.schedule_cron,
        "started_at": started.isoformat(),
        "as_of": as_of.isoformat(),
        "retry_seq": int(trigger.get("retry_seq", 0)),
        "lineage_ref": f"{state['execution_id']}#{contract.kpi_id}",
        "variant_label": None,
    }
    log.append(run_id, "RUN", "run", header, kpi_id=contract.kpi_id, started_at=started.isoformat())
    daily, rows, latest = _fold_signals(state["tenant_id"], contract, as_of)
    for ref in contract.sources:
        log.append(
            run_id,
            f"SOURCING#{ref.source_type}#{ref.object}",
            "sourcing",
            {
                "run_id": run_id,
                "source_type": ref.source_type,
                "source_object": ref.object,
                "source_version": None,
                "attributes": ref.kind,
                "sql_hash": None,
                "count": rows,
                "latest_at": latest,
            },
        )
    return {**state, "run": header, "inputs": {"daily": daily, "rows": rows, "latest_at": latest}}


def _fold_signals(tenant_id: str, contract: Contract, as_of: datetime) -> tuple[dict, int, str | None]:
    since = as_of - timedelta(days=contracts.MAX_WINDOW_DAYS)
    daily: dict[str, dict[str, float]] = {}
    rows, latest = 0, None
    for ref in contract.sources:
        bucketer = formulas.BUCKETERS[ref.kind]
        for sig in SignalStore(tenant_id).query(ref.kind, since, as_of):
            counters = bucketer(sig.attributes, contract.params)
            if counters is None:
                continue
            day = daily.setdefault(sig.occurred_at.date().isoformat(), {})
            for k, v in counters.items():
                day[k] = day.get(k, 0.0) + v
            rows += 1
            latest = max(latest or "", sig.occurred_at.isoformat())
    return daily, rows, latest


# ------------------------------------------------------------------------ validation


def _check_pre(rule: Rule, inputs: dict[str, Any], as_of: datetime) -> tuple[bool, str]:
    if rule.type == "availability":
        need = rule.params.get("min_rows", 1)
        return inputs["rows"] >= need, f"{inputs['rows']} source rows (need ≥ {need})"
    if rule.type == "freshness":
        latest = inputs.get("latest_at")
        if not latest:
            return False, "no source rows, freshness cannot be established"
        age_h = (as_of - datetime.fromisoformat(latest)).total_seconds() / 3600
        return age_h <= rule.params["max_age_hours"], f"newest row is {age_h:.1f} h old"
    raise ValueError(f"unknown pre-validation rule type '{rule.type}'")


def pre_validate(state: State) -> State:
    contract = contracts.get(state["kpi_id"])
    run_id = state["run"]["run_id"]
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    hard_fail, warnings = False, []
    for rule in contract.pre_rules:
        ok, details = _check_pre(rule, state["inputs"], as_of)
        _log_rule(state, "PRE", "pre_validation", rule, ok, details)
        if not ok and rule.severity == "error":
            hard_fail = True
        elif not ok:
            warnings.append(rule.id)
    return {**state, "pre": {"hard_fail": hard_fail, "warnings": warnings, "run_id": run_id}}


def _log_rule(state: State, prefix: str, record: str, rule: Rule, ok: bool, details: str) -> None:
    run_id = state["run"]["run_id"]
    RunLog(state["tenant_id"]).append(
        run_id,
        f"{prefix}#{rule.id}",
        record,
        {
            "run_id": run_id,
            "rule_id": rule.id,
            "rule_type": rule.type,
            "severity": rule.severity,
            "result": "pass" if ok else "fail",
            "details": details,
        },
    )


# ------------------------------------------------------------------------ compute


def compute(state: State) -> State:
    contract = contracts.get(state["kpi_id"])
    formula = formulas.FORMULAS[contract.formula]
    daily = state["inputs"]["daily"]
    end = datetime.fromisoformat(state["run"]["as_of"]).date()
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
        }
    return {**state, "values": values}


def _series(formula: Any, daily: dict, end: date, days: int) -> list[dict[str, Any]]:
    """Daily points for short periods, weekly points (7-day windows) for long ones."""
    step = 1 if days <= 28 else 7
    points = []
    for i in range(days // step - 1, -1, -1):
        point_end = end - timedelta(days=i * step)
        points.append({"t": point_end.isoformat(), "v": formula(daily, point_end, step).value})
    return points


def _check_post(rule: Rule, value: float | None, previous: float | None) -> tuple[bool, str]:
    if value is None:
        return True, "no value to check"
    if rule.type == "value_range":
        lo, hi = rule.params.get("min"), rule.params.get("max")
        ok = (lo is None or value >= lo) and (hi is None or value <= hi)
        return (
            ok,
            f"value {value:.4g} within [{lo}, {hi}]" if ok else f"value {value:.4g} outside [{lo}, {hi}]",
        )
    if rule.type == "variance":
        if not previous:
            return True, "no previous value to compare"
        change = abs(value - previous) / abs(previous) * 100
        return change <= rule.params["max_change_pct"], f"{change:.0f}% change vs previous window"
    raise ValueError(f"unknown post-validation rule type '{rule.type}'")


def post_validate(state: State) -> State:
    contract = contracts.get(state["kpi_id"])
    blocked, warnings = False, list(state.get("pre", {}).get("warnings", []))
    headline = state["values"]["7d"]
    for rule in contract.post_rules:
        ok = all(_check_post(rule, v["value"], v["previous"])[0] for v in state["values"].values())
        details = _check_post(rule, headline["value"], headline["previous"])[1]
        _log_rule(state, "POST", "post_validation", rule, ok, details)
        if not ok and rule.severity == "error":
            blocked = True
        elif not ok:
            warnings.append(rule.id)
    return {**state, "post": {"blocked": blocked, "warnings": warnings}}


# ------------------------------------------------------------------------ terminal steps


def deliver(state: State) -> State:
    contract = contracts.get(state["kpi_id"])
    run_id = state["run"]["run_id"]
    status = "partial" if state["post"]["warnings"] else "success"
    RunLog(state["tenant_id"]).append(
        run_id,
        "DELIVERY",
        "delivery",
        {
            "run_id": run_id,
            "kpi_id": contract.kpi_id,
            "contract_version": contract.version,
            "time_grain": contract.time_grain,
            "time_range": state["values"]["7d"]["time_range"],
            "scd_view": "as_reported",
            "extensions": ["previous_window"],
            "as_of": state["run"]["as_of"],
            "values": state["values"],
            "warnings": state["post"]["warnings"],
            "sources": _sources(state, contract),
            "output_sample": {"7d": state["values"]["7d"]["value"]},
        },
    )
    return _finish(state, status)


def _sources(state: State, contract: Contract) -> list[dict[str, Any]]:
    return [
        {
            "type": s.source_type,
            "object": s.object,
            "count": state["inputs"]["rows"],
            "latest_at": state["inputs"]["latest_at"],
        }
        for s in contract.sources
    ]


def skip(state: State) -> State:
    return _finish(state, "skipped", "PRE_VALIDATION_FAILED", "a hard pre-validation rule failed")


def block(state: State) -> State:
    return _finish(state, "failed", "POST_VALIDATION_FAILED", "a hard post-validation rule blocked delivery")


def record_failure(state: State) -> State:
    err = state.get("error") or {}
    if "run" not in state:  # failed before the run header existed: write one so the attempt is logged
        state = {**state, **_header_only(state)}
    return _finish(state, "failed", str(err.get("Error", "UNKNOWN")), str(err.get("Cause", ""))[:1000])


def _header_only(state: State) -> State:
    started = _now()
    run_id = _run_id(state)
    trigger = state.get("trigger") or {}
    header = {
        "run_id": run_id,
        "tenant_id": state["tenant_id"],
        "kpi_id": state["kpi_id"],
        "contract_version": "unknown",
        "trigger_type": trigger.get("type", "manual"),
        "triggered_by": trigger.get("by", ""),
        "started_at": started.isoformat(),
        "as_of": started.isoformat(),
        "retry_seq": int(trigger.get("retry_seq", 0)),
        "lineage_ref": state.get("execution_id", ""),
    }
    RunLog(state["tenant_id"]).append(
        run_id, "RUN", "run", header, kpi_id=state["kpi_id"], started_at=started.isoformat()
    )
    return {"run": header}


def _finish(state: State, status: str, code: str | None = None, message: str | None = None) -> State:
    run = state["run"]
    finished = _now()
    duration = (finished - datetime.fromisoformat(run["started_at"])).total_seconds()
    sla = contracts.CONTRACTS.get(state["kpi_id"])
    end = {
        "run_id": run["run_id"],
        "status": status,
        "finished_at": finished.isoformat(),
        "duration_s": round(duration, 3),
        "rows_processed": (state.get("inputs") or {}).get("rows", 0),
        "sla_breached": bool(sla and duration > sla.sla_max_duration_s),
        "error_code": code,
        "error_message": message,
    }
    RunLog(state["tenant_id"]).append(run["run_id"], "END", "end", end)
    return {
        "tenant_id": state["tenant_id"],
        "kpi_id": state["kpi_id"],
        "run_id": run["run_id"],
        "status": status,
    }


STEPS = {
    "pre_validate": pre_validate,
    "compute": compute,
    "post_validate": post_validate,
    "deliver": deliver,
    "skip": skip,
    "block": block,
    "record_failure": record_failure,
}
