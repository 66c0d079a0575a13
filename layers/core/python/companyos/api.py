"""Shared handler plumbing: cold-start bootstrap, the resolver with domain-error mapping, principals."""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from companyos.adapters.audit import configure_signer
from companyos.adapters.config import Settings, settings
from companyos.adapters.models import bind_tables
from companyos.adapters.transient import DEPENDENCY_ERRORS, transient_code
from companyos.domain.auth import Principal
from companyos.domain.errors import DomainError, TransientError
from companyos.topology import COMPRESS_MIN_BYTES

logger = Logger(service="companyos")
RETRY_AFTER_S = 2  # what a 503 for a throttled dependency asks the caller to wait


class ErrorBody(BaseModel):
    """Every refusal of the cockpit's APIs: 4xx with a machine-readable code and a human message."""

    code: str = Field(description="machine-readable, e.g. invalid_request, tenant_forbidden, kpi_not_found")
    message: str = Field(description="for a person: what was wrong and what to do")
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="optional: e.g. {path, errors[]} for an invalid request (the field path of the"
        " first error and up to 10 errors as {loc, msg, type})",
    )


REFUSALS: dict[int, str] = {
    400: "malformed body (not UTF-8 text / not JSON)",
    401: "no bearer token, or one that does not verify (unauthenticated, token_expired, invalid_token)",
    403: "not a member of the tenant, or the caller's role may not do this",
    404: "no such route, tenant resource or item",
    409: "a concurrent change: an optimistic lock moved, or the item is not in a state that allows it",
    413: "the body is over the route's size limit (API Gateway's 10 MB for every route)",
    415: "the body is not application/json",
    422: "a parameter or the body is invalid (invalid_request with details.path), or the value is refused",
}
WRITE_REFUSALS = (400, 409, 413, 415)
# The code of a refused enum parameter (422, with details.path as for any invalid request): the one the
# views raised before the spec declared the enum, which clients and tests already know
PARAMETER_CODES = {"period": "invalid_period", "audience": "invalid_audience", "persona": "persona_unknown"}


def answers(
    *codes: int,
    model: Any = None,
    ok: int = 200,
    description: str = "Successful Response",
    links: dict[str, Any] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: `ok` with `model`'s schema (documentation: the body is what the
    view built; the schemathesis runs check that it conforms) and every refusal the route can give,
    each as `ErrorBody`: 401/403/404/422 on every route, and `codes` (e.g. WRITE_REFUSALS)."""
    error: OpenAPIResponse = {
        "description": "",
        "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
    }
    out: dict[int, OpenAPIResponse] = {ok: {"description": description}}
    if model is not None:
        out[ok]["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    if ok == 204:
        out[ok]["content"] = {}
    if links:  # OpenAPI links: what the answer lets a client call next (schemathesis' stateful runs)
        out[ok]["links"] = links
    for code in sorted({401, 403, 404, 422, *codes}):
        out[code] = {**error, "description": REFUSALS[code]}
    return out


@cache
def bootstrap() -> Settings:
    """Validate the environment once per cold start, bind the tables and the audit digest signer."""
    s = settings()
    bind_tables(s.tables, s.region)
    configure_signer(s.audit_signing_key_id)
    return s


Task = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def retried_when_transient(handler: Task) -> Task:
    """A state machine task's handler: a throttled or conflicting AWS call that escapes it (after the
    SDK's own retries) fails the task as `TransientError`, the error its Retry names, so Step
    Functions retries the task with backoff instead of failing the execution for a busy table."""

    @functools.wraps(handler)
    def task(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return handler(event, context)
        except TransientError:
            raise
        except Exception as exc:
            code = transient_code(exc)
            if code is None:
                raise
            raise TransientError(f"{code}: {exc}") from exc

    return task


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _refusal(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"code": code, "message": message}),
        "isBase64Encoded": False,
    }


def body_refusal(event: Mapping[str, Any], media: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The cockpit's own APIs take JSON bodies only. A body of another media type (text/plain,
    multipart/form-data, …) is 415 and one that is not UTF-8 text 400, each with a `code`, before any
    route runs — Powertools would parse multipart into `{}` (a misleading 422) and raise a
    UnicodeDecodeError (a 500) on a non-UTF-8 JSON body. `media`: other text types an app's routes
    read themselves (the admin vendor import's `text/csv`)."""
    body = event.get("body")
    if not body:
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json") and ctype not in media:
        return _refusal(
            415, "unsupported_media_type", f"send the body as application/json, not {ctype[:100]}"
        )
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else str(body).encode()
        raw.decode("utf-8")
    except (binascii.Error, UnicodeError):
        return _refusal(400, "malformed_body", "the body is not UTF-8 text")
    return None


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an `Accept-Encoding` value admits gzip: a `gzip` (or `x-gzip`) coding without `q=0`.
    Absent or `*` alone is not enough, as for API Gateway (RFC 9110's default is no preference)."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        q = params.strip().lower().removeprefix("q=").strip() if params.strip() else "1"
        try:
            return float(q) > 0
        except ValueError:
            return False
    return False


def compressible(content_type: str | None) -> bool:
    """Text-like media worth gzipping (JSON, CSV, YAML, JavaScript, HTML, XML); not PDFs, images or
    archives, which are compressed already."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    return (
        ctype.startswith("text/")
        or ctype in ("application/json", "application/javascript", "application/xml", "application/yaml")
        or ctype.endswith(("+json", "+xml"))
    )


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return None


def compress_response(
    event: Mapping[str, Any], result: dict[str, Any], minimum: int = COMPRESS_MIN_BYTES
) -> dict[str, Any]:
    """A proxy result gzip-compressed for a caller that accepts gzip, when its text-like body is at
    least `minimum` bytes: base64 body (`*/*` binary media types make API Gateway send the bytes),
    `Content-Encoding: gzip` and `Vary: Accept-Encoding` (a body of that size varies by it either way).
    Done here, not with the REST API's `minimumCompressionSize`, because that setting also makes API
    Gateway inflate gzip request bodies before ingest verifies the signatures over them."""
    headers = result.get("multiValueHeaders") or result.get("headers") or {}
    body = result.get("body")
    if not body or _header(headers, "content-encoding") or not compressible(_header(headers, "content-type")):
        return result
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    if len(raw) < minimum:
        return result
    vary = _header(headers, "vary")
    added = {"Vary": vary + ", Accept-Encoding" if vary else "Accept-Encoding"}
    request = {**(event.get("headers") or {}), **(event.get("multiValueHeaders") or {})}
    if accepts_gzip(_header(request, "accept-encoding")):
        added["Content-Encoding"] = "gzip"
        result = {**result, "body": base64.b64encode(gzip.compress(raw, 6)).decode(), "isBase64Encoded": True}
    kept = {k: v for k, v in headers.items() if str(k).lower() != "vary"}
    if result.get("multiValueHeaders"):
        result["multiValueHeaders"] = {**kept, **{k: [v] for k, v in added.items()}}
    else:
        result["headers"] = {**kept, **added}
    return result


class CompressingResolver(APIGatewayRestResolver):
    """A resolver whose answers are gzip-compressed for callers that accept it (`compress_response`)."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        return compress_response(event, super().resolve(event, context))


class JsonApiResolver(CompressingResolver):
    """A resolver that refuses a body it cannot read as JSON text before routing (`body_refusal`)."""

    text_media: tuple[str, ...] = ()

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = body_refusal(event, self.text_media)
        return refusal if refusal is not None else super().resolve(event, context)


def resolver(json_bodies: bool = True, text_media: tuple[str, ...] = ()) -> APIGatewayRestResolver:
    """The resolver with domain-error mapping. `json_bodies=False` for ingest, whose bodies are the
    tools' own formats (XML, CSV, NDJSON) and are checked by each source's parser."""
    app = (
        JsonApiResolver(enable_validation=True)
        if json_bodies
        else CompressingResolver(enable_validation=True)
    )
    if isinstance(app, JsonApiResolver):
        app.text_media = text_media

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return _json(415, {"code": "unsupported_media_type", "message": "send the body as application/json"})

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.status >= 500:
            logger.exception("domain error")
        else:
            logger.info("request refused", extra={"code": exc.code, "status": exc.status})
        return _json(exc.status, exc.to_body())

    @app.exception_handler(list(DEPENDENCY_ERRORS))
    def _dependency(exc: Exception) -> Response:
        """A throttled or failing AWS dependency (after the SDK's own retries): 503 with a code and a
        Retry-After, so the caller retries the whole request — never a dropped connection or a 502.
        Any other AWS error is a defect and stays one (raised)."""
        code = transient_code(exc)
        if code is None:
            raise exc
        logger.warning("dependency unavailable", extra={"aws_error": code})
        return Response(
            status_code=503,
            content_type=content_types.APPLICATION_JSON,
            body={
                "code": "dependency_unavailable",
                "message": f"a storage or workflow service is busy ({code}); retry the request",
                "details": {"aws_error": code},
            },
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = tuple(first.get("loc", ()))
        path = ".".join(str(p) for p in loc)
        named = len(loc) == 2 and loc[0] in ("query", "path")
        return _json(
            422,
            {
                "code": PARAMETER_CODES.get(str(loc[1]), "invalid_request") if named else "invalid_request",
                "message": f"{path}: {first.get('msg', 'invalid')}",
                # loc/msg/type only: `ctx` may hold the validator's exception (not JSON) and
                # `input` echoes the caller's body back
                "details": {
                    "path": path,
                    "errors": [
                        {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                        for e in errors[:10]
                    ],
                },
            },
        )

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return _json(404, {"code": "route_not_found", "message": "no such API route"})

    return app


def principal_of(app: APIGatewayRestResolver) -> Principal:
    """The caller as the API Gateway Cognito authorizer (or infra/local) put it on the request."""
    authorizer: dict[str, Any] = dict(app.current_event.request_context.authorizer or {})
    claims = authorizer.get("claims")
    return Principal.from_claims(claims)
