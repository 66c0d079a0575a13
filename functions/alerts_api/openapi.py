"""`python -m functions.alerts_api.openapi > docs/openapi-alerts.json`: the alert inbox API's OpenAPI
spec, generated from the resolver (the routes and pydantic models are the source of truth)."""

from __future__ import annotations

import os
import sys

from functions.read_api.openapi import _PLACEHOLDER_ENV, tidy


def spec() -> str:
    for key, value in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(key, value)
    from functions.alerts_api.app import app

    return tidy(
        app.get_openapi_json_schema(
            title="CompanyOS alert inbox API",
            version="1.0.0",
            summary="Firing and recent alerts per persona, acknowledge and resolve, rule tuning, routes",
            description="Alert rules and routing: docs/alerts.md; errors: docs/cockpit-api.md.",
        )
    )


if __name__ == "__main__":
    sys.stdout.write(spec() + "\n")
