"""Verdicts, cards and tiles: a tenant's card in a domain and the org's tile, each as bad as its worst
metric capped by coverage (`verdict.capped`), naming the metric that decides it; cards worst first;
the deep links a card carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains.specs import DomainSpec, Period, TenantData


def judged(
    metrics: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
    coverage: float | None = None,
    missing: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The verdict of a set of metrics (a tenant's card, or the org's tile): the worst known band,
    capped by coverage (by default the share of metrics with a value), with the metric that decides
    it and, while partial, what is missing. `decided_by` is None when the cap decided it."""
    known = [k for k, m in metrics.items() if m["value"] is not None]
    if coverage is None:
        coverage = len(known) / len(metrics) if metrics else 0.0
    if missing is None:
        missing = [names.get(k, k) for k in metrics if k not in known]
    worst_key = min(known, key=lambda k: Band(metrics[k]["status"]).rank) if known else None
    worst_band = Band(metrics[worst_key]["status"]) if worst_key else Band.UNKNOWN
    status = verdict.capped(worst_band, coverage)
    decided_by = None
    if worst_key is not None and status is worst_band:
        m = metrics[worst_key]
        decided_by = {"metric": worst_key, "name": names.get(worst_key, worst_key), "display": m["display"]}
        decided_by["status"] = worst_band.value
    return {
        "status": status.value,
        "coverage": round(coverage, 4),
        # nothing measured at all is Unknown with its reason, not "partial"
        "partial": verdict.partial_note(coverage, missing) if known else None,
        "decided_by": decided_by,
    }


# ------------------------------------------------------------------ links


def dashboard_href(tenant_id: str, persona: str, period: Period) -> str:
    """The tenant's own cockpit dashboard with the same period (custom ranges use their window)."""
    return f"/#/{quote(tenant_id, safe='')}/{persona}?period={period.window}"


def cert_list_href(tenant_id: str, within: int | None = None, status: str = "expiring") -> str:
    query = urlencode({**({"within": within} if within else {}), "status": status})
    return f"/rollup.html#/certs/{quote(tenant_id, safe='')}?{query}"


def controls_href(tenant_id: str, framework: str | None = None) -> str:
    query = f"?{urlencode({'framework': framework})}" if framework else ""
    return f"/rollup.html#/controls/{quote(tenant_id, safe='')}{query}"


# ------------------------------------------------------------------ cards and ordering


def _names(spec: DomainSpec) -> dict[str, str]:
    return {m.id: m.name for m in spec.metrics}


def tenant_card(
    data: TenantData,
    spec: DomainSpec,
    period: Period,
    metrics: dict[str, Any],
    headline: str,
    severity: tuple[float, ...] | None,
    names: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    t = data.tenant
    at = data.snapshot_at if spec.source == "snapshot" else data.posture_at
    head = metrics.get(headline) or {}
    return {
        "tenant": {"id": t.id, "name": t.name, "environment": t.environment, "home_region": t.home_region},
        "href": dashboard_href(t.id, spec.persona, period),
        "headline": headline,
        "value": head.get("value"),
        "display": head.get("display", "Unknown"),
        "headline_status": head.get("status", Band.UNKNOWN.value),
        "reason": head.get("reason"),
        "delta": head.get("delta"),
        "series": head.get("series", []),
        **judged(metrics, names if names is not None else _names(spec)),
        "metrics": metrics,
        "snapshot": {
            "computed_at": at.isoformat() if at else None,
            "day": data.snapshot_day
            if spec.source == "snapshot"
            else (at.date().isoformat() if at else None),
            "source": "kpi_snapshot" if spec.source == "snapshot" else "inventory_snapshot",
        },
        "severity": list(severity) if severity is not None else None,
        **extra,
    }


def worst_first(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst verdict first (Critical … Excellent, Unknown last); within a verdict, highest severity
    first, then tenant name. A card without a severity sorts after those with one."""

    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        severity = c.get("severity")
        return (
            verdict.parse(c.get("status")).rank,
            severity is None,
            tuple(-s for s in severity or ()),
            c["tenant"]["name"],
        )

    ordered = sorted(cards, key=key)
    for rank, c in enumerate(ordered, 1):
        c["rank"] = rank
    return ordered


# ------------------------------------------------------------------ tiles


def domain_tile(
    spec: DomainSpec,
    org: list[dict[str, Any]],
    cards: list[dict[str, Any]],
    reason: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    head = next((m for m in org if m["id"] == spec.headline), org[0] if org else None)
    stamps = [c["snapshot"]["computed_at"] for c in cards if c["snapshot"]["computed_at"]]
    if reason is None and head is not None and head["value"] is None:
        reason = head["reason"]
    ordered = worst_first(cards)
    return {
        "id": spec.id,
        "name": spec.name,
        "description": spec.description,
        "headline": head["id"] if head else None,
        "value": head["value"] if head else None,
        "display": head["display"] if head else "Unknown",
        "headline_status": head["status"] if head else Band.UNKNOWN.value,
        "delta": head["delta"] if head else None,
        "series": head["series"] if head else [],
        **_tile_verdict(org, cards),
        "reason": reason,
        "metrics": org,
        "tenants": ordered,
        "tenant_status": _status_counts(cards),
        "unknown_tenants": sum(1 for c in cards if c["status"] == Band.UNKNOWN.value),
        "snapshot": {"oldest": min(stamps) if stamps else None, "newest": max(stamps) if stamps else None},
        **extra,
    }


def _tile_verdict(org: list[dict[str, Any]], cards: list[dict[str, Any]]) -> dict[str, Any]:
    """The org's verdict in a domain: its worst org metric, capped by the share of (tenant, metric)
    cells that have a value; while partial it names what is missing and at how many tenants."""
    cells = [(k, m) for c in cards for k, m in c["metrics"].items()]
    if not cells:
        return {"status": Band.UNKNOWN.value, "coverage": 0.0, "partial": None, "decided_by": None}
    names = {m["id"]: m["name"] for m in org}
    lacking: dict[str, int] = {}
    for k, m in cells:
        if m["value"] is None:
            lacking[k] = lacking.get(k, 0) + 1
    missing = [f"{names.get(k, k)} at {n} of {len(cards)} tenants" for k, n in lacking.items()]
    known = len(cells) - sum(lacking.values())
    out = judged({m["id"]: m for m in org}, names, known / len(cells), missing)
    return {**out, "partial": out["partial"] if known else None}


def _status_counts(cards: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many tenants have each verdict, worst first (only verdicts that occur)."""
    counts: dict[str, int] = {}
    for b in sorted(Band, key=lambda b: b.rank):
        n = sum(1 for c in cards if c["status"] == b.value)
        if n:
            counts[b.value] = n
    return counts
