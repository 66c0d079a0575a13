"""What every admin route needs: the path and query parameter types, and the use cases' `Ctx` of the
request being served (the caller's principal, the tenant, the API request id)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from companyos.adapters.config import settings
from companyos.admin.context import Ctx
from companyos.api import principal_of

Tenant = Annotated[str, Query(min_length=1)]
Kpi = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]*$")]
Ver = Annotated[str, Path(pattern=r"^\d+\.\d+\.\d+$")]


def ctx(router: Router, tenant: str) -> Ctx:
    """The request's context, from the resolver the router was included into."""
    app = router.api_resolver
    if not isinstance(app, APIGatewayRestResolver):
        raise RuntimeError("the admin routers serve through the REST resolver (companyos.api.resolver)")
    return Ctx(
        principal=principal_of(app),
        tenant_id=tenant,
        request_id=app.current_event.request_context.request_id or "",
        approval_state_machine_arn=settings().approval_state_machine_arn,
    )
