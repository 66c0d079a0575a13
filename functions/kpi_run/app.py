"""Task handler of the kpi_run state machine: {"step": ..., "state": {...}} → the new state."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import bootstrap, logger
from companyos.runs import steps

cfg = bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, state = event["step"], event["state"]
    logger.append_keys(step=step, tenant_id=state.get("tenant_id"), kpi_id=state.get("kpi_id"))
    if step == "source":
        return steps.source(state, cfg.environment)
    return steps.STEPS[step](state)
