"""Lineage DAG and change impact: sources → KPIs → derived KPIs → dimensions/composite → dashboards,
and every alert rule of the pack that reads the KPI (its value, the rows its runs deliver, its run
outcomes: SLA breach, validation failure, runtime anomaly), with whom each rule notifies.

Built from the tenant's search index (contracts' sources, already in memory), the persona layouts
(which KPIs each dashboard shows) and the KPI dictionary (which dimension a KPI feeds). Node ids are
`<type>:<name>`; types: source, kpi, dimension, composite, dashboard, alert.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from companyos.admin import search
from companyos.domain import kpis as dictionary
from companyos.domain.alert_rules import load_pack
from companyos.domain.errors import InvalidPayload, NotFound
from companyos.topology import SCHEDULES

CHANGES: dict[str, str] = {
    "schedule": "runs move to a new schedule; downstream values refresh on the new cadence",
    "sla": "SLA breach alerts and SLA compliance reports change",
    "validation": "runs may be gated differently: values can be withheld or warned on",
    "formula": "values change: derived KPIs, scores and dashboards recompute",
    "version": "values change: derived KPIs, scores and dashboards recompute",
    "publish": "the new version's values reach every consumer below",
    "unpublish": "consumers fall back to the platform contract or show Unknown",
    "pause": "no new values: consumers go stale and show a maintenance badge",
    "rollback": "values revert to the previous version's behaviour",
    "deprecate": "consumers are warned the KPI will be retired",
    "retire": "consumers lose this KPI: tiles show Unknown, derived KPIs lose an input",
}
RUNS_PER_DAY = {s.schedule_class: 86400 // s.local_interval_s for s in SCHEDULES}


def _dashboards() -> dict[str, set[str]]:
    """KPI id → persona dashboards showing it (read from the layouts at call time)."""
    from companyos.domain.layouts import LAYOUTS

    out: dict[str, set[str]] = {}
    for persona, layout in LAYOUTS.items():
        for panel in layout.panels:
            for kpi in panel.kpis:
                out.setdefault(kpi, set()).add(persona)
    return out


def graph(
    tenant_id: str, runtime_env: str | None = None
) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str]]]:
    entries = search.index_for(tenant_id, runtime_env).all()
    nodes: dict[str, dict[str, Any]] = {}
    edges: set[tuple[str, str]] = set()
    shown = _dashboards()
    pack = load_pack()
    try:
        book = {k.id: k.dimension for k in dictionary.load_dictionary().all()}
    except Exception:  # pragma: no cover — the dictionary ships with the code
        book = {}

    def node(nid: str, **attrs: Any) -> str:
        nodes.setdefault(
            nid, {"id": nid, "type": nid.split(":", 1)[0], "label": nid.split(":", 1)[1], **attrs}
        )
        return nid

    for e in entries:
        k = node(
            f"kpi:{e['kpi_id']}",
            name=e["name"],
            status=e["status"],
            version=e["version"],
            schedule_class=e["schedule_class"],
            owner_kind=e["owner_kind"],
        )
        for src in e["sources"]:
            kind, name = src.split(":", 1)
            edges.add((node(f"kpi:{name}") if kind == "kpi" else node(f"source:{src}"), k))
        if e["kpi_id"] in book:
            dim = node(f"dimension:{book[e['kpi_id']]}")
            edges.add((k, dim))
            edges.add((dim, node("composite:company_health")))
        for persona in sorted(shown.get(e["kpi_id"], ())):
            edges.add((k, node(f"dashboard:{persona}")))
        for rule in pack.rules_reading(e["kpi_id"]):
            personas = sorted({p for p, _ in pack.routes_of(rule)})
            alert = f"alert:{rule.id}:{e['kpi_id']}" if rule.source == "run" else f"alert:{rule.id}"
            edges.add((k, node(alert, rule=rule.id, severity=rule.severity, routes_to=",".join(personas))))
    edges.add(("composite:company_health", node("dashboard:ceo")))
    return nodes, edges


def _walk(start: str, edges: set[tuple[str, str]], forward: bool) -> list[str]:
    adj: dict[str, list[str]] = {}
    for a, b in edges:
        src, dst = (a, b) if forward else (b, a)
        adj.setdefault(src, []).append(dst)
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in adj.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    seen.discard(start)
    return sorted(seen)


def lineage(tenant_id: str, kpi_id: str, runtime_env: str | None = None) -> dict[str, Any]:
    """The KPI's sub-DAG: everything upstream and downstream of it, with the edges between them."""
    nodes, edges = graph(tenant_id, runtime_env)
    root = f"kpi:{kpi_id}"
    if root not in nodes or "name" not in nodes[root]:
        raise NotFound(f"KPI '{kpi_id}' is not in the catalog", code="kpi_not_found")
    up, down = _walk(root, edges, False), _walk(root, edges, True)
    keep = {root, *up, *down}
    return {
        "kpi_id": kpi_id,
        "nodes": [nodes[n] for n in sorted(keep)],
        "edges": [{"from": a, "to": b} for a, b in sorted(edges) if a in keep and b in keep],
        "upstream": up,
        "downstream": down,
    }


def impact(
    tenant_id: str, kpi_id: str, change: str, runtime_env: str | None = None, new_schedule: str | None = None
) -> dict[str, Any]:
    """What a change to this KPI affects: downstream KPIs, dimensions, dashboards, alerts, and notes."""
    if change not in CHANGES:
        raise InvalidPayload(
            f"unknown change '{change}'; one of {', '.join(CHANGES)}",
            code="unknown_change",
            details={"path": "change"},
        )
    lin = lineage(tenant_id, kpi_id, runtime_env)
    nodes = {n["id"]: n for n in lin["nodes"]}
    affected: dict[str, list[str]] = {}
    for nid in lin["downstream"]:
        affected.setdefault(nodes[nid]["type"], []).append(nodes[nid]["label"])
    notes = [CHANGES[change]]
    me = nodes[f"kpi:{kpi_id}"]
    if change == "schedule" and new_schedule:
        before, after = RUNS_PER_DAY.get(me["schedule_class"], 0), RUNS_PER_DAY.get(new_schedule, 0)
        notes.append(f"runs per day: {before} → {after} (schedule {me['schedule_class']} → {new_schedule})")
        for d in affected.get("kpi", []):
            dep = nodes.get(f"kpi:{d}", {})
            if RUNS_PER_DAY.get(dep.get("schedule_class", ""), 0) > after:
                notes.append(
                    f"derived KPI {d} runs more often than its input would: it will read stale values"
                )
    return {
        "kpi_id": kpi_id,
        "change": change,
        "affected": affected,
        "affected_count": len(lin["downstream"]),
        "notes": notes,
    }
