"""Built-in KPI formulas: fold signals into daily buckets, then turn one window of buckets into a value.

The source step reads a contract's signals once and folds them into per-day buckets — counters
(summed) and small sample lists (concatenated) — small enough for a state machine payload. A
formula's `value` turns the buckets of one window into a value, or None with the reason.

Signal attributes each formula reads are listed in its docstring (the ingestion plug-ins of
companyos.sources produce them); a signal missing a required attribute is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from companyos.runs.dora_formulas import (
    FAILED_BUILDS,
    MAX_LINKS_DELIVERED,
    REMEDIATION_REFS,
    ChangeLeadTime,
    Deployment,
    Link,
    build_success_rate,
    change_failure_rate,
    change_lead_times,
    deployment_frequency,
    fold_builds,
    fold_change_failures,
    fold_deployments,
    fold_lead_times,
    lead_time_for_changes,
    link_incidents,
    production_deployments,
    remediated,
    window_links,
)
from companyos.runs.formula_base import (
    MAX_SAMPLES_PER_DAY,
    Buckets,
    Builtin,
    Counter,
    Folded,
    FoldFn,
    Outcome,
    Params,
    SignalRow,
    ValueFn,
    accumulate,
    first_of,
    parse_time,
    window_days,
    window_samples,
    window_sum,
)
from companyos.runs.incident_formulas import (
    fold_p1_incidents,
    fold_restore_times,
    incidents_of,
    mttr,
    p1_incident_count,
)
from companyos.runs.security_formulas import (
    DEFAULT_VULN_SLA_DAYS,
    critical_cve_age,
    failed_auth_attempts,
    fold_authz,
    fold_critical_vulns,
    fold_secret_findings,
    fold_vuln_sla,
    secret_scan_violations,
    vuln_sla_compliance,
    vulns_of,
)

__all__ = [
    "BUILTINS",
    "DEFAULT_VULN_SLA_DAYS",
    "FAILED_BUILDS",
    "MAX_LINKS_DELIVERED",
    "MAX_SAMPLES_PER_DAY",
    "REMEDIATION_REFS",
    "Buckets",
    "Builtin",
    "ChangeLeadTime",
    "Counter",
    "Deployment",
    "FoldFn",
    "Folded",
    "Link",
    "Outcome",
    "Params",
    "SignalRow",
    "ValueFn",
    "accumulate",
    "aggregate",
    "build_success_rate",
    "change_failure_rate",
    "change_lead_times",
    "critical_cve_age",
    "deployment_frequency",
    "failed_auth_attempts",
    "first_of",
    "fold_authz",
    "fold_builds",
    "fold_change_failures",
    "fold_critical_vulns",
    "fold_deployments",
    "fold_lead_times",
    "fold_nps",
    "fold_p1_incidents",
    "fold_restore_times",
    "fold_rows",
    "fold_secret_findings",
    "fold_vuln_sla",
    "incidents_of",
    "lead_time_for_changes",
    "link_incidents",
    "mttr",
    "nps_score",
    "p1_incident_count",
    "parse_time",
    "production_deployments",
    "register",
    "remediated",
    "secret_scan_violations",
    "vuln_sla_compliance",
    "vulns_of",
    "window_days",
    "window_links",
    "window_samples",
    "window_sum",
]


# ------------------------------------------------------------------ product and financials


def fold_nps(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`nps_response`: score 0-10."""
    for s in signals.get("nps_response", ()):
        try:
            score = float(s.attributes["score"])
        except (KeyError, TypeError, ValueError):
            continue
        if 0 <= score <= 10:
            yield (
                s.occurred_at.date(),
                {"responses": 1.0, "promoters": float(score >= 9), "detractors": float(score <= 6)},
            )


def nps_score(buckets: Buckets, end: date, days: int) -> Outcome:
    """% promoters - % detractors over the window's responses."""
    n = window_sum(buckets, end, days, "responses")
    if not n:
        return Outcome(None, f"no NPS responses in the last {days} days")
    promoters = window_sum(buckets, end, days, "promoters")
    detractors = window_sum(buckets, end, days, "detractors")
    return Outcome(100.0 * (promoters - detractors) / n)


# ------------------------------------------------------------------ registry


BUILTINS: dict[str, Builtin] = {
    "deployment_frequency": Builtin(fold_deployments, deployment_frequency),
    "change_failure_rate": Builtin(fold_change_failures, change_failure_rate),
    "lead_time_for_changes": Builtin(fold_lead_times, lead_time_for_changes),
    "build_success_rate": Builtin(fold_builds, build_success_rate),
    "mttr": Builtin(fold_restore_times, mttr),
    "p1_incident_count": Builtin(fold_p1_incidents, p1_incident_count),
    "critical_cve_age": Builtin(fold_critical_vulns, critical_cve_age),
    "vuln_sla_compliance": Builtin(fold_vuln_sla, vuln_sla_compliance),
    "secret_scan_violations": Builtin(fold_secret_findings, secret_scan_violations),
    "failed_auth_attempts": Builtin(fold_authz, failed_auth_attempts),
    "nps_score": Builtin(fold_nps, nps_score),
    # net_revenue_retention, arr_growth_rate: formulas_billing.py
}


def register(name: str, builtin: Builtin) -> None:
    """Add (or replace) a built-in formula, e.g. a plug-in KPI or a test double."""
    BUILTINS[name] = builtin


# ------------------------------------------------------------------ SQL (lake) formulas


def fold_rows(rows: Sequence[Mapping[str, Any]]) -> Folded:
    """Rows of a lake query (a `day` column plus numeric columns) → daily counters."""
    for row in rows:
        raw_day = row.get("day")
        if raw_day is None:
            continue
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
        if isinstance(day, datetime):
            day = day.date()
        yield (
            day,
            {
                k: float(v)
                for k, v in row.items()
                if k != "day" and isinstance(v, int | float | Decimal) and not isinstance(v, bool)
            },
        )


def aggregate(buckets: Buckets, end: date, days: int, how: str, column: str, num: str | None,
              den: str | None, scale: float) -> Outcome:  # fmt: skip
    """The window value of a SQL KPI from its daily rows."""
    present = [d for d in window_days(end, days) if d in buckets]
    if not present:
        return Outcome(None, f"the query returned no rows for the last {days} days")
    if how == "ratio":
        d = window_sum(buckets, end, days, den or "")
        if not d:
            return Outcome(None, f"denominator '{den}' is 0 over the last {days} days")
        return Outcome(scale * window_sum(buckets, end, days, num or "") / d)
    if how == "last":
        val = buckets[max(present)].get(column)
        return Outcome(scale * float(val) if isinstance(val, float | int) else None)
    total = window_sum(buckets, end, days, column)
    if how == "per_day":
        return Outcome(scale * total / days)
    if how == "mean":
        return Outcome(scale * total / len(present))
    return Outcome(scale * total)


# ------------------------------------------------------------------ formula modules per source family


def _load_formula_modules() -> None:
    """Every `companyos/runs/formulas_<family>.py` registers its built-ins (`register`) on import,
    like every `runs/packs/*.yaml` is a contract pack: a source family adds a file, not an edit
    here. Loaded last, so those modules can use everything above."""
    import importlib
    import pkgutil

    from companyos import runs

    for module in sorted(m.name for m in pkgutil.iter_modules(runs.__path__)):
        if module.startswith("formulas_"):
            importlib.import_module(f"companyos.runs.{module}")


_load_formula_modules()
