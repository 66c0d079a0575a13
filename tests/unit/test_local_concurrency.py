"""The local front door serves concurrent requests in one process (#17): two requests resolved at the
same time by Powertools resolvers each read their own event (Powertools keeps it on a class, which
`infra/local/powertools_local.py` makes per thread)."""

from __future__ import annotations

import threading
from typing import Any

from infra.local.http import proxy_event
from infra.local.powertools_local import patch_powertools_per_thread_event


def test_two_requests_resolved_at_once_each_read_their_own_event() -> None:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    patch_powertools_per_thread_event()
    both_inside = threading.Barrier(2, timeout=10)
    apps = [APIGatewayRestResolver(), APIGatewayRestResolver()]  # two execution environments
    for app in apps:

        @app.get("/api/echo")
        def echo(app: APIGatewayRestResolver = app) -> dict[str, Any]:
            both_inside.wait()  # the other request has been resolved (its event set) meanwhile
            return {"tenant": app.current_event.query_string_parameters["tenant"]}

    answers: dict[str, str] = {}

    def ask(i: int, tenant: str) -> None:
        event = proxy_event("GET", "/api/echo", f"tenant={tenant}", {}, b"", None)
        answers[tenant] = apps[i].resolve(event, None)["body"]

    threads = [threading.Thread(target=ask, args=(i, t)) for i, t in enumerate(("acme", "globex"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert answers == {"acme": '{"tenant":"acme"}', "globex": '{"tenant":"globex"}'}
