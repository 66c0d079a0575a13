"""Board-pack PDF: `POST /api/platform/executive/exports` answers 200 with the PDF under the sync
threshold, else 202 with a job id; `GET .../exports/{job_id}` is the job's status. The same function
is the board_pack state machine's task (render to S3, then mark complete / failed).

Which of the two an invocation is comes from parsing the event as one shape or the other (an API
Gateway REST proxy request, or `exports.StepEvent`); an event of neither shape is refused."""

# No `from __future__ import annotations` here: infra/local loads a handler outside sys.modules, where
# pydantic could not resolve the string annotations of the event models below.
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.config import settings
from companyos.api import bootstrap, logger, principal_of, resolver
from companyos.reports import exports
from companyos.rollup.executive import home_region_of
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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


class ApiRequest(BaseModel):
    """An API Gateway REST proxy request, as far as telling it from a task goes (the resolver reads
    the whole event)."""

    model_config = ConfigDict(extra="allow")

    resource: str
    path: str
    http_method: Literal["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"] = Field(
        alias="httpMethod"
    )
    request_context: dict[str, Any] = Field(alias="requestContext")


# Either shape, tried in this order; the two share no required field.
EVENT: TypeAdapter[ApiRequest | exports.StepEvent] = TypeAdapter(
    Annotated[ApiRequest | exports.StepEvent, Field(union_mode="left_to_right")]
)


class UnknownEvent(ValueError):
    """The event is neither an API Gateway REST proxy request nor a board_pack task."""


def parse_event(event: dict[str, Any]) -> ApiRequest | exports.StepEvent:
    try:
        return EVENT.validate_python(event)
    except ValidationError as exc:
        raise UnknownEvent(
            "board_pack takes an API Gateway REST proxy request or a board_pack task "
            f'({{"step": "render" | "complete" | "fail", "job_id": ...}}); got an event with keys '
            f"{sorted(event)}: {_errors(exc)}"
        ) from exc


def _errors(exc: ValidationError) -> str:
    """Where each shape did not fit (locations and messages only: no event values)."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:8])


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = parse_event(event)
    if isinstance(parsed, ApiRequest):
        return app.resolve(event, context)
    return exports.run_step(parsed, settings())
