"""schemathesis on the admin API's catalog, approvals, governance and vendor routes
(docs/openapi-admin.json), in process as a tenant admin (fuzz_helpers)."""

from __future__ import annotations

from urllib.parse import quote

from tests.integration.fuzz_helpers import run_spec, stateful, tenant_fixture

tenant = tenant_fixture("fuzzadmin")


def test_the_admin_routes_answer_what_the_spec_says(local, tenant):
    tally = run_spec(local, "openapi-admin.json", tenant, examples=10, only=lambda op: "{ver}" not in op)
    assert tally.cases >= 15 * 2 * 10 * 0.9, tally.cases
    assert 200 in tally.statuses["GET /api/kpis/{kpi_id} [positive]"]


def test_the_vendor_register_follows_its_links(local, tenant):
    # created vendors are read, replaced and deleted through the ids their answers carry
    auth = {"Authorization": f"Bearer {tenant.admin_token}"}

    def no_vendors() -> None:
        listed = local.client.request("GET", f"/api/admin/vendors?tenant={tenant.id}", headers=auth).body
        for vendor in listed["vendors"]:
            path = f"/api/admin/vendors/{quote(vendor['vendor_id'], safe=':')}?tenant={tenant.id}"
            assert local.client.request("DELETE", path, headers=auth).status == 204

    tally = stateful(local, "openapi-admin.json", tenant, "^/api/admin/vendors", 12, no_vendors)
    seen = {label: statuses for label, statuses in tally.statuses.items()}
    assert 201 in seen["POST /api/admin/vendors [stateful]"], seen
    followed = [seen.get(f"{op} /api/admin/vendors/{{vendor_id}} [stateful]", {}) for op in ("GET", "PUT")]
    assert any(200 in s for s in followed), seen
