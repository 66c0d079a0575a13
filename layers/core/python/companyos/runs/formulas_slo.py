"""Built-in formulas of the Prometheus-fed KPIs: SLO attainment, error-budget burn rate and infra
utilisation (contracts in runs/packs/slo-contracts-v1.yaml). Registered with `runs.formulas` on
import, like every `formulas_<family>.py`.

Inputs are the signals of the Prometheus pull connector (companyos/sources/prometheus.py):

* `slo_window`: metric `slo_good` / `slo_total` — request counts of one service (`entity`, the
  series' service label) over one window; `step_s` is the window length, `occurred_at` its end.
* `prom_sample`: metric in `params.metrics` (default `cpu_utilisation`, `memory_utilisation`) — the
  used share of what is provisioned (usage / limit, a ratio 0..1; `params.scale`, default 100,
  turns it into percent). Raw: kept 15 days.
* `prom_daily`: the same metrics as daily means (a 1 d window at a 1 d step; its day is the day of
  the window's middle) — the rollup that 28/90/365-day windows read once the samples expired.

Per-day buckets stay small whatever the number of services: a handful of counters per day
(services with traffic, the sum of their attainments, good/total/budget requests), never one key
per service.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from companyos.domain import kpis, slo
from companyos.runs import formulas
from companyos.runs.formulas import Buckets, Builtin, Folded, Outcome, Params, SignalRow, window_sum

SLO_KIND = "slo_window"
SAMPLE_KIND = "prom_sample"
DAILY_KIND = "prom_daily"
GOOD, TOTAL = "slo_good", "slo_total"
DEFAULT_UTILISATION_METRICS = ("cpu_utilisation", "memory_utilisation")
# Prometheus' increase() extrapolates each series on its own, so `good` can exceed `total` by a
# hair when there were no errors; up to this share (or one request) it is read as good == total.
GOOD_OVERSHOOT = 1e-3


def default_objective() -> float:
    """The SLO objective as a ratio: the KPI dictionary's `slo_attainment` target (99.9 → 0.999)."""
    return float(kpis.load_dictionary().get("slo_attainment").target) / 100.0


def objective_of(params: Params) -> float:
    """`params.objective` (a ratio, e.g. 0.9995) or the dictionary's; ValueError outside (0, 1)."""
    raw = params.get("objective")
    objective = default_objective() if raw is None else float(raw)
    if not 0 < objective < 1:
        raise ValueError(f"SLO objective {objective} is not a ratio strictly between 0 and 1")
    return objective


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _service(s: SignalRow) -> str:
    labels = s.attributes.get("labels")
    label = labels.get("service") if isinstance(labels, Mapping) else None
    return str(s.entity or label or "unlabelled")


# ------------------------------------------------------------------ SLO windows


def window_day(end: datetime, step_s: int) -> date:
    """The day a window belongs to: the day of its middle (a 1d window stamped 00:00 is the day
    before; a 1h window stamped 13:00 is 12:00-13:00 of that day)."""
    return (end - timedelta(seconds=step_s / 2)).date()


def service_day_windows(rows: Sequence[SignalRow]) -> dict[tuple[str, date], tuple[int, float, float]]:
    """(service, day) → (window length in s, good, total) requests.

    Per service and day the coarsest window length with data that day is used (the day's 1d window,
    else its 1h windows, e.g. today before its 1d window exists): two window lengths are never
    added together. A window needs both counts; two signals of one (service, window, time, metric)
    are one sample (a re-configured query cannot double the counts)."""
    samples: dict[tuple[str, int, datetime], dict[str, float]] = {}
    for s in rows:
        metric = s.attributes.get("metric")
        value = _number(s.attributes.get("value"))
        step = int(_number(s.attributes.get("step_s")) or 0)
        if metric not in (GOOD, TOTAL) or value is None or step <= 0:
            continue
        samples.setdefault((_service(s), step, s.occurred_at), {})[metric] = value
    by_day: dict[tuple[str, date], dict[int, list[float]]] = {}
    for (service, step, at), counts in samples.items():
        if GOOD not in counts or TOTAL not in counts:
            continue
        per_step = by_day.setdefault((service, window_day(at, step)), {})
        acc = per_step.setdefault(step, [0.0, 0.0])
        acc[0] += counts[GOOD]
        acc[1] += counts[TOTAL]
    out: dict[tuple[str, date], tuple[int, float, float]] = {}
    for key, per_step in by_day.items():
        step = max(per_step)
        out[key] = (step, per_step[step][0], per_step[step][1])
    return out


def service_days(rows: Sequence[SignalRow]) -> dict[tuple[str, date], tuple[float, float]]:
    """(service, day) → (good, total) requests of `service_day_windows`."""
    return {key: (good, total) for key, (_step, good, total) in service_day_windows(rows).items()}


def usable_counts(good: float, total: float) -> tuple[float, float] | None:
    """(good, total) as counted: None for negative counts or good above total beyond
    extrapolation noise (GOOD_OVERSHOOT); a small overshoot counts as good == total."""
    if good < 0 or total < 0:
        return None
    if good > total:
        if good - total > max(1.0, GOOD_OVERSHOOT * total):
            return None
        good = total
    return good, total


def recent_counts(rows: list[Any], seconds: int) -> dict[str, Any] | None:
    """(good, total) over the newest `seconds` of complete windows: the coarsest window length
    that divides `seconds` and whose newest windows cover it without a gap; None otherwise."""
    series: dict[int, dict[datetime, dict[str, float]]] = {}
    for s in rows:
        step = int(s.attributes.get("step_s") or 0)
        if step and seconds % step == 0 and s.attributes.get("value") is not None:
            point = series.setdefault(step, {}).setdefault(s.occurred_at, {})
            point[str(s.attributes["metric"])] = float(s.attributes["value"])
    for step in sorted(series, reverse=True):
        ends = sorted(
            (at for at, p in series[step].items() if {"slo_good", "slo_total"} <= set(p)), reverse=True
        )
        want = seconds // step
        newest = ends[:want]
        if len(newest) < want or (newest[0] - newest[-1]).total_seconds() != (want - 1) * step:
            continue
        counted = [
            usable_counts(series[step][at]["slo_good"], series[step][at]["slo_total"]) for at in newest
        ]
        if any(c is None for c in counted):
            continue
        good = sum(c[0] for c in counted if c)
        total = sum(c[1] for c in counted if c)
        start = newest[-1] - timedelta(seconds=step)
        return {"good": good, "total": total, "from": start.isoformat(), "to": newest[0].isoformat()}
    return None


def fold_slo_windows(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """One item per (service, day) with traffic: services 1, its attainment (good / total), good,
    total and budget (allowed bad requests = total x (1 - objective)). Negative counts are kept
    (`negative_count`) so the contract's non_negative pre-validation rejects them; a window whose
    good exceeds total beyond extrapolation noise is counted `invalid` and left out."""
    objective = objective_of(params)
    for (_service_name, day), (good, total) in sorted(service_days(signals.get(SLO_KIND, ())).items()):
        counted = usable_counts(good, total)
        if counted is None:
            negative = {"negative_count": min(good, total)} if min(good, total) < 0 else {}
            yield day, {"invalid": 1.0, **negative}
            continue
        good, total = counted
        if total == 0:
            yield day, {"idle": 1.0}
            continue
        attainment = slo.attainment(good, total)
        assert attainment is not None
        yield (
            day,
            {
                "services": 1.0,
                "attainment_sum": attainment,
                "good": good,
                "total": total,
                "budget": total * (1.0 - objective),
            },
        )


def _no_traffic(days: int) -> str:
    return f"no Prometheus SLO windows (slo_window slo_good/slo_total) with requests in the last {days} days"


def slo_attainment(buckets: Buckets, end: date, days: int) -> Outcome:
    """The mean per-service attainment over the window's service-days, in percent: every service
    with traffic on a day counts once that day (the spec's avg(service slo_attainment), so a small
    service that fails its SLO is not drowned by a big one)."""
    services = window_sum(buckets, end, days, "services")
    if not services:
        return Outcome(None, _no_traffic(days))
    return Outcome(100.0 * window_sum(buckets, end, days, "attainment_sum") / services)


def error_budget_burn_rate(buckets: Buckets, end: date, days: int) -> Outcome:
    """How fast the window spent the error budget of all its requests (model.slo.burn_rate):
    1x spends it exactly over the SLO period, 6x in a sixth of it. The objective is the one the
    fold applied (budget / total = 1 - objective)."""
    total = window_sum(buckets, end, days, "total")
    if not total:
        return Outcome(None, _no_traffic(days))
    good = min(window_sum(buckets, end, days, "good"), total)
    objective = 1.0 - window_sum(buckets, end, days, "budget") / total
    return Outcome(slo.burn_rate(good, total, objective))


# ------------------------------------------------------------------ utilisation samples


def utilisation_samples(
    rows: Sequence[SignalRow], metrics: Sequence[str]
) -> Iterator[tuple[str, str, datetime, float]]:
    """(service, metric, time, ratio) of the utilisation samples, one per series and time."""
    seen: dict[tuple[str, str, datetime], float] = {}
    for s in rows:
        metric = s.attributes.get("metric")
        value = _number(s.attributes.get("value"))
        if metric in metrics and value is not None:
            seen[(_service(s), str(metric), s.occurred_at)] = value
    for (service, metric, at), value in seen.items():
        yield service, metric, at, value


def utilisation_days(
    signals: Mapping[str, Sequence[SignalRow]], metrics: Sequence[str]
) -> dict[tuple[str, str, date], float]:
    """(service, metric, day) → that day's mean utilisation ratio: the daily rollup (`prom_daily`)
    where the pull wrote one, else the mean of the day's raw samples (today, before its 1 d window
    is complete) — never both for one day."""
    out: dict[tuple[str, str, date], float] = {}
    for s in signals.get(DAILY_KIND, ()):
        metric, value = s.attributes.get("metric"), _number(s.attributes.get("value"))
        step = int(_number(s.attributes.get("step_s")) or 86400)
        if metric in metrics and value is not None:
            out[(_service(s), str(metric), window_day(s.occurred_at, step))] = value
    raw: dict[tuple[str, str, date], list[float]] = {}
    for service, metric, at, value in utilisation_samples(signals.get(SAMPLE_KIND, ()), metrics):
        raw.setdefault((service, metric, at.date()), []).append(value)
    for key, values in raw.items():
        out.setdefault(key, sum(values) / len(values))
    return out


def fold_utilisation(signals: Mapping[str, Sequence[SignalRow]], params: Params) -> Folded:
    """Each (service, resource) day on its day: days 1, utilisation (x params.scale, default 100)."""
    metrics = tuple(params.get("metrics") or DEFAULT_UTILISATION_METRICS)
    scale = float(params.get("scale", 100.0))
    for (_service_name, _metric, day), value in sorted(utilisation_days(signals, metrics).items()):
        yield day, {"samples": 1.0, "utilisation_sum": value * scale}


def infra_utilization(buckets: Buckets, end: date, days: int) -> Outcome:
    """Mean used share of provisioned resources over the window: the mean of the daily means of
    every service and resource (each (service, resource, day) weighs the same)."""
    n = window_sum(buckets, end, days, "samples")
    if not n:
        return Outcome(None, f"no Prometheus utilisation (prom_daily / prom_sample) in the last {days} days")
    return Outcome(window_sum(buckets, end, days, "utilisation_sum") / n)


formulas.register("slo_attainment", Builtin(fold_slo_windows, slo_attainment))
formulas.register("error_budget_burn_rate", Builtin(fold_slo_windows, error_budget_burn_rate))
formulas.register("infra_utilization", Builtin(fold_utilisation, infra_utilization))
