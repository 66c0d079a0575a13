"""Samples for the evaluator, from what the system already stores: the tenant's score snapshot
(KPI values, composite and dimension scores), the run log (SLA breach, hard validation failure,
runtime anomaly of the runs just finished), recent signals (PagerDuty incidents) — plus metrics
and SLO window counts handed in by an event (connectors without a KPI contract yet)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import RunLog, ScoreStore, SignalStore
from companyos.domain import slo, verdict
from companyos.domain.alert_engine import Sample
from companyos.domain.alert_rules import Rule, SignalSelector
from companyos.runs import formulas_slo

HARD_FAIL_CODES = ("PRE_VALIDATION_FAILED", "POST_VALIDATION_FAILED")
CLOSED = "(closed)"


def snapshot_samples(snapshot: Mapping[str, Any]) -> list[Sample]:
    out = []
    for kpi_id, e in (snapshot.get("kpis") or {}).items():
        evidence = (e.get("evidence") or {}).get("href")
        ctx = {
            "name": e.get("name"),
            "display": e.get("display"),
            "unit": e.get("unit"),
            "evidence": evidence,
        }
        out.append(Sample("kpi", kpi_id, {"kpi": kpi_id}, e.get("value"), ctx))
    health = snapshot.get("health") or {}
    if health:
        out.append(
            Sample(
                "health",
                "",
                {},
                health.get("score"),
                {"status": verdict.three_way(verdict.parse(health.get("status")))},
            )
        )
        for d in health.get("dimensions") or []:
            out.append(
                Sample("dimension", d["id"], {"dimension": d["id"]}, d.get("score"), {"name": d["name"]})
            )
    return out


def row_samples(snapshot: Mapping[str, Any], rule: Rule) -> list[Sample]:
    """One sample per breakdown row of the rule's panel, as the KPI run delivered it (the page shows
    the same rows with the same run as evidence). A panel the run could not deliver gives no sample:
    Unknown never fires and never resolves."""
    sel = rule.row
    panel = (snapshot.get("panels") or {}).get(sel.panel) if sel is not None else None
    if sel is None or not isinstance(panel, Mapping) or not panel.get("available"):
        return []
    out = []
    for item in panel.get(sel.rows) or []:
        if not isinstance(item, Mapping) or item.get(sel.key) is None:
            continue
        if sel.where_field is not None and str(item.get(sel.where_field)) not in sel.where_values:
            continue
        value = item.get(sel.field)
        ctx: dict[str, Any] = {
            k: v for k, v in item.items() if isinstance(v, str | int | float) and not isinstance(v, bool)
        }
        evidence = item.get("evidence") or panel.get("evidence") or {}
        ctx |= {"evidence": evidence.get("href"), "run_id": evidence.get("run_id")}
        labels = {sel.label: str(item[sel.key])}
        out.append(Sample("row", rule.sample_key[1], labels, _number(value), ctx))
    return out


SNAPSHOT_SOURCES = ("kpi", "health", "dimension", "row")


def snapshots_for(tenant_id: str, rules: Iterable[Rule]) -> list[Sample]:
    """Samples of the latest snapshot of every period the snapshot-based rules read: the KPI values,
    composite and dimensions the rules of that period read, and the delivered rows its row rules read."""
    rules = list(rules)
    periods = sorted({r.period for r in rules if r.source in SNAPSHOT_SOURCES})
    out: list[Sample] = []
    for period in periods:
        latest = ScoreStore(tenant_id).latest(period)
        if latest is None:
            continue
        # only what this period's rules read: the same KPI of another period's snapshot is another
        # value (28d vs 7d) — both as samples of one alert, the alert resolved and re-fired as a new
        # episode in every evaluation (a storm of firing messages, none audited)
        wanted = {
            r.sample_key for r in rules if r.period == period and r.source in ("kpi", "health", "dimension")
        }
        out.extend(s for s in snapshot_samples(latest[0]) if (s.source, s.metric) in wanted)
        for rule in rules:
            if rule.source == "row" and rule.period == period:
                out.extend(row_samples(latest[0], rule))
    return out


def _ended(log: RunLog, kpi_id: str, limit: int) -> list[dict[str, Any]]:
    """END rows of the KPI's newest attempts, newest first (attempts still running are skipped)."""
    out = []
    for run in log.recent_runs(kpi_id, limit=limit):
        end = log.row(run["run_id"], "END")
        if end is not None:
            out.append({**end, "run_id": run["run_id"]})
    return out


def _runtime_anomaly(latest: Mapping[str, Any], history: list[dict[str, Any]], cfg: Mapping[str, float]):
    """Duration or row count of the latest run outside `factor` x the median of recent good runs."""
    good = [h for h in history if h.get("status") in ("success", "partial")]
    if len(good) < int(cfg.get("min_history", 5)):
        return None, ""
    factor = float(cfg.get("factor", 3.0))
    findings = []
    med_d = statistics.median(float(h.get("duration_s") or 0) for h in good)
    dur = float(latest.get("duration_s") or 0)
    if dur > max(med_d * factor, float(cfg.get("min_duration_s", 5.0))):
        findings.append(f"duration {dur:.1f}s vs median {med_d:.1f}s")
    med_r = statistics.median(float(h.get("rows_processed") or 0) for h in good)
    rows = float(latest.get("rows_processed") or 0)
    if med_r > 0 and (rows > med_r * factor or rows < med_r / factor):
        findings.append(f"{rows:.0f} rows vs median {med_r:.0f}")
    return bool(findings), "; ".join(findings)


def run_samples(tenant_id: str, kpi_ids: Iterable[str], anomaly: Mapping[str, float]) -> list[Sample]:
    """Pipeline outcomes of the newest finished attempt of each KPI, read from the run log: SLA
    breach, hard validation failure, runtime anomaly against the KPI's recent history."""
    log = RunLog(tenant_id)
    out = []
    for kpi in sorted(set(kpi_ids)):
        ended = _ended(log, kpi, limit=21)
        if not ended:
            continue
        end, history = ended[0], ended[1:]
        labels = {"kpi": kpi}
        ctx = {
            "run_id": end["run_id"],
            "status": end.get("status"),
            "duration_s": end.get("duration_s"),
            "error_code": end.get("error_code"),
            "evidence": f"/api/runs/{end['run_id']}?tenant={tenant_id}",
        }
        out.append(Sample("run", "sla_breached", labels, bool(end.get("sla_breached")), ctx))
        hard = end.get("error_code") in HARD_FAIL_CODES
        out.append(Sample("run", "validation_hard_fail", labels, hard, ctx))
        anomalous, why = _runtime_anomaly(end, history, anomaly)
        out.append(Sample("run", "runtime_anomaly", labels, anomalous, {**ctx, "anomaly": why}))
    return out


def signal_samples(tenant_id: str, rules: Iterable[Rule], now: datetime) -> list[Sample]:
    """The newest signal per key of every signal rule's selector, within its lookback."""
    out = []
    seen: set[SignalSelector] = set()
    for rule in rules:
        sel = rule.signal
        if rule.source != "signal" or sel is None or sel in seen:
            continue
        seen.add(sel)
        newest: dict[str, Mapping[str, Any]] = {}
        for sig in SignalStore(tenant_id).query(sel.kind, now - timedelta(seconds=sel.lookback_s), now):
            key = sig.attributes.get(sel.key)
            if key is not None:
                newest[str(key)] = sig.attributes  # query is in time order: the last one wins
        for key, attrs in newest.items():
            closed = sel.closed_field is not None and str(attrs.get(sel.closed_field)) in sel.closed_values
            value = CLOSED if closed else attrs.get(sel.field)
            ctx = {k: v for k, v in attrs.items() if isinstance(v, str | int | float)}
            out.append(Sample("signal", rule.sample_key[1], {sel.label: key}, value, ctx))
    return out


def _number(v: Any) -> Any:
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def metric_samples(metrics: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """Event-supplied metrics: [{"name", "value", "labels"?}]."""
    return [
        Sample(
            "metric",
            str(m["name"]),
            {str(k): str(v) for k, v in (m.get("labels") or {}).items()},
            _number(m.get("value")),
        )
        for m in metrics
    ]


SLO_KIND = "slo_window"
BURN_LOOKBACK = timedelta(seconds=max(slo.WINDOW_SECONDS.values()) + 86400)  # the 3d window + a day


def burn_observations(tenant_id: str, now: datetime) -> list[dict[str, Any]]:
    """Per service, (good, total) over each multiwindow alert window (5m … 3d) of the pulled
    Prometheus SLO windows (`slo_window` signals), folded as the service SLO drill-down folds them
    (`formulas_slo.recent_counts`): what the SLO burn rules read when no event hands them counts.
    A window the pulled series cannot cover is left out, so its rules stay Unknown."""
    by_service: dict[str, list[Any]] = {}
    for sig in SignalStore(tenant_id).query(SLO_KIND, now - BURN_LOOKBACK, now):
        by_service.setdefault(sig.service or sig.entity or "unmapped", []).append(sig)
    out = []
    for service, rows in sorted(by_service.items()):
        windows = {}
        for label, seconds in slo.WINDOW_SECONDS.items():
            counts = formulas_slo.recent_counts(rows, seconds)
            if counts is not None:
                windows[label] = [counts["good"], counts["total"]]
        if windows:
            objective = formulas_slo.default_objective()
            out.append({"service": service, "objective": objective, "windows": windows})
    return out


def slo_samples(slos: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """Multiwindow burn-rate samples per SLO from window counts {"5m": [good, total], ...} and the
    SLO period (`period_days`, default model.slo.DEFAULT_PERIOD_DAYS), which sets the rules' factors.

    For each burn severity (page, ticket) the value is the highest long-window burn rate among the
    workbook rules of that severity that fire, 0.0 when none fires, None when no rule of that
    severity has both of its windows."""
    out = []
    for s in slos:
        windows = {w: (float(c[0]), float(c[1])) for w, c in (s.get("windows") or {}).items()}
        objective = float(s["objective"])
        period = float(s.get("period_days") or slo.DEFAULT_PERIOD_DAYS)
        firing = slo.multiwindow_alerts(windows, objective, period)
        labels = {"service": str(s["service"]), "slo": str(s.get("slo", "availability"))}
        for burn in ("page", "ticket"):
            rules = [r for r in slo.burn_rules(period) if r.severity == burn]
            measurable = any(r.long_window in windows and r.short_window in windows for r in rules)
            hits = [a for a in firing if a.severity == burn]
            value = max(a.long_burn_rate for a in hits) if hits else (0.0 if measurable else None)
            ctx = {
                "objective": objective,
                "period_days": period,
                "windows": [f"{a.rule.long_window}/{a.rule.short_window}" for a in hits],
            }
            out.append(Sample("slo_burn", burn, labels, value, ctx))
    return out
