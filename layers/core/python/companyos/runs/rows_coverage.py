"""The rows delivered with a `test_coverage` run: per service, the lines covered / valid of the newest
report of each of its repositories, its coverage, the report's time, format and commit — the very
reports the run's value sums (runs/formulas_coverage.py `Reports.current`), and the service's
coverage at the end of the previous period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from companyos.runs.formulas_coverage import KIND, Reports, max_report_age, repository_of, totals
from companyos.runs.rows import MAX_ROWS, RowsContext, Signals, evidence_of, register


def _pct(covered: int, valid: int) -> float | None:
    return round(100.0 * covered / valid, 2) if valid else None


def _by_service(current: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for repo, s in current.items():
        out.setdefault(s.service or repo, {})[repo] = s
    return out


def _repository(repo: str, s: Any) -> dict[str, Any]:
    a = s.attributes
    return {
        "repository": repo,
        "lines_covered": a["lines_covered"],
        "lines_valid": a["lines_valid"],
        "coverage_pct": _pct(int(a["lines_covered"]), int(a["lines_valid"])),
        "report_at": s.occurred_at.isoformat(),
        "format": a.get("format"),
        "commit": a.get("commit"),
        "delivery_id": s.delivery_id,
    }


def _row(service: str, repos: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    covered, valid = totals(repos)
    newest = max(repos.values(), key=lambda s: s.occurred_at)
    mapped = any(s.service for s in repos.values())
    prev = totals(before) if before else (0, 0)
    return {
        "id": service,
        "label": service,
        "service": service if mapped else None,
        "unmapped": not mapped,
        "lines_covered": covered,
        "lines_valid": valid,
        "coverage_pct": _pct(covered, valid),
        "previous_pct": _pct(*prev),
        "report_at": newest.occurred_at.isoformat(),
        "format": ", ".join(sorted({str(s.attributes.get("format")) for s in repos.values()})),
        "commit": newest.attributes.get("commit"),
        "repositories": [_repository(r, s) for r, s in sorted(repos.items())],
    }


def _coverage_rows(signals: Signals, ctx: RowsContext, days: int) -> dict[str, dict[str, Any]]:
    age = max_report_age(ctx.params)
    reports = Reports.of(list(signals.get(KIND, ())))
    end = ctx.as_of.date()
    current = reports.current(end, age)
    if not current:
        return {
            "coverage": {"available": False, "reason": f"no coverage report from the {age} days up to {end}"}
        }
    earlier = _by_service(reports.current(end - timedelta(days=days), age))
    items = [_row(svc, repos, earlier.get(svc)) for svc, repos in _by_service(current).items()]
    items.sort(key=lambda r: (r["coverage_pct"], r["id"]))  # least covered first
    covered, valid = totals(current)
    rows = [s for s in signals.get(KIND, ()) if repository_of(s) in current]
    return {
        "coverage": {
            "available": True,
            "as_of": end.isoformat(),
            "max_report_age_days": age,
            "lines_covered": covered,
            "lines_valid": valid,
            "coverage_pct": _pct(covered, valid),
            "items": items[:MAX_ROWS],
            "summary": f"{covered} of {valid} lines covered in {len(items)} services"
            f" ({len(current)} repositories)",
            "evidence": evidence_of(
                [(f"coverage.{KIND}", len(rows), max(s.occurred_at for s in current.values()))], days
            ),
        }
    }


register("test_coverage", _coverage_rows)
