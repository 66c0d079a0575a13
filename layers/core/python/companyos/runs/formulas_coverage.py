"""Test coverage (kpi-health-model.md "Efficiency": code covered by tests, percent; target 80 %,
critical 60 %): line coverage of the newest report of every repository, weighted by lines —

    Σ lines covered / Σ lines valid x 100   over the newest `coverage_report` of each repository

(sources/coverage.py: Cobertura, lcov, JaCoCo uploads from CI; a repository is mapped to its
service by the catalog, and a service with several repositories is their sum).

Coverage is a level, not a flow: a period's value is the level at the period's end, its `previous`
the level at the end of the period before, its series the level at each point. A repository's
newest report counts while it is at most `params.max_report_age_days` old (default 90): a
repository that stopped reporting drops out instead of showing an old number forever.

The per-day buckets stay small whatever the number of repositories: the fold writes the level on
the days it changes (a report arrives, or one ages out), and a window's end reads the last level
written up to it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from companyos.runs.formula_base import Buckets, Builtin, Counter, Folded, Outcome, Params, SignalRow
from companyos.runs.formulas import register

KIND = "coverage_report"
DEFAULT_MAX_REPORT_AGE_DAYS = 90


def max_report_age(params: Params) -> int:
    raw = params.get("max_report_age_days", DEFAULT_MAX_REPORT_AGE_DAYS)
    days = int(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else 0
    if days < 1:
        raise ValueError(f"max_report_age_days must be a whole number of days >= 1, not {raw!r}")
    return days


def _lines(s: SignalRow) -> tuple[int, int] | None:
    """(covered, valid) of a report; None when they are not counts with 0 <= covered <= valid > 0."""
    covered, valid = s.attributes.get("lines_covered"), s.attributes.get("lines_valid")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (covered, valid)):
        return None
    c, v = int(covered), int(valid)  # type: ignore[arg-type]
    return (c, v) if 0 <= c <= v and v > 0 else None


def repository_of(s: SignalRow) -> str:
    return str(s.entity or s.attributes.get("repository") or "(no repository)")


@dataclass(frozen=True)
class Reports:
    """Each repository's usable reports, oldest first (report time, then signal id), and their days."""

    by_repo: Mapping[str, Sequence[SignalRow]]
    days_of: Mapping[str, Sequence[date]]

    @classmethod
    def of(cls, rows: Sequence[SignalRow]) -> Reports:
        by_repo: dict[str, list[SignalRow]] = {}
        for s in rows:
            if _lines(s) is not None:
                by_repo.setdefault(repository_of(s), []).append(s)
        for reports in by_repo.values():
            reports.sort(key=lambda s: (s.occurred_at, s.signal_id))
        return cls(by_repo, {repo: [s.occurred_at.date() for s in r] for repo, r in by_repo.items()})

    def current(self, day: date, max_age_days: int) -> dict[str, SignalRow]:
        """The newest report of each repository up to the end of `day`, if at most max_age_days old."""
        out: dict[str, SignalRow] = {}
        for repo, reports in self.by_repo.items():
            i = bisect_right(self.days_of[repo], day)
            if i and (day - reports[i - 1].occurred_at.date()).days < max_age_days:
                out[repo] = reports[i - 1]
        return out

    def change_days(self, max_age_days: int) -> list[date]:
        """The days the level can change: a report's day, and the day it ages out."""
        days = {s.occurred_at.date() for reports in self.by_repo.values() for s in reports}
        return sorted(days | {d + timedelta(days=max_age_days) for d in days})


def totals(current: Mapping[str, SignalRow]) -> tuple[int, int]:
    """(Σ lines covered, Σ lines valid) of the reports."""
    pairs = [p for p in (_lines(s) for s in current.values()) if p is not None]
    return sum(c for c, _ in pairs), sum(v for _, v in pairs)


def fold_coverage(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """On each day the level changes: Σ lines covered / valid and the repositories counted."""
    age = max_report_age(params)
    reports = Reports.of(signals.get(KIND, ()))
    for day in reports.change_days(age):
        current = reports.current(day, age)
        covered, valid = totals(current)
        counters: dict[str, Counter] = {
            "lines_covered": float(covered),
            "lines_valid": float(valid),
            "repositories": float(len(current)),
        }
        yield day, counters


def coverage_level(buckets: Buckets, end: date, days: int) -> Outcome:
    """The level written last up to `end` (the same for every period length: module doc)."""
    key = end.isoformat()
    written = [d for d in buckets if d <= key]
    if not written:
        return Outcome(None, f"no coverage report up to {key}")
    level = buckets[max(written)]
    covered, valid = level.get("lines_covered", 0.0), level.get("lines_valid", 0.0)
    assert isinstance(covered, float | int) and isinstance(valid, float | int)
    if not valid:
        return Outcome(None, f"no repository has a coverage report within max_report_age_days up to {key}")
    detail = {
        "lines_covered": int(covered),
        "lines_valid": int(valid),
        "repositories": int(level.get("repositories", 0.0)),  # type: ignore[arg-type]
    }
    return Outcome(100.0 * covered / valid, None, detail)


register("test_coverage", Builtin(fold_coverage, coverage_level))
