"""Shared handler plumbing: cold-start bootstrap, the resolver with domain-error mapping, principals."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from companyos.adapters.audit import configure_signer
from companyos.adapters.config import Settings, settings
from companyos.adapters.models import bind_tables
from companyos.domain.auth import Principal
from companyos.domain.errors import DomainError

logger = Logger(service="companyos")


@cache
def bootstrap() -> Settings:
    """Validate the environment once per cold start, bind the tables and the audit digest signer."""
    s = settings()
    bind_tables(s.tables, s.region)
    configure_signer(s.audit_signing_key_id)
    return s


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        if exc.status >= 500:
            logger.exception("domain error")
        else:
            logger.info("request refused", extra={"code": exc.code, "status": exc.status})
        return _json(exc.status, exc.to_body())

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        path = ".".join(str(p) for p in first.get("loc", ()))
        return _json(
            422,
            {
                "code": "invalid_request",
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
