"""Alert tasks: evaluate after a KPI run's score refresh (or on a direct observation event), and
each step of the escalation state machine (an escalation's, or a grouping window's flush)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.alerts import escalation, evaluation, flush
from companyos.alerts.context import runtime
from companyos.api import bootstrap, logger, retried_when_transient

bootstrap()


@retried_when_transient
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rt = runtime()
    if event.get("step") == "escalate" and event["state"].get("kind") == "flush":
        return flush.flush_step(rt, event["state"])  # a grouping window's end (alerts/grouping.py)
    if event.get("step") == "escalate":
        return escalation.escalate_step(rt, event["state"])
    return evaluation.evaluate_event(rt, event)
