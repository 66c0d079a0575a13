"""Task handler of the approval state machine: await (task token) / apply / reject / expire."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.admin import approvals
from companyos.api import bootstrap, logger

bootstrap()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step, request = event["step"], event["request"]
    if step == "await":
        return approvals.await_decision(request, event["task_token"])
    return approvals.settle(step, request)
