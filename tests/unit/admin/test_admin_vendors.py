"""The vendor register (issue #16, 7): CRUD and CSV import through the admin write + audit path, and
"tier-1 vendors out of review" (last review + review cadence before today's date on the injected
clock) as the roll-up's vendor domain reads it from the inventory posture."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

NOW = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)  # the injected clock of every call below
TODAY = NOW.date()

GOOD = (
    "vendor_id,name,tier,owner,last_review,review_interval_days,status\n"
    "aws,Amazon Web Services,1,cto@acme.test,2025-05-01,365,active\n"  # due 2026-05-01: overdue
    "stripe,Stripe,1,cfo@acme.test,2026-01-15,180,active\n"  # due 2026-07-14: in review
    "okta,Okta,1,ciso@acme.test,,365,onboarding\n"  # never reviewed: overdue
    "legacy-crm,Old CRM,1,,2020-01-01,365,offboarded\n"  # offboarded: needs no review
    "figma,Figma,3,design@acme.test,2024-01-01,365,active\n"  # tier 3: not counted
)


def ctx(tenant: str, role: str = "tenant_admin", who: str = "admin"):
    from companyos.admin.context import Ctx
    from companyos.domain.auth import Principal

    return Ctx(Principal(who, f"{who}@{tenant}.test", {tenant: role}), tenant, request_id="r-1", now=NOW)


def overdue_by_hand(csv_text: str, today: date) -> list[str]:
    """The rule computed independently of the product: tier 1, not offboarded, and last review +
    cadence before today (or never reviewed)."""
    names = []
    for line in csv_text.strip().splitlines()[1:]:
        _vid, name, tier, _owner, last, cadence, status = line.split(",")
        if tier != "1" or status == "offboarded":
            continue
        if not last or date.fromisoformat(last) + timedelta(days=int(cadence)) < today:
            names.append(name)
    return sorted(names)


def audit_actions(tenant: str) -> list[str]:
    from companyos.adapters.audit import AuditTrail

    return [e["action"] for e in AuditTrail(tenant).events()]


def test_a_good_csv_imports_every_row_in_one_audited_write(aws):
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.admin import vendors
    from companyos.domain import inventory as inv

    tenant = "v-good"
    out = vendors.import_vendors(ctx(tenant), GOOD.encode(), "quarterly register")
    assert (out["imported"], out["created"], out["updated"]) == (5, 5, 0)
    listed = vendors.list_vendors(ctx(tenant, "ceo", "ceo"))
    by_id = {v["vendor_id"]: v for v in listed["vendors"]}
    assert by_id["aws"]["owner"] == "cto@acme.test" and by_id["aws"]["review_due"] == "2026-05-01"
    assert by_id["okta"]["status"] == "onboarding" and by_id["okta"]["review_due"] is None
    expected = overdue_by_hand(GOOD, TODAY)
    assert expected == ["Amazon Web Services", "Okta"]
    assert sorted(v["name"] for v in listed["vendors"] if v["tier"] == 1 and v["out_of_review"]) == expected
    assert listed["tier1_out_of_review"] == len(expected)
    # the posture the roll-up reads says the same on the same day
    doc = InventoryRepo(tenant).refresh_posture(NOW)
    assert inv.vendors_out_of_review(doc, TODAY) == {"tier1": 3, "out_of_review": 2, "names": expected}
    assert audit_actions(tenant) == ["vendor.import"]
    # importing again updates the same five vendors (no duplicates)
    again = vendors.import_vendors(ctx(tenant), GOOD.replace("2025-05-01", "2026-06-01").encode())
    assert (again["created"], again["updated"]) == (0, 5)
    assert vendors.list_vendors(ctx(tenant))["tier1_out_of_review"] == 1  # aws reviewed on 2026-06-01


def test_a_vendor_keeps_the_day_it_entered_the_register_across_updates_and_re_imports(aws):
    """The roll-up's "previous period" reads the register as it was then: re-importing or editing
    a vendor must not move the day it was added (which made every re-imported register look new,
    with a previous value of 0 overdue)."""
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.admin import vendors
    from companyos.domain import inventory as inv

    from tests.conftest import clock_at

    tenant, first = "v-added", NOW - timedelta(days=40)
    with clock_at(first):
        vendors.import_vendors(ctx(tenant), GOOD.encode())
    vendors.import_vendors(ctx(tenant), GOOD.replace("2025-05-01", "2026-06-01").encode())
    body = inv.VendorIn(vendor_id="stripe", name="Stripe", tier=1, last_review=date(2026, 6, 1))
    vendors.update_vendor(ctx(tenant), "stripe", body)
    with clock_at(NOW):
        vendors.create_vendor(ctx(tenant), inv.VendorIn(vendor_id="new", name="New Co", tier=1))
    doc = InventoryRepo(tenant).refresh_posture(NOW)
    added = {v["vendor_id"]: v["added"] for v in doc["vendors"]}
    assert added == {
        **{v: first.date().isoformat() for v in ("aws", "stripe", "okta", "legacy-crm", "figma")},
        "new": TODAY.isoformat(),
    }
    # 30 days ago the register held the first import's five vendors (the one added today did not
    # count); the register keeps each vendor's current review date, so AWS (reviewed since) is in review
    thirty_days_ago = TODAY - timedelta(days=30)
    assert inv.vendors_out_of_review(doc, thirty_days_ago) == {
        "tier1": 3,
        "out_of_review": 1,
        "names": ["Okta"],
    }
    assert inv.has_vendors(doc, first.date() - timedelta(days=1)) is False


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        (
            "vendor_id,name,tier,last_review\n"
            "aws,AWS,1,2026-01-01\n"
            "bad,Bad,4,2026-01-01\n"  # line 3: tier out of range
            "worse,Worse,1,01/02/2026\n"  # line 4: not an ISO date
            "aws,AWS again,2,\n",  # line 5: duplicate vendor_id
            [
                (3, "tier", "invalid_tier"),
                (4, "last_review", "invalid_date"),
                (5, "vendor_id", "duplicate_vendor"),
            ],
        ),
        (
            "vendor_id,name,tier,status\nok,Ok,1,active\n,Nameless,2,active\nbad id,Bad,2,gone\n",
            [
                (3, "vendor_id", "missing_vendor_id"),
                (4, "vendor_id", "invalid_vendor_id"),
                (4, "status", "invalid_status"),
            ],
        ),
        ("vendor_id,name,tier\nx,X,1,extra\n", [(2, None, "wrong_column_count")]),
    ],
)
def test_a_csv_with_bad_rows_is_refused_with_row_numbers_and_nothing_is_written(aws, body, rows):
    from companyos.adapters.audit import AuditTrail
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.admin import vendors
    from companyos.domain.errors import InvalidPayload

    tenant = f"v-bad-{abs(hash(body)) % 10_000}"
    with pytest.raises(InvalidPayload) as err:
        vendors.import_vendors(ctx(tenant), body.encode())
    assert err.value.status == 422 and err.value.code == "invalid_rows"
    assert [(r["row"], r["field"], r["code"]) for r in err.value.details["rows"]] == rows
    assert InventoryRepo(tenant).vendors() == []  # the good rows were not written either
    assert AuditTrail(tenant).events() == []


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (b"", "empty_csv", 422),
        (b"vendor_id,name\naws,AWS\n", "invalid_header", 422),
        (b"vendor_id,name,tier,colour\naws,AWS,1,red\n", "invalid_header", 422),
        (b"vendor_id,name,tier\n", "empty_csv", 422),
        (b"vendor_id,name,tier\n" + b"".join(b"v%d,V,2\n" % i for i in range(101)), "too_many_rows", 422),
        (b"vendor_id,name,tier\n\xff\xfe,x,1\n", "invalid_encoding", 400),
    ],
)
def test_files_that_are_not_a_vendor_register_are_refused_with_a_code(aws, body, code, status):
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.admin import vendors
    from companyos.domain.errors import DomainError

    with pytest.raises(DomainError) as err:
        vendors.import_vendors(ctx("v-shape"), body)
    assert (err.value.code, err.value.status) == (code, status)
    assert InventoryRepo("v-shape").vendors() == []


def test_crud_is_audited_and_needs_admin_write(aws):
    from companyos.admin import vendors
    from companyos.domain.errors import Conflict, Forbidden, InvalidPayload, NotFound
    from companyos.domain.inventory import VendorIn

    tenant = "v-crud"
    body = VendorIn(vendor_id="pd", name="PagerDuty", tier=1, owner="ops@acme.test", last_review=TODAY)
    created = vendors.create_vendor(ctx(tenant), body, "new on-call vendor")
    assert created["review_due"] == (TODAY + timedelta(days=365)).isoformat() and not created["out_of_review"]
    with pytest.raises(Conflict):
        vendors.create_vendor(ctx(tenant), body)
    later = body.model_copy(update={"last_review": TODAY - timedelta(days=400), "review_interval_days": 90})
    updated = vendors.update_vendor(ctx(tenant), "pd", later, "review missed")
    assert updated["out_of_review"] is True
    with pytest.raises(InvalidPayload):
        vendors.update_vendor(ctx(tenant), "other", later)
    with pytest.raises(Forbidden):
        vendors.create_vendor(ctx(tenant, "cto", "cto"), body.model_copy(update={"vendor_id": "x"}))
    assert vendors.get_vendor(ctx(tenant, "cto", "cto"), "pd")["name"] == "PagerDuty"
    vendors.delete_vendor(ctx(tenant), "pd", "contract ended")
    with pytest.raises(NotFound):
        vendors.get_vendor(ctx(tenant), "pd")
    assert audit_actions(tenant) == ["vendor.create", "vendor.update", "vendor.delete"]
    from companyos.adapters.audit import AuditTrail

    update = AuditTrail(tenant).events()[1]
    assert update["details"]["changes"]["review_interval_days"] == {"from": 365, "to": 90}
