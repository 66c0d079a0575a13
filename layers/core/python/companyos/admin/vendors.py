"""The vendor register of a tenant: list, create, update, delete and CSV import. Reading needs
`catalog:view` (any member), writing `admin:write`; every write is one audit event on the tenant's
chain, appended after the write succeeded (the admin write + audit path of `admin.context`)."""

from __future__ import annotations

import hashlib
from typing import Any

from companyos.adapters.inventory_repo import InventoryRepo
from companyos.admin.context import Ctx, audit, auth
from companyos.domain import inventory as inv
from companyos.domain.errors import InvalidPayload
from companyos.domain.vendor_csv import parse_vendor_csv


def _row(v: inv.Vendor, ctx: Ctx) -> dict[str, Any]:
    due = v.review_due()
    today = ctx.now.date()
    return {
        **v.model_dump(mode="json"),
        "review_due": due.isoformat() if due else None,
        "out_of_review": v.status != "offboarded" and (due is None or due < today),
    }


def list_vendors(ctx: Ctx) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    vendors = sorted(InventoryRepo(ctx.tenant_id).vendors(), key=lambda v: (v.tier, v.name.lower()))
    rows = [_row(v, ctx) for v in vendors]
    return {
        "tenant": ctx.tenant_id,
        "as_of": ctx.now.date().isoformat(),
        "vendors": rows,
        "tier1_out_of_review": sum(1 for r in rows if r["tier"] == 1 and r["out_of_review"]),
    }


def get_vendor(ctx: Ctx, vendor_id: str) -> dict[str, Any]:
    auth(ctx, "catalog:view")
    return _row(InventoryRepo(ctx.tenant_id).vendor(vendor_id), ctx)


def create_vendor(ctx: Ctx, body: inv.VendorIn, reason: str = "") -> dict[str, Any]:
    role = auth(ctx, "admin:write")
    vendor = InventoryRepo(ctx.tenant_id).put_vendor(body, create=True)  # 409 vendor_exists
    audit(ctx, role, "vendor.create", f"vendor:{body.vendor_id}", reason, vendor=_fields(body))
    return _row(vendor, ctx)


def update_vendor(ctx: Ctx, vendor_id: str, body: inv.VendorIn, reason: str = "") -> dict[str, Any]:
    role = auth(ctx, "admin:write")
    if body.vendor_id != vendor_id:
        raise InvalidPayload(
            "the body's vendor_id must be the path's",
            code="vendor_id_mismatch",
            details={"path": "vendor_id"},
        )
    repo = InventoryRepo(ctx.tenant_id)
    before = repo.vendor(vendor_id)  # 404 vendor_not_found
    vendor = repo.put_vendor(body)
    changes = {
        k: {"from": old, "to": new}
        for k, new in _fields(body).items()
        if (old := before.model_dump(mode="json").get(k)) != new
    }
    audit(ctx, role, "vendor.update", f"vendor:{vendor_id}", reason, changes=changes)
    return _row(vendor, ctx)


def delete_vendor(ctx: Ctx, vendor_id: str, reason: str = "") -> None:
    role = auth(ctx, "admin:write")
    InventoryRepo(ctx.tenant_id).delete_vendor(vendor_id)  # 404 vendor_not_found
    audit(ctx, role, "vendor.delete", f"vendor:{vendor_id}", reason)


def import_vendors(ctx: Ctx, body: bytes, reason: str = "") -> dict[str, Any]:
    """Validate every row, then upsert all of them in one transaction (nothing on any bad row)."""
    role = auth(ctx, "admin:write")
    vendors = parse_vendor_csv(body)  # 422 invalid_rows / invalid_header / too_many_rows …
    repo = InventoryRepo(ctx.tenant_id)
    existing = {v.vendor_id for v in repo.vendors()}
    repo.import_vendors(vendors)
    ids = [v.vendor_id for v in vendors]
    created = [i for i in ids if i not in existing]
    audit(
        ctx,
        role,
        "vendor.import",
        f"vendors:{len(ids)}",
        reason,
        sha256=hashlib.sha256(body).hexdigest(),
        created=created,
        updated=[i for i in ids if i in existing],
    )
    return {
        "tenant": ctx.tenant_id,
        "imported": len(ids),
        "created": len(created),
        "updated": len(ids) - len(created),
        "vendor_ids": ids,
    }


def _fields(v: inv.VendorIn) -> dict[str, Any]:
    return v.model_dump(mode="json")
