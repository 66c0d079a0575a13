"""The cockpit read API: who am I, persona dashboards, run evidence (precomputed, no Scans)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.api import bootstrap, logger, principal_of, resolver
from companyos.views import dashboards, evidence, me

bootstrap()
app = resolver()


@app.get("/api/me")
def get_me() -> dict[str, Any]:
    return me.whoami(principal_of(app))


@app.get("/api/dashboards/<persona>")
def get_dashboard(
    persona: Annotated[str, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    period: Annotated[str, Query()] = "7d",
) -> dict[str, Any]:
    return dashboards.dashboard(principal_of(app), tenant, persona, period)


@app.get("/api/runs/<run_id>")
def get_run(run_id: Annotated[str, Path()], tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return evidence.run_evidence(principal_of(app), tenant, run_id)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
