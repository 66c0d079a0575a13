"""Latency quantiles from Prometheus histogram buckets, as PromQL's `histogram_quantile` computes
them (prometheus/prometheus `promql/quantile.go`, `bucketQuantile`), so the p95/p99 the cockpit
shows for an endpoint equal what a Grafana panel over the same buckets shows.

Buckets are cumulative counts keyed by their upper bound `le` (a float; `+Inf` is math.inf). Summing
the per-window increases of each bucket over a period and then taking the quantile is exact for the
period (quantiles of windows cannot be averaged; bucket counts can be added).

Rules (quantile.go): the buckets are sorted by `le` (two of one bound add up); without a `+Inf`
bucket, or with fewer than two buckets, or with no observations, the quantile is unknown (None);
counts that decrease with `le` (increase() extrapolates each series on its own) are raised to the
running maximum; the rank is q x count(+Inf); the quantile is interpolated linearly inside the
first bucket whose count reaches the rank, from the previous bucket's bound (0 for the first bucket
when its bound is positive); a rank in the `+Inf` bucket answers the highest finite bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def parse_le(raw: object) -> float | None:
    """A bucket's `le` label as a float (`+Inf` → inf); None when it is not a number."""
    try:
        value = float(str(raw))
    except ValueError:
        return None
    return None if math.isnan(value) else value


def quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) of cumulative (le, count) buckets; None when not computable."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is not between 0 and 1")
    merged: dict[float, float] = {}
    for le, count in buckets:  # two series of one bound (coalesceBuckets) add up
        merged[le] = merged.get(le, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    counts, running = [], 0.0
    for _le, count in ordered:  # monotonic: a later bucket never counts fewer
        running = max(running, count)
        counts.append(running)
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    index = next(i for i, c in enumerate(counts) if c >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    if index == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    start = 0.0 if index == 0 else ordered[index - 1][0]
    below = 0.0 if index == 0 else counts[index - 1]
    end, inside = ordered[index][0], counts[index] - below
    return end if inside <= 0 else start + (end - start) * (rank - below) / inside
