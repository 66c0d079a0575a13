"""`python -m functions.ingest.openapi > docs/openapi-ingest.json`: the ingest API's OpenAPI spec.

The route comes from the ingest resolver. What the resolver cannot know — the body is read as raw
bytes, because every signature is computed over them — is added here from the source of truth:
the source names of the registry, the JSON Schemas of our own formats (the pydantic models in
`companyos.sources.formats`, also published as docs/schemas/*.json), the tools' own formats by
reference to their documentation, each tool's signature and delivery headers, and the answers.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from companyos.api import ErrorBody

from functions.read_api.openapi import _PLACEHOLDER_ENV

# Third-party formats: the tool's own documentation is the schema (we parse what the tool writes).
THIRD_PARTY: dict[str, tuple[str, str]] = {
    "github": (
        "GitHub webhook payloads: deployment, deployment_status, workflow_run, check_run,"
        " pull_request, pull_request_review, push, issues (postmortems), ping",
        "https://docs.github.com/en/webhooks/webhook-events-and-payloads",
    ),
    "pagerduty": (
        "PagerDuty V3 webhook: incident.triggered / acknowledged / resolved / priority_updated",
        "https://developer.pagerduty.com/docs/webhooks-overview",
    ),
    "trivy": (
        "Trivy JSON report (SchemaVersion 2)",
        "https://trivy.dev/latest/docs/configuration/reporting/",
    ),
    "snyk": (
        "`snyk test --json` output: one project object, or an array with --all-projects",
        "https://docs.snyk.io/snyk-cli/commands/test",
    ),
    "gitleaks": ("Gitleaks JSON report (array of findings)", "https://github.com/gitleaks/gitleaks"),
    "opa": (
        "OPA decision-log batch (JSON array, usually `Content-Encoding: gzip`)",
        "https://www.openpolicyagent.org/docs/latest/management-decision-logs/",
    ),
    "time_tracking": (
        "Toggl Track Detailed report CSV export (`text/csv`), or Jira issues with their worklogs"
        " (`GET /rest/api/2/search?fields=project,labels,worklog` answer, or one issue)",
        "https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-worklogs/",
    ),
    "coverage": (
        "A test coverage report file as the tool writes it: Cobertura XML (coverage.py, Istanbul,"
        " ReportGenerator, gcovr), an lcov tracefile (lcov.info), or JaCoCo XML; XML entity"
        " declarations are refused (422 xml_entities_forbidden)",
        "https://github.com/cobertura/web/blob/master/htdocs/xml/coverage-04.dtd",
    ),
    "prowler": (
        "Prowler output: `-M csv` (`;`-separated, `Content-Type: text/csv`), `-M json-ocsf` (array of"
        " OCSF Detection Findings) or `-M json-asff` (array of ASFF findings)",
        "https://docs.prowler.com/user-guide/cli/tutorials/reporting",
    ),
    "securityhub": (
        "AWS Security Hub findings (ASFF): a JSON array, one finding, or the `aws securityhub"
        ' get-findings` answer `{"Findings": [...]}`; findings without `Compliance` are skipped',
        "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format.html",
    ),
    "stripe": (
        "Stripe event object: customer.subscription.created / updated / deleted, invoice.paid,"
        " invoice.payment_succeeded, charge.refunded, charge.refund.updated, refund.*",
        "https://docs.stripe.com/api/events/object",
    ),
    "okta": (
        "Okta event hook request (`eventType: com.okta.event_hook`, `data.events[]`) or a System Log"
        " `GET /api/v1/logs` array; sign-ins (user.session.start, user.authentication.*) are used",
        "https://developer.okta.com/docs/concepts/event-hooks/",
    ),
    "auth0": (
        "Auth0 log stream (custom webhook): JSON array of `{log_id, data}`, JSON lines, or one object;"
        " login event codes s, scoa, f, fp, fu, fcoa, limit_wc, limit_mu, pwd_leak are used",
        "https://auth0.com/docs/customize/log-streams/custom-log-streams",
    ),
    "cloudtrail": (
        "CloudTrail events: an EventBridge event (`detail-type` AWS Console Sign In via CloudTrail),"
        " an S3 log file `{Records: [...]}`, NDJSON or one record; ConsoleLogin events are used",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    ),
    "aws_waf": (
        "AWS WAF web ACL logs: a Kinesis Data Firehose HTTP endpoint request (`records[].data` base64"
        " log lines), NDJSON or an array of log records; BLOCK / COUNT / CAPTCHA / CHALLENGE are stored",
        "https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html",
    ),
    "guardduty": (
        "GuardDuty findings: EventBridge `GuardDuty Finding` event, native finding(s), `GetFindings`"
        " `{findings: [...]}`, or Security Hub ASFF findings whose product is GuardDuty",
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html",
    ),
}

# Log shippers that send a configured secret in a header instead of signing the body (they may
# also be signed with X-CompanyOS-Signature by a forwarder of ours)
SHARED_SECRET = ("okta", "auth0", "cloudtrail", "aws_waf", "guardduty")

# The sources signed with X-CompanyOS-Signature (ours, the uploads) and optionally identified by
# X-CompanyOS-Delivery
COMPANYOS_SIGNED = (
    *("trivy", "snyk", "gitleaks", "feature_flags", "analytics", "nps", "billing", "okr"),
    *("time_tracking", "finance", "coverage"),
)

# Compliance reports: signed like the uploads; the delivery id is always the report's content hash
COMPLIANCE_REPORTS = ("prowler", "securityhub")

# Which headers each source reads (signature scheme, delivery id, event name, report scope).
HEADERS: dict[str, dict[str, str]] = {
    "X-Hub-Signature-256": {
        "github": "`sha256=<hex>` HMAC-SHA256 of the body with the tenant's github secret"
    },
    "X-GitHub-Event": {"github": "event name (unknown events are answered 202 ignored)"},
    "X-GitHub-Delivery": {"github": "delivery id: a redelivery with the same id is a no-op"},
    "X-PagerDuty-Signature": {"pagerduty": "one or more `v1=<hex>` HMAC-SHA256 values (secret rotation)"},
    "X-CompanyOS-Signature": {
        s: "`sha256=<hex>` HMAC-SHA256 of the body with the tenant's secret for the source"
        + (" (instead of the secret header: a forwarder's own signature)" if s in SHARED_SECRET else "")
        for s in (*COMPANYOS_SIGNED, *COMPLIANCE_REPORTS, *SHARED_SECRET)
    },
    "X-CompanyOS-Delivery": {
        s: "optional delivery id (default: the body's content hash); a repeat is a no-op"
        for s in COMPANYOS_SIGNED
        if s != "coverage"
    },
    "X-CompanyOS-Target": {
        **{s: "the repository the report scans (its finding scope)" for s in ("trivy", "snyk", "gitleaks")},
        "coverage": "required: the repository the report covers (mapped to its service by the catalog);"
        " the delivery id is the digest of it, X-CompanyOS-Commit and the report",
        **{
            s: "the report's scope (default `<provider>:<account id>` of each result), e.g. `aws:prod`"
            for s in COMPLIANCE_REPORTS
        },
    },
    "X-CompanyOS-Format": {"coverage": "optional `cobertura`, `lcov` or `jacoco` (default: the body tells)"},
    "X-CompanyOS-Commit": {"coverage": "optional: the commit the tests ran on (7-64 hex digits)"},
    "Authorization": {
        "opa": "`Bearer <the tenant's opa secret>` (OPA's bearer credentials)",
        "okta": "the event hook's authentication secret (the tenant's okta secret)",
        "auth0": "the log stream's Authorization Token (the tenant's auth0 secret)",
        **{s: "`Bearer <secret>` or the secret itself" for s in ("cloudtrail", "aws_waf", "guardduty")},
    },
    "X-CompanyOS-Key": {
        s: "the tenant's secret for the source, sent by an EventBridge connection (API key auth)"
        for s in SHARED_SECRET
    },
    "X-Amz-Firehose-Access-Key": {"aws_waf": "the Firehose HTTP endpoint's access key (the tenant's secret)"},
    "X-Amz-Firehose-Request-Id": {"aws_waf": "delivery id: a Firehose retry of the same request is a no-op"},
    "Content-Encoding": {
        "opa": "`gzip` accepted (inflated within the size limit)",
        "coverage": "`gzip` accepted (inflated up to 16 MB)",
    },
    "Stripe-Signature": {
        "stripe": "`t=<unix s>,v1=<hex>[,v1=...]`: HMAC-SHA256 of `<t>.<body>` with the endpoint's signing"
        " secret; t within 300 s of our clock; the event id is the delivery id"
    },
    "Content-Type": {
        "finance": "`text/csv` for the CSV form (else JSON)",
        "time_tracking": "`text/csv` for a Toggl CSV export (else Jira JSON)",
        "prowler": "`text/csv` for `-M csv` output (also detected from its header row)",
    },
}

RESULT = {
    "type": "object",
    "required": ["status", "delivery_id", "event", "signals", "unmapped"],
    "properties": {
        "status": {"type": "string", "enum": ["stored", "duplicate", "ignored"]},
        "delivery_id": {"type": "string"},
        "event": {"type": "string"},
        "signals": {"type": "integer", "minimum": 0, "description": "signals stored by this delivery"},
        "unmapped": {
            "type": "array",
            "items": {"type": "string"},
            "description": "entities with no catalog mapping (repositories, services, apps): kept, reported",
        },
        "reason": {"type": "string", "description": "why a delivery was ignored or a duplicate"},
        "runs_started": {"type": "array", "items": {"type": "string"}},
        "report": {
            "type": "object",
            "description": "report uploads: opened / reopened / fixed / open counts",
        },
        "requestId": {
            "type": "string",
            "description": "Firehose deliveries (X-Amz-Firehose-Request-Id): its request id, answered 200",
        },
        "timestamp": {"type": "integer", "description": "Firehose deliveries: our answer time, epoch ms"},
    },
}


def _own_schemas() -> dict[str, Any]:
    """Our formats' JSON Schemas as OpenAPI components (their `$defs` lifted to components)."""
    from companyos.sources import formats

    components: dict[str, Any] = {}
    for name in formats.FORMATS:
        schema = json.loads(
            json.dumps(formats.json_schema(name)).replace("#/$defs/", "#/components/schemas/")
        )
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        components.update(schema.pop("$defs", {}))
        components[_component(name)] = schema
    return components


def _component(source: str) -> str:
    return "Ingest_" + "".join(part.capitalize() for part in source.split("_"))


def _request_body(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """The body by content type: JSON (one of the sources' schemas), gzip, CSV, XML, lcov text."""
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"anyOf": schemas}},
            "application/gzip": {"schema": {"type": "string", "format": "binary"}},
            "text/csv": {
                "schema": {
                    "type": "string",
                    "description": "time_tracking: a Toggl Track CSV export;"
                    " finance: the CSV form (docs/sources.md)",
                }
            },
            "application/xml": {
                "schema": {"type": "string", "description": "coverage: a Cobertura or JaCoCo XML report"}
            },
            "text/plain": {"schema": {"type": "string", "description": "coverage: an lcov tracefile"}},
        },
    }


def enrich(doc: dict[str, Any]) -> dict[str, Any]:
    from companyos.sources import formats, registry

    sources = sorted(registry.SOURCES)
    op = doc["paths"]["/api/ingest/{source}"]["post"]
    for param in op.get("parameters", []):
        if param["name"] == "source":
            param["schema"] = {"type": "string", "enum": sources, "title": "Source"}
            param["description"] = "the tool that sends: one plug-in of companyos.sources"
        if param["name"] == "tenant":
            param["description"] = "the tenant the per-tenant, per-source secret belongs to"
    for header, per_source in HEADERS.items():
        text = "; ".join(f"{s}: {d}" for s, d in per_source.items())
        op["parameters"].append(
            {
                "name": header,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
        )
    own = {s: {"$ref": f"#/components/schemas/{_component(s)}"} for s in formats.FORMATS}
    third = {
        s: {"type": ["object", "array"], "description": d, "externalDocs": {"url": u}}
        for s, (d, u) in THIRD_PARTY.items()
    }
    third["time_tracking"]["type"] = ["object", "string"]  # Jira JSON, or the Toggl CSV text
    third["coverage"]["type"] = "string"  # XML or lcov text (or gzip)
    op["summary"] = "Ingest one signed delivery from a tool"
    op["description"] = (
        "The body is the tool's own payload, byte for byte (signatures are verified over the exact bytes "
        "before anything is stored). The body schema depends on `source`: see `x-source-schemas`. "
        "Bodies over the size limit get 413, bad signatures 401, schema errors 422 with the field path, "
        "unknown event types 202 ignored; a redelivery (same delivery id or content hash) is a no-op."
    )
    op["requestBody"] = _request_body([*own.values(), *third.values()])
    op["x-source-schemas"] = {s: own.get(s) or third[s] for s in sources}
    answer = {"application/json": {"schema": {"$ref": "#/components/schemas/IngestResult"}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    op["responses"] = {
        "200": {"description": "stored: the delivery's signals were written once", "content": answer},
        "202": {
            "description": "duplicate (already stored) or ignored (event type not used), with the reason",
            "content": answer,
        },
        "400": {"description": "malformed body (not JSON / not gzip)", "content": error},
        "401": {"description": "signature missing or wrong: nothing stored", "content": error},
        "404": {"description": "unknown tenant or source", "content": error},
        "409": {
            "description": "a report's finding state changed concurrently (state_conflict): retry",
            "content": error,
        },
        "413": {"description": "body over the size limit: nothing stored", "content": error},
        "422": {
            "description": "schema error, with the field path in details.path; a coverage report that is"
            " not one of its formats, malformed, or declares XML entities: nothing stored",
            "content": error,
        },
        "503": {
            "description": "dependency_unavailable: a storage or workflow service was throttled or failed"
            " (details.aws_error); send the same delivery again after Retry-After seconds — it is stored"
            " and its runs started exactly once (docs/reliability.md)",
            "content": error,
        },
    }
    _verification(doc["paths"]["/api/ingest/{source}"]["get"], sources, error)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_own_schemas())
    schemas["IngestResult"] = RESULT
    schemas["ErrorBody"] = ErrorBody.model_json_schema()  # the one refusal of every API
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f'schemas/{unused}"' not in json.dumps(doc["paths"]):
            schemas.pop(unused, None)
    return doc


def _verification(op: dict[str, Any], sources: list[str], error: dict[str, Any]) -> None:
    """GET: a sender's one-time verification of the endpoint (Okta event hooks)."""
    for param in op.get("parameters", []):
        if param["name"] == "source":
            param["schema"] = {"type": "string", "enum": sources, "title": "Source"}
    op["parameters"] += [
        {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 256},
            "description": text,
        }
        for name, text in (
            ("X-Okta-Verification-Challenge", "okta: the challenge Okta sends to a new event hook"),
            ("Authorization", "okta: the event hook's authentication secret (the tenant's okta secret)"),
        )
    ]
    op["summary"] = "Answer a sender's one-time verification of this endpoint (Okta event hooks)"
    op["description"] = (
        "Okta verifies a new event hook with a GET carrying `X-Okta-Verification-Challenge` and the "
        "hook's authentication header; the secret is checked like a delivery's, then the challenge is "
        "echoed. Nothing is read from a body and nothing is stored."
    )
    verification = {
        "type": "object",
        "properties": {"verification": {"type": "string"}},
        "required": ["verification"],
    }
    op["responses"] = {
        "200": {
            "description": "the challenge, echoed",
            "content": {"application/json": {"schema": verification}},
        },
        "400": {"description": "no usable challenge header (verification_challenge_*)", "content": error},
        "401": {"description": "secret missing or wrong (an unknown tenant too)", "content": error},
        "404": {"description": "unknown source, or one without a handshake", "content": error},
        "422": {"description": "the tenant query parameter is missing", "content": error},
    }


def spec() -> str:
    for key, value in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(key, value)
    from functions.ingest.app import app

    doc = json.loads(
        app.get_openapi_json_schema(
            title="CompanyOS ingest API",
            version="1.0.0",
            summary="Signed webhooks and report uploads from the tools that feed the health model",
            description="Pointing a tool at a stage: README.md; formats and mapping: docs/sources.md.",
        )
    )
    return json.dumps(enrich(doc), indent=2, sort_keys=True)


if __name__ == "__main__":
    sys.stdout.write(spec() + "\n")
