"""Task handler of the kpi_run state machine: {"step", "state", "retry_count"} → the new state."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters import lake
from companyos.api import bootstrap, logger
from companyos.runs import steps

cfg = bootstrap()
lake.configure(lake.LakeSettings.from_env(os.environ))  # user KPIs' SQL: DuckDB locally, Athena in AWS


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, state = event["step"], event["state"]
    logger.append_keys(step=step, tenant_id=state.get("tenant_id"), kpi_id=state.get("kpi_id"))
    return steps.dispatch(
        step, state, environment=cfg.environment, retry_count=int(event.get("retry_count") or 0)
    )
