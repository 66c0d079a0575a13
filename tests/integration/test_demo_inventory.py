"""The demo's certificates and vendor registers reach the roll-up (issue #16, 6 and 7): both demo tenants'
ACM certificates were pulled through the ACM connector and their vendor registers imported through the
admin API's CSV import, so the roll-up's certificate and vendor domains have values for both, equal to
the counts worked out here from the demo's own data."""

from __future__ import annotations

from datetime import timedelta

from infra.local.demo_inventory import CERTIFICATES, VENDORS

TENANTS = ("northwind", "globex")


def rollup(local):
    token = local.client.login("platform@companyos.demo")
    reply = local.client.request("GET", "/api/platform/executive?period=28d", token=token)
    assert reply.status == 200, reply.body
    return {d["id"]: d for d in reply.body["domains"]}


def test_both_demo_tenants_have_certificate_cells_with_the_acm_counts(local, demo):
    certs = rollup(local)["certificates"]
    for tenant in TENANTS:
        card = next(c for c in certs["tenants"] if c["tenant"]["id"] == tenant)
        days = [d for _, d in CERTIFICATES[tenant][1]]
        expected = {f"within_{w}": sum(1 for d in days if 0 <= d < w) for w in (7, 30, 90)}
        got = {k: card["metrics"][k]["value"] for k in expected}
        assert got == expected, (tenant, got)
        assert min(expected.values()) >= 1  # some expire within 7, 30 and 90 days
        assert card["metrics"]["within_7"]["over_threshold"] is True
        assert card["metrics"]["within_7"]["href"] == f"/rollup.html#/certs/{tenant}?within=7&status=expiring"
        assert card["status"] != "unknown"


def test_the_certificate_list_the_red_cell_links_to_names_the_acm_certificates(local, demo):
    token = local.client.login("platform@companyos.demo")
    for tenant in TENANTS:
        reply = local.client.request(
            "GET", f"/api/inventory/certificates?tenant={tenant}&within=7&status=expiring", token=token
        )
        hosts = sorted(h for h, d in CERTIFICATES[tenant][1] if d < 7)
        assert sorted(c["common_name"] for c in reply.body["certificates"]) == hosts
        for c in reply.body["certificates"]:
            assert c["source"] == "acm" and c["locator"].startswith("arn:aws:acm:"), c


def test_both_demo_tenants_have_their_tier_one_vendors_out_of_review(local, demo):
    from companyos.domain import clock

    vendors = rollup(local)["vendors"]
    today = clock.now().date()
    for tenant in TENANTS:
        rows = VENDORS[tenant][1]
        late = sorted(
            name
            for _vid, name, tier, _owner, ago, cadence, status in rows
            if tier == 1
            and status != "offboarded"
            and (ago is None or today - timedelta(days=ago) + timedelta(days=cadence) < today)
        )
        card = next(c for c in vendors["tenants"] if c["tenant"]["id"] == tenant)
        cell = card["metrics"]["tier1_out_of_review"]
        assert cell["value"] == len(late) and cell["names"] == late, (tenant, cell)
        assert len(late) >= 1 and card["status"] != "unknown"


def test_the_vendor_imports_are_on_the_tenants_audit_chains(local, demo):
    from companyos.adapters.audit import AuditTrail

    for tenant in TENANTS:
        imports = [  # the seed's import (other tests of the session may import more)
            e
            for e in AuditTrail(tenant).events()
            if e["action"] == "vendor.import" and e["reason"] == "demo vendor register"
        ]
        assert len(imports) == 1 and imports[0]["actor"] == VENDORS[tenant][0][0]
        assert sorted(imports[0]["details"]["created"]) == sorted(r[0] for r in VENDORS[tenant][1])
