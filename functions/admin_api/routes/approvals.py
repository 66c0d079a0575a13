"""Change requests: the approval queue, one request, an approver's decision."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from companyos.admin import answers as shapes
from companyos.admin import approvals
from companyos.api import WRITE_REFUSALS, answers

from .bodies import DecisionIn
from .context import Tenant, ctx

router = Router()


@router.get("/api/approvals", responses=answers(model=shapes.ApprovalQueue))
def get_approvals(tenant: Tenant, status: str = "") -> dict[str, Any]:
    return approvals.queue(ctx(router, tenant), status or None)


@router.get("/api/approvals/<request_id>", responses=answers(model=shapes.ApprovalRequest))
def get_approval(request_id: Annotated[str, Path()], tenant: Tenant) -> dict[str, Any]:
    return approvals.get_request(ctx(router, tenant), request_id)


@router.post(
    "/api/approvals/<request_id>/decision", responses=answers(*WRITE_REFUSALS, model=shapes.Decision)
)
def post_decision(
    request_id: Annotated[str, Path()], tenant: Tenant, body: Annotated[DecisionIn, Body()]
) -> dict[str, Any]:
    return approvals.decide(ctx(router, tenant), request_id, body.decision == "approve", body.reason)
