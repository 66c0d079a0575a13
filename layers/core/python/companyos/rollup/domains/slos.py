"""SLOs: objectives in budget and the fastest burn, from each tenant's per-service SLO rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from companyos.domain import verdict
from companyos.rollup.domains.cards import domain_tile, tenant_card
from companyos.rollup.domains.cells import aggregate, common_reason, make_cell, org_entry, org_metric
from companyos.rollup.domains.specs import DomainSpec, Period, TenantData


def _slo_rows(data: TenantData, period: Period) -> tuple[list[Mapping[str, Any]], str | None]:
    """The tenant's per-service SLO rows of its snapshot (value = attainment %, budget_left = the
    error budget's remaining share), or why there are none."""
    if data.snapshot is None:
        return [], f"no end-of-day {period.window} snapshot yet"
    panel = (data.snapshot.get("panels") or {}).get("slo") or {}
    if not panel.get("available"):
        return [], panel.get("reason") or "the snapshot carries no per-service SLO rows"
    return list(panel.get("items") or []), None


def _row_run_ids(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(r["evidence"]["run_id"]) for r in rows if (r.get("evidence") or {}).get("run_id")})


def _rows_evidence(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The run that delivered the SLO rows a cell counts (one slo_attainment run per snapshot)."""
    ev = next((r.get("evidence") for r in rows if (r.get("evidence") or {}).get("run_id")), None)
    return dict(ev) if ev else None


def _in_budget_cell(rows: Sequence[Mapping[str, Any]], reason: str | None) -> dict[str, Any]:
    """Objectives in budget (the seed's SLO measure): of the services with a measured budget, those
    whose error budget is not spent. Its band is the worst service's (`verdict.slo_row`: a spent
    budget is Critical), so "in budget" never sits beside a Critical objective."""
    judged_rows = [r for r in rows if r.get("budget_left") is not None]
    inside = [r for r in judged_rows if float(r["budget_left"]) > 0]
    outside = [str(r.get("service") or r.get("id")) for r in judged_rows if float(r["budget_left"]) <= 0]
    value = round(100.0 * len(inside) / len(judged_rows), 2) if judged_rows else None
    band = verdict.worst(verdict.slo_row(r.get("value"), float(r["budget_left"])) for r in judged_rows)
    return make_cell(
        value,
        None,
        [],
        "percent",
        band,
        reason or "no service has a measured error budget in the period",
        text=f"{len(inside)} of {len(judged_rows)} in budget",
        objectives=len(judged_rows),
        in_budget=len(inside),
        out_of_budget=outside,
        run_ids=_row_run_ids(judged_rows),
        evidence=_rows_evidence(judged_rows),
    )


def _fastest_burn_cell(rows: Sequence[Mapping[str, Any]], reason: str | None) -> dict[str, Any]:
    burning = [r for r in rows if isinstance(r.get("burn_rate"), int | float)]
    fastest = max(burning, key=lambda r: float(r["burn_rate"])) if burning else None
    rate = float(fastest["burn_rate"]) if fastest else None
    return make_cell(
        rate,
        None,
        [],
        "ratio_x",
        verdict.burn(rate),
        reason or "no service has a measured burn rate in the period",
        service=str(fastest.get("service") or fastest.get("id")) if fastest else None,
        run_ids=_row_run_ids([fastest] if fastest else []),
        evidence=_rows_evidence([fastest] if fastest else []),
    )


def slos_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, budget_cells, burn_cells = [], [], []
    for data in rows:
        slo_rows, reason = _slo_rows(data, period)
        budget, burn = _in_budget_cell(slo_rows, reason), _fastest_burn_cell(slo_rows, reason)
        budget_cells.append(budget)
        burn_cells.append(burn)
        severity = (
            (round(100.0 - budget["value"], 4), burn["value"] or 0.0) if budget["value"] is not None else None
        )
        metrics = {"objectives_in_budget": budget, "fastest_burn": burn}
        cards.append(tenant_card(data, spec, period, metrics, spec.headline, severity))
    objectives = sum(c.get("objectives", 0) for c in budget_cells)
    inside = sum(c.get("in_budget", 0) for c in budget_cells)
    pooled = round(100.0 * inside / objectives, 2) if objectives else None
    budget_spec, burn_spec = spec.metrics
    org_budget = org_entry(
        budget_spec,
        budget_cells,
        make_cell(
            pooled,
            None,
            [],
            "percent",
            verdict.worst(c["status"] for c in budget_cells),
            common_reason(budget_cells, "no tenant in scope has per-service SLO rows"),
            text=f"{inside} of {objectives} in budget",
            objectives=objectives,
            in_budget=inside,
        ),
    )
    org_burn = org_metric(
        burn_spec, burn_cells, verdict.burn(aggregate("max", (c["value"] for c in burn_cells)))
    )
    return domain_tile(spec, [org_budget, org_burn], cards)
