"""Role x persona, per the seed's grafana-rbac block: enforced by the API, mirrored by /me."""

from __future__ import annotations

import pytest

from tests.conftest import Running

PERSONAS = ("ceo", "cto", "ciso", "ops", "product")
# executives: CEO/CTO/CISO; engineering leads: CTO/Ops; security team: CISO; admins/auditor: all
EXPECTED = {
    "ceo": {"ceo", "cto", "ciso"},
    "cto": {"ceo", "cto", "ciso", "ops"},
    "ciso": {"ceo", "cto", "ciso"},
    "head_ops": {"cto", "ops"},
    "head_product": {"product"},
    "tenant_admin": set(PERSONAS),
    "auditor": set(PERSONAS),
    "platform_admin": set(PERSONAS),
}


@pytest.fixture(scope="module")
def role_tokens(local: Running) -> dict[str, str]:
    from companyos.adapters.repos import Catalog, Tenant

    catalog = Catalog()
    catalog.put_tenant(Tenant("initech", "Initech", "prod", True, "us-east-1", "dora-2024", "test"))
    tokens = {}
    for role in EXPECTED:
        email = f"{role}@initech.test"
        catalog.put_member("initech", email, role, role)
        local.idp.add_user(email, f"{role} of Initech", {"initech": role})
        tokens[role] = local.client.login(email)
    return tokens


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("persona", PERSONAS)
def test_role_may_open_exactly_its_personas(local, role_tokens, role, persona):
    reply = local.client.request("GET", f"/api/dashboards/{persona}?tenant=initech", token=role_tokens[role])
    if persona in EXPECTED[role]:
        assert reply.status == 200 and reply.body["persona"] == persona
    else:
        assert reply.status == 403 and reply.body["code"] == "persona_forbidden"


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_me_mirrors_the_same_personas(local, role_tokens, role):
    me = local.client.request("GET", "/api/me", token=role_tokens[role]).body
    assert set(me["tenants"][0]["personas"]) == EXPECTED[role]


@pytest.mark.parametrize(
    ("period", "label"), [("7d", "Last 7 days"), ("28d", "Last 28 days"), ("90d", "Last 90 days")]
)
def test_the_window_label_names_the_period_asked_for(local, role_tokens, period, label):
    reply = local.client.request(
        "GET", f"/api/dashboards/ceo?tenant=initech&period={period}", token=role_tokens["tenant_admin"]
    )
    assert reply.status == 200, reply.body
    assert reply.body["window"] == label and reply.body["period"]["key"] == period
    assert reply.body["default_window"] == "Last 30 days"  # the CEO wireframe's default
