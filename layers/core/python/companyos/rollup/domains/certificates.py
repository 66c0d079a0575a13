"""Certificate health (inventory): certificates expired and expiring within 7 / 30 / 90 days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

from companyos.domain import inventory as inv
from companyos.domain import verdict
from companyos.domain.verdict import Band
from companyos.rollup.domains.cards import cert_list_href, domain_tile, tenant_card
from companyos.rollup.domains.cells import inventory_evidence, make_cell, org_metric, points_series
from companyos.rollup.domains.specs import DomainSpec, MetricSpec, Period, TenantData


def _cert_count(doc: Mapping[str, Any] | None, key: str, day: date) -> float:
    return float(inv.certificate_windows(doc, day)[key])


CERT_METRICS = (
    ("expired", "Expired"),
    ("within_7", "Expiring in 7 days"),
    ("within_30", "Expiring in 30 days"),
    ("within_90", "Expiring in 90 days"),
)


def _window_of(key: str) -> int | None:
    return int(key.split("_")[1]) if key.startswith("within_") else None


def _cert_metrics(data: TenantData, period: Period) -> dict[str, Any]:
    if not inv.has_certificates(data.posture):
        why = "no inventory snapshot yet" if data.posture is None else "no certificate in the inventory yet"
        return {
            k: make_cell(None, None, [], "count", Band.UNKNOWN, why, label=label) for k, label in CERT_METRICS
        }
    evidence = inventory_evidence(data, "certificates", cert_list_href(data.tenant.id, None, "all"))
    now_c = inv.certificate_windows(data.posture, period.end)
    prev_c = inv.certificate_windows(data.posture, period.previous_end)
    metrics = {}
    for k, label in CERT_METRICS:
        window = _window_of(k)
        band = verdict.certificates(window, now_c[k])
        metrics[k] = make_cell(
            float(now_c[k]),
            float(prev_c[k]),
            points_series(period, partial(_cert_count, data.posture, k)),
            "count",
            band,
            label=label,
            window=window,
            over_threshold=band is not Band.HEALTHY,
            href=cert_list_href(data.tenant.id, window, "expiring" if window else "expired"),
            evidence=evidence,
        )
    return metrics


def certificates_domain(spec: DomainSpec, rows: Sequence[TenantData], period: Period) -> dict[str, Any]:
    cards, by_metric = [], {k: [] for k, _ in CERT_METRICS}  # type: ignore[var-annotated]
    names = dict(CERT_METRICS)
    for data in rows:
        metrics = _cert_metrics(data, period)
        for k, c in metrics.items():
            by_metric[k].append(c)
        severity = None
        if inv.has_certificates(data.posture):
            severity = tuple(
                float(v)
                for v in (
                    metrics["expired"]["value"] + metrics["within_7"]["value"],
                    metrics["within_30"]["value"],
                    metrics["within_90"]["value"],
                )
            )
        cards.append(
            tenant_card(
                data,
                spec,
                period,
                metrics,
                spec.headline,
                severity,
                names,
                href_certificates=cert_list_href(data.tenant.id, None, "all"),
            )
        )
    # an org count summed over tenants is as bad as its worst tenant's window
    org = [
        org_metric(MetricSpec(k, label, "count", "lower", "sum"), by_metric[k]) for k, label in CERT_METRICS
    ]
    reason = (
        None if any(inv.has_certificates(d.posture) for d in rows)
        else "no tenant in scope has a certificate inventory yet"
    )  # fmt: skip
    return domain_tile(
        spec, org, cards, reason, windows=list(inv.CERT_WINDOWS), thresholds=inv.CERT_THRESHOLDS
    )
