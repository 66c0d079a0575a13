"""Task handler of the kpi_run state machine: {"step", "state", "retry_count"} → the new state.

The event and the step's answer are typed at this boundary (`run_state.TaskEvent`, `step_output`)
and dumped back to the same JSON. Each task is idempotent per attempt of a step: the key is the
step, the item (execution, tenant, KPI), the attempt's run id and the state machine's retry count,
so a task Step Functions delivers again after it succeeded (a lost response, a redelivery) returns
the stored answer instead of running the step twice; a step that raised stores nothing, so its
retry (a new retry count: a new attempt) runs.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters import lake
from companyos.adapters.idempotency import config, idempotent_function, persistence
from companyos.api import bootstrap, logger, retried_when_transient
from companyos.runs import steps
from companyos.runs.run_state import TaskEvent, step_output

cfg = bootstrap()
lake.configure(lake.LakeSettings.from_env(os.environ))  # user KPIs' SQL: DuckDB locally, Athena in AWS

# What identifies one attempt of one step (JMESPath over the event; a source task has no run yet).
ATTEMPT_KEY = "[step, state.execution_id, state.tenant_id, state.kpi_id, state.run.run_id, retry_count]"
IDEMPOTENCY = config(ATTEMPT_KEY)


@idempotent_function(
    data_keyword_argument="task", config=IDEMPOTENCY, persistence_store=persistence("kpi_run")
)
def run_step(task: TaskEvent) -> dict[str, Any]:
    out = steps.dispatch(
        task.step, task.state.to_state(), environment=cfg.environment, retry_count=task.retry_count or 0
    )
    return step_output(out)


@retried_when_transient
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TaskEvent.model_validate(event)
    logger.append_keys(step=task.step, tenant_id=task.state.tenant_id, kpi_id=task.state.kpi_id)
    IDEMPOTENCY.register_lambda_context(context)
    return run_step(task=task)
