"""companyos.domain.clock: the one "now" of the domain, which tests and the demo start at a fixed instant."""

from __future__ import annotations

import importlib
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from companyos.domain import clock

INSTANT = datetime(2025, 2, 14, 23, 59, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def session_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does to the clock, the session's fixed clock is back afterwards."""
    monkeypatch.setattr(clock, "_offset", clock._offset)


def test_start_at_reads_the_instant_then_moves_forward_with_real_time():
    clock.start_at(INSTANT)
    first = clock.now()
    time.sleep(0.05)
    second = clock.now()
    assert INSTANT <= first < INSTANT + timedelta(seconds=5)
    assert first + timedelta(seconds=0.05) <= second < INSTANT + timedelta(seconds=10)
    assert second.tzinfo is not None and second.utcoffset() == timedelta(0)
    # 30 s before midnight, a real second moves it by a second, not by a day
    assert second.date() == INSTANT.date()


def test_start_at_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.start_at(datetime(2025, 2, 14, 12, 0))


def test_reset_is_back_to_the_wall_clock():
    clock.start_at(INSTANT)
    clock.reset()
    wall = datetime.now(UTC)  # wall clock: what reset() must read again
    assert abs(clock.now() - wall) < timedelta(seconds=1)


def test_the_environment_variable_starts_the_clock_at_import(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COMPANYOS_CLOCK_START", "2024-03-01T12:00:00+00:00")
    importlib.reload(clock)
    assert datetime(2024, 3, 1, 12, tzinfo=UTC) <= clock.now() < datetime(2024, 3, 1, 12, 0, 2, tzinfo=UTC)


def test_the_test_session_runs_on_the_fixed_clock():
    """tests/conftest.py starts it (and exports the variable, so subprocesses read the same clock)."""
    start = datetime.fromisoformat(os.environ["COMPANYOS_CLOCK_START"])
    assert start <= clock.now() < start + timedelta(hours=2)
