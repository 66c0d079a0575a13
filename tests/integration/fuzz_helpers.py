"""Bounded, deterministic schemathesis runs against the committed OpenAPI specs, in process.

The app under test is the real Lambda handlers behind a small WSGI adapter: each request becomes the
API Gateway REST proxy event the local front door builds (`infra.local.http.proxy_event`), with the
Cognito authorizer's claims when the bearer token verifies (else 401, as the authorizer answers).
No server, no socket. Generation is derandomized with the Hypothesis database off, so a run is the
same on every machine; each spec is split over a few test files (pytest-xdist --dist loadfile puts a
file on one worker)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

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


def wsgi_app(local: Running) -> Callable[..., Iterable[bytes]]:
    """The API as a WSGI application: the same event and authorizer step as the front door."""
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
        try:
            claims = None if public else local.idp.claims(headers.get("Authorization"))
        except DomainError as exc:
            status, raw, ctype = exc.status, json.dumps(exc.to_body()).encode(), "application/json"
        else:
            function = "ingest" if public else topology.route_owner(path)
            event = proxy_event(method, path, environ.get("QUERY_STRING", ""), headers, body, claims)
            result = local.stack.invoke_api(function, event)
            status = int(result["statusCode"])
            raw = (result.get("body") or "").encode()
            merged = {k: ", ".join(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
            merged.update(result.get("headers") or {})
            ctype = merged.get("Content-Type", "application/json")
        start_response(f"{status} X", [("Content-Type", ctype), ("Content-Length", str(len(raw)))])
        return iter([raw])

    return app


def load(spec_file: str) -> Any:
    return schemathesis.openapi.from_dict(json.loads((ROOT / "docs" / spec_file).read_text()))


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


def fuzz(
    schema: Any,
    app: Callable[..., Iterable[bytes]],
    *,
    token: str,
    tenant: str,
    examples: int,
    only: Callable[[str], bool] = lambda _label: True,
    negative: bool = True,
) -> Tally:
    """Run `examples` positive (and as many negative) cases on every operation `only` selects. The
    caller's token and tenant are sent on most cases (a few go without, or with another tenant), so
    the handlers answer past the authorizer and the membership check."""
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not only(operation.label):
            continue
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
        for mode in modes:
            _run(operation, mode, app, token, tenant, examples, tally)
    return tally


def _run(
    operation: Any,
    mode: GenerationMode,
    app: Any,
    token: str,
    tenant: str,
    examples: int,
    tally: Tally,
) -> None:
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    who = st.sampled_from(["member"] * 6 + ["anonymous", "stranger"])

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), caller=who)
    def one(case: Any, caller: str) -> None:
        headers = {"Authorization": f"Bearer {token}"} if caller != "anonymous" else {}
        positive = mode == GenerationMode.POSITIVE
        if positive and caller == "member" and isinstance(case.query, dict) and "tenant" in case.query:
            case.query["tenant"] = tenant
        response = case.call(app=app, headers=headers)
        tally.add(f"{operation.label} [{mode.value}]", response.status_code)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # every failed check, with the request to reproduce it
            tally.failures.append(f"{operation.label} [{mode.value}] {response.status_code}: {exc}")
            raise

    with contextlib.suppress(Exception, BaseExceptionGroup):
        one()  # a failure is recorded in the tally: the test asserts on it with every failure listed
