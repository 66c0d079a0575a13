"""The deliver step: the values with their verdict, extensions, breakdowns and sources, as one
DELIVERY row."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from companyos.domain import kpis
from companyos.domain import verdict as verdict_model
from companyos.runs.attempts import finish
from companyos.runs.contracts import Contract
from companyos.runs.run_state import State, contract_of


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


def extensions(contract: Contract, values: dict[str, Any]) -> dict[str, Any]:
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
    contract = contract_of(state)
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
        "extension_values": extensions(contract, state["values"]),
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
    summary = {"verdict": row["verdict"], "time_range": row["time_range"]}
    return finish({**state, "delivery": summary}, status, delivery=row)  # with its END, atomically


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
