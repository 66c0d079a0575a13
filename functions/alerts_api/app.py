"""The alert inbox API: firing/recent alerts per persona, acknowledge, resolve; rule tuning,
escalation routes and silences per tenant. Every write is audited; every refusal is a 4xx with a `code`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.alerts import answers as shapes
from companyos.alerts import inbox, silences, subscribers, tuning
from companyos.alerts.context import runtime
from companyos.api import WRITE_REFUSALS, answers, bootstrap, logger, principal_of, resolver
from companyos.domain import clock
from companyos.domain.alert_silences import SilenceIn
from companyos.domain.alert_subscribers import SubscriberIn
from pydantic import BaseModel, ConfigDict, Field

bootstrap()
app = resolver()


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=1000)


class Tuning(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    threshold: float | str | bool | None = None
    for_: str | int | None = Field(default=None, alias="for")
    enabled: bool | None = None


@app.get("/api/alerts", responses=answers(model=shapes.AlertList))
def list_alerts(
    tenant: Annotated[str, Query(min_length=1)],
    persona: Annotated[Literal["ceo", "cto", "ciso", "ops", "product"], Query()],
    view: Annotated[Literal["firing", "recent"], Query()] = "firing",
) -> dict[str, Any]:
    return inbox.list_alerts(principal_of(app), tenant, persona, view, clock.now())


@app.get("/api/alerts/<alert_id>", responses=answers(model=shapes.AlertView))
def get_alert(
    alert_id: Annotated[str, Path()], tenant: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    return inbox.get_alert(principal_of(app), tenant, alert_id)


@app.post("/api/alerts/<alert_id>/ack", responses=answers(*WRITE_REFUSALS, model=shapes.AlertView))
def acknowledge(
    alert_id: Annotated[str, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    body: Annotated[Note, Body()],
) -> dict[str, Any]:
    return inbox.acknowledge(runtime(), principal_of(app), tenant, alert_id, body.note)


@app.post("/api/alerts/<alert_id>/resolve", responses=answers(*WRITE_REFUSALS, model=shapes.AlertView))
def resolve(
    alert_id: Annotated[str, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    body: Annotated[Note, Body()],
) -> dict[str, Any]:
    return inbox.resolve(runtime(), principal_of(app), tenant, alert_id, body.note)


@app.get("/api/alert-rules", responses=answers(model=shapes.RulesView))
def get_rules(tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return tuning.rules_view(principal_of(app), tenant)


@app.put("/api/alert-rules/<rule_id>", responses=answers(*WRITE_REFUSALS, model=shapes.RuleView))
def put_rule(
    rule_id: Annotated[str, Path()],
    tenant: Annotated[str, Query(min_length=1)],
    body: Annotated[Tuning, Body()],
) -> dict[str, Any]:
    change = body.model_dump(by_alias=True, exclude_none=True)
    return tuning.tune_rule(principal_of(app), tenant, rule_id, change)


@app.get("/api/alert-routes", responses=answers(model=shapes.RoutesView))
def get_routes(tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return tuning.routes_view(principal_of(app), tenant)


@app.put("/api/alert-routes", responses=answers(*WRITE_REFUSALS, model=shapes.RoutesView))
def put_routes(
    tenant: Annotated[str, Query(min_length=1)], body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    return tuning.put_routes(principal_of(app), tenant, body)


@app.get("/api/alert-silences", responses=answers(model=shapes.SilenceList))
def get_silences(tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return silences.list_silences(principal_of(app), tenant, clock.now())


@app.post("/api/alert-silences", responses=answers(*WRITE_REFUSALS, model=shapes.SilenceView))
def post_silence(
    tenant: Annotated[str, Query(min_length=1)], body: Annotated[SilenceIn, Body()]
) -> dict[str, Any]:
    return silences.create(principal_of(app), tenant, body, clock.now())


@app.delete("/api/alert-silences/<silence_id>", responses=answers(*WRITE_REFUSALS, model=shapes.SilenceView))
def expire_silence(
    silence_id: Annotated[str, Path(max_length=40)], tenant: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    return silences.expire(principal_of(app), tenant, silence_id, clock.now())


SUBSCRIBER_ID = Path(max_length=40, pattern=r"^sub_[0-9a-f]{1,36}$")


@app.get("/api/alert-subscribers", responses=answers(model=shapes.SubscriberList))
def get_subscribers(tenant: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    return subscribers.list_subscribers(principal_of(app), tenant)


@app.post(
    "/api/alert-subscribers",
    responses=answers(*WRITE_REFUSALS, model=shapes.SubscriberView),
    description="Subscribe a person: personas, on-call targets and channels. A webhook's signing "
    "secret is in this answer only.",
)
def post_subscriber(
    tenant: Annotated[str, Query(min_length=1)], body: Annotated[SubscriberIn, Body()]
) -> dict[str, Any]:
    return subscribers.create(runtime(), principal_of(app), tenant, body, clock.now())


@app.get("/api/alert-subscribers/<subscriber_id>", responses=answers(model=shapes.SubscriberView))
def get_subscriber(
    subscriber_id: Annotated[str, SUBSCRIBER_ID], tenant: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    return subscribers.get_subscriber(principal_of(app), tenant, subscriber_id)


@app.put(
    "/api/alert-subscribers/<subscriber_id>",
    responses=answers(*WRITE_REFUSALS, model=shapes.SubscriberView),
    description="Replace a subscriber (give `expected_revision` to refuse a lost update). A channel "
    "kept (same type and address) keeps its SNS subscription and secret.",
)
def put_subscriber(
    subscriber_id: Annotated[str, SUBSCRIBER_ID],
    tenant: Annotated[str, Query(min_length=1)],
    body: Annotated[SubscriberIn, Body()],
) -> dict[str, Any]:
    return subscribers.replace(runtime(), principal_of(app), tenant, subscriber_id, body, clock.now())


@app.delete(
    "/api/alert-subscribers/<subscriber_id>",
    responses=answers(*WRITE_REFUSALS, model=shapes.SubscriberRemoved),
)
def delete_subscriber(
    subscriber_id: Annotated[str, SUBSCRIBER_ID],
    tenant: Annotated[str, Query(min_length=1)],
    reason: Annotated[str, Query(max_length=500)] = "",
) -> dict[str, Any]:
    return subscribers.remove(runtime(), principal_of(app), tenant, subscriber_id, reason)


@app.get(
    "/api/alert-subscribers/<subscriber_id>/notifications",
    responses=answers(model=shapes.SubscriberNotifications),
    description="What this subscriber received, newest first (on the local stack: would have received).",
)
def get_subscriber_notifications(
    subscriber_id: Annotated[str, SUBSCRIBER_ID],
    tenant: Annotated[str, Query(min_length=1)],
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    return subscribers.notifications(principal_of(app), tenant, subscriber_id, limit)


@app.get("/api/alert-notifications", responses=answers(model=shapes.NotificationList))
def get_notifications(
    tenant: Annotated[str, Query(min_length=1)], limit: Annotated[int, Query(ge=1, le=200)] = 100
) -> dict[str, Any]:
    return subscribers.outbox(principal_of(app), tenant, limit)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
