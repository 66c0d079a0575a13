"""Admin → Integrations: the tenant's trace / log deep-link URL templates (versioned write + audit)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from companyos.admin import answers as shapes
from companyos.admin import integrations
from companyos.api import WRITE_REFUSALS, answers

from .bodies import DeepLinksIn
from .context import Tenant, ctx

router = Router()

PUT_DOC = (
    "Sets the trace (Grafana Tempo / AWS X-Ray) and log (Grafana Loki / CloudWatch Logs Insights) URL "
    "templates the drill-downs link with. Placeholders: `{{service}}`, `{{route}}`, `{{incident_id}}`, "
    "`{{start}}` / `{{end}}` (RFC 3339), `{{start_ms}}` / `{{end_ms}}`, `{{start_s}}` / `{{end_s}}`. "
    "422 `template_not_https`, `invalid_url_template`, `unknown_placeholder`, `template_too_long` or "
    "`system_required` (details.path names the field) and nothing is written; 409 `version_conflict` "
    "when `expected_revision` is not the stored revision. One `integration.deeplinks.update` audit event."
)


@router.get("/api/admin/integrations/deeplinks", responses=answers(model=shapes.DeepLinksView))
def get_deeplinks(tenant: Tenant) -> dict[str, Any]:
    return integrations.get_deeplinks(ctx(router, tenant))


@router.put(
    "/api/admin/integrations/deeplinks",
    description=PUT_DOC,
    responses=answers(*WRITE_REFUSALS, model=shapes.DeepLinksView),
)
def put_deeplinks(tenant: Tenant, body: Annotated[DeepLinksIn, Body()]) -> dict[str, Any]:
    values = body.model_dump(exclude={"reason", "expected_revision"})
    return integrations.put_deeplinks(ctx(router, tenant), values, body.expected_revision, body.reason)
