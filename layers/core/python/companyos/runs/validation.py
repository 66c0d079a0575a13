"""The pre- and post-validation steps (the contract's rules), and the terminal steps their hard
failures lead to (skip, block)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.domain import kpis
from companyos.runs import failures
from companyos.runs.attempts import finish
from companyos.runs.contracts import Rule
from companyos.runs.run_state import State, contract_of, log_of
from companyos.runs.sourcing import latest_delivered


def _numbers(daily: dict[str, Any]) -> list[float]:
    out: list[float] = []
    for counters in daily.values():
        for val in counters.values():
            out.extend(val if isinstance(val, list) else [val])
    return out


def check_pre(rule: Rule, inputs: dict[str, Any], as_of: datetime) -> tuple[bool, str]:
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


def _record(
    state: State, stage: str, checked: list[tuple[Rule, bool, str]], warnings: list[str]
) -> tuple[bool, list[dict[str, Any]]]:
    """Log one rule row per checked rule (`PRE#<rule>` / `POST#<rule>`); a failed `error` rule is
    hard, any other failed rule a warning. Returns (any hard failure, the rows)."""
    run_id = state["run"]["run_id"]
    hard, results = False, []
    for rule, ok, details in checked:
        row = _rule_row(run_id, rule, ok, details)
        log_of(state).append(run_id, f"{stage.upper()}#{rule.id}", f"{stage}_validation", row)
        results.append(row)
        if not ok and rule.severity == "error":
            hard = True
        elif not ok:
            warnings.append(rule.id)
    return hard, results


def pre_validate(state: State) -> State:
    as_of = datetime.fromisoformat(state["run"]["as_of"])
    checked = [(rule, *check_pre(rule, state["inputs"], as_of)) for rule in contract_of(state).pre_rules]
    warnings: list[str] = []
    hard_fail, results = _record(state, "pre", checked, warnings)
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


def check_post(rule: Rule, value: float | None, previous: float | None, state: State) -> tuple[bool, str]:
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
    checked: list[tuple[Rule, bool, str]] = []
    for rule in contract_of(state).post_rules:
        checks = [
            (period, *check_post(rule, v["value"], v["previous"], state))
            for period, v in state["values"].items()
        ]
        failed = [(period, details) for period, ok, details in checks if not ok]
        details = f"{failed[0][1]} ({failed[0][0]})" if failed else next(d for p, _, d in checks if p == "7d")
        checked.append((rule, not failed, details))
    warnings = list(state.get("pre", {}).get("warnings", []))
    blocked, results = _record(state, "post", checked, warnings)
    return {**state, "post": {"blocked": blocked, "warnings": warnings, "results": results}}


def skip(state: State) -> State:
    failed = [
        r["rule_id"] for r in state["pre"]["results"] if r["result"] == "fail" and r["severity"] == "error"
    ]
    return finish(
        state,
        "skipped",
        failures.PRE_VALIDATION_FAILED,
        f"hard pre-validation rule failed: {', '.join(failed)}",
    )


def block(state: State) -> State:
    failed = [
        f"{r['rule_id']}: {state['kpi_id']} {r['details']}"
        for r in state["post"]["results"]
        if r["result"] == "fail" and r["severity"] == "error"
    ]
    return finish(
        state, "failed", failures.POST_VALIDATION_FAILED, f"delivery blocked by: {'; '.join(failed)}"
    )
