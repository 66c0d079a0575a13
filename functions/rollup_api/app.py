"""Platform roll-up API: the executive roll-up across tenants, and the tenant-scoped inventory
(compliance controls + evidence, certificates, vendors) the roll-up's inventory domains read."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from companyos.adapters.config import settings
from companyos.api import bootstrap, logger, principal_of, resolver
from companyos.domain.inventory import CertificateIn, ControlIn, EvidenceIn, VendorIn
from companyos.rollup import manage
from companyos.rollup.executive import executive, home_region_of

bootstrap()
app = resolver()

Tenant = Annotated[str, Query(min_length=1, description="tenant id (the caller must be a member)")]


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


def _created(body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


def _no_content() -> Response[Any]:
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@app.get("/api/platform/executive")
def get_executive(
    period: Annotated[str | None, Query(description="7d | 28d | 90d | 365d | custom")] = None,
    start: Annotated[str | None, Query(description="custom range start (yyyy-mm-dd)")] = None,
    end: Annotated[str | None, Query(description="custom range end (yyyy-mm-dd)")] = None,
    purpose: Annotated[str, Query(min_length=1, max_length=200)] = "executive roll-up",
) -> dict[str, Any]:
    s = settings()
    claims = dict(app.current_event.request_context.authorizer or {}).get("claims")
    return executive(
        principal_of(app),
        period=period,
        start=start,
        end=end,
        purpose=purpose,
        home_region=home_region_of(claims, s.region),
        strict_residency=s.strict_residency,
        org_name=s.org_name,
        request_id=_request_id(),
    )


# ---- compliance controls and evidence


@app.get("/api/inventory/controls")
def get_controls(tenant: Tenant, framework: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return manage.list_controls(principal_of(app), tenant, framework)


@app.post("/api/inventory/controls")
def post_control(tenant: Tenant, body: Annotated[ControlIn, Body()]) -> Response[Any]:
    return _created(manage.put_control(principal_of(app), tenant, body, _request_id()))


@app.delete("/api/inventory/controls/<framework>/<control_id>")
def delete_control(
    framework: Annotated[str, Path()], control_id: Annotated[str, Path()], tenant: Tenant
) -> Response[Any]:
    manage.delete_control(principal_of(app), tenant, framework, control_id, _request_id())
    return _no_content()


@app.get("/api/inventory/controls/<framework>/<control_id>/evidence")
def get_evidence(
    framework: Annotated[str, Path()], control_id: Annotated[str, Path()], tenant: Tenant
) -> dict[str, Any]:
    return manage.list_evidence(principal_of(app), tenant, framework, control_id)


@app.post("/api/inventory/controls/<framework>/<control_id>/evidence")
def post_evidence(
    framework: Annotated[str, Path()],
    control_id: Annotated[str, Path()],
    tenant: Tenant,
    body: Annotated[EvidenceIn, Body()],
) -> Response[Any]:
    return _created(
        manage.add_evidence(principal_of(app), tenant, framework, control_id, body, _request_id())
    )


# ---- certificates


@app.get("/api/inventory/certificates")
def get_certificates(
    tenant: Tenant,
    within: Annotated[int | None, Query(ge=1, le=3650)] = None,
    status: Annotated[str | None, Query(description="all | expiring | expired")] = None,
) -> dict[str, Any]:
    return manage.list_certificates(principal_of(app), tenant, within, status)


@app.post("/api/inventory/certificates")
def post_certificate(tenant: Tenant, body: Annotated[CertificateIn, Body()]) -> Response[Any]:
    return _created(manage.put_certificate(principal_of(app), tenant, body, _request_id()))


@app.delete("/api/inventory/certificates/<cert_id>")
def delete_certificate(cert_id: Annotated[str, Path()], tenant: Tenant) -> Response[Any]:
    manage.delete_certificate(principal_of(app), tenant, cert_id, _request_id())
    return _no_content()


# ---- vendors


@app.get("/api/inventory/vendors")
def get_vendors(tenant: Tenant) -> dict[str, Any]:
    return manage.list_vendors(principal_of(app), tenant)


@app.post("/api/inventory/vendors")
def post_vendor(tenant: Tenant, body: Annotated[VendorIn, Body()]) -> Response[Any]:
    return _created(manage.put_vendor(principal_of(app), tenant, body, _request_id()))


@app.delete("/api/inventory/vendors/<vendor_id>")
def delete_vendor(vendor_id: Annotated[str, Path()], tenant: Tenant) -> Response[Any]:
    manage.delete_vendor(principal_of(app), tenant, vendor_id, _request_id())
    return _no_content()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
