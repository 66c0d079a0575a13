"""Schedule target: start kpi_run executions for every (active tenant, KPI) of a schedule class.

Pairs are the built-in pack's KPIs of the class plus each tenant's own active contracts, minus
paused ones; they go out in chunks so one execution's input stays far below the 256 KB limit."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.aws import aws
from companyos.adapters.repos import Catalog
from companyos.api import bootstrap, logger
from companyos.domain import clock
from companyos.runs import schedule

cfg = bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    schedule_class = event["schedule_class"]
    catalog = Catalog()
    only = event.get("tenant_ids")  # optional: a manual tick for some tenants (backfill, tests)
    tenants = [catalog.get_tenant(t) for t in only] if only else catalog.list_tenants()
    plan = schedule.plan(schedule_class, tenants)
    stamp = f"{clock.now():%Y%m%dT%H%M%S}"
    sfn = aws().sfn  # the process-wide client (tests and infra/local may hand in their own)
    started = []
    for i, chunk in enumerate(plan.chunks()):
        name = f"sch-{schedule_class}-{stamp}-{i}"
        payload = {"pairs": chunk, "trigger": {"type": "time", "by": f"schedule:{schedule_class}"}}
        try:
            sfn.start_execution(
                stateMachineArn=cfg.kpi_run_state_machine_arn, name=name, input=json.dumps(payload)
            )
            started.append(name)
        except sfn.exceptions.ExecutionAlreadyExists:
            logger.info("schedule tick already started", extra={"execution": name})
    return {
        "started": started[0] if len(started) == 1 else (started or None),
        "executions": started,
        "pairs": len(plan.pairs),
        "paused": plan.paused,
    }
