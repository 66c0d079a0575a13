"""Panel rows delivered with KPI runs: the breakdown rows a run computes from the very signals it
read (per-service SLO rows, burn, capacity, open vulnerabilities by severity, security events,
incidents with durations, deployments per service, features, funnel steps, NPS buckets).

A contract's builtin formula may have a rows builder (`register`): the run's source step calls it
for every period with the signals it sourced and stores the result in the run log (`ROWS`); the
score refresh copies the rows of delivered runs into the snapshot, each item carrying the run as
evidence. So a panel never recomputes what a KPI run computes, and every number has a run id.
The same builders serve the live drill-downs (views/panels_data.py).

Each entry is either `{"available": True, ...rows..., "evidence": {...}}` or
`{"available": False, "reason": "..."}` — never invented numbers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any, Protocol

MAX_ROWS = 25  # rows kept per list in a snapshot item (DynamoDB items stay far below 400 KB)
INCIDENT_LOOKBACK_DAYS = 90  # open incidents older than the period still show as open
PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5}
SLO_KIND = "slo_window"
SERIES_POINTS = 30  # burn series points kept per service (the snapshot item stays small)
SECURITY_EVENTS_DAYS = 7  # the wireframe's "Security events (7d)"
SEVERITIES = ("critical", "high", "medium", "low")


class Signal(Protocol):
    """What a rows builder reads of a signal (a stored signal, or a run's sourced row)."""

    @property
    def kind(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def signal_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def entity(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...
    @property
    def delivery_id(self) -> str | None: ...
    @property
    def attributes(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RowsContext:
    """What a rows builder knows of its run: the tenant (for drill links), the data's point in
    time, the contract's params."""

    tenant_id: str
    as_of: datetime
    params: Mapping[str, Any]


Signals = Mapping[str, Sequence[Any]]  # kind -> signals (Signal-like rows)
RowsFn = Callable[[Signals, RowsContext, int], dict[str, dict[str, Any]]]
_BUILDERS: dict[str, RowsFn] = {}


def register(builtin: str, fn: RowsFn) -> None:
    """Rows of the contracts whose formula is `builtin`: fn(signals, ctx, days) -> {panel: entry}."""
    _BUILDERS[builtin] = fn


def builder(builtin: str | None) -> RowsFn | None:
    _load_row_modules()
    return _BUILDERS.get(builtin or "")


@cache
def _load_row_modules() -> None:
    """Every `companyos/runs/rows_<family>.py` registers its builders on import, as every
    `formulas_<family>.py` registers its formulas (runs/formulas.py): a family adds a file. Loaded
    on first use, since those modules import this one."""
    from companyos import runs

    for module in sorted(m.name for m in pkgutil.iter_modules(runs.__path__)):
        if module.startswith("rows_"):
            importlib.import_module(f"companyos.runs.{module}")


def window_start(as_of: datetime, days: int) -> datetime:
    """Start of a period of `days` calendar days ending on as_of's day: the KPI runs' window
    (`runs.computation.compute`), so rows count exactly what the run's value counts."""
    return datetime.combine(as_of.date() - timedelta(days=days - 1), time.min, UTC)


def signal_evidence(kind: str, rows: Iterable[Signal], days: int, href: str) -> dict[str, Any]:
    """Evidence of a number folded from signals: which kind, how many, the newest, where to see them."""
    items = list(rows)
    latest = max((s.occurred_at for s in items), default=None)
    return {
        "type": "signals",
        "sources": [
            {
                "type": "signal",
                "object": f"{items[0].source if items else '?'}.{kind}",
                "count": len(items),
                "latest_at": latest.isoformat() if latest else None,
            }
        ],
        "window_days": days,
        "href": href,
    }


def evidence_of(
    parts: Iterable[tuple[str, int, datetime | None]], days: int | None, href: str | None = None
) -> dict[str, Any]:
    """Signals evidence from (object, count, latest) triples (object = `<source>.<kind>`)."""
    return {
        "type": "signals",
        "sources": [
            {
                "type": "signal",
                "object": obj,
                "count": count,
                "latest_at": latest.isoformat() if latest else None,
            }
            for obj, count, latest in parts
        ],
        "window_days": days,
        "href": href,
    }


def _parts(kind: str, rows: Sequence[Signal]) -> list[tuple[str, int, datetime | None]]:
    by_source: dict[str, list[Signal]] = {}
    for s in rows:
        by_source.setdefault(s.source or "unknown", []).append(s)
    return [
        (f"{src}.{kind}", len(items), max(s.occurred_at for s in items))
        for src, items in sorted(by_source.items())
    ]


def _ev(kind: str, rows: Sequence[Signal], days: int | None, href: str | None = None) -> dict[str, Any]:
    return evidence_of(_parts(kind, rows) or [(kind, 0, None)], days, href)


def _in(rows: Iterable[Signal], since: datetime) -> list[Signal]:
    return [s for s in rows if s.occurred_at >= since]


def _pct(v: float | None, digits: int = 1) -> str | None:
    return None if v is None else f"{v:.{digits}f}%"


def _unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason}
