"""What every drill-down starts with: the caller's authorisation and period, the latest snapshot,
and the `available: false` answer of a level without data (with the reason).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from companyos.adapters.repos import ScoreStore
from companyos.domain import clock
from companyos.domain.auth import Principal, authorize
from companyos.runs.contracts import PERIODS
from companyos.views.dashboards import check_period

CORRELATION_WINDOW = timedelta(hours=24)  # a deploy "precedes" an incident on its service within this


def unavailable(reason: str) -> dict[str, Any]:
    return {"available": False, "reason": reason, "items": []}


def authorized(principal: Principal, tenant_id: str, period: str) -> tuple[datetime, int]:
    authorize(principal, "runs:view", tenant_id)
    check_period(period)
    return clock.now(), PERIODS[period]


def latest_snapshot(tenant_id: str, period: str) -> tuple[dict[str, Any] | None, str | None]:
    found = ScoreStore(tenant_id).latest(period)
    return (found[0], found[1].isoformat()) if found else (None, None)
