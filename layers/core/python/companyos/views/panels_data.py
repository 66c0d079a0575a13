"""Row data of the cockpit's non-KPI panels, computed at score refresh and stored in the snapshot.

Dashboards must read one precomputed item, so the rows behind incident lists, platform status,
deployments per service and the service map are folded from the stored signals here, when the
score refresh runs (`build(tenant_id, now)` → one dict per period, stored as `snapshot["panels"]`).

Each entry is either `{"available": True, ...rows..., "evidence": {...}}` or
`{"available": False, "reason": "..."}` — never invented numbers. The same folding functions serve
the drill-down endpoints (views/drilldown.py), which read the signals live.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from companyos import clock
from companyos.runs.contracts import PERIODS
from companyos.sources import retention
from companyos.store.repos import SignalStore, StoredSignal, TenantCatalog

MAX_ROWS = 25  # rows kept per list in a snapshot item (DynamoDB items stay far below 400 KB)
INCIDENT_LOOKBACK_DAYS = 90  # open incidents older than the period still show as open
PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5}


# ------------------------------------------------------------------------------ signal folding


def signals(tenant_id: str, kind: str, days: int, now: datetime) -> list[StoredSignal]:
    return list(SignalStore(tenant_id).query(kind, now - timedelta(days=days), now))


def signal_evidence(kind: str, rows: Iterable[StoredSignal], days: int, href: str) -> dict[str, Any]:
    """Evidence of a number folded from signals: which kind, how many, the newest, where to see them."""
    items = list(rows)
    latest = max((s.occurred_at for s in items), default=None)
    return {
        "type": "signals",
        "sources": [
            {
                "type": "signal",
                "object": f"{items[0].source if items else '?'}.{kind}",
                "count": len(items),
                "latest_at": latest.isoformat() if latest else None,
            }
        ],
        "window_days": days,
        "href": href,
    }


def fold_incidents(rows: Iterable[StoredSignal]) -> list[dict[str, Any]]:
    """PagerDuty incident events → one record per incident (newest first)."""
    by_id: dict[str, dict[str, Any]] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        a = s.attributes
        iid = str(a.get("incident_id") or s.entity or s.signal_id)
        inc = by_id.setdefault(
            iid,
            {
                "id": iid,
                "number": a.get("incident_number"),
                "title": a.get("title"),
                "service": s.service,
                "service_id": a.get("service_id") or s.entity,
                "service_name": a.get("service_summary"),
                "domain": a.get("domain"),
                "priority": None,
                "urgency": None,
                "triggered_at": a.get("incident_created_at"),
                "acknowledged_at": None,
                "resolved_at": None,
                "status": "triggered",
                "events": 0,
                "signal_ids": [],
            },
        )
        inc["events"] += 1
        inc["signal_ids"].append(s.signal_id)
        inc["title"] = a.get("title") or inc["title"]
        inc["priority"] = a.get("priority") or inc["priority"]
        inc["urgency"] = a.get("urgency") or inc["urgency"]
        transition = a.get("transition") or str(a.get("event_type", "")).removeprefix("incident.")
        at = s.occurred_at.isoformat()
        if transition == "triggered":
            inc["triggered_at"] = inc["triggered_at"] or at
        elif transition == "acknowledged":
            inc["acknowledged_at"] = inc["acknowledged_at"] or at
            inc["status"] = "acknowledged" if inc["status"] != "resolved" else "resolved"
        elif transition == "resolved":
            inc["resolved_at"] = at
            inc["status"] = "resolved"
        inc["triggered_at"] = inc["triggered_at"] or at
    for inc in by_id.values():
        inc["duration_s"] = _seconds(inc["triggered_at"], inc["resolved_at"])
        inc["time_to_ack_s"] = _seconds(inc["triggered_at"], inc["acknowledged_at"])
    return sorted(by_id.values(), key=lambda i: str(i["triggered_at"]), reverse=True)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def deployment_rows(rows: Iterable[StoredSignal]) -> list[dict[str, Any]]:
    """GitHub deployment_status signals → deployments (newest first)."""
    out = []
    for s in rows:
        a = s.attributes
        out.append(
            {
                "id": str(a.get("deployment_id") or s.signal_id),
                "at": s.occurred_at.isoformat(),
                "repository": a.get("repository") or s.entity,
                "service": s.service,
                "domain": a.get("domain"),
                "environment": a.get("environment"),
                "state": a.get("state"),
                "succeeded": a.get("succeeded"),
                "sha": a.get("sha"),
                "ref": a.get("ref"),
                "signal_id": s.signal_id,
                "delivery_id": s.delivery_id,
            }
        )
    return sorted(out, key=lambda d: d["at"], reverse=True)


def is_production(dep: dict[str, Any]) -> bool:
    return str(dep.get("environment") or "").lower() in ("production", "prod")


def catalog_services(tenant_id: str) -> dict[str, dict[str, Any]]:
    """Services known to the catalog (via source mappings), with their domain and mapped entities."""
    cat = TenantCatalog(tenant_id)
    services: dict[str, dict[str, Any]] = {}
    for source in ("github", "pagerduty", "prometheus"):
        for entity, m in sorted(cat.source_map(source).items()):
            svc = services.setdefault(
                m["service"], {"service": m["service"], "domain": m.get("domain"), "entities": []}
            )
            svc["entities"].append({"source": source, "entity": entity})
    return services


# ------------------------------------------------------------------------------ per-period panel rows


def _incidents_entry(
    tenant_id: str, incident_signals: list[StoredSignal], days: int, now: datetime
) -> dict[str, Any]:
    if not incident_signals:
        return {
            "available": False,
            "reason": "no PagerDuty incident events ingested in the last "
            f"{max(days, INCIDENT_LOOKBACK_DAYS)} days",
        }
    folded = fold_incidents(incident_signals)
    since = (now - timedelta(days=days)).isoformat()
    recent = [i for i in folded if str(i["triggered_at"]) >= since or i["status"] != "resolved"]
    open_ = [i for i in folded if i["status"] != "resolved"]
    p1 = [i for i in folded if i["priority"] == "P1"]
    return {
        "available": True,
        "window_days": days,
        "open": len(open_),
        "in_window": len([i for i in folded if str(i["triggered_at"]) >= since]),
        "last_p1_at": p1[0]["triggered_at"] if p1 else None,
        "items": [{k: v for k, v in i.items() if k != "signal_ids"} for i in recent[:MAX_ROWS]],
        "evidence": signal_evidence(
            "incident",
            incident_signals,
            max(days, INCIDENT_LOOKBACK_DAYS),
            f"/api/drill/incidents?tenant={tenant_id}",
        ),
    }


def _deployments_entry(
    tenant_id: str, deploy_signals: list[StoredSignal], days: int, now: datetime, period: str
) -> dict[str, Any]:
    since = (now - timedelta(days=days)).isoformat()
    deps = [d for d in deployment_rows(deploy_signals) if d["at"] >= since and is_production(d)]
    if not deps:
        return {"available": False, "reason": f"no production deployments ingested in the last {days} days"}
    today = now.date().isoformat()
    per_service: dict[str, dict[str, Any]] = {}
    for d in deps:
        key = d["service"] or d["repository"] or "unmapped"
        svc = per_service.setdefault(
            key,
            {"service": key, "mapped": d["service"] is not None, "total": 0, "failed": 0, "last_at": None},
        )
        svc["total"] += 1
        svc["failed"] += 0 if d["succeeded"] else 1
        svc["last_at"] = max(svc["last_at"] or "", d["at"])
    todays = [d for d in deps if d["at"].startswith(today)]
    return {
        "available": True,
        "window_days": days,
        "total": len(deps),
        "failed": sum(1 for d in deps if not d["succeeded"]),
        "today": {
            "date": today,
            "total": len(todays),
            "failed": sum(1 for d in todays if not d["succeeded"]),
        },
        "per_service": sorted(per_service.values(), key=lambda s: s["service"]),
        "recent": deps[:MAX_ROWS],
        "evidence": signal_evidence(
            "deployment_status",
            [s for s in deploy_signals if s.occurred_at.isoformat() >= since],
            days,
            f"/api/drill/changes?tenant={tenant_id}&period={period}",
        ),
    }


def fetch(tenant_id: str, days: int, now: datetime) -> dict[str, Any]:
    """Every signal the panel rows are folded from, over `days` (one Query per kind)."""
    store = SignalStore(tenant_id)
    return {
        "services": catalog_services(tenant_id),
        "deployment": signals(tenant_id, "deployment", days, now),
        "incident": signals(tenant_id, "incident", max(days, INCIDENT_LOOKBACK_DAYS), now),
        SLO_KIND: signals(tenant_id, SLO_KIND, days, now),
        SAMPLE_KIND: signals(tenant_id, SAMPLE_KIND, CAPACITY_DAYS, now),
        "vulnerability": signals(tenant_id, "vulnerability", days, now),
        "open_vulnerabilities": store.findings("vulnerability", status="open"),
        "secret_finding": signals(tenant_id, "secret_finding", max(days, SECURITY_EVENTS_DAYS), now),
        "authz_decision": signals(tenant_id, "authz_decision", SECURITY_EVENTS_DAYS, now),
        "okr_progress": signals(tenant_id, "okr_progress", OKR_LOOKBACK_DAYS, now),
        "cost_run": latest_cost_run(tenant_id),
        "nps_response": signals(tenant_id, "nps_response", days, now),
        "activity": {k: signals(tenant_id, k, days, now) for k in ACTIVITY_KINDS},
    }


def _rows(tenant_id: str, period: str, now: datetime, data: dict[str, Any]) -> dict[str, Any]:
    days = PERIODS[period]
    lookback = now - timedelta(days=max(days, INCIDENT_LOOKBACK_DAYS))
    services = data["services"]
    slo_table, burn = _slo_entries(tenant_id, data[SLO_KIND], days, now)
    return {
        "services": {
            "available": bool(services),
            "reason": None if services else "no services are mapped in the catalog yet",
            "items": list(services.values())[:50],
        },
        "incidents": _incidents_entry(
            tenant_id, [s for s in data["incident"] if s.occurred_at >= lookback], days, now
        ),
        "deployments": _deployments_entry(tenant_id, data["deployment"], days, now, period),
        "slo": slo_table,
        "burn": burn,
        "capacity": _capacity_entry(tenant_id, data[SAMPLE_KIND], now),
        "vulns": _vulns_entry(data["open_vulnerabilities"], data["vulnerability"], days, now),
        "security_events": _security_events_entry(data["secret_finding"], data["authz_decision"], now),
        "cost": _cost_entry(tenant_id, data["cost_run"]),
        "infra_cost": _infra_cost_entry(tenant_id, data["cost_run"]),
        "okrs": _okrs_entry(data["okr_progress"], now),
        "features": _features_entry(data["activity"], days, now),
        "funnel": _funnel_entry(data["activity"], days, now),
        "nps": _nps_entry(data["nps_response"], days, now),
    }


def build_one(tenant_id: str, period: str, now: datetime) -> dict[str, Any]:
    """The rows of one period, read live (the service map drill-down)."""
    return _rows(tenant_id, period, now, fetch(tenant_id, PERIODS[period], now))


def build(tenant_id: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Per period: the panel rows the dashboards read from the snapshot (`snapshot["panels"]`)."""
    now = now or clock.now()
    data = fetch(tenant_id, max(PERIODS.values()), now)
    return {p: _rows(tenant_id, p, now, data) for p in PERIODS}


# ------------------------------------------------------------------------------ signal-fed panels
#
# The rows below are stored ready-made in their panel's kind (`table`: columns + items with cells,
# `bars`, `timeline`, `funnel`, `distribution`), so `views/panels.stored` serves them as they are.
# Every item with a numeric value carries `signals` evidence: which kind, how many, the newest.

SLO_KIND = "slo_window"
SERIES_POINTS = 30  # burn series points kept per service (the snapshot item stays small)
SECURITY_EVENTS_DAYS = 7  # the wireframe's "Security events (7d)"
OKR_LOOKBACK_DAYS = 120  # key results updated in the last quarter or so are current
SEVERITIES = ("critical", "high", "medium", "low")
NPS_CATEGORIES = (
    ("detractor", "Detractors (0-6)"),
    ("passive", "Passives (7-8)"),
    ("promoter", "Promoters (9-10)"),
)
ACTIVITY_KINDS = ("product_session", "product_active", "feature_used", "flag_evaluation")


def evidence_of(
    parts: Iterable[tuple[str, int, datetime | None]], days: int | None, href: str | None = None
) -> dict[str, Any]:
    """Signals evidence from (object, count, latest) triples (object = `<source>.<kind>`)."""
    return {
        "type": "signals",
        "sources": [
            {
                "type": "signal",
                "object": obj,
                "count": count,
                "latest_at": latest.isoformat() if latest else None,
            }
            for obj, count, latest in parts
        ],
        "window_days": days,
        "href": href,
    }


def _parts(kind: str, rows: list[StoredSignal]) -> list[tuple[str, int, datetime | None]]:
    by_source: dict[str, list[StoredSignal]] = {}
    for s in rows:
        by_source.setdefault(s.source, []).append(s)
    return [
        (f"{src}.{kind}", len(items), max(s.occurred_at for s in items))
        for src, items in sorted(by_source.items())
    ]


def _ev(kind: str, rows: list[StoredSignal], days: int | None, href: str | None = None) -> dict[str, Any]:
    return evidence_of(_parts(kind, rows) or [(f"?.{kind}", 0, None)], days, href)


def _in(rows: Iterable[StoredSignal], since: datetime) -> list[StoredSignal]:
    return [s for s in rows if s.occurred_at >= since]


def _band(kpi_id: str, value: float | None) -> str:
    """Status of a value on a KPI's target/critical scale (the dictionary's thresholds)."""
    from companyos.model import kpis, normalise, scoring

    if value is None:
        return "unknown"
    return scoring.band(normalise.normalise(kpis.load_dictionary().get(kpi_id), value)).value


def _pct(v: float | None, digits: int = 1) -> str | None:
    return None if v is None else f"{v:.{digits}f}%"


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}


# ---------------------------------------------------------------- SLOs (Prometheus slo_window)


def slo_objective() -> float:
    """The SLO objective as a ratio: the dictionary's `slo_attainment` target (99.9 → 0.999), the
    one the slo_attainment and error_budget_burn_rate runs apply (runs/formulas_slo.py)."""
    from companyos.runs.formulas_slo import default_objective

    return default_objective()


def slo_counts(rows: list[StoredSignal]) -> dict[str, dict[str, Any]]:
    """Per service (the catalog's name, else the series' label): good/total sums over its days,
    each day from the coarsest window length with data that day (never two window lengths added
    together) — the service-days the slo_attainment / error_budget_burn_rate runs fold
    (`formulas_slo.service_days`), with the signals behind them and the per-day points."""
    from companyos.runs.formulas import SignalRow
    from companyos.runs.formulas_slo import GOOD, TOTAL, service_day_windows, usable_counts, window_day

    by_service: dict[str, list[StoredSignal]] = {}
    for s in rows:
        if s.attributes.get("metric") in (GOOD, TOTAL) and s.attributes.get("value") is not None:
            by_service.setdefault(s.service or s.entity or "unmapped", []).append(s)
    named = [
        SignalRow(s.kind, s.signal_id, s.occurred_at, s.attributes, svc)
        for svc, items in by_service.items()
        for s in items
    ]
    chosen = service_day_windows(named)
    out: dict[str, dict[str, Any]] = {}
    for (svc, day), (step, *counts) in sorted(chosen.items()):
        counted = usable_counts(*counts)
        if counted is None:
            continue
        cur = out.setdefault(svc, {"good": 0.0, "total": 0.0, "points": [], "steps": set()})
        cur["good"] += counted[0]
        cur["total"] += counted[1]
        cur["points"].append((day, *counted))
        cur["steps"].add((day, step))

    def day_and_step(s: StoredSignal) -> tuple[Any, int]:
        step = int(s.attributes.get("step_s") or 0)
        return window_day(s.occurred_at, step), step

    for svc, cur in out.items():
        steps = cur.pop("steps")  # evidence: the windows counted, not those a coarser window replaced
        cur["signals"] = [s for s in by_service[svc] if day_and_step(s) in steps]
        widest = max(cur["signals"], key=lambda s: int(s.attributes.get("step_s") or 0))
        cur["window"] = widest.attributes.get("window")
    return out


def _slo_entries(
    tenant_id: str, slo_signals: list[StoredSignal], days: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    from companyos.model import slo

    rows = _in(slo_signals, now - timedelta(days=days))
    counts = slo_counts(rows)
    if not counts:
        why = f"no Prometheus SLO good/total windows (slo_window) ingested in the last {days} days"
        return _unavailable(why), _unavailable(why)
    objective = slo_objective()
    table_items, burn_items = [], []
    for svc, c in sorted(counts.items()):
        att = slo.attainment(c["good"], c["total"])
        budget = slo.error_budget_remaining(c["good"], c["total"], objective)
        burn = slo.burn_rate(c["good"], c["total"], objective)
        ev = _ev(SLO_KIND, c["signals"], days, f"/api/drill/service/{svc}?tenant={tenant_id}")
        att_pct = None if att is None else 100.0 * att
        status = _band("slo_attainment", att_pct)
        if budget is not None and budget <= 0:
            status = "critical"  # an overspent budget is critical whatever the attainment band
        table_items.append(
            {
                "id": svc,
                "service": svc,
                "cells": {
                    "service": svc,
                    "target": _pct(100.0 * objective, 2),
                    "actual": _pct(att_pct, 3),
                    "budget_left": _pct(None if budget is None else 100.0 * budget),
                    "burn_rate": None if burn is None else f"{burn:.2f}x",
                    "requests": f"{c['total']:,.0f}",
                },
                "objective": objective,
                "value": att_pct,
                "budget_left": budget,
                "burn_rate": burn,
                "good": c["good"],
                "total": c["total"],
                "window": c["window"],
                "status": status,
                "reason": None if att is not None else "no requests in the window",
                "evidence": ev,
                "drill": {"kind": "service", "id": svc},
            }
        )
        series = [
            {"t": at.isoformat(), "v": round(slo.burn_rate(g, t, objective) or 0.0, 4)}
            for at, g, t in c["points"][-SERIES_POINTS:]
            if t > 0
        ]
        burn_items.append(
            {
                "id": svc,
                "label": svc,
                "value": burn,
                "display": None if burn is None else f"{burn:.2f}x",
                "max": max(6.0, burn or 0.0),
                "status": _band("error_budget_burn_rate", burn),
                "reason": None if burn is not None else "no requests in the window",
                "series": series,
                "evidence": ev,
            }
        )
    met = sum(1 for i in table_items if i["status"] in ("excellent", "healthy"))
    summary = f"{met} of {len(table_items)} services meet the {100 * objective:g}% objective over {days} days"
    columns = [
        {"key": "service", "label": "Service"},
        {"key": "target", "label": "Target", "numeric": True},
        {"key": "actual", "label": "Actual", "numeric": True},
        {"key": "budget_left", "label": "Budget left", "numeric": True},
        {"key": "burn_rate", "label": "Burn rate", "numeric": True},
        {"key": "requests", "label": "Requests", "numeric": True},
    ]
    evidence = _ev(SLO_KIND, rows, days)
    return (
        {"available": True, "window_days": days, "objective": objective, "columns": columns,
         "items": table_items[:MAX_ROWS], "summary": summary, "evidence": evidence},
        {"available": True, "window_days": days, "objective": objective, "items": burn_items[:MAX_ROWS],
         "summary": "error-budget burn rate per service (1x spends the budget exactly over the window)",
         "evidence": evidence},
    )  # fmt: skip


# ---------------------------------------------------------------- capacity (Prometheus utilisation)

SAMPLE_KIND = "prom_sample"
CAPACITY_DAYS = 1  # the Ops wireframe's "Capacity status": the last 24 hours, whatever the period
CAPACITY_METRICS = {"cpu_utilisation": "CPU", "memory_utilisation": "Memory"}
SATURATED_PCT, BUSY_PCT = 90.0, 80.0  # of the limit: critical / warning


def _capacity_status(pct: float) -> tuple[str, str | None]:
    """Saturation is the risk on the high side; on the low side the infra_utilization KPI's
    critical threshold (40%) marks a service as over-provisioned (money, not risk: attention)."""
    from companyos.model import kpis

    idle = kpis.load_dictionary().get("infra_utilization").critical
    if pct >= SATURATED_PCT:
        return "critical", f"saturated: at or above {SATURATED_PCT:g}% of its limit"
    if pct >= BUSY_PCT:
        return "warning", f"busy: at or above {BUSY_PCT:g}% of its limit"
    if pct < idle:
        return "attention", f"over-provisioned: below {idle:g}% of its limit"
    return "healthy", None


def _capacity_entry(tenant_id: str, samples: list[StoredSignal], now: datetime) -> dict[str, Any]:
    """Per service and resource (CPU, memory): the latest used share of the limit (usage / limit,
    the samples the infra_utilization run reads), its peak and mean over the last 24 h, and the
    hourly series; the most utilised first."""
    from companyos.runs.formulas import SignalRow
    from companyos.runs.formulas_slo import utilisation_samples

    since = now - timedelta(days=CAPACITY_DAYS)
    rows = [s for s in _in(samples, since) if s.attributes.get("metric") in CAPACITY_METRICS]
    by_series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    signals_of: dict[str, list[StoredSignal]] = {}
    for s in rows:
        signals_of.setdefault(s.service or s.entity or "unmapped", []).append(s)
    named = [
        SignalRow(s.kind, s.signal_id, s.occurred_at, s.attributes, svc)
        for svc, items in signals_of.items()
        for s in items
    ]
    for svc, metric, at, ratio in utilisation_samples(named, tuple(CAPACITY_METRICS)):
        by_series.setdefault((svc, metric), []).append((at, 100.0 * ratio))
    if not by_series:
        return _unavailable(
            "no CPU/memory utilisation samples (prom_sample cpu_utilisation / memory_utilisation) "
            f"pulled from Prometheus in the last {24 * CAPACITY_DAYS} hours"
        )
    items: list[dict[str, Any]] = []
    for (svc, metric), points in by_series.items():
        points.sort()
        at, latest = points[-1]
        values = [v for _, v in points]
        status, reason = _capacity_status(latest)
        behind = [s for s in signals_of[svc] if s.attributes.get("metric") == metric]
        href = f"/api/drill/service/{svc}?tenant={tenant_id}"
        items.append(
            {
                "id": f"{svc}:{metric}",
                "label": f"{svc} · {CAPACITY_METRICS[metric]}",
                "service": svc,
                "resource": metric,
                "value": round(latest, 1),
                "display": f"{latest:.0f}%",
                "max": 100.0,
                "at": at.isoformat(),
                "peak": round(max(values), 1),
                "mean": round(sum(values) / len(values), 1),
                "status": status,
                "reason": f"{reason}; peak {max(values):.0f}% in 24 h" if reason else None,
                "series": [{"t": t.isoformat(), "v": round(v, 1)} for t, v in points[-SERIES_POINTS:]],
                "evidence": _ev(SAMPLE_KIND, behind, CAPACITY_DAYS, href),
                "drill": {"kind": "service", "id": svc},
            }
        )
    items.sort(key=lambda i: (-i["value"], i["id"]))
    busy = sum(1 for i in items if i["status"] in ("critical", "warning"))
    idle = sum(1 for i in items if i["status"] == "attention")
    return {
        "available": True,
        "window_days": CAPACITY_DAYS,
        "items": items[:MAX_ROWS],
        "summary": f"{busy} of {len(items)} service resources at or above {BUSY_PCT:g}% of their limit, "
        f"{idle} over-provisioned (latest sample of the last 24 h)",
        "evidence": _ev(SAMPLE_KIND, rows, CAPACITY_DAYS),
    }


# ---------------------------------------------------------------- vulnerabilities (finding state)


def vuln_sla_days() -> dict[str, int]:
    from companyos.runs.formulas import DEFAULT_VULN_SLA_DAYS

    return dict(DEFAULT_VULN_SLA_DAYS)


def _vulns_entry(
    open_states: list[Any], vuln_signals: list[StoredSignal], days: int, now: datetime
) -> dict[str, Any]:
    """Open findings by severity (current state), their age against the SLA, new in the period."""
    opened = [
        s for s in _in(vuln_signals, now - timedelta(days=days))
        if s.attributes.get("transition") in ("opened", "reopened")
    ]  # fmt: skip
    if not open_states and not vuln_signals:
        return _unavailable("no vulnerability scan reports (Trivy/Snyk) ingested")
    sla = vuln_sla_days()
    items: list[dict[str, Any]] = []
    total_open = total_overdue = 0
    for sev in SEVERITIES:
        states = [st for st in open_states if str(st.attributes.get("severity", "low")) == sev]
        ages = [(now - st.first_seen).total_seconds() / 86400 for st in states]
        overdue = sum(1 for a in ages if a > sla[sev])
        near = sum(1 for a in ages if 0.75 * sla[sev] < a <= sla[sev])
        new = [s for s in opened if s.attributes.get("severity") == sev]
        if overdue:
            status = "critical" if sev in ("critical", "high") else "warning"
        elif near:
            status = "attention"
        else:
            status = "healthy"
        scanners = sorted({st.scanner for st in states})
        latest = max((st.changed_at for st in states), default=None)
        parts = [
            (f"{sc}.vulnerability", sum(1 for st in states if st.scanner == sc), latest) for sc in scanners
        ]
        parts += [(f"{obj} (new)", n, at) for obj, n, at in _parts("vulnerability", new)]
        oldest = max(ages, default=None)
        total_open += len(states)
        total_overdue += overdue
        items.append(
            {
                "id": sev,
                "cells": {
                    "severity": sev.capitalize(),
                    "open": str(len(states)),
                    "new": str(len(new)),
                    "oldest_days": "—" if oldest is None else f"{oldest:.0f} d",
                    "sla": f"{sla[sev]} d",
                    "overdue": str(overdue),
                },
                "severity": sev,
                "value": len(states),
                "open": len(states),
                "new_in_period": len(new),
                "oldest_age_days": None if oldest is None else round(oldest, 1),
                "sla_days": sla[sev],
                "overdue": overdue,
                "sla_status": "breached" if overdue else ("due_soon" if near else "within"),
                "status": status,
                "reason": f"{overdue} open past the {sla[sev]}-day SLA" if overdue else None,
                "evidence": evidence_of(parts or [("finding_state.vulnerability", 0, None)], None),
            }
        )
    return {
        "available": True,
        "window_days": days,
        "sla_days": sla,
        "columns": [
            {"key": "severity", "label": "Severity"},
            {"key": "open", "label": "Open", "numeric": True},
            {"key": "new", "label": f"New ({days}d)", "numeric": True},
            {"key": "oldest_days", "label": "Oldest", "numeric": True},
            {"key": "sla", "label": "SLA", "numeric": True},
            {"key": "overdue", "label": "Past SLA", "numeric": True},
        ],
        "items": items,
        "summary": f"{total_open} open vulnerabilities, {total_overdue} past their SLA",
        "evidence": _ev("vulnerability", vuln_signals, None),
    }


# ---------------------------------------------------------------- security events


def _security_events_entry(
    secret_signals: list[StoredSignal], authz_signals: list[StoredSignal], now: datetime
) -> dict[str, Any]:
    days = SECURITY_EVENTS_DAYS
    since = now - timedelta(days=days)
    transitions = ("opened", "reopened", "fixed")
    secrets_ = [
        s for s in _in(secret_signals, since) if s.attributes.get("transition", "opened") in transitions
    ]
    denies = [
        s for s in _in(authz_signals, since)
        if s.attributes.get("result") == "deny" or s.attributes.get("allowed") is False
    ]  # fmt: skip
    if not secret_signals and not authz_signals:
        return _unavailable("no secret-scan findings (Gitleaks/Trivy) or OPA decision logs ingested")
    items: list[dict[str, Any]] = []
    for s in secrets_:
        a = s.attributes
        fixed = a.get("transition") == "fixed"
        items.append(
            {
                "id": s.signal_id,
                "at": s.occurred_at.isoformat(),
                "title": f"Secret {'removed' if fixed else 'detected'}: {a.get('rule') or 'secret'}"
                f" in {a.get('scope') or s.entity or '?'}",
                "severity": "High",
                "state": "fixed" if fixed else "open",
                "status": "healthy" if fixed else "critical",
                "service": s.service,
                "detail": " · ".join(
                    str(p) for p in (a.get("file"), a.get("scanner"), a.get("transition")) if p
                ),
                "evidence": _ev("secret_finding", [s], days),
            }
        )
    groups: dict[tuple[str, str, str], list[StoredSignal]] = {}
    for s in denies:
        a = s.attributes
        key = (
            s.occurred_at.date().isoformat(),
            str(a.get("app") or s.entity or "?"),
            str(a.get("path") or "?"),
        )
        groups.setdefault(key, []).append(s)
    for (day, app, path), rows in groups.items():
        latest = max(r.occurred_at for r in rows)
        items.append(
            {
                "id": f"deny:{day}:{app}:{path}",
                "at": latest.isoformat(),
                "title": f"{len(rows)} denied authorisation decision(s): {app} {path}",
                "severity": "Medium",
                "state": "denied",
                "status": "warning",
                "service": rows[0].service,
                "detail": f"OPA decisions on {day}",
                "count": len(rows),
                "evidence": _ev("authz_decision", rows, days),
            }
        )
    items.sort(key=lambda i: i["at"], reverse=True)
    open_secrets = sum(1 for i in items if i["state"] == "open")
    return {
        "available": True,
        "window_days": days,
        "secrets_detected": open_secrets,
        "denied_decisions": len(denies),
        "items": items[:MAX_ROWS],
        "summary": f"{open_secrets} secret(s) detected · {len(denies)} denied authorisation decision(s)"
        f" in the last {days} days",
        "evidence": evidence_of(
            _parts("secret_finding", secrets_) + _parts("authz_decision", denies)
            or [("?.secret_finding", 0, None)],
            days,
        ),
    }


# ---------------------------------------------------------------- cost (CUR 2.0, from the cost KPI run)
#
# The Ops "Infra cost (MTD)" tile and the cost breakdown come from the latest delivered run of the
# `infra_cost_mtd` contract (runs/packs/cost-contracts-v1.yaml): its month-to-date value and the
# breakdowns (by service, by team) its lake sources delivered. The refresh reads the run log only
# (no Athena/DuckDB at refresh); every number carries the run as evidence plus the CUR billing
# period and the hash of the SQL that produced it.

COST_KPI = "infra_cost_mtd"
COST_PLAN_WARN_PCT = 10.0  # over plan (or over last month to date) by more than this: warning


def cur_lake_name(tenant_id: str) -> str:
    """The lake holding a tenant's CUR 2.0 export (`runs/lake.register`; the demo registers one)."""
    from companyos.runs import contracts, lake

    return lake.resolve_name(contracts.get(COST_KPI).formula.lake, tenant_id)


def latest_cost_run(tenant_id: str) -> tuple[Any, str | None]:
    """(Delivered run of infra_cost_mtd or None, the reason when None)."""
    from companyos.store.repos import RunLog
    from companyos.views.snapshots import latest_delivery  # snapshots imports this module

    return latest_delivery(RunLog(tenant_id), COST_KPI)


def _run_evidence(tenant_id: str, d: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """The run's evidence as KPI tiles carry it (views/snapshots.py), plus what the number read."""
    from companyos.views.snapshots import _evidence

    return {
        **_evidence(d, tenant_id),
        "type": "kpi_run",
        "kpi_id": COST_KPI,
        "time_range": d.delivery.get("time_range"),
        **extra,
    }


def _cost_status(change_pct: float | None) -> str:
    if change_pct is None:
        return "unknown"
    return "healthy" if change_pct <= 0 else ("attention" if change_pct <= COST_PLAN_WARN_PCT else "warning")


def _infra_cost_entry(tenant_id: str, cost_run: tuple[Any, str | None]) -> dict[str, Any]:
    """The tile: month-to-date cost, against the plan (budget_vs_actual) if the tenant set one,
    else against the previous month to the same day."""
    d, reason = cost_run
    if d is None:
        return _unavailable(f"{COST_KPI} (AWS CUR 2.0 cost): {reason}")
    window = d.delivery["values"]["7d"]  # every period of a month-to-date contract is the same
    value, previous = window.get("value"), window.get("previous")
    if value is None:
        return _unavailable(window.get("reason") or "no cost in the month to date")
    plan = (d.delivery.get("extension_values") or {}).get("budget_vs_actual")
    if plan and plan.get("variance_pct") is not None:
        change, basis = plan["variance_pct"], "plan"
        note = f"{'▲' if change > 0 else '▼'} {abs(change):.0f}% vs plan (${plan['budget']:,.0f} to date)"
    elif previous:
        change, basis = 100.0 * (value - previous) / abs(previous), "last_month"
        note = f"{'▲' if change > 0 else '▼'} {abs(change):.0f}% vs last month to date (${previous:,.0f})"
    else:
        change, basis, note = None, None, "no plan and no cost last month to compare with"
    periods = sorted({p for b in d.delivery.get("breakdowns", []) for p in b.get("billing_periods", [])})
    daily: dict[str, Any] = next((s for s in d.delivery.get("sources", []) if not s.get("role")), {})
    return {
        "available": True,
        "value": round(float(value), 2),
        "previous": previous,
        "display": f"${value:,.0f}",
        "change_pct": change,
        "basis": basis,
        "status": _cost_status(change) if change is not None else "attention",
        "reason": note,
        "series": window.get("series", []),
        "evidence": _run_evidence(
            tenant_id, d, {"billing_periods": periods, "sql_hash": daily.get("sql_hash")}
        ),
    }


def _cost_entry(tenant_id: str, cost_run: tuple[Any, str | None]) -> dict[str, Any]:
    """The cost breakdown panel: month-to-date cost by AWS service and by team (tag `user_team`)."""
    d, reason = cost_run
    if d is None:
        return _unavailable(f"{COST_KPI} (AWS CUR 2.0 cost): {reason}")
    breakdowns = d.delivery.get("breakdowns") or []
    if not any(b.get("items") for b in breakdowns):
        return _unavailable("the cost run delivered no cost breakdown for the month to date")
    items = []
    for b in breakdowns:
        group = str(b["object"]).rsplit("_by_", 1)[-1]  # cur2.amortized_cost_by_service → service
        ev = _run_evidence(
            tenant_id,
            d,
            {"billing_periods": b["billing_periods"], "sql_hash": b["sql_hash"], "range": b["range"]},
        )
        top = max((i["value"] for i in b["items"]), default=0.0)
        for i in b["items"]:
            share = round(100.0 * i["value"] / b["total"], 1) if b["total"] else None
            items.append(
                {
                    "id": f"{group}:{i['dimension']}",
                    "group": group,
                    "label": f"{group.capitalize()}: {i['dimension']}",
                    "value": round(i["value"], 2),
                    "display": f"${i['value']:,.0f}" + (f" ({share:.0f}%)" if share is not None else ""),
                    "share": share,
                    "max": round(top, 2),
                    "status": "healthy",
                    "reason": None,
                    "evidence": ev,
                }
            )
    first = breakdowns[0]
    start, end = first["range"]
    return {
        "available": True,
        "currency": "USD",
        "total": round(first["total"], 2),
        "range": first["range"],
        "billing_periods": first["billing_periods"],
        "items": items,
        "summary": f"${first['total']:,.0f} amortized, month to date ({start} to {end}), by service and team",
        "evidence": _run_evidence(tenant_id, d, {"billing_periods": first["billing_periods"]}),
    }


# ---------------------------------------------------------------- OKR progress


def _okr_expected(period: str | None, now: datetime) -> float | None:
    """Share of an OKR period elapsed (2025-Q3, 2025-H1, 2025), or None if not parseable."""
    import re

    m = re.fullmatch(r"(\d{4})(?:-(Q[1-4]|H[12]))?", str(period or ""))
    if not m:
        return None
    year, part = int(m.group(1)), m.group(2)
    first, months = 1, 12
    if part and part[0] == "Q":
        first, months = 3 * (int(part[1]) - 1) + 1, 3
    elif part:
        first, months = 6 * (int(part[1]) - 1) + 1, 6
    start = datetime(year, first, 1, tzinfo=UTC)
    end_month = first + months
    end = datetime(year + (end_month > 12), (end_month - 1) % 12 + 1, 1, tzinfo=UTC)
    return min(1.0, max(0.0, (now - start) / (end - start)))


def _okrs_entry(okr_signals: list[StoredSignal], now: datetime) -> dict[str, Any]:
    rows = _in(okr_signals, now - timedelta(days=OKR_LOOKBACK_DAYS))
    if not rows:
        return _unavailable(f"no OKR progress updates ingested in the last {OKR_LOOKBACK_DAYS} days")
    latest: dict[str, StoredSignal] = {}
    for s in sorted(rows, key=lambda r: r.occurred_at):
        latest[str(s.attributes.get("key_result_id") or s.entity or s.signal_id)] = s
    items = []
    for kr, s in sorted(latest.items(), key=lambda kv: (str(kv[1].attributes.get("objective_id")), kv[0])):
        a = s.attributes
        progress = a.get("progress")
        pct = None if progress is None else 100.0 * float(progress)
        expected = _okr_expected(a.get("period"), now)
        if pct is None:
            status = "unknown"
        elif expected is None or pct >= 100.0 * expected - 10:
            status = "healthy"
        elif pct >= 100.0 * expected - 25:
            status = "attention"
        else:
            status = "warning"
        updates = [r for r in rows if str(r.attributes.get("key_result_id") or r.entity) == kr]
        items.append(
            {
                "id": kr,
                "label": f"{a.get('objective') or a.get('objective_id')}: {a.get('key_result') or kr}",
                "objective_id": a.get("objective_id"),
                "period": a.get("period"),
                "owner": a.get("owner"),
                "value": pct,
                "display": _pct(pct, 0),
                "max": 100,
                "current": a.get("current_value"),
                "target": a.get("target_value"),
                "expected": None if expected is None else round(100.0 * expected, 1),
                "confidence": a.get("confidence"),
                "as_of": s.occurred_at.isoformat(),
                "status": status,
                "reason": None if pct is not None else "the update carries no progress",
                "evidence": _ev("okr_progress", updates, OKR_LOOKBACK_DAYS),
            }
        )
    on_track = sum(1 for i in items if i["status"] == "healthy")
    return {
        "available": True,
        "items": items[:MAX_ROWS],
        "summary": f"{on_track} of {len(items)} key results on track for the time elapsed",
        "evidence": _ev("okr_progress", rows, OKR_LOOKBACK_DAYS),
    }


# ---------------------------------------------------------------- product: features, funnel, NPS


def _users(rows: Iterable[StoredSignal]) -> set[str]:
    return {str(s.attributes["user_id"]) for s in rows if s.attributes.get("user_id")}


def telemetry_window(days: int) -> tuple[int, str]:
    """Raw product telemetry (analytics events, flag evaluations) is kept 30 days: a longer period's
    per-feature table and funnel cover the last 30 days and say so (the KPI tiles read the daily
    rollup for longer windows)."""
    rule = retention.of_kind("product_active")
    raw_days = rule.days if rule else days
    if days <= raw_days:
        return days, f"in {days} days"
    return raw_days, f"in the last {raw_days} days (raw product telemetry is kept {raw_days} days)"


def flag_enabled(s: StoredSignal) -> bool:
    """A flag evaluation served the feature: a boolean flag's `true`, else a non-default variation."""
    value = s.attributes.get("value")
    return value if isinstance(value, bool) else s.attributes.get("is_default") is False


def _features_entry(activity: dict[str, list[StoredSignal]], days: int, now: datetime) -> dict[str, Any]:
    """Per feature: analytics adoption (its users / active users); per flag without usage events: the
    spec's flag adoption ratio (evaluations that served the feature / all its evaluations)."""
    days, span = telemetry_window(days)
    since = now - timedelta(days=days)
    used = _in(activity["feature_used"], since)
    flags = _in(activity["flag_evaluation"], since)
    if not used and not flags:
        return _unavailable(f"no feature_used events or flag evaluations ingested {span}")
    active_rows = _in(activity["product_active"], since) + _in(activity["product_session"], since)
    active = _users(active_rows) | _users(used)
    by_feature: dict[str, list[StoredSignal]] = {}
    for s in used:
        by_feature.setdefault(str(s.attributes.get("feature") or "?"), []).append(s)
    by_flag: dict[str, list[StoredSignal]] = {}
    for s in flags:
        by_flag.setdefault(str(s.attributes.get("flag") or s.entity or "?"), []).append(s)
    items: list[dict[str, Any]] = []
    for name in sorted(set(by_feature) | set(by_flag)):
        f_rows, g_rows = by_feature.get(name, []), by_flag.get(name, [])
        users = _users(f_rows)
        on = sum(1 for s in g_rows if flag_enabled(s))
        flag_share = 100.0 * on / len(g_rows) if g_rows else None
        usage = 100.0 * len(users) / len(active) if active and f_rows else None
        adoption = usage if f_rows else flag_share
        contexts = {s.attributes.get("context_hash") for s in g_rows if s.attributes.get("context_hash")}
        served = {s.attributes.get("context_hash") for s in g_rows if flag_enabled(s)} - {None}
        parts = _parts("feature_used", f_rows) + _parts("flag_evaluation", g_rows)
        if active_rows and f_rows:
            parts += _parts("product_active", _in(activity["product_active"], since))
        items.append(
            {
                "id": name,
                "cells": {
                    "feature": name,
                    "users": str(len(users)) if f_rows else f"{len(served)} of {len(contexts)} evaluated",
                    "adoption": _pct(adoption),
                    "events": str(len(f_rows)) if f_rows else "—",
                    "evaluations": str(len(g_rows)) if g_rows else "—",
                    "flag_on": _pct(flag_share) if g_rows else "—",
                },
                "value": adoption,
                "basis": "usage" if f_rows else "flag",
                "users": len(users),
                "active_users": len(active),
                "events": len(f_rows),
                "flag_evaluations": len(g_rows),
                "flag_contexts": len(contexts),
                "flag_served_contexts": len(served),
                "flag_non_default_share": round(flag_share, 1) if flag_share is not None else None,
                "status": _band("feature_adoption_rate", adoption),
                "reason": None if f_rows else "flag adoption: evaluations that served the feature / all"
                " evaluations (no feature_used events for it)",
                "evidence": evidence_of(parts, days),
            }
        )  # fmt: skip
    items.sort(key=lambda i: (-float(i["value"] if i["value"] is not None else -1), str(i["id"])))
    return {
        "available": True,
        "window_days": days,
        "active_users": len(active),
        "columns": [
            {"key": "feature", "label": "Feature"},
            {"key": "users", "label": "Users", "numeric": True},
            {"key": "adoption", "label": "Adoption", "numeric": True},
            {"key": "events", "label": "Uses", "numeric": True},
            {"key": "evaluations", "label": "Flag evaluations", "numeric": True},
            {"key": "flag_on", "label": "Flag served on", "numeric": True},
        ],
        "items": items[:MAX_ROWS],
        "summary": f"{len(by_feature)} features used by {len(_users(used))} of {len(active)} active users"
        f", {len(by_flag)} flags evaluated {span}",
        "evidence": evidence_of(_parts("feature_used", used) + _parts("flag_evaluation", flags), days),
    }


def _funnel_entry(activity: dict[str, list[StoredSignal]], days: int, now: datetime) -> dict[str, Any]:
    """Distinct users: had a session → were active → used a feature (each step within the previous)."""
    days, span = telemetry_window(days)
    since = now - timedelta(days=days)
    sessions = _in(activity["product_session"], since)
    if not sessions:
        return _unavailable(f"no product sessions ingested {span}")
    active_rows = _in(activity["product_active"], since)
    used_rows = _in(activity["feature_used"], since)
    s_users = _users(sessions)
    a_users = _users(active_rows) & s_users
    f_users = _users(used_rows) & a_users
    steps = (
        ("sessions", "Started a session", s_users, "product_session", sessions),
        ("active", "Active", a_users, "product_active", active_rows),
        ("feature_used", "Used a feature", f_users, "feature_used", used_rows),
    )
    top = len(s_users)
    items = [
        {
            "id": sid,
            "label": label,
            "value": len(users),
            "share": round(100.0 * len(users) / top, 1) if top else None,
            "display": f"{len(users):,} users",
            "evidence": _ev(kind, rows, days),
        }
        for sid, label, users, kind, rows in steps
    ]
    return {
        "available": True,
        "window_days": days,
        "items": items,
        "summary": f"distinct users {span}; each step counts users of the step before",
        "evidence": evidence_of(
            _parts("product_session", sessions) + _parts("product_active", active_rows)
            + _parts("feature_used", used_rows), days),
    }  # fmt: skip


def _nps_entry(nps_signals: list[StoredSignal], days: int, now: datetime) -> dict[str, Any]:
    rows = _in(nps_signals, now - timedelta(days=days))
    if not rows:
        return _unavailable(f"no NPS survey responses ingested in the last {days} days")
    total = len(rows)
    by_cat: dict[str, list[StoredSignal]] = {c: [] for c, _ in NPS_CATEGORIES}
    for s in rows:
        a = s.attributes
        cat = a.get("category")
        if cat not in by_cat and a.get("score") is not None:
            score = float(a["score"])
            cat = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        by_cat.setdefault(str(cat), []).append(s)
    items = [
        {
            "id": cat,
            "label": label,
            "value": len(by_cat[cat]),
            "share": round(100.0 * len(by_cat[cat]) / total, 1),
            "display": f"{len(by_cat[cat])} ({100.0 * len(by_cat[cat]) / total:.0f}%)",
            "evidence": _ev("nps_response", by_cat[cat], days),
        }
        for cat, label in NPS_CATEGORIES
    ]
    nps = 100.0 * (len(by_cat["promoter"]) - len(by_cat["detractor"])) / total
    return {
        "available": True,
        "window_days": days,
        "responses": total,
        "nps": round(nps, 1),
        "items": items,
        "summary": f"NPS {nps:+.0f} from {total} responses in {days} days",
        "evidence": _ev("nps_response", rows, days),
    }
