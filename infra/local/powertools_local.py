"""Powertools' event handler, made safe for the local front door's concurrent requests.

Powertools keeps the request being resolved on the `BaseRouter` *class* (`BaseRouter.current_event =
...` in `resolve`), i.e. process-wide: in Lambda one process serves one request at a time, so that is
per request. The local stack serves concurrent requests in one process (infra/local/lambdas.py), so
a handler reading `app.current_event` — its query parameters, the authorizer's claims — could read
another request's event: seen as a dashboard GET answered 401 with the claims of a concurrent
webhook POST (no authorizer). Here the current event and Lambda context of every resolver are the
resolving thread's own; each request is served on one thread from start to end.
"""

from __future__ import annotations

import threading
from functools import wraps
from typing import Any

_request = threading.local()


def _event(self: Any) -> Any:
    return getattr(_request, "event", None)


def _set_event(self: Any, value: Any) -> None:
    _request.event = value


def _context(self: Any) -> Any:
    return getattr(_request, "context", None)


def _set_context(self: Any, value: Any) -> None:
    _request.context = value


def patch_powertools_per_thread_event() -> None:
    """Idempotent: `current_event` / `lambda_context` of every resolver are per thread."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    if getattr(ApiGatewayResolver, "_companyos_per_thread", False):
        return
    original = ApiGatewayResolver.resolve

    @wraps(original)
    def resolve(self: ApiGatewayResolver, event: Any, context: Any) -> Any:
        raw = getattr(event, "raw_event", event)
        _request.event, _request.context = self._to_proxy_event(raw), context
        return original(self, event, context)

    # data descriptors on the resolver class come before BaseRouter's class attribute in the MRO, so
    # every `self.current_event` (the app's, a Router's through its `api_resolver`) reads the thread's
    ApiGatewayResolver.current_event = property(_event, _set_event)  # type: ignore[assignment]
    ApiGatewayResolver.lambda_context = property(_context, _set_context)  # type: ignore[assignment]
    ApiGatewayResolver.resolve = resolve  # type: ignore[method-assign]
    ApiGatewayResolver._companyos_per_thread = True  # type: ignore[attr-defined]
