"""Admin → Integrations through the local front door: a tenant's trace and log deep-link templates
are read by any member, set by an admin (versioned: a stale revision is a 409, nothing written),
refused with a code unless https with known placeholders and bounded, audited with what changed,
and the incident drill-down links with the saved templates (a real PagerDuty v3 body)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.admin_helpers import AdminApi, make_admin_tenant

TENANT = "linkco"
PATH = "/admin/integrations/deeplinks"
TEMPO = (
    "https://grafana.linkco.example/explore?left="
    '{"datasource":"tempo","queries":[{"query":"{resource.service.name=\\"{{service}}\\"}"}],'
    '"range":{"from":"{{start_ms}}","to":"{{end_ms}}"}}'
)
INSIGHTS = (
    "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights"
    "$3FqueryDetail$3D~(end~'{{end}}~start~'{{start}}~source~(~'/ecs/{{service}}))"
)


@pytest.fixture(scope="module")
def api(local: Running) -> AdminApi:
    return AdminApi(local, make_admin_tenant(local, TENANT))


def body(**changes: Any) -> dict[str, Any]:
    good = {
        "trace_system": "tempo",
        "trace_url_template": TEMPO,
        "log_system": "cloudwatch",
        "log_url_template": INSIGHTS,
        "reason": "link the incident drill to our Tempo and CloudWatch",
    }
    return {**good, **changes}


def integration_events(api: AdminApi) -> list[dict[str, Any]]:
    events = api.ok("auditor", "GET", "/audit?limit=200")["events"]
    return [e for e in events if e["action"] == "integration.deeplinks.update"]


T, L = "trace_url_template", "log_url_template"
BAD = [
    ({T: "http://grafana.linkco.example/explore"}, "template_not_https", T),
    ({L: "javascript:alert(1)"}, "template_not_https", L),
    ({T: "https:///no-host"}, "template_not_https", T),
    ({T: "https://g.example/{{service}} {{route}}"}, "invalid_url_template", T),
    ({L: "https://g.example/?q={{query}}&s={{service}}"}, "unknown_placeholder", L),
    ({T: "https://g.example/" + "a" * 4001}, "template_too_long", T),
    ({"log_system": None}, "system_required", "log_system"),
]


@pytest.mark.parametrize(("changes", "code", "path"), BAD)
def test_a_bad_template_is_refused_with_its_code_and_nothing_is_written(api, changes, code, path):
    reply = api.call("author", "PUT", PATH, body(**changes))
    assert reply.status == 422 and reply.body["code"] == code, reply.body
    assert reply.body["details"]["path"] == path and reply.body["message"]
    assert api.ok("auditor", "GET", PATH)["revision"] is None
    assert integration_events(api) == []


def test_a_system_the_links_do_not_know_or_an_oversized_body_is_an_invalid_request(api):
    assert api.call("author", "PUT", PATH, body(trace_system="jaeger")).body["code"] == "invalid_request"
    huge = api.call("author", "PUT", PATH, body(log_url_template="https://g.example/" + "x" * 9000))
    assert huge.status == 422 and huge.body["code"] == "invalid_request"


def test_members_read_admins_write_versioned_and_audited_and_the_drill_links_use_it(local, api):
    empty = api.ok("auditor", "GET", PATH)
    assert empty["revision"] is None and empty["deeplinks"]["trace_url_template"] is None
    assert "start_ms" in empty["placeholders"] and empty["systems"]["log"]["cloudwatch"]
    assert api.call("auditor", "PUT", PATH, body()).status == 403

    saved = api.ok("author", "PUT", PATH, body(expected_revision=None))
    assert saved["revision"] == 1 and saved["deeplinks"]["trace_url_template"] == TEMPO
    stale = api.call("approver1", "PUT", PATH, body(log_url_template=None, expected_revision=0))
    assert stale.status == 409 and stale.body["code"] == "version_conflict"
    cleared = api.ok(
        "approver1", "PUT", PATH, body(log_system=None, log_url_template="", expected_revision=1)
    )
    assert cleared["revision"] == 2 and cleared["deeplinks"]["log_url_template"] is None
    first, second = sorted(integration_events(api), key=lambda e: e["details"]["revision"])
    assert first["actor"] == "author@linkco.test" and first["reason"].startswith("link the incident")
    assert second["details"]["changes"] == {
        "log_system": {"from": "cloudwatch", "to": None},
        "log_url_template": {"from": INSIGHTS, "to": None},
    }

    # the incident drill renders the saved trace template; the cleared log link says why it is absent
    from companyos.sources.base import hmac_sha256_hex

    local.stack.put_webhook_secret(TENANT, "pagerduty", "pd-linkco")
    doc = json.loads(real_fixture("pagerduty/incident.triggered.json"))
    from datetime import timedelta

    from companyos.domain import clock

    doc["event"]["occurred_at"] = (clock.now() - timedelta(hours=2)).isoformat()  # within the drill's year
    raw = json.dumps(doc).encode()
    sig = {
        "X-PagerDuty-Signature": "v1=" + hmac_sha256_hex("pd-linkco", raw),
        "Content-Type": "application/json",
    }
    assert local.client.request("POST", f"/api/ingest/pagerduty?tenant={TENANT}", raw, sig).status == 200
    iid = doc["event"]["data"]["id"]
    drill = api.ok("cto", "GET", f"/drill/incidents/{iid}")
    (trace,) = drill["traces"]["items"]
    assert (
        trace["href"].startswith("https://grafana.linkco.example/explore?left=")
        and trace["system"] == "tempo"
    )
    assert "Grafana Tempo" in trace["label"]
    assert drill["logs"]["available"] is False and "Admin → Integrations" in drill["logs"]["reason"]
