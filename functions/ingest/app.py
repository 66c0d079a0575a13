"""POST /api/ingest/{source}?tenant=<id>: signed webhooks from the tools themselves; GET answers a
sender's one-time endpoint verification (Okta event hooks)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.aws import AwsError, aws, error_code
from companyos.api import bootstrap, logger, resolver
from companyos.domain import clock
from companyos.ingest import answer_verification, bind_invocation, ingest, secrets_from_value
from companyos.sources.base import WebhookRequest

cfg = bootstrap()
app = resolver(json_bodies=False)


def _secrets(tenant_id: str, source: str) -> list[str]:
    try:
        raw = parameters.get_secret(f"{cfg.webhook_secret_prefix}/{tenant_id}/{source}", max_age=300)
    except parameters.exceptions.GetParameterError:
        return []
    return secrets_from_value(str(raw))


def _start_run(name: str, payload: dict[str, Any]) -> None:
    try:
        aws().sfn.start_execution(
            stateMachineArn=cfg.kpi_run_state_machine_arn, name=name, input=json.dumps(payload)
        )
    except AwsError as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise
        logger.info("run already started for this window", extra={"execution": name})


def _raw_body() -> bytes:
    """The exact bytes the tool sent (signatures are over them); binary bodies (gzip) arrive base64."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post("/api/ingest/<source>")
def post_webhook(
    source: Annotated[str, Path()], tenant: Annotated[str, Query(min_length=1)]
) -> Response[dict[str, Any]]:
    event = app.current_event
    request = WebhookRequest({k.lower(): v for k, v in (event.headers or {}).items()}, _raw_body())
    result = ingest(
        tenant, source, request, max_bytes=cfg.max_webhook_bytes, secrets=_secrets, start_run=_start_run
    )
    status = 200 if result.status == "stored" else 202
    body = result.to_dict()
    firehose = request.header("X-Amz-Firehose-Request-Id")
    if firehose:  # Firehose's HTTP endpoint contract: 200 with its requestId and a timestamp (ms)
        status = 200
        body |= {"requestId": firehose, "timestamp": int(clock.now().timestamp() * 1000)}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.get("/api/ingest/<source>")
def verify_endpoint(
    source: Annotated[str, Path()], tenant: Annotated[str, Query(min_length=1)]
) -> dict[str, str]:
    event = app.current_event
    request = WebhookRequest({k.lower(): v for k, v in (event.headers or {}).items()}, b"")
    return answer_verification(tenant, source, request, secrets=_secrets)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bind_invocation(context)  # an interrupted delivery's in-progress record expires with it
    return app.resolve(event, context)
