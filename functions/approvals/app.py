"""Task handler of the approval state machine: await (task token) / apply / reject / expire.

Each task is wrapped in Powertools Idempotency, keyed on what identifies one task invocation: the
tenant, the change request, the step and (for the await step) its task token. A replayed event (a
Lambda retry, a Step Functions retry of the task) returns the first answer without redoing the step:
no second audit event, no second write of the catalog record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.idempotency import config, idempotent_function, persistence
from companyos.admin import approvals
from companyos.api import bootstrap, logger

bootstrap()

TASK_KEY = "[request.tenant_id, request.request_id, step, task_token]"
IDEMPOTENCY = config(TASK_KEY)


@idempotent_function(
    data_keyword_argument="task", config=IDEMPOTENCY, persistence_store=persistence("approvals")
)
def run_task(task: dict[str, Any]) -> dict[str, Any]:
    step, request = task["step"], task["request"]
    if step == "await":
        return approvals.await_decision(request, task["task_token"])
    return approvals.settle(step, request)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return run_task(task=event)
