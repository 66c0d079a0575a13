"""The seeded demo's answers (every panel kind, real alerts, runs, incidents, deployments, the admin
catalog) conform to the 200 schemas of the committed specs — richer data than the schemathesis
tenants have. Regression: `/api/kpis/{kpi_id}/impact`'s `affected` is a map of kind → names (the
spec said a list)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest

from tests.conftest import ROOT

SPECS = ("openapi.json", "openapi-admin.json", "openapi-alerts.json")


def operation(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for name in SPECS:
        doc = json.loads((ROOT / "docs" / name).read_text())
        for template, item in doc["paths"].items():
            if "get" in item and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
                return doc, item["get"]
    raise LookupError(path)


def conforms(local: Any, token: str, url: str) -> Any:
    reply = local.client.request("GET", url, token=token)
    assert reply.status == 200, (url, reply.body)
    doc, op = operation(url.split("?")[0])
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    errors = list(jsonschema.Draft202012Validator({**doc, **schema}).iter_errors(reply.body))
    assert not errors, (url, [(list(e.absolute_path), e.message[:200]) for e in errors[:5]])
    return reply.body


@pytest.fixture(scope="module")
def token(local, demo) -> str:
    return local.client.login("platform@companyos.demo")


def test_the_read_api_answers_conform(local, token):
    t = "?tenant=northwind"
    conforms(local, token, "/api/me")
    for persona in ("ceo", "cto", "ciso", "ops", "product"):
        conforms(local, token, f"/api/dashboards/{persona}{t}")
        conforms(local, token, f"/api/alerts{t}&persona={persona}&view=recent")
    runs = conforms(local, token, f"/api/monitoring/runs{t}&days=90")["runs"]
    conforms(local, token, f"/api/runs/{runs[0]['run_id']}{t}")
    views = ("validation", "lineage", "sla-violations", "dashboards/exec", "dashboards/ops", "dashboards/dev")
    for view in views:
        conforms(local, token, f"/api/monitoring/{view}{t}&days=90")
    conforms(local, token, f"/api/scores/breakdown{t}")
    conforms(local, token, f"/api/drill/kpi/deployment_frequency{t}")
    service = conforms(local, token, f"/api/drill/services{t}")["items"][0]["id"]
    conforms(local, token, f"/api/drill/service/{quote(service, safe='')}{t}")
    incident = conforms(local, token, f"/api/drill/incidents{t}")["items"][0]["id"]
    conforms(local, token, f"/api/drill/incidents/{quote(incident, safe='')}{t}")
    deployment = conforms(local, token, f"/api/drill/changes{t}")["items"][0]["id"]
    conforms(local, token, f"/api/drill/deployments/{quote(str(deployment), safe='')}{t}")
    conforms(local, token, f"/api/alert-rules{t}")
    conforms(local, token, f"/api/alert-routes{t}")


def test_the_admin_api_answers_conform(local, token):
    t = "?tenant=globex"
    conforms(local, token, f"/api/catalog{t}")
    conforms(local, token, f"/api/kpis/deployment_frequency{t}")
    conforms(local, token, f"/api/kpis/deployment_frequency/lineage{t}")
    impact = conforms(local, token, f"/api/kpis/deployment_frequency/impact{t}&change=schedule")
    assert "ceo" in impact["affected"]["dashboard"]
    routes = ("approvals", "admin/change-window", "audit", "audit/verify", "audit/export", "admin/vendors")
    for route in routes:
        conforms(local, token, f"/api/{route}{t}")
