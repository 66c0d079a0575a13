"""Compliance score (kpi-health-model.md "Security": control adherence, percent of controls passing).

Input: `compliance_check` signals (sources/compliance.py: Prowler CSV / OCSF / ASFF, Security Hub
ASFF), one per check result of an uploaded report, all at the report's time. The rule:

* a report is a snapshot of its scopes (cloud accounts): on a day, each scope counts with its
  newest report up to that day's end, and not at all once that report is older than
  `max_report_age_days` (default 30: an account nobody scans any more stops counting);
* a control (framework, control id) passes when every check mapped to it passes in those reports
  (muted results and manual / not-available ones do not decide); it fails when one fails; a
  control with no deciding result is not evaluated and left out;
* the score is the passing share of the evaluated controls of every framework the reports name,
  or only of the contract's `frameworks` (params) when set.

The value is the state at the end of the window's last day (a stock, like a balance): every
period shows the same value, its previous value is the state a period earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from companyos.runs.formula_base import Buckets, Builtin, Folded, Outcome, Params, SignalRow
from companyos.runs.formulas import register

KIND = "compliance_check"
DEFAULT_MAX_REPORT_AGE_DAYS = 30


@dataclass(frozen=True)
class Report:
    delivery_id: str
    taken_at: datetime
    scanner: str
    results: tuple[SignalRow, ...]


@dataclass
class ControlState:
    framework: str
    control_id: str
    checks: list[SignalRow] = field(default_factory=list)

    @property
    def deciding(self) -> list[SignalRow]:
        return [
            c
            for c in self.checks
            if c.attributes.get("status") in ("pass", "fail") and not c.attributes.get("muted")
        ]

    @property
    def failing(self) -> list[SignalRow]:
        return [c for c in self.deciding if c.attributes.get("status") == "fail"]

    @property
    def status(self) -> str:
        """pass / fail, or `not_evaluated` (only manual, muted or not-available results)."""
        if not self.deciding:
            return "not_evaluated"
        return "fail" if self.failing else "pass"


def reports_by_scope(rows: Iterable[SignalRow]) -> dict[str, list[Report]]:
    """Each scope's reports (one delivery = one report), oldest first."""
    grouped: dict[tuple[str, str], list[SignalRow]] = {}
    for s in rows:
        scope = str(s.attributes.get("scope") or s.entity or "")
        grouped.setdefault((scope, s.delivery_id or s.signal_id), []).append(s)
    out: dict[str, list[Report]] = {}
    for (scope, delivery), results in grouped.items():
        at = max(r.occurred_at for r in results)
        out.setdefault(scope, []).append(
            Report(delivery, at, str(results[0].attributes.get("scanner")), tuple(results))
        )
    for reports in out.values():
        reports.sort(key=lambda r: (r.taken_at, r.delivery_id))
    return out


def current_reports(by_scope: Mapping[str, Sequence[Report]], day: date, max_age_days: int) -> list[Report]:
    """Per scope, its newest report taken by the end of `day`, if not older than the max age."""
    out = []
    for reports in by_scope.values():
        newest = next((r for r in reversed(reports) if r.taken_at.date() <= day), None)
        if newest is not None and (day - newest.taken_at.date()).days <= max_age_days:
            out.append(newest)
    return out


def controls_of(
    reports: Iterable[Report], frameworks: Sequence[str] = ()
) -> dict[tuple[str, str], ControlState]:
    """Every control the reports' results map to, with its checks."""
    wanted = set(frameworks)
    out: dict[tuple[str, str], ControlState] = {}
    for report in reports:
        for r in report.results:
            controls = r.attributes.get("controls") or {}
            for fw, ids in controls.items() if isinstance(controls, dict) else ():
                if wanted and fw not in wanted:
                    continue
                for cid in ids or ():
                    out.setdefault((fw, str(cid)), ControlState(fw, str(cid))).checks.append(r)
    return out


def framework_counts(controls: Iterable[ControlState]) -> dict[str, dict[str, int]]:
    """framework -> evaluated controls, passing, failing, not evaluated."""
    out: dict[str, dict[str, int]] = {}
    for c in controls:
        f = out.setdefault(c.framework, {"controls": 0, "passing": 0, "failing": 0, "not_evaluated": 0})
        status = c.status
        if status == "not_evaluated":
            f["not_evaluated"] += 1
            continue
        f["controls"] += 1
        f["passing" if status == "pass" else "failing"] += 1
    return out


def max_age(params: Params) -> int:
    return int(params.get("max_report_age_days", DEFAULT_MAX_REPORT_AGE_DAYS))


def states(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Iterable[tuple[date, list[Report]]]:
    """The reports in force on every day from the first report to the last one's max age."""
    by_scope = reports_by_scope(signals.get(KIND, ()))
    taken = [r.taken_at.date() for reports in by_scope.values() for r in reports]
    if not taken:
        return
    age = max_age(params)
    day, last = min(taken), max(taken) + timedelta(days=age)
    while day <= last:
        yield day, current_reports(by_scope, day, age)
        day += timedelta(days=1)


def fold_compliance(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """One bucket per day: evaluated controls and passing ones of the reports in force that day (a
    state is evaluated once and reused while the same reports are in force)."""
    frameworks = tuple(params.get("frameworks") or ())
    cache: dict[tuple[str, ...], dict[str, float]] = {}
    for day, reports in states(signals, params):
        key = tuple(sorted(r.delivery_id for r in reports))
        if key not in cache:
            counts = framework_counts(controls_of(reports, frameworks).values())
            cache[key] = {
                "controls": float(sum(f["controls"] for f in counts.values())),
                "passing": float(sum(f["passing"] for f in counts.values())),
                "reports": float(len(reports)),
            }
        if cache[key]["reports"]:
            yield day, dict(cache[key])


def _number(bucket: Mapping[str, Any], key: str) -> float:
    val = bucket.get(key, 0.0)
    return float(val) if isinstance(val, int | float) else 0.0


def compliance_score(buckets: Buckets, end: date, days: int) -> Outcome:
    """Passing controls / evaluated controls (percent) of the reports in force at `end`."""
    bucket = buckets.get(end.isoformat())
    if not bucket:
        return Outcome(None, "no compliance report in force on this day (none uploaded, or all too old)")
    controls, passing, reports = (_number(bucket, k) for k in ("controls", "passing", "reports"))
    if not controls:
        return Outcome(None, "the reports in force map no evaluated control (only manual or muted results)")
    detail = {"controls": int(controls), "passing": int(passing), "reports": int(reports)}
    return Outcome(100.0 * passing / controls, detail=detail)


register("compliance_score", Builtin(fold_compliance, compliance_score))
