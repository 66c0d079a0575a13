"""Compliance (inventory): control pass rate per framework and pooled, its trend, and the red chevron
of a drop in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

from companyos.domain import inventory as inv
from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains.cards import controls_href, dashboard_href, domain_tile, tenant_card
from companyos.rollup.domains.cells import make_cell, org_entry, points_series
from companyos.rollup.domains.specs import DomainSpec, MetricSpec, Period, TenantData

COMPLIANCE_DROP_POINTS = 5.0  # a pass-rate drop larger than this in the period gets a red chevron


ByDay = Mapping[date, Mapping[str, Mapping[str, Any]]]  # day -> framework -> controls/passing/pass_rate


def _pass_rate(by_day: ByDay, day: date, fw: str | None) -> float | None:
    """A framework's pass rate on a day, or (fw None) all the tenant's controls pooled."""
    fws = by_day[day]
    if fw is not None:
        return fws[fw]["pass_rate"] if fw in fws else None
    controls = sum(f["controls"] for f in fws.values())
    return round(100.0 * sum(f["passing"] for f in fws.values()) / controls, 2) if controls else None


def _compliance_band(rate: float | None) -> Band:
    """A control pass rate judged on the compliance_score KPI (control adherence) thresholds."""
    return verdict.kpi_band("compliance_score", rate)


def _compliance_metrics(
    data: TenantData, by_day: ByDay, frameworks: Sequence[str], period: Period
) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    today = by_day[period.end]
    run = inv.scanned_evidence(data.posture)
    scanned = set(inv.scanned_on(data.posture, period.end)) if run else set()
    for fw in [*[f for f in frameworks if f in today], None]:
        value = _pass_rate(by_day, period.end, fw)
        counts = today.get(fw, {}) if fw else {
            "controls": sum(f["controls"] for f in today.values()),
            "passing": sum(f["passing"] for f in today.values()),
        }  # fmt: skip
        metrics[fw or "pass_rate"] = make_cell(
            value,
            _pass_rate(by_day, period.previous_end, fw),
            points_series(period, partial(_pass_rate, by_day, fw=fw)),
            "percent",
            _compliance_band(value),
            "no controls configured" if data.posture else "no inventory snapshot yet",
            framework=fw,
            controls=counts.get("controls", 0),
            passing=counts.get("passing", 0),
            href=_href(data.tenant.id, fw, period),
        )
        if run and (fw in scanned or (fw is None and scanned)):
            metrics[fw or "pass_rate"]["evidence"] = run  # a scanned framework's numbers: the run's
    return metrics


def _href(tenant_id: str, fw: str | None, period: Period) -> str:
    """A managed framework's control list; a scanned one's controls are on the CISO dashboard."""
    if fw is None or fw in inv.FRAMEWORKS:
        return controls_href(tenant_id, fw)
    return dashboard_href(tenant_id, "ciso", period)


def _chevron(tenant_id: str, metrics: Mapping[str, Any], frameworks: Sequence[str]) -> dict[str, Any] | None:
    """A red chevron when a framework's pass rate dropped more than 5 points in the period."""
    drops = [
        fw
        for fw in frameworks
        if fw in metrics
        and metrics[fw]["delta"] is not None
        and metrics[fw]["delta"] < -COMPLIANCE_DROP_POINTS
    ]
    if not drops:
        return None
    return {
        "direction": "down",
        "color": "red",
        "frameworks": drops,
        "href": metrics[drops[0]]["href"],
    }


def _compliance_names(frameworks: Iterable[str]) -> dict[str, str]:
    return {
        "pass_rate": "Control pass rate",
        **{fw: f"{inv.framework_label(fw)} pass rate" for fw in frameworks},
    }


def _compliance_org(
    per_tenant: Mapping[str, ByDay],
    frameworks: Sequence[str],
    cards: Sequence[Mapping[str, Any]],
    period: Period,
) -> list[dict[str, Any]]:
    def pooled(day: date, fw: str | None) -> float | None:
        passing = controls = 0
        for by_day in per_tenant.values():
            for name, f in by_day[day].items():
                if fw is None or name == fw:
                    passing, controls = passing + f["passing"], controls + f["controls"]
        return round(100.0 * passing / controls, 2) if controls else None

    names = _compliance_names(frameworks)
    org = []
    for fw in [None, *frameworks]:
        key = fw or "pass_rate"
        spec = MetricSpec(key, names[key], "percent", "higher", "pooled")
        value = pooled(period.end, fw)
        cells = [c["metrics"][key] for c in cards if key in c["metrics"]]
        cell = make_cell(
            value,
            pooled(period.previous_end, fw),
            points_series(period, partial(pooled, fw=fw)),
            "percent",
            _compliance_band(value),
            "no tenant in scope has set up a framework yet",
        )
        org.append(org_entry(spec, cells, cell))
    return org


def compliance_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    days = [period.previous_end, *period.points()]
    per_tenant = {d.tenant.id: {day: inv.compliance(d.posture, day) for day in days} for d in rows}
    frameworks = inv.framework_order(fw for by_day in per_tenant.values() for fw in by_day[period.end])
    cards = []
    for data in rows:
        metrics = _compliance_metrics(data, per_tenant[data.tenant.id], frameworks, period)
        fw_rates = [
            metrics[f]["value"] for f in frameworks if f in metrics and metrics[f]["value"] is not None
        ]
        cards.append(
            tenant_card(
                data,
                spec,
                period,
                metrics,
                "pass_rate",
                (round(100.0 - min(fw_rates), 4),) if fw_rates else None,
                _compliance_names(frameworks),
                chevron=_chevron(data.tenant.id, metrics, frameworks),
                href_controls=controls_href(data.tenant.id),
            )
        )
    org = _compliance_org(per_tenant, frameworks, cards, period)
    reason = None if frameworks else "no tenant in scope has set up a framework yet"
    return domain_tile(spec, org, cards, reason, frameworks=frameworks)
