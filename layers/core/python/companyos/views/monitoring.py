"""KPI monitoring views (kpi-observability-admin.md "KPI Monitoring Framework") over the run log.

Every view reads the tenant's run index — one pre-joined row per ended attempt, pk `<tenant>#RUNS`,
sk `<started_at>#<run_id>` — with ONE Query over the requested window (no Scan, no per-run reads):

- run overview (vw_kpi_run_overview), validation summary (vw_kpi_validation_summary),
  lineage sources (vw_kpi_lineage_sources), SLA violations (vw_kpi_sla_violations);
- dashboard data: exec (SLA compliance %, run health, top failing KPIs), ops (validation
  failures by rule type, retry success rate, runs skipped), dev (error codes, sql_hash changes,
  duration anomalies vs each KPI's baseline).

Run health is counted, never averaged: how many KPIs' newest attempt has each band of the verdict
model (`verdict.run_result`: delivered Healthy, partial Attention, skipped/blocked Warning, failed
Critical, delivered without a verdict Unknown). The one health number is the tenant's composite
health (its snapshot); monitoring adds no second 0-100 "health".
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import RunLog
from companyos.domain import clock, verdict
from companyos.domain.auth import Principal, authorize
from companyos.domain.errors import InvalidPayload
from companyos.domain.verdict import Band

MAX_DAYS = 90
DELIVERED = ("success", "partial")
ANOMALY_FACTOR = 3.0  # a run is anomalous when slower than 3x its KPI's median duration ...
ANOMALY_MIN_S = 1.0  # ... and at least this many seconds slower (sub-second jitter is not news)
BASELINE_MIN_RUNS = 5


def _window(days: int, now: datetime | None) -> tuple[datetime, datetime]:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidPayload(
            f"days must be within 1..{MAX_DAYS}", code="invalid_days", details={"path": "days"}
        )
    end = now or clock.now()
    return end - timedelta(days=days), end


def _runs(
    principal: Principal, tenant_id: str, days: int, kpi_id: str | None, now: datetime | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    authorize(principal, "runs:view", tenant_id)
    since, until = _window(days, now)
    rows, truncated = RunLog(tenant_id).index(since, until)
    if kpi_id:
        rows = [r for r in rows if r.get("kpi_id") == kpi_id]
    meta = {
        "tenant_id": tenant_id,
        "window": {"days": days, "start": since.isoformat(), "end": until.isoformat()},
        "kpi_id": kpi_id,
        "truncated": truncated,
        "count": len(rows),
    }
    return rows, meta


def _href(tenant_id: str, run_id: str) -> str:
    return f"/api/runs/{run_id}?tenant={tenant_id}"


# ------------------------------------------------------------------------------ the four views

OVERVIEW_FIELDS = (
    "run_id", "tenant_id", "environment", "kpi_id", "contract_version", "variant_label", "trigger_type",
    "triggered_by", "schedule_cron", "started_at", "as_of", "finished_at", "duration_s", "status",
    "sla_breached", "retry_seq", "rows_processed", "verdict", "time_range", "error_code", "error_message",
    "lineage_ref",
)  # fmt: skip


def run_overview(
    principal: Principal,
    tenant_id: str,
    *,
    days: int = 7,
    kpi_id: str | None = None,
    status: str | None = None,
    limit: int = 200,
    now: datetime | None = None,
) -> dict[str, Any]:
    """vw_kpi_run_overview: one row per attempt, newest first."""
    rows, meta = _runs(principal, tenant_id, days, kpi_id, now)
    if status:
        rows = [r for r in rows if r.get("status") == status]
    out = [
        {**{k: r.get(k) for k in OVERVIEW_FIELDS}, "href": _href(tenant_id, r["run_id"])}
        for r in rows[:limit]
    ]
    return {**meta, "count": len(rows), "runs": out}


def validation_summary(
    principal: Principal,
    tenant_id: str,
    *,
    days: int = 7,
    kpi_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """vw_kpi_validation_summary: pre/post failure counts per attempt (and which rules failed)."""
    rows, meta = _runs(principal, tenant_id, days, kpi_id, now)
    return {
        **meta,
        "runs": [
            {
                **{
                    k: r.get(k)
                    for k in ("run_id", "tenant_id", "kpi_id", "contract_version", "status", "started_at")
                },
                "pre_fail_count": r.get("pre_fail_count", 0),
                "post_fail_count": r.get("post_fail_count", 0),
                "failed_rules": r.get("failed_rules", []),
                "href": _href(tenant_id, r["run_id"]),
            }
            for r in rows
        ],
    }


def lineage_sources(
    principal: Principal,
    tenant_id: str,
    *,
    days: int = 7,
    kpi_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """vw_kpi_lineage_sources: one row per (attempt, source) with version and SQL hash."""
    rows, meta = _runs(principal, tenant_id, days, kpi_id, now)
    out = [
        {
            **{k: r.get(k) for k in ("run_id", "tenant_id", "kpi_id", "contract_version", "started_at")},
            **{k: s.get(k) for k in ("source_type", "source_object", "source_version", "sql_hash")},
        }
        for r in rows
        for s in r.get("sources") or []
    ]
    return {**meta, "sources": out}


def sla_violations(
    principal: Principal,
    tenant_id: str,
    *,
    days: int = 7,
    kpi_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """vw_kpi_sla_violations: attempts that breached their contract's SLA."""
    rows, meta = _runs(principal, tenant_id, days, kpi_id, now)
    keep = (
        "run_id", "tenant_id", "kpi_id", "contract_version", "started_at", "finished_at", "duration_s",
        "status", "sla_reason", "error_code", "error_message",
    )  # fmt: skip
    out = [
        {**{k: r.get(k) for k in keep}, "href": _href(tenant_id, r["run_id"])}
        for r in rows
        if r.get("sla_breached")
    ]
    return {**meta, "violations": out}


# ------------------------------------------------------------------------------ dashboards


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _kpi_run(kpi_id: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One KPI's attempts in the window: how many delivered, and its newest attempt judged."""
    newest = max(runs, key=lambda r: r["started_at"])
    delivered = sorted((r for r in runs if r["status"] in DELIVERED), key=lambda r: r["started_at"])
    return {
        "kpi_id": kpi_id,
        "runs": len(runs),
        "delivered": len(delivered),
        "newest_run_id": newest["run_id"],
        "newest_status": newest["status"],
        "status": verdict.run_result(newest["status"], newest.get("verdict")).value,
        "verdict": delivered[-1].get("verdict") if delivered else None,
        "verdict_run_id": delivered[-1]["run_id"] if delivered else None,
    }


def exec_dashboard(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """SLA compliance %, run health (KPIs counted by the band of their newest attempt), top failing
    KPIs."""
    by_kpi: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_kpi[r["kpi_id"]].append(r)
    kpi_runs = [_kpi_run(k, runs) for k, runs in sorted(by_kpi.items())]
    failed = [r for r in rows if r["status"] in ("failed", "skipped")]
    failures = Counter(r["kpi_id"] for r in failed)
    breached = [r for r in rows if r.get("sla_breached")]
    return {
        "sla_compliance_pct": _pct(len(rows) - len(breached), len(rows)),
        "sla_breaches": len(breached),
        "sla_breach_run_ids": _ids(breached),
        "run_health": _run_health(kpi_runs),
        "kpi_runs": kpi_runs,
        "top_failing_kpis": [
            {
                "kpi_id": k,
                "failures": n,
                "runs": len(by_kpi[k]),
                "run_ids": _ids(r for r in failed if r["kpi_id"] == k),
            }
            for k, n in failures.most_common(5)
        ],
    }


def _run_health(kpi_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """How many KPIs' newest attempt has each band (every band listed, worst first), with the
    newest attempts behind each count."""
    bands = sorted(Band, key=lambda b: b.rank)
    return {
        "basis": "the newest attempt of each KPI in the window",
        "kpis": len(kpi_runs),
        "counts": {b.value: sum(1 for k in kpi_runs if k["status"] == b.value) for b in bands},
        "run_ids": {b.value: [k["newest_run_id"] for k in kpi_runs if k["status"] == b.value] for b in bands},
    }


def _ids(rows: Any) -> list[str]:
    """The run ids behind a figure (evidence: every number links back to its runs)."""
    return [r["run_id"] for r in rows]


def ops_dashboard(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Validation failures by rule type, retry success rate, runs skipped by pre-validation."""
    by_type: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in rows:
        for f in r.get("failed_rules") or []:
            by_type[(f["phase"], f["rule_type"], f["severity"])].append(r["run_id"])
    retried = [r for r in rows if int(r.get("retry_seq") or 0) > 0]
    retried_ok = sum(1 for r in retried if r["status"] in DELIVERED)
    skipped = [r for r in rows if r["status"] == "skipped"]
    return {
        "validation_failures_by_rule_type": [
            {"phase": p, "rule_type": t, "severity": s, "count": len(ids), "run_ids": ids}
            for (p, t, s), ids in sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        "retries": {
            "retried_attempts": len(retried),
            "succeeded": retried_ok,
            "failed": len(retried) - retried_ok,
            "success_rate_pct": _pct(retried_ok, len(retried)),
            "run_ids": _ids(retried),
        },
        "runs_skipped": len(skipped),
        "skipped_run_ids": _ids(skipped),
        "skipped_by_kpi": dict(Counter(r["kpi_id"] for r in skipped).most_common()),
        "status_counts": dict(Counter(r["status"] for r in rows)),
    }


def dev_dashboard(rows: list[dict[str, Any]], tenant_id: str) -> dict[str, Any]:
    """Error code distribution, sql_hash changes per (KPI, source), duration anomalies vs baseline."""
    oldest_first = sorted(rows, key=lambda r: r["started_at"])
    changes: list[dict[str, Any]] = []
    last_hash: dict[tuple[str, Any], str] = {}
    for r in oldest_first:
        for s in r.get("sources") or []:
            if not s.get("sql_hash"):
                continue
            key = (r["kpi_id"], s.get("source_object"))
            if key in last_hash and last_hash[key] != s["sql_hash"]:
                changes.append(
                    {
                        "kpi_id": r["kpi_id"],
                        "source_object": s.get("source_object"),
                        "from": last_hash[key],
                        "to": s["sql_hash"],
                        "run_id": r["run_id"],
                        "contract_version": r.get("contract_version"),
                        "at": r["started_at"],
                    }
                )
            last_hash[key] = s["sql_hash"]
    return {
        "error_codes": [
            {"error_code": c, "count": n, "run_ids": _ids(r for r in rows if r.get("error_code") == c)}
            for c, n in Counter(r.get("error_code") for r in rows if r.get("error_code")).most_common()
        ],
        "sql_hash_changes": changes,
        "duration_anomalies": _anomalies(oldest_first, tenant_id),
    }


def _anomalies(oldest_first: list[dict[str, Any]], tenant_id: str) -> list[dict[str, Any]]:
    """A run slower than ANOMALY_FACTOR x the median of its KPI's earlier runs (>= 5 of them)."""
    seen: dict[str, list[float]] = defaultdict(list)
    out = []
    for r in oldest_first:
        duration = float(r.get("duration_s") or 0.0)
        history = seen[r["kpi_id"]]
        if len(history) >= BASELINE_MIN_RUNS:
            baseline = statistics.median(history)
            if duration > ANOMALY_FACTOR * baseline and duration - baseline >= ANOMALY_MIN_S:
                out.append(
                    {
                        "kpi_id": r["kpi_id"],
                        "run_id": r["run_id"],
                        "duration_s": duration,
                        "baseline_s": round(baseline, 3),
                        "factor": round(duration / baseline, 1) if baseline else None,
                        "started_at": r["started_at"],
                        "href": _href(tenant_id, r["run_id"]),
                    }
                )
        history.append(duration)
    return out


AUDIENCES = ("exec", "ops", "dev")


def dashboard(
    principal: Principal,
    tenant_id: str,
    audience: str,
    *,
    days: int = 7,
    kpi_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    if audience not in AUDIENCES:
        raise InvalidPayload(
            f"audience must be one of {', '.join(AUDIENCES)}",
            code="invalid_audience",
            details={"path": "audience"},
        )
    rows, meta = _runs(principal, tenant_id, days, kpi_id, now)
    if audience == "exec":
        data = exec_dashboard(rows)
    elif audience == "ops":
        data = ops_dashboard(rows)
    else:
        data = dev_dashboard(rows, tenant_id)
    return {**meta, "audience": audience, **data}
