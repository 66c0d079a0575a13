"""Product adoption and ABAC policy coverage formulas (kpi-health-model.md §3 and §2).

Product telemetry (`product_active`, `product_session`, `feature_used` from analytics) is raw: it
is kept 30 days (business class, raw tier). Windows reaching further back read the daily rollup
`product_daily` (one record per tenant and UTC day, business class, aggregated tier: 5 years),
written by `companyos.runs.product_rollup` from the raw events while they are still kept. The
rollup and the formulas' own folding of raw days use the same function, `day_rollups`, so a day
has the same numbers whether it is read raw or rolled up. A day with a rollup is read from it.

A day record: `accounts` (distinct customer accounts active that day), `users` (distinct users
active that day), `wau` (distinct users active in the 7 days ending that day), `feature_wau`
(distinct users who used a tracked feature in those 7 days), `sessions`, `session_s` (summed
session seconds) and `events`; `mtd_users` (distinct users active from the 1st of that day's
calendar month to that day: the month-to-date MAU of runs/formulas_unit_cost.py) when the rows
reach back to the month's start (rollups written before it was added have none).

Trend KPIs (unit `percent_change`, docs/health-model.md) compare a window with the same window
28 days earlier ("month over month"): the 7-day value is this week against the same week a month
ago, the 90-day value the last 90 days against the 90 days ending 28 days ago. A window with
telemetry on fewer than half its days is Unknown with the reason (a missing day is missing data,
not zero activity).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from companyos.runs.formulas import (
    MAX_SAMPLES_PER_DAY,
    Buckets,
    Builtin,
    Counter,
    Folded,
    Outcome,
    Params,
    SignalRow,
    register,
    window_samples,
    window_sum,
)

ROLLUP_KIND = "product_daily"
ACTIVITY_KINDS = ("product_active", "product_session", "feature_used")
WAU_DAYS = 7  # a day's `wau` counts the users of the 7 days ending that day
MOM_SHIFT_DAYS = 28  # "month over month": the comparison window is 28 days earlier (same weekdays)
MIN_COVERAGE = 0.5  # a window needs telemetry on at least half its days
RECORD_FIELDS = ("accounts", "users", "wau", "feature_wau", "sessions", "session_s", "events")
OPTIONAL_FIELDS = ("mtd_users",)  # absent from rollups written before it existed


class Activity(Protocol):
    """What `day_rollups` reads of a signal (SignalRow and StoredSignal both have it)."""

    @property
    def kind(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def attributes(self) -> Mapping[str, Any]: ...


# ------------------------------------------------------------------ daily records (rollup and raw)


def _user(s: Activity) -> str | None:
    user = s.attributes.get("user_id")
    return str(user) if user not in (None, "") else None


def _duration(s: Activity) -> float | None:
    try:
        value = float(s.attributes["duration_s"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value >= 0 else None


def day_rollups(rows: Mapping[str, Sequence[Activity]], days: Iterable[date]) -> dict[date, dict[str, float]]:
    """The day record of each of `days` that had activity, from raw analytics rows. The rows must
    cover each day and the 6 days before it (for `wau` / `feature_wau`), and the days since the 1st
    of its month (for `mtd_users`)."""
    by_day: dict[date, list[Activity]] = defaultdict(list)
    for kind in ACTIVITY_KINDS:
        for s in rows.get(kind, ()):
            by_day[s.occurred_at.date()].append(s)
    out: dict[date, dict[str, float]] = {}
    for day in days:
        today = by_day.get(day, [])
        if not today:
            continue
        week = [s for i in range(WAU_DAYS) for s in by_day.get(day - timedelta(days=i), ())]
        month = [s for i in range(day.day) for s in by_day.get(day - timedelta(days=i), ())]
        durations = [d for s in today if s.kind == "product_session" and (d := _duration(s)) is not None]
        out[day] = {
            "accounts": float(len({str(a) for s in today if (a := s.attributes.get("account_id"))})),
            "users": float(len({u for s in today if (u := _user(s))})),
            "wau": float(len({u for s in week if (u := _user(s))})),
            "feature_wau": float(len({u for s in week if s.kind == "feature_used" and (u := _user(s))})),
            "sessions": float(len(durations)),
            "session_s": float(sum(durations)),
            "events": float(len(today)),
            "mtd_users": float(len({u for s in month if (u := _user(s))})),
        }
    return out


def rollup_record(s: SignalRow) -> tuple[date, dict[str, float]] | None:
    """A stored `product_daily` rollup → (day, record); None if it is not one."""
    try:
        day = date.fromisoformat(str(s.attributes.get("day") or s.occurred_at.date().isoformat()))
        record = {k: float(s.attributes[k]) for k in RECORD_FIELDS}
        optional = {k: float(s.attributes[k]) for k in OPTIONAL_FIELDS if s.attributes.get(k) is not None}
        return day, record | optional
    except (KeyError, TypeError, ValueError):
        return None


def fold_product(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`product_daily` rollups for the days that have one, raw `product_active` / `product_session`
    / `feature_used` (user_id, account_id, duration_s) for the others. Each day carries `days` = 1
    (telemetry present) and `rolled` = 1 when it was read from the rollup."""
    rolled = dict(r for s in signals.get(ROLLUP_KIND, ()) if (r := rollup_record(s)) is not None)
    raw_days = {s.occurred_at.date() for k in ACTIVITY_KINDS for s in signals.get(k, ())}
    fresh = day_rollups(signals, sorted(raw_days - set(rolled)))
    for day, record in sorted({**fresh, **rolled}.items()):
        yield day, {**record, "days": 1.0, "rolled": 1.0 if day in rolled else 0.0}


# ------------------------------------------------------------------ windows


def _covered(buckets: Buckets, end: date, days: int, counter: str = "days") -> float:
    return window_sum(buckets, end, days, counter)


RAW_NOTE = " (raw product telemetry is kept 30 days; older days need the product_daily rollup)"


def _coverage_reason(end: date, days: int, what: str, covered: float, note: str = "") -> str | None:
    if covered >= max(1.0, MIN_COVERAGE * days):
        return None
    start = end - timedelta(days=days - 1)
    return f"{what} covers {covered:.0f} of the {days} days {start.isoformat()}..{end.isoformat()}{note}"


def _daily_mean(buckets: Buckets, end: date, days: int, counter: str) -> tuple[float | None, str | None]:
    covered = _covered(buckets, end, days)
    reason = _coverage_reason(end, days, "product telemetry", covered, RAW_NOTE)
    if reason:
        return None, reason
    return window_sum(buckets, end, days, counter) / covered, None


def month_over_month(current: float | None, previous: float | None) -> float | None:
    """% change of a level against the level a month earlier (None when either is missing or 0)."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current / previous - 1.0)


def _trend(counter: str, label: str) -> Any:
    def value(buckets: Buckets, end: date, days: int) -> Outcome:
        cur, why = _daily_mean(buckets, end, days, counter)
        if cur is None:
            return Outcome(None, why)
        prev, why = _daily_mean(buckets, end - timedelta(days=MOM_SHIFT_DAYS), days, counter)
        if prev is None:
            return Outcome(None, f"no month-earlier comparison: {why}")
        change = month_over_month(cur, prev)
        if change is None:
            return Outcome(None, f"no {label} in the comparison window a month earlier")
        return Outcome(change)

    value.__doc__ = (
        f"% change of the mean daily {label} over the window against the same window "
        f"{MOM_SHIFT_DAYS} days earlier."
    )
    return value


active_tenants_dau = _trend("accounts", "active customer accounts")
weekly_active_users = _trend("wau", "weekly active users")


def session_duration(buckets: Buckets, end: date, days: int) -> Outcome:
    """Mean session length in minutes: summed session seconds / sessions over the window."""
    sessions = window_sum(buckets, end, days, "sessions")
    if not sessions:
        return Outcome(None, f"no product sessions in the last {days} days")
    return Outcome(window_sum(buckets, end, days, "session_s") / sessions / 60.0)


def feature_adoption_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """% of weekly active users who used a tracked feature (analytics `feature_used` is emitted for
    the features the product team instruments as key), averaged over the window's days:
    Σ feature_wau / Σ wau."""
    wau = window_sum(buckets, end, days, "wau")
    if not wau:
        return Outcome(None, f"no active users in the last {days} days")
    return Outcome(100.0 * window_sum(buckets, end, days, "feature_wau") / wau)


# ------------------------------------------------------------------ API call volume (Prometheus)

DEFAULT_REQUEST_METRIC = "api_requests"
DAY_S = 86400.0


def fold_requests(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`slo_window` signals of `params.metric` (default `api_requests`: request counts per service and
    window, e.g. `sum by (service) (increase(http_requests_total[1d]))`): value, step_s. A window
    ending at t counts for the day of t - 1 s (a 1 d window ending at midnight is the day before).
    `covered_s` counts each window once (not once per service)."""
    metric = params.get("metric", DEFAULT_REQUEST_METRIC)
    seen: set[tuple[datetime, float]] = set()
    for s in signals.get("slo_window", ()):
        a = s.attributes
        value = a.get("value")
        if a.get("metric") != metric or not isinstance(value, int | float) or isinstance(value, bool):
            continue
        step = float(a.get("step_s") or DAY_S)
        counters: dict[str, Counter] = {"requests": float(value)}
        if (s.occurred_at, step) not in seen:
            seen.add((s.occurred_at, step))
            counters["covered_s"] = step
        yield (s.occurred_at - timedelta(seconds=1)).date(), counters


def _requests_per_day(buckets: Buckets, end: date, days: int) -> tuple[float | None, str | None]:
    covered = _covered(buckets, end, days, "covered_s") / DAY_S
    reason = _coverage_reason(end, days, "request counts", covered)
    if reason:
        return None, reason
    return window_sum(buckets, end, days, "requests") / covered, None


def api_call_volume(buckets: Buckets, end: date, days: int) -> Outcome:
    """% change of requests per day over the window against the same window 28 days earlier."""
    cur, why = _requests_per_day(buckets, end, days)
    if cur is None:
        return Outcome(None, why)
    prev, why = _requests_per_day(buckets, end - timedelta(days=MOM_SHIFT_DAYS), days)
    if prev is None:
        return Outcome(None, f"no month-earlier comparison: {why}")
    change = month_over_month(cur, prev)
    return Outcome(change, None if change is not None else "no requests in the window a month earlier")


# ------------------------------------------------------------------ ABAC policy coverage (OPA)


def endpoint_id(app: str, path: str) -> float:
    """An endpoint (app, policy path) as an exact float key (48 bits of SHA-256)."""
    return float(int(hashlib.sha256(f"{app}|{path}".encode()).hexdigest()[:12], 16))


def fold_policy_coverage(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """`authz_decision`: app (else the entity), path, undefined, query. Per day, the endpoints
    (app, policy path) that asked OPA, and those that got an undefined decision (no policy answered
    them). Ad-hoc queries are not endpoints. At most MAX_SAMPLES_PER_DAY endpoints per day."""
    seen: dict[date, set[float]] = defaultdict(set)
    uncovered: dict[date, set[float]] = defaultdict(set)
    for s in signals.get("authz_decision", ()):
        a = s.attributes
        if a.get("query") is True or not a.get("path"):
            continue
        key = endpoint_id(str(a.get("app") or s.entity or "?"), str(a["path"]))
        day = s.occurred_at.date()
        seen[day].add(key)
        if a.get("undefined") is True:
            uncovered[day].add(key)
    for day in sorted(seen):
        yield (
            day,
            {
                "endpoints": sorted(seen[day])[:MAX_SAMPLES_PER_DAY],
                "uncovered": sorted(uncovered[day])[:MAX_SAMPLES_PER_DAY],
                "decision_days": 1.0,
            },
        )


def abac_policy_coverage(buckets: Buckets, end: date, days: int) -> Outcome:
    """% of the endpoints that asked OPA in the window whose every decision was answered by a policy
    (an undefined decision means no policy covers that endpoint)."""
    endpoints = set(window_samples(buckets, end, days, "endpoints"))
    if not endpoints:
        return Outcome(None, f"no OPA decisions from an endpoint in the last {days} days")
    uncovered = set(window_samples(buckets, end, days, "uncovered")) & endpoints
    return Outcome(100.0 * (len(endpoints) - len(uncovered)) / len(endpoints))


# ------------------------------------------------------------------ registry

for _name, _builtin in {
    "active_tenants_dau": Builtin(fold_product, active_tenants_dau),
    "weekly_active_users": Builtin(fold_product, weekly_active_users),
    "session_duration": Builtin(fold_product, session_duration),
    "feature_adoption_rate": Builtin(fold_product, feature_adoption_rate),
    "api_call_volume": Builtin(fold_requests, api_call_volume),
    "abac_policy_coverage": Builtin(fold_policy_coverage, abac_policy_coverage),
}.items():
    register(_name, _builtin)
