"""Drill-downs of the exec-cockpit-spec.md "Drill-Down Architecture": from a score or a KPI to the
services and endpoints behind it, from an incident to its timeline, from a change to its
deployments and commits, and the dependency explorer (service map with health).

Drill-downs are opened one at a time, so unlike dashboards they may read the stored signals live
(Query by tenant#kind and time range; never a Scan). A level whose data no pipeline stores yet
answers 200 with `available: false` and the reason; an id that does not exist in the caller's
tenant is 404.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from companyos.adapters.repos import Catalog, ScoreStore, SignalStore
from companyos.domain import clock, kpis, slo, verdict
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import NotFound
from companyos.runs import contracts
from companyos.runs.contracts import PERIODS
from companyos.runs.formulas_slo import usable_counts
from companyos.views import panels, panels_data, snapshots
from companyos.views.dashboards import check_period

CORRELATION_WINDOW = timedelta(hours=24)  # a deploy "precedes" an incident on its service within this
ENDPOINTS_REASON = (
    "Not built yet: endpoint latency and error metrics need Prometheus "
    "http_request_duration_seconds_bucket by service and endpoint, which is not ingested"
)
TRACES_REASON = "Not built yet: request traces need a Jaeger/X-Ray trace source, which is not ingested"


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason, "items": []}


def _start(principal: Principal, tenant_id: str, period: str) -> tuple[datetime, int]:
    authorize(principal, "runs:view", tenant_id)
    check_period(period)
    return clock.now(), PERIODS[period]


def _snapshot(tenant_id: str, period: str) -> tuple[dict[str, Any] | None, str | None]:
    found = ScoreStore(tenant_id).latest(period)
    return (found[0], found[1].isoformat()) if found else (None, None)


def _tenant(tenant_id: str) -> dict[str, Any]:
    t = Catalog().get_tenant(tenant_id)
    return {"id": t.id, "name": t.name, "environment": t.environment}


# ------------------------------------------------------------------------------ score breakdown


def breakdown(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """The breakdown tree of the composite: dimensions → inputs → KPIs (scores, weights, reasons)."""
    _start(principal, tenant_id, period)
    snapshot, computed_at = _snapshot(tenant_id, period)
    base = {"tenant_id": tenant_id, "period": period, "computed_at": computed_at}
    if not snapshot or "breakdown" not in snapshot:
        return {**base, "available": False, "reason": panels.NO_SNAPSHOT, "breakdown": None, "kpis": {}}
    evidence = {
        k: {"run_id": (e.get("evidence") or {}).get("run_id"), "href": (e.get("evidence") or {}).get("href")}
        for k, e in snapshot.get("kpis", {}).items()
        if e.get("evidence")
    }
    return {
        **base,
        "available": True,
        "reason": None,
        "model_version": (snapshot.get("health") or {}).get("model_version"),
        "breakdown": _named_tree(snapshot["breakdown"]),
        "evidence": evidence,
    }


_NOTES = ("reason", "partial", "unknown_reason")


def _named_tree(node: Any, composite: bool = True) -> Any:
    """The breakdown tree as a reader sees it: every note names KPIs and inputs (not their ids;
    the composite's notes name dimensions too) and every input carries its `name`."""
    if isinstance(node, list):
        return [_named_tree(n, composite) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in _NOTES and isinstance(v, str):
            out[k] = panels.plain(v, with_dimensions=composite)
        else:  # below the composite, a note lists KPIs and inputs only
            out[k] = _named_tree(v, composite and k not in ("dimensions", "inputs", "kpis"))
    if "effective_weight" in node and isinstance(node.get("id"), str):  # an input of a dimension
        out["name"] = panels.plain(node["id"])
    return out


# ------------------------------------------------------------------------------ KPI → service → endpoint


def _source_kinds(kpi_id: str) -> list[str]:
    try:
        contract = contracts.get(kpi_id)
    except NotFound:
        return []
    return [s.kind for s in contract.sources if s.source_type == "signal"]


def kpi(principal: Principal, tenant_id: str, kpi_id: str, period: str) -> dict[str, Any]:
    now, days = _start(principal, tenant_id, period)
    if kpi_id not in kpis.load_dictionary().ids():
        raise NotFound(f"no KPI '{kpi_id}' in the KPI dictionary", code="kpi_not_found")
    snapshot, computed_at = _snapshot(tenant_id, period)
    entry = (snapshot or {}).get("kpis", {}).get(kpi_id)
    tile = panels.kpi_tile(entry) if entry else panels.unknown_tile(kpi_id)
    kinds = _source_kinds(kpi_id)
    services = _services_level(tenant_id, kpi_id, kinds, days, now, period)
    return {
        "tenant_id": tenant_id,
        "period": period,
        "computed_at": computed_at,
        "kpi": tile,
        "contract": {"signal_kinds": kinds},
        "services": services,
        "endpoints": _unavailable(ENDPOINTS_REASON),
    }


def _services_level(
    tenant_id: str, kpi_id: str, kinds: list[str], days: int, now: datetime, period: str
) -> dict[str, Any]:
    if not kinds:
        defn = kpis.load_dictionary().get(kpi_id)
        if kpi_id in contracts.CONTRACTS:  # a lake (CUR) query: no per-service signals to fold
            return _unavailable(
                "Not built yet: this KPI is computed by a lake query, not from per-service signals;"
                " its run's evidence carries the breakdown (e.g. cost by service)"
            )
        return _unavailable(f"Not built yet: {snapshots.not_measured_reason(defn)}")
    per: dict[str, dict[str, Any]] = {}
    total = 0
    for kind in kinds:
        for s in panels_data.signals(tenant_id, kind, days, now):
            total += 1
            key = s.service or "unmapped"
            row = per.setdefault(
                key,
                {
                    "id": key,
                    "service": s.service,
                    "domain": s.attributes.get("domain"),
                    "signals": 0,
                    "latest_at": None,
                    "drill": panels.drill("service", key) if s.service else None,
                },
            )
            row["signals"] += 1
            row["latest_at"] = max(row["latest_at"] or "", s.occurred_at.isoformat())
    if not total:
        return _unavailable(f"no {', '.join(kinds)} signals ingested in the last {days} days")
    deploys = panels_data.signals(tenant_id, "deployment", days, now) if "deployment" in kinds else []
    for d in panels_data.deployment_rows(deploys):
        found = per.get(d["service"] or "unmapped")
        if found is not None and panels_data.is_production(d):
            found["deploys"] = found.get("deploys", 0) + 1
            found["failed"] = found.get("failed", 0) + (0 if d["succeeded"] else 1)
    for row in per.values():
        if row.get("deploys"):
            row["deploys_per_day"] = row["deploys"] / days
            row["change_failure_pct"] = 100.0 * row["failed"] / row["deploys"]
        row["evidence"] = {
            "type": "signals",
            "sources": [{"type": "signal", "object": "/".join(kinds), "count": row["signals"]}],
            "window_days": days,
            "href": f"/api/drill/service/{quote(row['id'])}?tenant={tenant_id}&period={period}",
        }
    return {
        "available": True,
        "reason": None,
        "note": "per-service counts of the signals this KPI reads; its value is computed tenant-wide",
        "items": sorted(per.values(), key=lambda r: -r["signals"]),
    }


def service(principal: Principal, tenant_id: str, name: str, period: str) -> dict[str, Any]:
    now, days = _start(principal, tenant_id, period)
    known = panels_data.catalog_services(tenant_id)
    if name not in known:
        raise NotFound(f"no service '{name}' in this tenant's catalog", code="service_not_found")
    deps = [d for d in panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", days, now))]
    deps = [d for d in deps if d["service"] == name]
    incs = [
        i
        for i in panels_data.fold_incidents(panels_data.signals(tenant_id, "incident", days, now))
        if i["service"] == name
    ]
    prod = [d for d in deps if panels_data.is_production(d)]
    failed = sum(1 for d in prod if not d["succeeded"])
    snapshot, _ = _snapshot(tenant_id, period)
    ctx = panels.Ctx(tenant_id, period, snapshot)
    card = (  # the band its dashboard card shows, by the same rule (verdict.service)
        panels.service_status(known[name], ctx.rows("slo"), ctx.rows("incidents"), ctx.rows("deployments"))
        if snapshot
        else None
    )
    deployments = {
        "available": bool(prod),
        "reason": None if prod else f"no production deployments of {name} in the last {days} days",
        "total": len(prod),
        "failed": failed,
        "change_failure_pct": 100.0 * failed / len(prod) if prod else None,
        "items": prod[: panels_data.MAX_ROWS],  # the raw records: evidence themselves
    }
    return {
        "tenant_id": tenant_id,
        "period": period,
        "service": known[name],
        "card": card,
        "deployments": deployments | _delivered_deploys(ctx.rows("deployments"), name),
        "incidents": {
            "available": bool(incs),
            "reason": None if incs else f"no PagerDuty incidents on {name} in the last {days} days",
            "items": [_incident_row(i) for i in incs],
        },
        "slo": _delivered_slo(service_slo(tenant_id, name, days, now), ctx.rows("slo"), name),
        "endpoints": _unavailable(ENDPOINTS_REASON),
    }


def _row_of(rows: dict[str, Any] | None, key: str, name: str) -> dict[str, Any] | None:
    if not rows or not rows.get("available"):
        return None
    return next((r for r in rows.get(key) or [] if r.get("service") == name or r.get("id") == name), None)


def _delivered_deploys(rows: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The period's counts as the deployment_frequency run delivered them (its per-service row,
    with the run as evidence); the drill-down's own list is the raw records behind them."""
    row = _row_of(rows, "per_service", name)
    if row is None:
        return {}
    total, failed = int(row["total"]), int(row["failed"])
    return {
        "total": total,
        "failed": failed,
        "change_failure_pct": 100.0 * failed / total if total else None,
        "evidence": row.get("evidence"),
    }


def _delivered_slo(live: dict[str, Any], rows: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """The period's SLO numbers as the slo_attainment run delivered them (the SLO table's row,
    with the run as evidence); the per-day points and the alert windows stay the live detail
    behind them (`detail_evidence`: the signals)."""
    row = _row_of(rows, "items", name)
    if row is None or not live.get("available"):
        return live
    return live | {
        "good": row["good"],
        "total": row["total"],
        "attainment": row["value"],
        "budget_left": row["budget_left"],
        "burn_rate": row["burn_rate"],
        "status": row["status"],
        "evidence": row.get("evidence"),
        "detail_evidence": live.get("evidence"),
    }


# ------------------------------------------------------------------------------ service → SLO

# The SRE workbook's alert windows (model.slo.burn_rules), the 1d one the table also shows.
BURN_WINDOWS = slo.WINDOW_SECONDS


def _recent_counts(rows: list[Any], seconds: int) -> dict[str, Any] | None:
    """(good, total) over the newest `seconds` of complete windows: the coarsest window length
    that divides `seconds` and whose newest windows cover it without a gap; None otherwise."""
    series: dict[int, dict[datetime, dict[str, float]]] = {}
    for s in rows:
        step = int(s.attributes.get("step_s") or 0)
        if step and seconds % step == 0 and s.attributes.get("value") is not None:
            point = series.setdefault(step, {}).setdefault(s.occurred_at, {})
            point[str(s.attributes["metric"])] = float(s.attributes["value"])
    for step in sorted(series, reverse=True):
        ends = sorted(
            (at for at, p in series[step].items() if {"slo_good", "slo_total"} <= set(p)), reverse=True
        )
        want = seconds // step
        newest = ends[:want]
        if len(newest) < want or (newest[0] - newest[-1]).total_seconds() != (want - 1) * step:
            continue
        counted = [
            usable_counts(series[step][at]["slo_good"], series[step][at]["slo_total"]) for at in newest
        ]
        if any(c is None for c in counted):
            continue
        good = sum(c[0] for c in counted if c)
        total = sum(c[1] for c in counted if c)
        start = newest[-1] - timedelta(seconds=step)
        return {"good": good, "total": total, "from": start.isoformat(), "to": newest[0].isoformat()}
    return None


def service_slo(tenant_id: str, name: str, days: int, now: datetime) -> dict[str, Any]:
    """One service's SLO over the period (the SLO table's row, folded the same way), per day,
    its burn rate over the alert windows the pulled series can cover, and the SRE workbook's
    multiwindow burn-rate alerts (model.slo) that fire on them."""
    rows = [
        s
        for s in panels_data.signals(tenant_id, panels_data.SLO_KIND, days, now)
        if (s.service or s.entity) == name
    ]
    counts = panels_data.slo_counts(rows).get(name)
    if counts is None:
        return _unavailable(
            f"no Prometheus SLO windows (slo_window slo_good/slo_total) for {name} in the last {days} days"
        )
    objective = panels_data.slo_objective()
    good, total = counts["good"], counts["total"]
    attainment = slo.attainment(good, total)
    attainment_pct = None if attainment is None else 100.0 * attainment
    budget_left = slo.error_budget_remaining(good, total, objective)
    burn_rate = slo.burn_rate(good, total, objective)
    windows = {label: _recent_counts(rows, seconds) for label, seconds in BURN_WINDOWS.items()}
    known = {k: (w["good"], w["total"]) for k, w in windows.items() if w is not None}
    period = slo.DEFAULT_PERIOD_DAYS
    alerts = slo.multiwindow_alerts(known, objective, period)
    blind = [
        f"{r.severity} {r.long_window}/{r.short_window}"
        for r in slo.burn_rules(period)
        if r.long_window not in known or r.short_window not in known
    ]
    return {
        "available": True,
        "reason": None,
        "objective": objective,
        "slo_period_days": period,
        "burn_factors": {f"{r.long_window}/{r.short_window}": r.burn_rate for r in slo.burn_rules(period)},
        "window_days": days,
        "good": good,
        "total": total,
        "attainment": attainment_pct,
        "budget_left": budget_left,
        "burn_rate": burn_rate,
        "status": verdict.slo_row(attainment_pct, budget_left),  # the SLO table's row rule
        "burn_status": verdict.burn(burn_rate),
        "days": [_slo_day(day, g, t, objective) for day, g, t in counts["points"]],
        "burn_windows": [
            _burn_window(label, w, objective)
            if w is not None
            else {
                "window": label,
                "burn_rate": None,
                "status": verdict.Band.UNKNOWN,
                "reason": f"no complete {label} of windows pulled",
            }
            for label, w in windows.items()
        ],
        "alerts": [a.model_dump(mode="json") for a in alerts],
        "alerts_not_evaluated": blind,
        "evidence": panels_data.evidence_of(
            [
                (
                    f"prometheus.{panels_data.SLO_KIND}",
                    len(counts["signals"]),
                    max(s.occurred_at for s in counts["signals"]),
                )
            ],
            days,
        ),
    }


def _slo_day(day: Any, good: float, total: float, objective: float) -> dict[str, Any]:
    attainment = 100.0 * good / total if total else None
    budget = slo.error_budget_remaining(good, total, objective)
    return {
        "day": day.isoformat(),
        "good": good,
        "total": total,
        "attainment": attainment,
        "burn_rate": slo.burn_rate(good, total, objective),
        "status": verdict.slo_row(attainment, budget),
    }


def _burn_window(label: str, w: dict[str, Any], objective: float) -> dict[str, Any]:
    rate = slo.burn_rate(w["good"], w["total"], objective)
    return {"window": label, **w, "burn_rate": rate, "status": verdict.burn(rate)}


def _incident_row(i: dict[str, Any]) -> dict[str, Any]:
    """A folded incident as the drill-downs serve it: its band beside its state (panels.incident_band,
    the rule the dashboards' incident timeline uses)."""
    return {**{k: v for k, v in i.items() if k != "signal_ids"}, "band": panels.incident_band(i)}


# ------------------------------------------------------------------------------ incidents → timeline


def incident_list(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    now, days = _start(principal, tenant_id, period)
    rows = panels_data.signals(tenant_id, "incident", days, now)
    if not rows:
        return {
            "tenant_id": tenant_id,
            "period": period,
            **_unavailable(f"Not built yet: no PagerDuty incident events ingested in the last {days} days"),
        }
    folded = panels_data.fold_incidents(rows)
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "items": [_incident_row(i) for i in folded],
    }


def incident(principal: Principal, tenant_id: str, incident_id: str) -> dict[str, Any]:
    now, days = _start(principal, tenant_id, "365d")
    rows = [
        s
        for s in panels_data.signals(tenant_id, "incident", days, now)
        if str(s.attributes.get("incident_id")) == incident_id
    ]
    if not rows:
        raise NotFound(f"no incident '{incident_id}' in this tenant", code="incident_not_found")
    folded = panels_data.fold_incidents(rows)[0]
    timeline = [
        {
            "at": s.occurred_at.isoformat(),
            "transition": s.attributes.get("transition"),
            "status": s.attributes.get("status"),
            "priority": s.attributes.get("priority"),
            "urgency": s.attributes.get("urgency"),
            "agent": s.attributes.get("agent_type"),
            "evidence": {
                "type": "signal",
                "signal_id": s.signal_id,
                "delivery_id": s.delivery_id,
                "source": s.source,
            },
        }
        for s in sorted(rows, key=lambda r: r.occurred_at)
    ]
    return {
        "tenant_id": tenant_id,
        "incident": _incident_row(folded),
        "timeline": timeline,
        "changes": _preceding_deploys(tenant_id, folded, now),
        "caused_by": _links_of(
            tenant_id, lambda lk: lk.get("cause") == "incident" and lk.get("by") == incident_id
        ),
        "logs": _unavailable(
            "Not built yet: correlated logs need a log source (Loki/CloudWatch), which is not ingested"
        ),
        "traces": _unavailable(TRACES_REASON),
    }


def _cfr_links(tenant_id: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The deploy <-> incident / remediation pairs the latest change_failure_rate run delivered
    over 365 days (its evidence), with that run's evidence."""
    snapshot, _ = _snapshot(tenant_id, "365d")
    entry = ((snapshot or {}).get("kpis") or {}).get("change_failure_rate") or {}
    ev = entry.get("evidence") or None
    return list(((ev or {}).get("detail") or {}).get("links") or []), ev


def _links_of(tenant_id: str, keep: Any) -> dict[str, Any]:
    """The change_failure_rate run's links that `keep` selects, with the run as evidence: which
    deployment caused an incident (or which incidents a deployment caused), as the CFR counts it."""
    links, ev = _cfr_links(tenant_id)
    if ev is None:
        return _unavailable("no change_failure_rate run has delivered deploy <-> incident links yet")
    chosen = [lk for lk in links if keep(lk)]
    return {
        "available": True,
        "reason": None if chosen else "the change_failure_rate run links no deployment to it",
        "items": [{**lk, "drill": panels.drill("deployment", lk["deployment_id"])} for lk in chosen],
        "evidence": {k: ev.get(k) for k in ("run_id", "href", "computed_at", "as_of")},
    }


def _preceding_deploys(tenant_id: str, inc: dict[str, Any], now: datetime) -> dict[str, Any]:
    if not inc.get("service") or not inc.get("triggered_at"):
        return _unavailable("the incident's PagerDuty service is not mapped to a catalog service")
    start = datetime.fromisoformat(inc["triggered_at"])
    rows = SignalStore(tenant_id).query("deployment", start - CORRELATION_WINDOW, start)
    deps = [d for d in panels_data.deployment_rows(rows) if d["service"] == inc["service"]]
    return {
        "available": True,
        "reason": None,
        "window_h": CORRELATION_WINDOW.total_seconds() / 3600,
        "items": [{**d, "drill": panels.drill("deployment", d["id"])} for d in deps],
    }


# ------------------------------------------------------------------------------ change correlation


def changes(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """Recent production deployments, each with the incidents on its service in the next 24 h."""
    now, days = _start(principal, tenant_id, period)
    deps = [
        d
        for d in panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", days, now))
        if panels_data.is_production(d)
    ]
    if not deps:
        return {
            "tenant_id": tenant_id,
            "period": period,
            **_unavailable(f"no production deployments ingested in the last {days} days"),
        }
    incs = panels_data.fold_incidents(panels_data.signals(tenant_id, "incident", days + 1, now))
    links, run_ev = _cfr_links(tenant_id)
    caused: dict[str, list[dict[str, Any]]] = {}
    for lk in links:
        caused.setdefault(str(lk.get("deployment_id")), []).append(lk)
    items = []
    for d in deps[:100]:
        at = datetime.fromisoformat(d["at"])
        followed = [
            i["id"]
            for i in incs
            if i["service"]
            and i["service"] == d["service"]
            and i["triggered_at"]
            and at <= datetime.fromisoformat(i["triggered_at"]) <= at + CORRELATION_WINDOW
        ]
        items.append(
            {
                **d,
                "incidents_within_24h": followed,
                # what the change_failure_rate run counts as this deployment's failure (its evidence)
                "failed_change_links": caused.get(str(d["id"]), []),
                "drill": panels.drill("deployment", d["id"]),
            }
        )
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "total": len(deps),
        "failed": sum(1 for d in deps if not d["succeeded"]),
        "incidents_correlated": bool(incs),
        "incidents_reason": None
        if incs
        else "no PagerDuty incident events ingested: nothing to correlate with",
        "links_evidence": {k: run_ev.get(k) for k in ("run_id", "href")} if run_ev else None,
        "items": items,
    }


def deployment(principal: Principal, tenant_id: str, deployment_id: str, period: str) -> dict[str, Any]:
    """One deployment: its status events and the commits that went out with it."""
    now, days = _start(principal, tenant_id, period)
    all_deps = panels_data.deployment_rows(panels_data.signals(tenant_id, "deployment", max(days, 90), now))
    mine = [d for d in all_deps if d["id"] == deployment_id]
    if not mine:
        raise NotFound(f"no deployment '{deployment_id}' in this tenant", code="deployment_not_found")
    dep = mine[0]
    earlier = [
        d
        for d in all_deps
        if d["repository"] == dep["repository"] and d["at"] < dep["at"] and panels_data.is_production(d)
    ]
    since = (
        datetime.fromisoformat(earlier[0]["at"])
        if earlier
        else datetime.fromisoformat(dep["at"]) - timedelta(days=7)
    )
    until = datetime.fromisoformat(dep["at"])
    commits = [
        {
            "sha": s.attributes.get("sha"),
            "at": s.occurred_at.isoformat(),
            "author": s.attributes.get("author"),
            "branch": s.attributes.get("branch"),
            "deployed_head": s.attributes.get("sha") == dep["sha"],
            "evidence": {"type": "signal", "signal_id": s.signal_id, "delivery_id": s.delivery_id},
        }
        for s in SignalStore(tenant_id).query("commit", since, until)
        if (s.attributes.get("repository") or s.entity) == dep["repository"]
    ]
    prs = [
        {
            "number": s.attributes.get("number"),
            "merged_at": s.attributes.get("merged_at"),
            "author": s.attributes.get("author"),
            "merge_commit_sha": s.attributes.get("merge_commit_sha"),
            "evidence": {"type": "signal", "signal_id": s.signal_id, "delivery_id": s.delivery_id},
        }
        for s in SignalStore(tenant_id).query("change", since, until)
        if (s.attributes.get("repository") or s.entity) == dep["repository"]
    ]
    diff_reason = "Not built yet: code diffs are not stored (only commit metadata from GitHub push events)"
    return {
        "tenant_id": tenant_id,
        "deployment": dep,
        "statuses": mine,
        "commits": {
            "available": bool(commits or prs),
            "reason": None
            if commits or prs
            else "no GitHub push or pull_request events ingested for this repository before this deployment",
            "since": since.isoformat(),
            "items": commits,
            "pull_requests": prs,
        },
        "diff": _unavailable(diff_reason),
    }


# ------------------------------------------------------------------------------ dependency explorer


def service_map(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """Services with their health, as the dashboards' service cards show it (the snapshot's rows:
    SLO rows and open incidents, verdict.service) and, when known, dependencies."""
    _start(principal, tenant_id, period)
    snapshot, _ = _snapshot(tenant_id, period)
    ctx = panels.Ctx(tenant_id, period, snapshot)
    services = ctx.rows("services")
    if not services or not services.get("available"):
        reason = (services or {}).get("reason") or panels.NO_SNAPSHOT
        return {"tenant_id": tenant_id, "period": period, **_unavailable(reason), "edges": None}
    nodes = [
        panels.service_status(s, ctx.rows("slo"), ctx.rows("incidents"), ctx.rows("deployments"))
        for s in services["items"]
    ]
    return {
        "tenant_id": tenant_id,
        "period": period,
        "available": True,
        "reason": None,
        "summary": panels.platform_summary(nodes, ctx.rows("incidents")),
        "items": nodes,
        "edges": _unavailable(
            "Not built yet: dependencies and traffic flow need a trace or service-mesh source (not ingested)"
        ),
    }
