"""The vendor register: CRUD and the CSV import (`text/csv` body, every row validated before any is
written: a bad row is a 422 `invalid_rows` listing each bad line, and nothing is stored)."""

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from companyos.admin import answers as shapes
from companyos.admin import vendors
from companyos.api import WRITE_REFUSALS, answers
from companyos.domain.inventory import VendorIn

from .context import Tenant, ctx

router = Router()
VendorId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
Reason = Annotated[str, Query(max_length=1000, description="why: recorded on the audit event")]

IMPORT_DOC = (
    "Body: `Content-Type: text/csv`, UTF-8, at most 100 rows and 256 KiB. Header (line 1): "
    "`vendor_id,name,tier` required; `owner,last_review,review_interval_days,status` optional. Every "
    "row is validated first; any bad row answers 422 `invalid_rows` with `details.rows[]` = "
    "`{row: <line number>, field, code, message}` and nothing is written. Otherwise every row is "
    "upserted in one DynamoDB transaction (all or nothing) and one `vendor.import` audit event is "
    "appended."
)


# What a created vendor lets a client do next (OpenAPI links: schemathesis follows them)
_THE_VENDOR = {"vendor_id": "$response.body#/vendor_id", "tenant": "$request.query.tenant"}
CREATED_LINKS = {
    f"{verb.title()}Vendor": {
        "operationId": f"{verb}_vendor_api_admin_vendors__vendor_id__{verb}",
        "parameters": _THE_VENDOR,
    }
    for verb in ("get", "put", "delete")
}


@router.get("/api/admin/vendors", responses=answers(model=shapes.VendorList))
def get_vendors(tenant: Tenant) -> dict[str, Any]:
    return vendors.list_vendors(ctx(router, tenant))


@router.get("/api/admin/vendors/<vendor_id>", responses=answers(model=shapes.VendorRow))
def get_vendor(vendor_id: VendorId, tenant: Tenant) -> dict[str, Any]:
    return vendors.get_vendor(ctx(router, tenant), vendor_id)


@router.post(
    "/api/admin/vendors",
    responses=answers(
        *WRITE_REFUSALS, model=shapes.VendorRow, ok=201, description="created", links=CREATED_LINKS
    ),
)
def post_vendor(tenant: Tenant, body: Annotated[VendorIn, Body()], reason: Reason = "") -> Response[Any]:
    created = vendors.create_vendor(ctx(router, tenant), body, reason)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.put("/api/admin/vendors/<vendor_id>", responses=answers(*WRITE_REFUSALS, model=shapes.VendorRow))
def put_vendor(
    vendor_id: VendorId, tenant: Tenant, body: Annotated[VendorIn, Body()], reason: Reason = ""
) -> dict[str, Any]:
    return vendors.update_vendor(ctx(router, tenant), vendor_id, body, reason)


@router.delete(
    "/api/admin/vendors/<vendor_id>", responses=answers(409, ok=204, description="deleted: no body")
)
def delete_vendor(vendor_id: VendorId, tenant: Tenant, reason: Reason = "") -> Response[Any]:
    vendors.delete_vendor(ctx(router, tenant), vendor_id, reason)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@router.post(
    "/api/admin/vendors/import",
    description=IMPORT_DOC,
    responses=answers(*WRITE_REFUSALS, model=shapes.VendorImport),
)
def post_vendor_import(tenant: Tenant, reason: Reason = "") -> dict[str, Any]:
    event = router.current_event
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    return vendors.import_vendors(ctx(router, tenant), body, reason)
