"""Schedule target: start one kpi_run execution for every (active tenant, KPI) of a schedule class."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import bootstrap, logger
from companyos.runs import contracts
from companyos.store.repos import Catalog

cfg = bootstrap()
sfn = boto3.client("stepfunctions")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    schedule_class = event["schedule_class"]
    kpi_ids = contracts.of_schedule(schedule_class)
    pairs = [{"tenant_id": t.id, "kpi_id": k} for t in Catalog().list_tenants() if t.active for k in kpi_ids]
    if not pairs:
        return {"started": None, "pairs": 0}
    name = f"sch-{schedule_class}-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    payload = {"pairs": pairs, "trigger": {"type": "time", "by": f"schedule:{schedule_class}"}}
    try:
        sfn.start_execution(
            stateMachineArn=cfg.kpi_run_state_machine_arn, name=name, input=json.dumps(payload)
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("schedule tick already started", extra={"execution": name})
    return {"started": name, "pairs": len(pairs)}
