"""Tenancy and roles: one decision point, enforced by the API, tenant-scoped data access."""

from __future__ import annotations


def test_cross_tenant_dashboard_and_evidence_are_denied(local, acme, umbrella):
    dash = local.client.request("GET", "/api/dashboards/cto?tenant=acme", token=umbrella.cto_token)
    assert dash.status == 403 and dash.body["code"] == "tenant_forbidden"
    runs = local.client.request("GET", "/api/runs/anything?tenant=acme", token=umbrella.cto_token)
    assert runs.status == 403 and runs.body["code"] == "tenant_forbidden"


def test_a_run_id_of_another_tenant_is_not_found_in_your_own_scope(local, acme, umbrella):
    from companyos.adapters.repos import RunLog

    runs = RunLog("acme").recent_runs("deployment_frequency")
    run_id = runs[0]["run_id"] if runs else "20190516T000000-000000000000"
    reply = local.client.request("GET", f"/api/runs/{run_id}?tenant=umbrella", token=umbrella.cto_token)
    assert reply.status == 404 and reply.body["code"] == "run_not_found"


def test_roles_see_only_their_personas(local, acme):
    me = local.client.request("GET", "/api/me", token=acme.product_token).body
    assert me["tenants"] == [
        {
            "id": "acme",
            "name": "Acme Corp",
            "environment": "prod",
            "role": "head_product",
            "personas": ["product"],
            "home": "product",  # the dashboard the user lands on
        }
    ]
    denied = local.client.request("GET", "/api/dashboards/cto?tenant=acme", token=acme.product_token)
    assert denied.status == 403 and denied.body["code"] == "persona_forbidden"
    allowed = local.client.request("GET", "/api/dashboards/product?tenant=acme", token=acme.product_token)
    assert allowed.status == 200 and allowed.body["persona"] == "product"


def test_no_token_or_a_forged_token_is_401(local):
    assert local.client.request("GET", "/api/me").status == 401
    forged = local.client.request("GET", "/api/me", token="eyJhbGciOiJub25lIn0.e30.")
    assert forged.status == 401 and forged.body["code"] == "invalid_token"
    assert forged.body["message"] == "the token is not valid"  # not the JWT library's words


def test_an_expired_token_says_so_without_the_libraries_words(local):
    import jwt

    from infra.local.auth import ISSUER

    expired = jwt.encode({"iss": ISSUER, "sub": "x", "exp": 1}, local.idp._key, algorithm="HS256")
    reply = local.client.request("GET", "/api/me", token=expired)
    assert reply.status == 401 and reply.body == {
        "code": "token_expired",
        "message": "the token has expired: sign in again",
    }


def test_unknown_persona_and_period_are_clear_errors(local, acme):
    persona = local.client.request("GET", "/api/dashboards/cfo?tenant=acme", token=acme.cto_token)
    # persona is an enum of the spec: refused by the resolver's validation, with its own code
    assert persona.status == 422 and persona.body["code"] == "persona_unknown"
    assert persona.body["details"]["path"] == "path.persona"
    period = local.client.request("GET", "/api/dashboards/cto?tenant=acme&period=2d", token=acme.cto_token)
    assert period.status == 422 and period.body["code"] == "invalid_period"


def test_a_tenant_without_data_is_unknown_never_healthy(local, umbrella):
    dash = local.client.request("GET", "/api/dashboards/cto?tenant=umbrella", token=umbrella.cto_token).body
    assert dash["health"]["status"] == "unknown" and dash["health"]["score"] is None
    tiles = [i for p in dash["panels"] if p["kind"] == "kpi_tiles" for i in p["items"]]
    assert tiles and all(
        t["status"] == "unknown" and t["display"] == "Unknown" and t["reason"] for t in tiles
    )
    assert dash["snapshot"]["computed_at"] is None and dash["snapshot"]["stale"] is True
