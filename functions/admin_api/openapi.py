"""`python -m functions.admin_api.openapi > docs/openapi-admin.json`: the admin API's OpenAPI spec,
generated from the resolver (the routes and pydantic models are the source of truth)."""

from __future__ import annotations

import os
import sys


def spec() -> str:
    # The handler validates its environment at import; a placeholder environment is enough to
    # build the spec (no AWS call is made).
    for key, value in {
        "COMPANYOS_ENV": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_CATALOG": "catalog",
        "TABLE_SIGNALS": "signals",
        "TABLE_KPI_LOG": "kpi-log",
        "TABLE_SCORES": "scores",
        "TABLE_AUDIT": "audit",
        "TABLE_IDEMPOTENCY": "idempotency",
        "WEBHOOK_SECRET_PREFIX": "webhooks",
    }.items():
        os.environ.setdefault(key, value)
    from functions.admin_api.app import app
    from functions.read_api.openapi import tidy

    return tidy(app.get_openapi_json_schema(title="CompanyOS admin control plane API", version="1.0.0"))


if __name__ == "__main__":
    sys.stdout.write(spec() + "\n")
