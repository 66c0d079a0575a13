"""Bounded, deterministic schemathesis runs against the committed OpenAPI specs, in process.

The app under test is the real Lambda handlers behind a small WSGI adapter: each request becomes the
API Gateway REST proxy event the local front door builds (`infra.local.http.proxy_event`), with the
Cognito authorizer's claims when the bearer token verifies (else 401, as the authorizer answers).
No server, no socket. Generation is derandomized with the Hypothesis database off, so a run is the
same on every machine; each spec is split over a few test files (pytest-xdist --dist loadfile puts a
file on one worker)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ROOT, Running

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PUBLIC_PREFIXES = ("/api/ingest/",)


def wsgi_app(local: Running, secrets: dict[str, str] | None = None) -> Callable[..., Iterable[bytes]]:
    """The API as a WSGI application: the same event and authorizer step as the front door. A request
    with `X-Fuzz-Sign` is signed first, as its tool would sign it, with `secrets[source]` (the fuzz
    tenant's webhook secrets), so generated deliveries reach the sources' parsers."""
    from companyos import topology
    from companyos.domain.errors import DomainError

    from infra.local.http import proxy_event

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        path = path.encode("latin-1").decode("utf-8", "replace")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        public = path.startswith(PUBLIC_PREFIXES)
        if headers.pop("X-Fuzz-Sign", None) and secrets:
            headers |= _signature(secrets.get(path.rsplit("/", 1)[-1], ""), path, body)
        try:
            claims = None if public else local.idp.claims(headers.get("Authorization"))
        except DomainError as exc:
            status, raw, ctype = exc.status, json.dumps(exc.to_body()).encode(), "application/json"
        else:
            function = "ingest" if public else topology.route_owner(path)
            event = proxy_event(method, path, environ.get("QUERY_STRING", ""), headers, body, claims)
            result = local.stack.invoke_api(function, event)
            status = int(result["statusCode"])
            merged = {k: ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
            merged.update(result.get("headers") or {})
            text = result.get("body") or ""
            raw = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
            if merged.get("Content-Encoding") == "gzip":  # what the client would read (#19 item 7)
                raw = gzip.decompress(raw)
            ctype = merged.get("Content-Type", "application/json")
        start_response(f"{status} X", [("Content-Type", ctype), ("Content-Length", str(len(raw)))])
        return iter([raw])

    return app


def _signature(secret: str, path: str, body: bytes) -> dict[str, str]:
    from companyos.sources.base import hmac_sha256_hex

    if not secret:
        return {}
    header = "X-Hub-Signature-256" if path.endswith("/github") else "X-CompanyOS-Signature"
    return {header: "sha256=" + hmac_sha256_hex(secret, body)}


def load(spec_file: str, json_bodies: bool = False) -> Any:
    """A committed spec; `json_bodies`: its request bodies as JSON only (a run of their own for the
    tools' JSON formats, which a draw among five media types would seldom reach)."""
    doc = json.loads((ROOT / "docs" / spec_file).read_text())
    if json_bodies:
        for item in doc["paths"].values():
            for op in item.values():
                content = op.get("requestBody", {}).get("content", {})
                for media in [m for m in content if m != "application/json"]:
                    del content[media]
                op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != "Content-Type"]
    return schemathesis.openapi.from_dict(doc)


@dataclass
class Tally:
    """What a run did: cases per operation and status, and every failed check (none expected)."""

    cases: int = 0
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, label: str, status: int) -> None:
        self.cases += 1
        per = self.statuses.setdefault(label, {})
        per[status] = per.get(status, 0) + 1

    def merge(self, other: Tally, tag: str) -> None:
        self.cases += other.cases
        self.statuses |= {f"{label} {tag}": seen for label, seen in other.statuses.items()}
        self.failures += other.failures

    def report(self) -> str:
        return "\n\n".join(self.failures)


@dataclass
class Target:
    """Who calls and with what: the member's token and tenant, the ids that exist in the tenant (a
    positive case's path parameter is one of them half of the time, so detail routes answer 200 too),
    and whether deliveries are signed (ingest)."""

    app: Callable[..., Iterable[bytes]]
    token: str
    tenant: str
    known: dict[str, list[str]] = field(default_factory=dict)
    sign: bool = False


def fuzz(
    schema: Any, target: Target, *, examples: int, only: Callable[[str], bool] = lambda _: True
) -> Tally:
    """`examples` positive and as many negative cases on every operation `only` selects. Most cases
    are the member's (token and tenant); some go without a token, some to a random tenant."""
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        if only(operation.label):
            raw = operation.definition.raw
            inputs = raw.get("parameters") or "requestBody" in raw  # else nothing to make invalid
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[: 2 if inputs else 1]:
                _run(operation, mode, target, examples, tally)
    return tally


def _as_member(case: Any, target: Target, data: Any) -> dict[str, str]:
    """A positive case as the member sends it: their tenant, half of the time an id that exists, and
    signed (ingest)."""
    if isinstance(case.query, dict) and "tenant" in case.query:
        case.query["tenant"] = target.tenant
    for name, ids in target.known.items():
        if name in (case.path_parameters or {}) and ids:
            pick = data.draw(st.sampled_from([None, *ids]))
            case.path_parameters[name] = pick or case.path_parameters[name]
    return {"X-Fuzz-Sign": "1"} if target.sign else {}


def _run(operation: Any, mode: GenerationMode, target: Target, examples: int, tally: Tally) -> None:
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    positive = mode == GenerationMode.POSITIVE
    label = f"{operation.label} [{mode.value}]"

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        caller=st.sampled_from(["member"] * 6 + ["anonymous", "stranger"]),
        data=st.data(),
    )
    def one(case: Any, caller: str, data: Any) -> None:
        headers = {"Authorization": f"Bearer {target.token}"} if caller != "anonymous" else {}
        if positive and caller == "member":
            headers |= _as_member(case, target, data)
        response = case.call(app=target.app, headers=headers)
        tally.add(label, response.status_code)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # every failed check, with the request to reproduce it
            tally.failures.append(f"{label} {response.status_code}: {exc}")
            raise

    before = len(tally.failures)
    try:
        one()
    except (Exception, BaseExceptionGroup) as exc:  # the test asserts on the tally, every failure listed
        if len(tally.failures) == before:  # not a failed check: the run itself broke
            tally.failures.append(f"{label}: {type(exc).__name__}: {exc}")


SIGNED_SOURCES = ("github", "nps", "okr", "trivy", "finance", "billing", "feature_flags", "analytics")


@dataclass
class FuzzTenant:
    id: str
    admin_token: str  # tenant_admin: may use every admin route
    cto_token: str
    secrets: dict[str, str]
    known: dict[str, list[str]]


def seed_tenant(local: Running, tenant_id: str) -> FuzzTenant:
    """A tenant of its own per fuzz file (fuzzed writes change nothing another test reads), with one
    real GitHub deployment delivered through the signed ingest and a backfill run of the deployment
    KPIs, so the routes that read runs, KPIs and services have something to answer."""
    from datetime import datetime

    from companyos.adapters.repos import Catalog

    from tests.conftest import real_fixture
    from tests.integration.admin_helpers import ALWAYS_OPEN, make_admin_tenant
    from tests.integration.conftest import run_kpis

    admin = make_admin_tenant(local, tenant_id)
    Catalog().tenant(tenant_id).map_source_entity("github", "Codertocat/Hello-World", "hello", "Frontend")
    secrets = {source: f"fuzz-{tenant_id}-{source}" for source in SIGNED_SOURCES}
    for source, secret in secrets.items():
        local.stack.put_webhook_secret(tenant_id, source, secret)
    body = real_fixture("github/deployment_status.created.success.json")
    headers = {"X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": f"fuzz-{tenant_id}"}
    headers |= _signature(secrets["github"], "/github", body) | {"Content-Type": "application/json"}
    stored = local.client.request("POST", f"/api/ingest/github?tenant={tenant_id}", body, headers)
    assert stored.status == 200, stored.body
    kpis = ["deployment_frequency", "change_failure_rate"]
    run_kpis(local, tenant_id, kpis, datetime.fromisoformat("2019-05-16T00:00:00+00:00"), f"fuzz-{tenant_id}")
    runs = local.client.request(
        "GET", f"/api/monitoring/runs?tenant={tenant_id}&days=90", token=admin.tokens["cto"]
    ).body
    run_ids = sorted({r["run_id"] for r in runs.get("runs", [])})[:4]
    # a tenant draft of one KPI, so the version routes have a version of the tenant's own to act on
    auth = {"Authorization": f"Bearer {admin.tokens['author']}", "Content-Type": "application/json"}
    local.client.request(
        "PUT", f"/api/admin/change-window?tenant={tenant_id}", json.dumps(ALWAYS_OPEN).encode(), auth
    )
    draft = local.client.request(
        "POST", f"/api/kpis/{kpis[0]}/versions?tenant={tenant_id}", b'{"reason": "fuzz"}', auth
    )
    assert draft.status == 200, draft.body
    versions = sorted(draft.body.get("versions") or {})
    assert versions, draft.body
    known = {
        "run_id": run_ids,
        "kpi_id": kpis,
        "ver": versions,
        "service": ["hello"],
        "persona": ["cto"],
        "source": list(SIGNED_SOURCES),
    }
    return FuzzTenant(tenant_id, admin.tokens["author"], admin.tokens["cto"], secrets, known)


def tenant_fixture(tenant_id: str) -> Any:
    """The module's own seeded tenant (`seed_tenant`), as a module-scoped fixture named `tenant`."""

    @pytest.fixture(scope="module", name="tenant")
    def tenant(local: Running) -> FuzzTenant:
        return seed_tenant(local, tenant_id)

    return tenant


INGEST = "POST /api/ingest/{source}"


def run_spec(
    local: Running, spec_file: str, tenant: FuzzTenant, examples: int, only: Callable[[str], bool]
) -> Tally:
    """One bounded run of a spec's selected operations as the tenant's admin; asserts the run held:
    no failed check, and past the authorizer (a 2xx on some operation)."""
    ingest = spec_file == "openapi-ingest.json"
    target = Target(wsgi_app(local, tenant.secrets), tenant.admin_token, tenant.id, tenant.known, ingest)
    tally = fuzz(load(spec_file), target, examples=examples, only=only)
    if ingest:  # the tools' JSON formats are most of what ingest reads: a run of their own
        json_only = fuzz(load(spec_file, json_bodies=True), target, examples=examples, only=only)
        tally.merge(json_only, "json")
    print(f"schemathesis {spec_file}: {tally.cases} cases")  # shown with `pytest -rP`
    assert not tally.failures, tally.report()
    answered = [label for label, seen in tally.statuses.items() if any(200 <= s < 300 for s in seen)]
    # (signed deliveries of generated bodies reach the parsers: most are refused there, 422)
    assert answered or (ingest and 422 in tally.statuses[f"{INGEST} [positive] json"]), tally.statuses
    return tally


def stateful(
    local: Running,
    spec_file: str,
    tenant: FuzzTenant,
    path_regex: str,
    scenarios: int,
    reset: Callable[[], None],
) -> Tally:
    """schemathesis' stateful run over the operations under `path_regex`, following the spec's OpenAPI
    links (a created item is read, changed and deleted by the id its answer carries), as the admin;
    `reset` puts the tenant back before each scenario."""
    target = Target(wsgi_app(local, tenant.secrets), tenant.admin_token, tenant.id)
    tally = Tally()

    class Machine(load(spec_file).include(path_regex=path_regex).as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:  # each scenario from the same state: Hypothesis replays scenarios
            reset()

        def before_call(self, case: Any) -> None:
            if isinstance(case.query, dict) and "tenant" in case.query:
                case.query["tenant"] = target.tenant

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": target.app, "headers": {"Authorization": f"Bearer {target.token}"}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            tally.add(f"{case.operation.label} [stateful]", response.status_code)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:
                tally.failures.append(f"{case.operation.label} [stateful] {response.status_code}: {exc}")
                raise

    config = settings(
        max_examples=scenarios,
        derandomize=True,
        database=None,
        deadline=None,
        stateful_step_count=6,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    try:
        Machine.run(settings=config)
    except (Exception, BaseExceptionGroup) as exc:
        if not tally.failures:
            tally.failures.append(f"stateful {path_regex}: {type(exc).__name__}: {exc!r}"[:3000])
    print(f"schemathesis {spec_file} stateful {path_regex}: {tally.cases} cases")
    assert not tally.failures, tally.report()
    return tally
