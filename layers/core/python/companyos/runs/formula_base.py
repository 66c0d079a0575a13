"""What every built-in formula is made of: the signal rows it reads, the per-day buckets it folds
them into (counters summed, small sample lists concatenated — small enough for a state machine
payload), the window helpers that read one window of buckets, and the `Outcome` it returns.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

Counter = float | list[float]
Buckets = Mapping[str, Mapping[str, Counter]]  # "yyyy-mm-dd" -> counters / samples
Params = Mapping[str, Any]
MAX_SAMPLES_PER_DAY = 200  # caps a day's sample list (payload size); counters are exact


@dataclass(frozen=True)
class SignalRow:
    """The part of a stored signal a formula reads."""

    kind: str
    signal_id: str
    occurred_at: datetime
    attributes: Mapping[str, Any]
    entity: str | None = None
    service: str | None = None  # the catalog's service (rows builders group by it: runs/rows.py)
    source: str | None = None
    delivery_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    value: float | None
    reason: str | None = None
    detail: Mapping[str, Any] | None = None  # delivered beside the value (counts, evidence)


Folded = Iterable[tuple[date, dict[str, Counter]]]
FoldFn = Callable[[Mapping[str, Sequence[SignalRow]], Params], Folded]
ValueFn = Callable[[Buckets, date, int], Outcome]


@dataclass(frozen=True)
class Builtin:
    fold: FoldFn
    value: ValueFn


def accumulate(items: Folded) -> tuple[dict[str, dict[str, Counter]], int]:
    """Sum counters and concatenate samples per day; returns (buckets, contributing rows)."""
    daily: dict[str, dict[str, Counter]] = {}
    rows = 0
    for day, counters in items:
        rows += 1
        bucket = daily.setdefault(day.isoformat(), {})
        for key, val in counters.items():
            if isinstance(val, list):
                cur = bucket.setdefault(key, [])
                assert isinstance(cur, list)
                cur.extend(val[: max(0, MAX_SAMPLES_PER_DAY - len(cur))])
            else:
                old = bucket.get(key, 0.0)
                bucket[key] = (old if isinstance(old, float | int) else 0.0) + float(val)
    return daily, rows


# ------------------------------------------------------------------ window helpers


def window_days(end: date, days: int) -> Iterable[str]:
    return ((end - timedelta(days=i)).isoformat() for i in range(days))


def window_sum(buckets: Buckets, end: date, days: int, counter: str) -> float:
    total = 0.0
    for day in window_days(end, days):
        val = buckets.get(day, {}).get(counter, 0.0)
        total += val if isinstance(val, float | int) else 0.0
    return total


def window_samples(buckets: Buckets, end: date, days: int, key: str) -> list[float]:
    out: list[float] = []
    for day in window_days(end, days):
        val = buckets.get(day, {}).get(key)
        if isinstance(val, list):
            out.extend(val)
    return out


def same_day_last_month(day: date) -> date:
    """The same day of the previous month (its last day when that month is shorter)."""
    first = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def parse_time(raw: Any) -> datetime | None:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def first_of(attrs: Mapping[str, Any], *names: str) -> Any:
    return next((attrs[n] for n in names if attrs.get(n) not in (None, "")), None)
