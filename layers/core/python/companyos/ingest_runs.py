"""The event runs a delivery starts: the KPIs its signal kinds feed, coalesced per tenant into one
run per window (`EVENT_RUN_WINDOW_S`), named by tenant, KPIs and window so that a sender's retry
joins the run its first receipt started instead of starting another."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from companyos.domain import clock
from companyos.runs import contracts

RunStarter = Callable[[str, dict[str, Any]], None]  # (execution name, input)

# Event runs are coalesced: every delivery of one tenant in the same window of this many seconds
# that feeds the same KPIs shares one run, which waits for the window's end (the state machine's
# `AwaitBurst`) and then reads them all. A burst of webhooks (a deploy train, a storm of incident
# updates) costs one run per window, not one per delivery; a lone delivery's KPIs are at most this
# much later.
EVENT_RUN_WINDOW_S = 5


def event_run_name(tenant_id: str, kpi_ids: Sequence[str], at: datetime) -> str:
    """The event run of a tenant's deliveries feeding `kpi_ids` within one EVENT_RUN_WINDOW_S window."""
    window = int(at.timestamp() // EVENT_RUN_WINDOW_S)
    digest = hashlib.sha256(f"{tenant_id}|{','.join(sorted(kpi_ids))}|{window}".encode()).hexdigest()[:20]
    return f"evt-{tenant_id[:40]}-{digest}"


def event_run_kpis(tenant_id: str, kinds: set[str]) -> list[str]:
    """The KPIs a delivery of these signal kinds starts: their consumers, paused ones left out (a
    paused KPI runs on no trigger: not the schedule's, not a delivery's, #18)."""
    kpi_ids = sorted({k for kind in kinds for k in contracts.consumers_of(kind)})
    if not kpi_ids:
        return []
    paused = contracts.paused_ids(tenant_id)
    return [k for k in kpi_ids if k not in paused]


def start_event_runs(
    tenant_id: str,
    source: str,
    delivery_id: str,
    kinds: set[str],
    start_run: RunStarter,
    at: datetime | None = None,
) -> list[str]:
    """Start (or join) the event run of the delivery's window: `at` is when it was received (now, or
    a stored delivery's first receipt when its sender retries)."""
    kpi_ids = event_run_kpis(tenant_id, kinds)
    if not kpi_ids:
        return []
    received = at or clock.now()
    now = clock.now().timestamp()
    window_end = (int(received.timestamp() // EVENT_RUN_WINDOW_S) + 1) * EVENT_RUN_WINDOW_S
    start_run(
        event_run_name(tenant_id, kpi_ids, received),
        {
            "pairs": [{"tenant_id": tenant_id, "kpi_id": k} for k in kpi_ids],
            # the first delivery of the window names the run; the run's evidence lists what it read
            "trigger": {
                "type": "event",
                "by": f"{source}:{delivery_id}",
                "coalesce_s": max(1, math.ceil(window_end - now)),
            },
        },
    )
    return kpi_ids
