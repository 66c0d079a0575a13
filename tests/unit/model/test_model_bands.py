"""Status bands and the seed's three-way health label (derived from the band)."""

from __future__ import annotations

import pytest
from companyos.domain.verdict import Band, band, three_way


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (100.0, Band.EXCELLENT),
        (90.0, Band.EXCELLENT),
        (89.99, Band.HEALTHY),
        (80.0, Band.HEALTHY),
        (79.99, Band.ATTENTION),
        (60.0, Band.ATTENTION),
        (59.99, Band.WARNING),
        (40.0, Band.WARNING),
        (39.99, Band.CRITICAL),
        (0.0, Band.CRITICAL),
        (None, Band.UNKNOWN),
    ],
)
def test_bands_follow_the_seed_thresholds_at_every_boundary(score, expected):
    assert band(score) is expected


@pytest.mark.parametrize(
    ("score", "label"),
    [(80.0, "HEALTHY"), (79.99, "ATTENTION"), (60.0, "ATTENTION"), (59.99, "CRITICAL"), (None, "UNKNOWN")],
)
def test_three_way_label_is_the_seeds_health_status(score, label):
    assert three_way(band(score)) == label


def test_unknown_is_never_healthy_and_has_a_label():
    assert not Band.UNKNOWN.is_healthy
    assert Band.HEALTHY.is_healthy and Band.EXCELLENT.is_healthy
    assert not Band.ATTENTION.is_healthy
    assert Band.UNKNOWN.label == "Unknown" and Band.EXCELLENT.label == "Excellent"
