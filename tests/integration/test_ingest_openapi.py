"""docs/openapi-ingest.json documents the ingest route from the source of truth: the registry's
sources, our formats' pydantic models, each tool's headers and the answers (regenerate with
`make openapi`). Answers of the running API are checked against it in test_ingest_sources.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.conftest import ROOT

SPEC = ROOT / "docs" / "openapi-ingest.json"


def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def schema_validator(ref: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for one schema of the spec, its `#/components/...` references resolved."""
    root = {**spec(), **ref}
    return jsonschema.Draft202012Validator(root)


def test_committed_spec_equals_the_generated_one():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TABLE_", "COMPANYOS_"))}
    out = subprocess.run(
        [sys.executable, "-m", "functions.ingest.openapi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert SPEC.read_text() == out.stdout, "docs/openapi-ingest.json is stale: run `make openapi`"


def test_the_spec_is_valid_openapi_and_names_every_source_with_its_body_schema():
    from companyos.sources import formats, registry

    doc = spec()
    validate(doc)
    op = doc["paths"]["/api/ingest/{source}"]["post"]
    (source,) = [p for p in op["parameters"] if p["name"] == "source"]
    assert sorted(source["schema"]["enum"]) == sorted(registry.SOURCES)
    assert set(op["x-source-schemas"]) == set(registry.SOURCES)
    for name in formats.FORMATS:  # our own formats are published in full
        assert op["x-source-schemas"][name]["$ref"].startswith("#/components/schemas/Ingest_")
    headers = {p["name"] for p in op["parameters"] if p["in"] == "header"}
    assert {
        "X-Hub-Signature-256",
        "X-PagerDuty-Signature",
        "X-CompanyOS-Signature",
        "Authorization",
    } <= headers
    assert {"200", "202", "401", "413", "422"} <= set(op["responses"])


@pytest.mark.parametrize(
    ("source", "good", "path_of_bad"),
    [
        ("nps", {"responses": [{"id": "r1", "responded_at": "2025-03-01T10:00:00Z", "score": 7}]}, "score"),
        (
            "okr",
            {
                "updates": [
                    {
                        "id": "u1",
                        "as_of": "2025-03-01T10:00:00Z",
                        "period": "2025-Q1",
                        "objective_id": "O1",
                        "key_result_id": "KR1",
                        "target_value": 100,
                        "current_value": 40,
                    }
                ]
            },
            "target_value",
        ),
    ],
)
def test_published_body_schemas_accept_a_valid_batch_and_refuse_a_broken_one(source, good, path_of_bad):
    op = spec()["paths"]["/api/ingest/{source}"]["post"]
    validator = schema_validator(op["x-source-schemas"][source])
    validator.validate(good)
    key = next(iter(good))
    bad = {key: [{k: v for k, v in good[key][0].items() if k != path_of_bad}]}
    assert list(validator.iter_errors(bad)), f"{source} without {path_of_bad} must be refused"
