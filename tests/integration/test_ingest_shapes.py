"""#17 "Signed payloads of unexpected shape crash ingest": each payload below is a real fixture with
one field changed the way the probe changed it. Every one is refused with a 4xx and a `code`, and
nothing is stored; the untouched fixture is still stored (the guard refuses only what is wrong)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant

TENANT = "shapeco"
SECRETS = {"opa": "opa-shape-token", "snyk": "snyk-shape-secret"}
DEPLOY = "github/deployment_status.created.success.json"
WORKFLOW = "github/workflow_run.completed.json"
OPA = "opa/decision-log-upload.opa-docs.json"
SNYK = "snyk/snyk-test-maven-single-project.json"


@pytest.fixture(scope="module")
def tenant(local: Running) -> TenantFixture:
    t = make_tenant(local, TENANT, "Shape Co")
    for source, secret in SECRETS.items():
        local.stack.put_webhook_secret(TENANT, source, secret)
    return t


def post(local: Running, tenant: TenantFixture, source: str, body: bytes, **headers: str):
    from companyos.sources.base import hmac_sha256_hex

    if source == "github":
        auth = {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(tenant.secret, body)}
    elif source == "opa":
        auth = {"Authorization": f"Bearer {SECRETS['opa']}"}
    else:
        auth = {"X-CompanyOS-Signature": "sha256=" + hmac_sha256_hex(SECRETS[source], body)}
    hdrs = {
        "Content-Type": "application/json",
        **auth,
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
    return local.client.request("POST", f"/api/ingest/{source}?tenant={TENANT}", body, hdrs)


def stored_count() -> int:
    from companyos.adapters.repos import SignalStore

    store, lo, hi = SignalStore(TENANT), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    kinds = ("deployment", "build", "authz_decision", "vulnerability")
    return sum(len(list(store.query(k, lo, hi))) for k in kinds) + len(store.findings())


def edit(fixture: str, change: Callable[[Any], None]) -> bytes:
    doc = copy.deepcopy(json.loads(real_fixture(fixture)))
    change(doc)
    return json.dumps(doc).encode()


def setter(path: str, value: Any) -> Callable[[Any], None]:
    def apply(doc: Any) -> None:
        *parents, last = path.split(".")
        for p in parents:
            doc = doc[int(p)] if isinstance(doc, list) else doc[p]
        doc[last] = value

    return apply


# (`deployment.creator` as a string is stored: the parser does not read the creator)
GH_DEPLOY = {"X_GitHub_Event": "deployment_status"}
GH_WORKFLOW = {"X_GitHub_Event": "workflow_run"}
CASES = [
    ("repository.full_name {}", "github", DEPLOY, setter("repository.full_name", {}), GH_DEPLOY),
    ("repository.full_name []", "github", DEPLOY, setter("repository.full_name", []), GH_DEPLOY),
    ("deployment a list", "github", DEPLOY, setter("deployment", [1, 2]), GH_DEPLOY),
    (
        "created_at 9999-12-31",
        "github",
        DEPLOY,
        setter("deployment_status.created_at", "9999-12-31T23:59:59Z"),
        GH_DEPLOY,
    ),
    (
        "created_at year 0001",
        "github",
        DEPLOY,
        setter("deployment_status.created_at", "0001-01-01T00:00:00Z"),
        GH_DEPLOY,
    ),
    ('state ["success"]', "github", DEPLOY, setter("deployment_status.state", ["success"]), GH_DEPLOY),
    ("a 450 KB repository name", "github", DEPLOY, setter("repository.full_name", "r" * 450_000), GH_DEPLOY),
    ("a lone surrogate", "github", DEPLOY, setter("repository.full_name", "\ud800"), GH_DEPLOY),
    ("workflow a string", "github", WORKFLOW, setter("workflow", "ci.yml"), GH_WORKFLOW),
    ('opa bundles {"a": "s"}', "opa", OPA, setter("0.bundles", {"a": "s"}), {}),
    ("opa labels.app {}", "opa", OPA, setter("0.labels.app", {}), {}),
    ("opa erased 5", "opa", OPA, setter("0.erased", 5), {}),
    ("snyk vulnerabilities true", "snyk", SNYK, setter("vulnerabilities", True), {}),
]


@pytest.mark.parametrize(("name", "source", "fixture", "change", "headers"), CASES, ids=[c[0] for c in CASES])
def test_an_odd_shape_is_refused_with_a_code_and_nothing_is_stored(
    local, tenant, name, source, fixture, change, headers
):
    before = stored_count()
    body = edit(fixture, change)
    extra = {**headers, "X_GitHub_Delivery": f"shape-{name}"} if source == "github" else headers
    reply = post(local, tenant, source, body, **extra)
    assert 400 <= reply.status < 500 and reply.body["code"] and reply.body["message"], (
        reply.status,
        reply.body,
    )
    assert stored_count() == before


def test_a_document_nested_a_thousand_levels_deep_is_refused(local, tenant):
    deep = b'{"action": "completed", "workflow_run": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    reply = post(local, tenant, "github", deep, X_GitHub_Event="workflow_run", X_GitHub_Delivery="deep")
    assert 400 <= reply.status < 500 and reply.body["code"], (reply.status, reply.body)


def test_a_2000_character_delivery_id_is_stored_once_under_a_bounded_key(local, tenant):
    body = real_fixture(DEPLOY)
    long_id = "x" * 2000
    first = post(local, tenant, "github", body, X_GitHub_Event="deployment_status", X_GitHub_Delivery=long_id)
    again = post(local, tenant, "github", body, X_GitHub_Event="deployment_status", X_GitHub_Delivery=long_id)
    assert first.status == 200 and first.body["status"] == "stored", first.body
    assert len(first.body["delivery_id"]) < 100 and first.body["delivery_id"].startswith("sha256:")
    assert again.status == 202 and again.body["status"] == "duplicate", again.body


def test_the_untouched_fixtures_are_still_stored(local, tenant):
    for source, fixture, headers in (
        (source, fixture, headers) for _, source, fixture, _, headers in CASES[-4:]
    ):
        reply = post(local, tenant, source, real_fixture(fixture), **headers)
        assert reply.status in (200, 202) and reply.body["status"] in ("stored", "duplicate"), reply.body
