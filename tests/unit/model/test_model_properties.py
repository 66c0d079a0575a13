"""Property tests (hypothesis) through `scoring.health(...)`: every score stays in [0, 100], is
monotone in each KPI in the direction of "better", weights sum to 1, and Unknown propagates:
an Unknown KPI is never healthy, never better than its best value nor worse than its worst, and a
dimension with less than the pack's known weight is Unknown with the reason."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest
from companyos.domain.kpis import DIMENSIONS, Direction, KpiDefinition, load_dictionary
from companyos.domain.scoring import (
    SECURITY_TERMS,
    Band,
    DimensionResult,
    HealthResult,
    InputResult,
    ServiceReliability,
    health,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

D = load_dictionary()
MIN_KNOWN = D.normalisation.min_known_weight
FULL = D.normalisation.full_coverage
TOL = 1e-9
# health() costs about a millisecond; a few dozen examples per property keep the suite fast.
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _value(k: KpiDefinition) -> st.SearchStrategy[float]:
    """Finite values from well past critical (score 0) to well past target (score 100)."""
    lo, hi = sorted((k.target, k.critical))
    pad = 2.0 * max(k.span, 1.0)
    return st.floats(lo - pad, hi + pad, allow_nan=False, allow_infinity=False)


def _best(k: KpiDefinition) -> float:
    """A value at least as good as any other for the KPI's score and its security-formula term."""
    return k.target + 1e3 if k.direction is Direction.HIGHER else k.target - 1e3


def _worst(k: KpiDefinition) -> float:
    return k.critical - 1e3 if k.direction is Direction.HIGHER else k.critical + 1e3


KNOWN = st.fixed_dictionaries({k.id: _value(k) for k in D.all()})
MAYBE = st.fixed_dictionaries({k.id: st.none() | _value(k) for k in D.all()})


@st.composite
def _services(draw: st.DrawFn) -> list[ServiceReliability]:
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["data", "api", "frontend"]),
                st.floats(0.1, 5.0),
                st.none() | st.floats(-0.5, 1.0),
            ),
            min_size=1,
            max_size=8,
        )
    )
    return [
        ServiceReliability(service=f"svc{i}", domain=dom, weight=w, slo_attainment=att)
        for i, (dom, w, att) in enumerate(rows)
    ]


def _nodes(h: HealthResult) -> Iterator[DimensionResult | InputResult]:
    for dim in h.composite.dimensions:
        yield dim
        stack = list(dim.inputs)
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node.children)


def _scores(h: HealthResult) -> dict[str, float | None]:
    return {"composite": h.composite.score} | {d.dimension: d.score for d in h.composite.dimensions}


def _in_range(x: float | None) -> bool:
    return x is None or 0.0 <= x <= 100.0


# ----------------------------------------------------------------------------- [0, 100]


@FAST
@given(values=MAYBE, services=st.none() | _services())
def test_every_score_of_the_breakdown_stays_within_0_and_100(values, services):
    # Given any KPI values (some Unknown) and optionally per-service SLO data
    h = health(values, services)
    # Then composite, dimensions, inputs, cascade nodes and KPIs all score in [0, 100] or Unknown
    assert _in_range(h.composite.score)
    assert all(_in_range(n.score) for n in _nodes(h))
    assert all(_in_range(k.score) for k in h.kpis)


# ----------------------------------------------------------------------------- monotone


@FAST
@given(values=KNOWN, data=st.data())
def test_scores_are_monotone_in_each_kpi_in_the_direction_of_better(values, data):
    # Given all KPIs known, and one KPI moved between two values
    k = D.get(data.draw(st.sampled_from(D.ids()), label="kpi"))
    a, b = data.draw(_value(k), label="a"), data.draw(_value(k), label="b")
    better, worse = (b, a) if k.is_better(b, a) else (a, b)
    # When scored at the better and at the worse value
    up, down = _scores(health(values | {k.id: better})), _scores(health(values | {k.id: worse}))
    # Then no dimension and not the composite scores lower at the better value
    for name, score in up.items():
        assert score is not None and down[name] is not None
        assert score >= down[name] - TOL, (name, k.id, better, worse)


@FAST
@given(values=MAYBE, services=_services(), data=st.data())
def test_reliability_and_composite_are_monotone_in_each_service_attainment(values, services, data):
    i = data.draw(st.integers(0, len(services) - 1), label="service")
    a, b = sorted(data.draw(st.floats(-0.5, 1.0), label=n) for n in "ab")
    at = [s.model_copy(update={"slo_attainment": a}) if j == i else s for j, s in enumerate(services)]
    bt = [s.model_copy(update={"slo_attainment": b}) if j == i else s for j, s in enumerate(services)]
    low, high = _scores(health(values, at)), _scores(health(values, bt))
    for name in ("reliability", "composite"):
        if low[name] is not None:
            assert high[name] is not None and high[name] >= low[name] - TOL, name


# ----------------------------------------------------------------------------- weights


def test_the_packs_weights_sum_to_1_at_every_level():
    # composite: 0.25 + 0.25 + 0.20 + 0.15 + 0.15
    assert sum(D.dimensions[d].weight for d in DIMENSIONS) == pytest.approx(1.0)
    for dim in D.dimensions.values():
        assert sum(i.weight for i in dim.inputs) == pytest.approx(1.0), dim.name
    # security formula: 0.30 + 0.25 + 0.20 + 0.15 + 0.10
    assert sum(w for _, w, _ in SECURITY_TERMS) == pytest.approx(1.0)


@FAST
@given(values=MAYBE, services=st.none() | _services())
def test_effective_weights_sum_to_1_and_contributions_add_up_to_the_score(values, services):
    # Given any mix of known and Unknown inputs
    h = health(values, services)
    assert sum(h.composite.weights.values()) == pytest.approx(1.0)
    for node in _nodes(h):
        parts = node.inputs if isinstance(node, DimensionResult) else node.children
        if node.score is None or not parts:
            continue
        # Then the known parts' effective weights sum to 1, Unknown parts weigh 0
        assert sum(p.effective_weight for p in parts) == pytest.approx(1.0)
        assert all(p.effective_weight == 0.0 for p in parts if p.score is None)
        # And "why is this 72?" adds up: contributions sum to the score
        assert sum(p.contribution for p in parts) == pytest.approx(node.score)


# ----------------------------------------------------------------------------- Unknown


def _expected_known_share(dimension: str, known: set[str]) -> float:
    """Independent re-statement of the rule: an input is known when at least `min_known_weight`
    of its KPIs are; the dimension's coverage is the weight of its known inputs, each counted with
    the share of its KPIs that are known."""
    spec = D.dimensions[dimension]  # type: ignore[index]
    shares = ((i.weight, sum(k in known for k in i.kpis) / len(i.kpis)) for i in spec.inputs)
    return sum(w * share for w, share in shares if share >= MIN_KNOWN - TOL)


@FAST
@given(values=KNOWN, unknown=st.sets(st.sampled_from(D.ids())))
def test_a_dimension_below_the_known_weight_threshold_is_unknown_with_the_reason(values, unknown):
    # Given some KPIs Unknown (missing)
    h = health({k: (None if k in unknown else v) for k, v in values.items()})
    known = set(D.ids()) - unknown
    for dim in h.composite.dimensions:
        share = _expected_known_share(dim.dimension, known)
        assert dim.known_weight == pytest.approx(share)
        if share < MIN_KNOWN - TOL:
            # Then below the threshold it is Unknown, never healthy, and says what is missing
            assert dim.score is None and dim.band is Band.UNKNOWN
            assert not dim.band.is_healthy
            assert dim.reason is not None and dim.missing
            assert dim.reason.startswith("nothing known" if share == 0 else "only ")
            assert all(m in dim.reason for m in dim.missing)
        else:
            assert dim.score is not None
            # measured on less than 80 % of its weight: never better than Attention
            if share < FULL - TOL:
                assert not dim.band.is_healthy and dim.partial and dim.partial.startswith("partial: ")
    # And the composite follows the same rules over the dimensions' coverage
    composite_share = sum(d.weight * d.known_weight for d in h.composite.dimensions if d.score is not None)
    assert h.composite.known_weight == pytest.approx(composite_share)
    assert (h.composite.score is None) == (composite_share < MIN_KNOWN - TOL)
    if composite_share < FULL - TOL:
        assert not h.composite.band.is_healthy


@FAST
@given(values=MAYBE)
def test_an_unknown_kpi_is_never_healthy_and_says_why(values):
    h = health(values)
    for k in h.kpis:
        if values[k.kpi_id] is None:
            assert k.score is None and k.band is Band.UNKNOWN and not k.band.is_healthy
            assert k.unknown_reason == "missing"


def _groups(h: HealthResult) -> Iterator[tuple[float | None, list[float | None]]]:
    """Every mean of the breakdown: (its score, the scores of the parts it combines)."""
    yield h.composite.score, [d.score for d in h.composite.dimensions]
    for dim in h.composite.dimensions:
        yield dim.score, [i.score for i in dim.inputs]
        for i in dim.inputs:
            if dim.method == "weighted_inputs":
                yield i.score, [k.score for k in i.kpis]
            elif dim.method == "service_cascade":
                yield i.score, [c.score for c in i.children]


@FAST
@given(values=MAYBE, services=st.none() | _services())
def test_unknown_parts_never_lift_a_score_above_its_known_evidence(values, services):
    # Given any mix of known and Unknown parts
    for score, parts in _groups(health(values, services)):
        known = [p for p in parts if p is not None]
        if score is None:
            continue
        # Then a score is the re-weighted mean of its known parts: between their lowest and highest,
        # so if no known part is healthy (>= 80), the whole is not healthy either
        assert min(known) - TOL <= score <= max(known) + TOL
        if max(known) < 80:
            assert score < 80


@FAST
@given(values=KNOWN, data=st.data())
def test_an_unknown_kpi_counts_neither_better_than_its_best_nor_worse_than_its_worst(values, data):
    # Given one KPI made Unknown, and the same KPI at its best and at its worst possible value
    k = D.get(data.draw(st.sampled_from(D.ids()), label="kpi"))
    unknown = _scores(health(values | {k.id: None}))
    best = _scores(health(values | {k.id: _best(k)}))
    worst = _scores(health(values | {k.id: _worst(k)}))
    # Then wherever the Unknown still leaves a score, it lies between the two
    for name, score in unknown.items():
        if score is not None:
            assert worst[name] - TOL <= score <= best[name] + TOL, (name, k.id)


@FAST
@given(values=KNOWN, kpi_id=st.sampled_from(D.ids()))
def test_a_stale_kpi_propagates_exactly_like_a_missing_one(values, kpi_id):
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 12, 7, tzinfo=UTC)
    seen = {k: now for k in D.ids()} | {kpi_id: now - timedelta(days=30)}
    stale = health(values, observed_at=seen, as_of=now)
    missing = health(values | {kpi_id: None})
    assert _scores(stale) == _scores(missing)
    kpi = next(k for k in stale.kpis if k.kpi_id == kpi_id)
    assert kpi.band is Band.UNKNOWN and kpi.unknown_reason and kpi.unknown_reason.startswith("stale")


def _dimension_of(h: HealthResult) -> Mapping[str, DimensionResult]:
    return {d.dimension: d for d in h.composite.dimensions}


def test_a_dimension_with_every_kpi_unknown_is_unknown_and_the_composite_reweights_it_away():
    # Given everything at target except every efficiency KPI Unknown
    values = {k.id: _best(k) for k in D.all()} | {k.id: None for k in D.by_dimension("efficiency")}
    values |= {"change_failure_rate": None, "mttr": None}  # efficiency's DORA input shares these
    h = health(values)
    eff = _dimension_of(h)["efficiency"]
    assert eff.score is None and eff.reason and eff.reason.startswith("nothing known")
    # Then the composite is re-weighted over the known dimensions and says efficiency is missing;
    # its coverage is 0.25 * 3/5 (reliability lacks CFR and MTTR) + 0.25 + 0.20 + 0.15 = 0.75
    assert h.composite.missing == ["efficiency"] and h.composite.known_weight == pytest.approx(0.75)
    assert h.composite.reason and "efficiency" in h.composite.reason
