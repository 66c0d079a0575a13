"""The rows delivered with a `compliance_score` run (the CISO's "Compliance controls" panel): per
framework its pass rate and control chips, the failing controls with their failing checks, the
reports in force, and each framework's pass-rate history (change points) that the roll-up's
compliance domain reads. All from the very check results the run read, by the same rule
(runs/formulas_compliance.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from companyos.runs.formula_base import SignalRow
from companyos.runs.formulas_compliance import (
    KIND,
    ControlState,
    Report,
    controls_of,
    current_reports,
    framework_counts,
    max_age,
    reports_by_scope,
    states,
)
from companyos.runs.rows import MAX_ROWS, RowsContext, Signals, evidence_of, register

CHIPS_PER_FRAMEWORK = 12  # control chips per framework row (failing first)
HISTORY_POINTS = 120  # change points kept per framework (the history reads at most 100 days)


def _rate(passing: int, controls: int) -> float | None:
    return round(100.0 * passing / controls, 2) if controls else None


def control_href(tenant_id: str, framework: str, control_id: str) -> str:
    fw, cid = quote(framework, safe=""), quote(control_id, safe="")
    return f"/api/drill/compliance/{fw}/{cid}?tenant={quote(tenant_id, safe='')}"


def first_failed(by_scope: Mapping[str, Sequence[Report]], day: date) -> dict[tuple[str, str, str], datetime]:
    """(scope, check, resource) -> the first report of its current unbroken run of failures."""
    out: dict[tuple[str, str, str], datetime] = {}
    for scope, reports in by_scope.items():
        for report in reports:
            if report.taken_at.date() > day:
                break
            seen = set()
            for r in report.results:
                key = (scope, str(r.attributes.get("check_id")), str(r.attributes.get("resource")))
                seen.add(key)
                if r.attributes.get("status") == "fail":
                    out.setdefault(key, report.taken_at)
                else:
                    out.pop(key, None)
            for key in [k for k in out if k[0] == scope and k not in seen]:
                out.pop(key)  # gone from the newer report: not failing any more
    return out


def failing_checks(
    control: ControlState, since: Mapping[tuple[str, str, str], datetime]
) -> list[dict[str, Any]]:
    out = []
    for r in control.failing:
        scope = str(r.attributes.get("scope"))
        key = (scope, str(r.attributes.get("check_id")), str(r.attributes.get("resource")))
        out.append(
            {
                "check_id": r.attributes.get("check_id"),
                "title": r.attributes.get("title"),
                "severity": r.attributes.get("severity"),
                "resource": r.attributes.get("resource"),
                "region": r.attributes.get("region"),
                "scope": scope,
                "detail": r.attributes.get("detail"),
                "first_seen": since[key].isoformat() if key in since else r.occurred_at.isoformat(),
                "evidence": {"type": "signal", "signal_id": r.signal_id, "delivery_id": r.delivery_id},
            }
        )
    return sorted(out, key=lambda c: (c["first_seen"], str(c["check_id"])))


def _chips(controls: Iterable[ControlState]) -> list[dict[str, Any]]:
    ranked = sorted(controls, key=lambda c: (c.status != "fail", c.status != "pass", c.control_id))
    return [
        {"control_id": c.control_id, "status": c.status, "failing_checks": len(c.failing)}
        for c in ranked[:CHIPS_PER_FRAMEWORK]
    ]


def history(signals: Signals, params: Mapping[str, Any], until: date) -> dict[str, list[list[Any]]]:
    """framework -> [[day, evaluated controls, passing], ...] on the days its counts changed."""
    frameworks = tuple(params.get("frameworks") or ())
    out: dict[str, list[list[Any]]] = {}
    for day, reports in states(signals, params):
        if day > until:
            break
        counts = framework_counts(controls_of(reports, frameworks).values())
        for fw in set(out) | set(counts):
            f = counts.get(fw, {"controls": 0, "passing": 0})
            point = [day.isoformat(), f["controls"], f["passing"]]
            if not out.get(fw) or out[fw][-1][1:] != point[1:]:
                out.setdefault(fw, []).append(point)
    return {fw: points[-HISTORY_POINTS:] for fw, points in out.items()}


def _reports(reports: Iterable[Report]) -> list[dict[str, Any]]:
    return [
        {
            "scope": str(r.results[0].attributes.get("scope")),
            "scanner": r.scanner,
            "delivery_id": r.delivery_id,
            "taken_at": r.taken_at.isoformat(),
            "results": len(r.results),
        }
        for r in sorted(reports, key=lambda r: r.taken_at, reverse=True)
    ]


def _compliance_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    rows: Sequence[SignalRow] = list(signals.get(KIND, ()))
    day = ctx.as_of.date()
    by_scope = reports_by_scope(rows)
    reports = current_reports(by_scope, day, max_age(ctx.params))
    controls = controls_of(reports, tuple(ctx.params.get("frameworks") or ()))
    counts = framework_counts(controls.values())
    if not sum(f["controls"] for f in counts.values()):
        why = "no compliance report in force" if not reports else "the reports map no evaluated control"
        return {"compliance": {"available": False, "reason": f"{why} on {day.isoformat()}"}}
    since = first_failed(by_scope, day)
    frameworks = []
    for fw in sorted(counts, key=lambda f: (_rate(counts[f]["passing"], counts[f]["controls"]) or 0.0, f)):
        f = counts[fw]
        frameworks.append(
            {
                "id": fw,
                "label": fw,
                **f,
                "pass_rate": _rate(f["passing"], f["controls"]),
                "chips": _chips(c for c in controls.values() if c.framework == fw),
            }
        )
    failing = sorted(
        (c for c in controls.values() if c.status == "fail"),
        key=lambda c: (-len(c.failing), c.framework, c.control_id),
    )
    total = sum(f["controls"] for f in counts.values())
    passing = sum(f["passing"] for f in counts.values())
    used = [r for rep in reports for r in rep.results]
    return {
        "compliance": {
            "available": True,
            "as_of": day.isoformat(),
            "controls": total,
            "passing": passing,
            "failing": total - passing,
            "pass_rate": _rate(passing, total),
            "frameworks_total": len(frameworks),
            "items": frameworks[:MAX_ROWS],
            "failing_controls": [
                {
                    "framework": c.framework,
                    "control_id": c.control_id,
                    "failing_checks": len(c.failing),
                    "resources": len({str(r.attributes.get("resource")) for r in c.failing}),
                    "first_seen": failing_checks(c, since)[0]["first_seen"],
                    "href": control_href(ctx.tenant_id, c.framework, c.control_id),
                }
                for c in failing[:MAX_ROWS]
            ],
            "reports": _reports(reports)[:MAX_ROWS],
            "reports_total": len(reports),
            "history": {
                fw: pts
                for fw, pts in history(signals, ctx.params, day).items()
                if fw in {f["id"] for f in frameworks[:MAX_ROWS]}
            },
            "summary": f"{passing} of {total} controls pass in {len(frameworks)} frameworks",
            "evidence": evidence_of(
                [
                    (f"{s}.{KIND}", n, max((r.occurred_at for r in used if r.source == s), default=None))
                    for s, n in _by_source(used).items()
                ],
                None,
            ),
        }
    }


def _by_source(rows: Iterable[SignalRow]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r.source or "unknown"] = out.get(r.source or "unknown", 0) + 1
    return out


register("compliance_score", _compliance_rows)
