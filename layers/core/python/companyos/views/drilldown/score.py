"""Score breakdown: the composite's tree (dimensions → inputs → KPIs) with every note in words a
reader knows and each KPI's run as evidence.
"""

from __future__ import annotations

from typing import Any

from companyos.domain.auth import Principal
from companyos.views import panels
from companyos.views.drilldown.base import authorized, latest_snapshot


def breakdown(principal: Principal, tenant_id: str, period: str) -> dict[str, Any]:
    """The breakdown tree of the composite: dimensions → inputs → KPIs (scores, weights, reasons)."""
    authorized(principal, tenant_id, period)
    snapshot, computed_at = latest_snapshot(tenant_id, period)
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
