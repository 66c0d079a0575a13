"""The grouping window's rule, pure (issue #18, 5): held while the window is open for alerts it has
not carried; never for the alert it carried re-firing, never once it has ended."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from companyos.alerts.grouping import Window, held_until

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = Window(sent_at=T0, alert_ids=("a1",))


def test_a_new_alert_within_the_window_waits_for_its_end():
    assert held_until(WINDOW, ["a2"], 300, T0 + timedelta(seconds=60)) == T0 + timedelta(minutes=5)
    assert held_until(WINDOW, ["a1", "a2"], 300, T0 + timedelta(seconds=299)) == T0 + timedelta(minutes=5)


def test_what_is_not_held():
    assert held_until(None, ["a1"], 300, T0) is None  # no message yet: the first goes at once
    assert held_until(WINDOW, ["a1"], 300, T0 + timedelta(seconds=60)) is None  # the same alert again
    assert held_until(WINDOW, ["a2"], 300, T0 + timedelta(seconds=300)) is None  # the window ended
    assert held_until(WINDOW, ["a2"], 0, T0 + timedelta(seconds=1)) is None  # grouping off
