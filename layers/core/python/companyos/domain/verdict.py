"""The one verdict model: every status the product shows comes from here.

One vocabulary, `Band` (the seed's five status bands plus Unknown), used by KPIs, dimensions, the
composite, panel rows, services, roll-up domains, the board pack, alerts and monitoring. No module
outside the model turns a number into a status: it asks one of the functions below.

* `band(score)`: a 0-100 score's band (90 Excellent, 80 Healthy, 60 Attention, 40 Warning, else
  Critical; None is Unknown).
* `kpi(defn, value)`: a KPI value judged on the dictionary's thresholds (model/normalise.py): a
  value that misses its target is never Healthy.
* `capped(band, coverage)`: coverage is part of the answer: measured on less than 80 % of its
  weight a result is at most Attention ("partial"); under 50 % it is Unknown.
* Row rules for what is not a KPI value but sits beside one (a service's SLO row, a capacity
  sample, a severity row of open vulnerabilities, a key result, a cost change, a security event):
  each says which KPI or rule it follows, so a row never contradicts its KPI.
* `operational(...)`: a service is operational only when none of its SLOs is Warning/Critical
  and it has no open P1/P2 incident.

The seed's three-way `health_status` (HEALTHY / ATTENTION / CRITICAL) is derived from the band by
`three_way` and exists only where a Prometheus-style export mirrors it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from companyos.domain.kpis import KpiDefinition, load_dictionary
from companyos.domain.normalise import normalise


class Band(StrEnum):
    """The seed's five status bands, plus Unknown for a result that could not be computed."""

    EXCELLENT = "excellent"
    HEALTHY = "healthy"
    ATTENTION = "attention"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_healthy(self) -> bool:
        """Excellent or Healthy; Unknown never counts as healthy."""
        return self in (Band.EXCELLENT, Band.HEALTHY)

    @property
    def is_bad(self) -> bool:
        """Warning or Critical."""
        return self in (Band.WARNING, Band.CRITICAL)

    @property
    def rank(self) -> int:
        """Worst first: Critical 0 … Excellent 4, Unknown 5 (sorts after every known band)."""
        return _RANK[self]


_RANK = {
    Band.CRITICAL: 0,
    Band.WARNING: 1,
    Band.ATTENTION: 2,
    Band.HEALTHY: 3,
    Band.EXCELLENT: 4,
    Band.UNKNOWN: 5,
}

# Lower bounds, best first: 90-100 Excellent, 80-89 Healthy, 60-79 Attention, 40-59 Warning, 0-39 Critical.
_FLOORS: tuple[tuple[float, Band], ...] = (
    (90.0, Band.EXCELLENT),
    (80.0, Band.HEALTHY),
    (60.0, Band.ATTENTION),
    (40.0, Band.WARNING),
)

ThreeWay = Literal["HEALTHY", "ATTENTION", "CRITICAL", "UNKNOWN"]


def band(score: float | None) -> Band:
    """Status band of a 0-100 score; None (not computable) is Unknown."""
    if score is None:
        return Band.UNKNOWN
    return next((b for floor, b in _FLOORS if score >= floor), Band.CRITICAL)


def three_way(b: Band) -> ThreeWay:
    """The seed's `health_status` of a band: HEALTHY (Excellent/Healthy), ATTENTION, CRITICAL
    (Warning/Critical), UNKNOWN. Only a Prometheus-style export uses it."""
    if b is Band.UNKNOWN:
        return "UNKNOWN"
    if b.is_healthy:
        return "HEALTHY"
    return "ATTENTION" if b is Band.ATTENTION else "CRITICAL"


def worst(bands: Iterable[Band | str]) -> Band:
    """The worst known band of several (Unknown only when none is known)."""
    known = [Band(b) for b in bands if Band(b) is not Band.UNKNOWN]
    return min(known, key=lambda b: b.rank) if known else Band.UNKNOWN


def parse(raw: object) -> Band:
    """A stored status word back into the vocabulary (anything else is Unknown)."""
    try:
        return Band(str(raw).lower())
    except ValueError:
        return Band.UNKNOWN


# ------------------------------------------------------------------------------ KPI values


@dataclass(frozen=True)
class Verdict:
    score: float | None
    band: Band


def kpi(defn: KpiDefinition | str, value: float | None) -> Verdict:
    """A KPI value judged on its dictionary thresholds (None is Unknown)."""
    d = load_dictionary().get(defn) if isinstance(defn, str) else defn
    score = normalise(d, value)
    return Verdict(score, band(score))


def kpi_band(defn: KpiDefinition | str, value: float | None) -> Band:
    return kpi(defn, value).band


# ------------------------------------------------------------------------------ coverage


def coverage_rules() -> tuple[float, float]:
    """(min share to be known at all, share below which a result is partial) from the pack."""
    n = load_dictionary().normalisation
    return n.min_known_weight, n.full_coverage


def capped(b: Band, coverage: float) -> Band:
    """A band after the coverage rule: Unknown under the minimum share, at most Attention while
    partial (measured on less than `full_coverage` of its weight)."""
    minimum, full = coverage_rules()
    if coverage < minimum - 1e-9:
        return Band.UNKNOWN
    if coverage < full - 1e-9 and b in (Band.EXCELLENT, Band.HEALTHY):
        return Band.ATTENTION
    return b


def partial_note(coverage: float, missing: Iterable[str]) -> str | None:
    """ "partial: 62 % measured, missing …" for a result under full coverage (None when full)."""
    _, full = coverage_rules()
    if coverage >= full - 1e-9:
        return None
    names = ", ".join(missing) or "part of its inputs"
    return f"partial: {100 * coverage:.0f} % measured, missing {names}"


COVERAGE_CHANGE_POINTS = 10.0  # a delta between periods whose coverage differs more is no trend


def comparable(coverage_now: float | None, coverage_then: float | None) -> bool:
    """Whether two results can be compared as a trend: both measured on shares of their weight
    within 10 points of each other."""
    if coverage_now is None or coverage_then is None:
        return False
    return abs(coverage_now - coverage_then) * 100 <= COVERAGE_CHANGE_POINTS + 1e-9


# ------------------------------------------------------------------------------ rows beside KPIs


def slo_row(attainment_pct: float | None, budget_left: float | None) -> Band:
    """One service's SLO over a period: its attainment on the slo_attainment thresholds, and
    Critical once its error budget is spent (budget left <= 0), whatever the attainment."""
    if budget_left is not None and budget_left <= 0:
        return Band.CRITICAL
    return kpi_band("slo_attainment", attainment_pct)


def burn(rate: float | None) -> Band:
    """A burn rate on the error_budget_burn_rate thresholds (above 1x is never Healthy)."""
    return kpi_band("error_budget_burn_rate", rate)


SATURATED_PCT, BUSY_PCT = 90.0, 80.0  # of a resource's limit: Critical / Warning


def capacity(used_pct: float) -> tuple[Band, str | None]:
    """A resource's used share of its limit. Saturation is the risk on the high side; below the
    infra_utilization KPI's critical threshold a resource is over-provisioned (money, not risk:
    Attention). In between it is Healthy."""
    idle = load_dictionary().get("infra_utilization").critical
    if used_pct >= SATURATED_PCT:
        return Band.CRITICAL, f"saturated: at or above {SATURATED_PCT:g}% of its limit"
    if used_pct >= BUSY_PCT:
        return Band.WARNING, f"busy: at or above {BUSY_PCT:g}% of its limit"
    if used_pct < idle:
        return Band.ATTENTION, f"over-provisioned: below {idle:g}% of its limit"
    return Band.HEALTHY, None


def open_findings(severity: str, open_count: int, overdue: int, due_soon: int) -> Band:
    """A severity row of open vulnerabilities: any open critical finding is Critical (the seed's
    CriticalCVEDetected); past its SLA a high is Critical and a medium/low Warning; within the
    last quarter of its SLA Attention; otherwise (none open, or open within the SLA) Healthy."""
    if severity == "critical" and open_count:
        return Band.CRITICAL
    if overdue:
        return Band.CRITICAL if severity == "high" else Band.WARNING
    return Band.ATTENTION if due_soon else Band.HEALTHY


def secret(open_: bool) -> Band:
    """A secret finding: open is Critical (secret_scan_violations: one is already critical),
    fixed is Healthy."""
    return Band.CRITICAL if open_ else Band.HEALTHY


def control(result: str) -> Band:
    """A compliance control in the reports in force: failing (a mapped check fails) is Critical,
    passing (all its deciding checks pass) Healthy, not evaluated (manual / muted only) Unknown."""
    return {"fail": Band.CRITICAL, "pass": Band.HEALTHY}.get(result, Band.UNKNOWN)


def at_risk_account(enterprise: bool) -> Band:
    """An account at risk of churn (cancellation scheduled, payment past due or unpaid): Warning
    when it is an enterprise account (the CEO's ChurnRiskAlert counts those), else Attention."""
    return Band.WARNING if enterprise else Band.ATTENTION


def denied_decisions(count: int) -> Band:
    """Denied authorisation decisions of one app and path on a day: worth a look (Warning)."""
    return Band.WARNING if count else Band.HEALTHY


def key_result(progress_pct: float | None, expected_pct: float | None) -> Band:
    """A key result against the share of its period elapsed: within 10 points Healthy, within
    25 Attention, else Warning; no progress reported is Unknown."""
    if progress_pct is None:
        return Band.UNKNOWN
    if expected_pct is None or progress_pct >= expected_pct - 10:
        return Band.HEALTHY
    return Band.ATTENTION if progress_pct >= expected_pct - 25 else Band.WARNING


COST_OVER_PLAN_WARN_PCT = 10.0


def cost_change(change_pct: float | None) -> Band:
    """Month-to-date cost against plan (or last month to date): at or under Healthy, up to 10 %
    over Attention, more Warning; nothing to compare with is Attention (not judged, not hidden)."""
    if change_pct is None:
        return Band.ATTENTION
    if change_pct <= 0:
        return Band.HEALTHY
    return Band.ATTENTION if change_pct <= COST_OVER_PLAN_WARN_PCT else Band.WARNING


BLOCKING_PRIORITIES = ("P1", "P2")


def operational(slo_bands: Iterable[Band | str], open_priorities: Iterable[str | None]) -> bool:
    """A service is operational only when none of its SLOs is Warning/Critical and it has no open
    P1/P2 incident."""
    if any(Band(b).is_bad for b in slo_bands):
        return False
    return not any(p in BLOCKING_PRIORITIES for p in open_priorities)


def service(slo_bands: Iterable[Band | str], open_priorities: Iterable[str | None]) -> Band:
    """A service's band: its worst SLO, and Critical with an open P1/P2 incident."""
    bands = [Band(b) for b in slo_bands]
    if any(p in BLOCKING_PRIORITIES for p in open_priorities):
        bands.append(Band.CRITICAL)
    return worst(bands)


def incident(state: str | None, priority: str | None, urgency: str | None) -> Band:
    """An incident: resolved is Healthy; open, a P1/P2 (the priorities that make a service not
    operational) or a high-urgency page is Critical, any other open incident Warning."""
    if state == "resolved":
        return Band.HEALTHY
    if priority in BLOCKING_PRIORITIES or urgency == "high":
        return Band.CRITICAL
    return Band.WARNING


def run_status(status: str | None) -> Band:
    """A KPI run's terminal status as a band (monitoring): delivered runs are Healthy, a partial
    delivery Attention, skipped/blocked Warning, failed Critical; not run yet Unknown."""
    return {
        "success": Band.HEALTHY,
        "partial": Band.ATTENTION,
        "skipped": Band.WARNING,
        "blocked": Band.WARNING,
        "failed": Band.CRITICAL,
    }.get(str(status), Band.UNKNOWN)


# ------------------------------------------------------------------------------ inventory (roll-up)

# Certificates expiring within a window are over threshold above these counts (a cell over its
# threshold is the window's band; none over is Healthy). Expired ones are always Critical.
CERT_THRESHOLDS: dict[int, int] = {7: 0, 30: 1, 90: 5}
_CERT_BANDS: dict[int | None, Band] = {
    None: Band.CRITICAL,
    7: Band.CRITICAL,
    30: Band.WARNING,
    90: Band.ATTENTION,
}


def certificates(window_days: int | None, count: int) -> Band:
    """A certificate window of one tenant (None = already expired): any expired certificate or any
    expiring within 7 days is Critical; more than 1 within 30 days Warning; more than 5 within 90
    days Attention; otherwise Healthy."""
    limit = 0 if window_days is None else CERT_THRESHOLDS[window_days]
    return _CERT_BANDS[window_days] if count > limit else Band.HEALTHY


# An unacknowledged page escalates after 5 minutes, then 15 (exec-cockpit-spec.md "Escalation"): a
# mean time to acknowledge within the first wait is on target, within the second a warning.
MTTA_MINUTES = (5.0, 15.0)


def open_incidents(bands: Iterable[Band | str]) -> Band:
    """A tenant's open incidents: as bad as the worst of them (`incident`); none open is Healthy."""
    found = [parse(b) for b in bands]
    return worst(found) if found else Band.HEALTHY


def mtta(minutes: float | None) -> Band:
    """Median minutes from trigger to acknowledgement: within the first escalation wait Healthy,
    within the second Warning, later Critical; no acknowledged incident Unknown."""
    if minutes is None:
        return Band.UNKNOWN
    first, second = MTTA_MINUTES
    return Band.HEALTHY if minutes <= first else Band.WARNING if minutes <= second else Band.CRITICAL


# Postmortem coverage of resolved P1/P2 incidents (runs/rows_postmortems.py): every major incident
# gets a postmortem; one in ten missing is still on target, more than three in ten is Critical.
POSTMORTEM_COVERAGE_PCT = (90.0, 70.0)


def postmortem_coverage(pct: float | None) -> Band:
    """Share of the window's resolved P1/P2 incidents with a postmortem: ≥ 90 % Healthy, ≥ 70 %
    Warning, less Critical; no such incident (no share) Unknown."""
    if pct is None:
        return Band.UNKNOWN
    healthy, warning = POSTMORTEM_COVERAGE_PCT
    return Band.HEALTHY if pct >= healthy else Band.WARNING if pct >= warning else Band.CRITICAL


def vendors_out_of_review(count: int) -> Band:
    """Tier-1 vendors whose review is overdue: none Healthy, one Warning, more Critical."""
    return Band.HEALTHY if count == 0 else Band.WARNING if count == 1 else Band.CRITICAL


def run_result(status: str | None, delivered_verdict: object) -> Band:
    """A KPI's newest attempt as monitoring counts it: its `run_status`, except that a delivered
    attempt without a verdict (no value was judged) is Unknown, never counted as fine."""
    band = run_status(status)
    if band in (Band.HEALTHY, Band.ATTENTION) and not delivered_verdict:
        return Band.UNKNOWN
    return band


# ------------------------------------------------------------------ threat detection, security reviews


def failed_sign_ins(count_24h: int) -> Band:
    """Failed sign-ins of the last 24 hours, judged as an hourly rate by Failed Auth Attempts'
    own target and critical (the KPI they feed)."""
    return kpi_band("failed_auth_attempts", count_24h / 24)


def blocked_requests(count: int) -> Band:
    """Requests a WAF rule blocked: attacks stopped, not a failure, but worth a look (Attention)."""
    return Band.ATTENTION if count else Band.HEALTHY


def threat_findings(severity: str, count: int) -> Band:
    """Active threat findings (GuardDuty) of one severity: any critical or high is Critical, a
    medium Warning, a low Attention; none Healthy."""
    if not count:
        return Band.HEALTHY
    if severity in ("critical", "high"):
        return Band.CRITICAL
    return Band.WARNING if severity == "medium" else Band.ATTENTION


SECURITY_REVIEW_DUE_DAYS = 2.0  # a review requested within two days is on time
SECURITY_REVIEW_LATE_DAYS = 7.0  # a week without a review blocks a change: Critical


def pending_review(age_days: float) -> Band:
    """A pending security review by its age: up to 2 days Healthy, up to 7 Warning, older Critical."""
    if age_days <= SECURITY_REVIEW_DUE_DAYS:
        return Band.HEALTHY
    return Band.WARNING if age_days <= SECURITY_REVIEW_LATE_DAYS else Band.CRITICAL
