"""Board-pack PDF: `POST /api/platform/executive/exports` answers 200 with the PDF under the sync
threshold, else 202 with a job id; `GET .../exports/{job_id}` is the job's status. The same function
is the board_pack state machine's task (render to S3, then mark complete / failed)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.config import settings
from companyos.api import bootstrap, logger, principal_of, resolver
from companyos.reports import exports
from companyos.rollup.executive import home_region_of

bootstrap()
app = resolver()


# No return annotation on purpose: with one, Powertools' response validation JSON-serializes the body,
# which a PDF (bytes) is not; without it, non-JSON responses pass through and bytes are base64-encoded.
@app.post("/api/platform/executive/exports")
def post_export(body: Annotated[exports.ExportRequest, Body()]):
    s = settings()
    claims = dict(app.current_event.request_context.authorizer or {}).get("claims")
    result = exports.request_export(
        principal_of(app),
        body,
        s,
        home_region=home_region_of(claims, s.region),
        request_id=str(app.current_event.request_context.request_id or ""),
    )
    if isinstance(result, exports.PdfFile):
        return Response(
            status_code=200,
            content_type="application/pdf",
            body=result.body,
            headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
        )
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=result,
        headers={"Location": result["status_url"]},
    )


@app.get("/api/platform/executive/exports/<job_id>")
def get_export(job_id: Annotated[str, Path()]) -> dict[str, Any]:
    return exports.job_status(principal_of(app), job_id, settings())


def _step(event: dict[str, Any]) -> dict[str, Any]:
    return exports.run_step(exports.StepEvent.model_validate(event), settings())


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" in event:
        return app.resolve(event, context)
    return _step(event)
