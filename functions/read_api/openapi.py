"""`python -m functions.read_api.openapi` prints the read API's OpenAPI document, generated from the
Powertools resolver's routes (committed as docs/openapi.json; `make openapi` rewrites it)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Importing the handler validates its settings at cold start; generation touches no table.
_PLACEHOLDER_ENV = {
    "COMPANYOS_ENV": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "TABLE_CATALOG": "catalog",
    "TABLE_SIGNALS": "signals",
    "TABLE_KPI_LOG": "kpi_log",
    "TABLE_SCORES": "scores",
    "TABLE_AUDIT": "audit",
    "TABLE_IDEMPOTENCY": "idempotency",
    "WEBHOOK_SECRET_PREFIX": "webhooks",
}


def tidy(raw: str) -> str:
    """The resolver's document with each operation's answers in status order, and without the
    components no operation uses (Powertools adds its own validation-error schemas to every
    document; ours answer `ErrorBody`, `companyos.api.answers`)."""
    doc: dict[str, Any] = json.loads(raw)
    for item in doc.get("paths", {}).values():
        for op in item.values():
            op["responses"] = dict(sorted(op.get("responses", {}).items()))
    schemas = doc.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps(doc["paths"]) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            break
        for name in unused:
            schemas.pop(name)
    return json.dumps(doc, indent=2)


def generate() -> str:
    for key, value in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(key, value)
    from functions.read_api.app import app

    return tidy(
        app.get_openapi_json_schema(
            title="CompanyOS Exec Cockpit read API",
            version="1.0.0",
            summary="Persona dashboards, drill-downs, score breakdown, run evidence and KPI monitoring",
            description="The contract between the read API and the web app: see docs/cockpit-api.md.",
        )
    )


if __name__ == "__main__":
    sys.stdout.write(generate() + "\n")
