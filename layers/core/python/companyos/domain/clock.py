"""The one clock: every "now" of the domain comes from here.

In AWS it is the wall clock. Tests and the demo may start it at a fixed instant
(`start_at`, or `COMPANYOS_CLOCK_START=2026-06-10T09:00:00+00:00` in the environment): the clock
then reads that instant plus the real time elapsed since, so it still moves forward (runs started
one after another keep their order) while no result depends on today's date or the time of day.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """The current instant (timezone-aware, UTC)."""
    return datetime.now(UTC) + _offset


def utc(instant: datetime) -> datetime:
    """`instant` as an aware time: a naive one (a tool that writes UTC without a zone, a record
    stored before times were checked) is read as UTC."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def start_at(instant: datetime) -> None:
    """From now on, `now()` reads `instant` plus the real time elapsed since this call."""
    global _offset
    if instant.tzinfo is None:
        raise ValueError("the clock starts at a timezone-aware instant")
    _offset = instant - datetime.now(UTC)


def reset() -> None:
    """Back to the wall clock."""
    global _offset
    _offset = timedelta(0)


_start = os.environ.get("COMPANYOS_CLOCK_START")
if _start:
    start_at(datetime.fromisoformat(_start))
