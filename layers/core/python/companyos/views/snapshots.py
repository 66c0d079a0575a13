"""Score refresh: latest delivered KPI values → per-KPI status, dimensions, composite, per period.

Dashboards read these precomputed snapshots (one item per tenant and period), never live data.
Every KPI entry carries its evidence: the run id, contract version, sources and timestamps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.adapters.repos import RunLog, ScoreStore, Tenant
from companyos.domain import clock, dora, kpis, scoring, verdict
from companyos.domain.panel_runs import PANEL_RUNS
from companyos.runs import contracts, rows_security
from companyos.runs.contracts import PERIODS
from companyos.views import compliance_feed, panels_data
from companyos.views.deliveries import Delivered, delivery_evidence, latest_delivery

DORA_METRICS = {
    "deployment_frequency": "deployment_frequency",
    "lead_time_for_changes": "lead_time",
    "change_failure_rate": "change_failure_rate",
    "mttr": "time_to_restore",
}


def _catalog_contracts(tenant_id: str) -> set[str]:
    """KPIs with an active contract in the catalog (the tenant's own or the platform's): 2 Queries."""
    return {a["kpi_id"] for owner in (tenant_id, None) for a in contracts.ContractStore(owner).actives()}


# What each KPI of the dictionary without a built-in contract still needs (shown as its Unknown reason).
NOT_MEASURED: dict[str, str] = {}  # every KPI of the dictionary has a built-in contract (#16)


def not_measured_reason(defn: kpis.KpiDefinition) -> str:
    """Why a KPI without any contract is Unknown: what it still needs (never a guess)."""
    need = NOT_MEASURED.get(defn.id, f"no KPI contract computes it from its source ({defn.source})")
    return f"not measured yet: {need}"


def _kpi_entry(
    defn: kpis.KpiDefinition,
    period: str,
    d: Delivered | None,
    reason: str | None,
    tenant: Tenant,
    now: datetime,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "kpi_id": defn.id,
        "name": defn.name,
        "unit": defn.unit,
        "dimension": defn.dimension,
        "target": defn.target,
        "critical": defn.critical,
        "direction": str(defn.direction),
        "value": None,
        "previous": None,
        "series": [],
        "evidence": None,
        "level": None,
        "reason": reason,
    }
    if d is not None:
        window = d.delivery["values"][period]
        age_s = (now - datetime.fromisoformat(d.end["finished_at"])).total_seconds()
        stale = age_s > kpis.load_dictionary().stale_after_s(defn.id)
        entry.update(
            previous=window["previous"],
            series=window["series"],
            # the run's detail of this window (counts; CFR's linked deploy <-> incident pairs)
            evidence=delivery_evidence(d, tenant.id)
            | ({"detail": window["detail"]} if window.get("detail") else {}),
            time_range=window["time_range"],
        )
        if window["value"] is None:
            entry["reason"] = window.get("reason") or "not computable for this period"
        elif stale:
            entry["reason"] = f"stale: computed {age_s / 3600:.1f} h ago"
        else:
            entry["value"] = window["value"]
    judged = verdict.kpi(defn, entry["value"])
    entry["score"] = judged.score
    entry["status"] = judged.band
    entry["display"] = defn.format_value(entry["value"]) if entry["value"] is not None else "Unknown"
    if entry["value"] is not None and defn.id in DORA_METRICS:
        detail = (entry["evidence"] or {}).get("detail")
        entry["level"] = str(_dora_level(defn.id, entry["value"], detail, tenant.dora_benchmark))
    return entry


_ROW_LISTS = ("items", "recent", "per_service")


def _run_evidence(ev: dict[str, Any], kpi_id: str, own: dict[str, Any] | None) -> dict[str, Any]:
    """A row's evidence: the run that delivered it, with the signals behind that very row."""
    own = own or {}
    return {
        **ev,
        "type": "kpi_run",
        "kpi_id": kpi_id,
        "sources": own.get("sources") or ev["sources"],
        "window_days": own.get("window_days"),
        **({"drill_href": own["href"]} if own.get("href") else {}),
    }


def _with_run(entry: dict[str, Any], ev: dict[str, Any], kpi_id: str) -> dict[str, Any]:
    out = {**entry, "evidence": _run_evidence(ev, kpi_id, entry.get("evidence"))}
    for key in _ROW_LISTS:
        if isinstance(entry.get(key), list):
            out[key] = [
                {**i, "evidence": _run_evidence(ev, kpi_id, i.get("evidence"))} if isinstance(i, dict) else i
                for i in entry[key]
            ]
    return out


def _merge(key: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One panel from the rows of several runs (security events: secrets + denied decisions)."""
    shown = [p for p in parts if p.get("available")]
    if not shown:
        return {"available": False, "reason": "; ".join(str(p.get("reason")) for p in parts)}
    if len(shown) == 1 or key != "security_events":
        return shown[0]
    items = [i for p in shown for i in p["items"]]
    merged = rows_security.security_events(items, [])
    merged["evidence"] = {**shown[0]["evidence"], "runs": [p["evidence"]["run_id"] for p in shown]}
    return merged


def delivered_panels(
    log: RunLog, tenant_id: str, deliveries: dict[str, tuple[Delivered | None, str | None]]
) -> dict[str, dict[str, Any]]:
    """Per period, the panels whose rows KPI runs delivered (one RunLog read per run with rows):
    copied, never recomputed; every row carries its run."""
    periods: dict[str, dict[str, Any]] = {p: {} for p in PERIODS}
    stored: dict[str, dict[str, Any] | None] = {}
    for key, kpi_ids in PANEL_RUNS.items():
        parts: dict[str, list[dict[str, Any]]] = {p: [] for p in PERIODS}
        for kpi_id in kpi_ids:
            d, reason = deliveries.get(kpi_id, (None, "not measured"))
            name = kpis.load_dictionary().get(kpi_id).name
            if d is None or key not in (d.delivery.get("panels") or []):
                why = reason or f"the delivered run {d.run['run_id'] if d else ''} carries no rows for it"
                for p in PERIODS:
                    parts[p].append({"available": False, "reason": f"{name} ({kpi_id}): {why}"})
                continue
            run_id = d.run["run_id"]
            if run_id not in stored:
                stored[run_id] = log.row(run_id, "ROWS")
            by_period = (stored[run_id] or {}).get("periods") or {}
            ev = delivery_evidence(d, tenant_id)
            for p in PERIODS:
                entry = (by_period.get(p) or {}).get(key)
                if entry is None:
                    parts[p].append({"available": False, "reason": f"{name} ({kpi_id}): no rows for {p}"})
                elif entry.get("available"):
                    parts[p].append(_with_run(entry, ev, kpi_id))
                else:
                    parts[p].append(entry)
        for p in PERIODS:
            periods[p][key] = _merge(key, parts[p])
    return periods


def _dora_level(kpi_id: str, value: float, detail: dict[str, Any] | None, benchmark: str) -> dora.Level:
    """A DORA KPI's level; deployment frequency's from the run's median deployment days per week /
    month (DevLake's reading) when the run delivered them, else from the per-day rate."""
    weekly = (detail or {}).get("median_deployment_days_per_week")
    monthly = (detail or {}).get("median_deployment_days_per_month")
    if kpi_id == "deployment_frequency" and weekly is not None and monthly is not None:
        return dora.deployment_frequency_level(float(weekly), float(monthly), benchmark)
    return dora.performance_level(DORA_METRICS[kpi_id], value, benchmark)


def build_snapshots(tenant: Tenant, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    now = now or clock.now()
    log = RunLog(tenant.id)
    dictionary = kpis.load_dictionary()
    deliveries: dict[str, tuple[Delivered | None, str | None]] = {}
    contracted = set(contracts.CONTRACTS) | _catalog_contracts(tenant.id)
    for defn in dictionary.all():
        if defn.id in contracted:
            deliveries[defn.id] = latest_delivery(log, defn.id)
        else:
            deliveries[defn.id] = (None, not_measured_reason(defn))
    snapshots = {}
    rows = delivered_panels(log, tenant.id, deliveries)
    extra = panels_data.not_from_runs(tenant.id, now)  # services, OKRs, cost: no raw signal folding
    for period in PERIODS:
        rows[period].update(extra[period])
    for period in PERIODS:
        entries = {
            k: _kpi_entry(dictionary.get(k), period, d, r, tenant, now) for k, (d, r) in deliveries.items()
        }
        result = scoring.health({k: e["value"] for k, e in entries.items()}, dictionary=dictionary)
        before = scoring.health({k: e["previous"] for k, e in entries.items()}, dictionary=dictionary)
        snapshots[period] = {
            "tenant": {"id": tenant.id, "name": tenant.name, "environment": tenant.environment},
            "period": period,
            "computed_at": now.isoformat(),
            "dictionary_version": dictionary.version,
            "kpis": entries,
            "health": _health_summary(result) | {"previous": _previous_summary(before)},
            "breakdown": result.model_dump(mode="json"),
            "panels": rows[period],
        }
    return snapshots


def _previous_summary(result: scoring.HealthResult) -> dict[str, dict[str, Any]]:
    """The previous period's composite and dimensions (score, coverage), judged at refresh from the
    previous-window values the runs delivered: a delta is a trend only when both coverages agree."""
    c = result.composite
    out = {"composite": {"score": c.score, "known_weight": c.known_weight}}
    out |= {d.dimension: {"score": d.score, "known_weight": d.known_weight} for d in c.dimensions}
    return out


def _health_summary(result: scoring.HealthResult) -> dict[str, Any]:
    c = result.composite
    return {
        "score": c.score,
        "status": c.band.value,  # the band after the coverage rule (model/verdict.capped)
        "known_weight": c.known_weight,
        "partial": c.partial,
        "reason": c.reason,
        "missing": c.missing,
        "model_version": result.model_version,
        "dimensions": [
            {
                "id": d.dimension,
                "name": d.name,
                "weight": d.weight,
                "score": d.score,
                "status": d.band.value,
                "known_weight": d.known_weight,
                "partial": d.partial,
                "reason": d.reason,
            }
            for d in c.dimensions
        ],
    }


def refresh(tenant: Tenant, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    snaps = build_snapshots(tenant, now)
    ScoreStore(tenant.id).put_snapshots(snaps, now)  # all periods or none
    compliance_feed.record(tenant.id, snaps["7d"]["panels"].get("compliance"), now)
    return {"tenant_id": tenant.id, "periods": list(snaps), "computed_at": now.isoformat()}
