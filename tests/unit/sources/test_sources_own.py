"""OPA decision logs, LaunchDarkly flag events and our own formats (validated against their models)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from companyos.domain.errors import InvalidPayload, SignatureInvalid
from companyos.sources import formats, registry
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.own import OpaSource, decision_result

from tests.conftest import ROOT
from tests.unit.sources.helpers import parse, request


def own(source: str, doc, **headers: str):
    return registry.get(source).parse(request(json.dumps(doc).encode(), **headers))


def test_opa_docs_decision_log():
    parsed = parse("opa", "opa/decision-log-upload.opa-docs.json")
    (s,) = parsed.signals
    assert s.kind == "authz_decision" and s.key == "4ca636c1-55e4-417a-b1d8-4aceb67960d1"
    assert s.attributes["path"] == "http/example/authz/allow"
    assert s.attributes["result"] == "allow" and s.attributes["allowed"] is True  # "true" as a string
    assert s.occurred_at == datetime(2018, 1, 1, tzinfo=UTC)
    assert (
        s.entity == "my-example-app"
        and s.attributes["opa_instance"] == "1780d507-aea2-45cc-ae50-fa153c8e4a5a"
    )
    assert s.attributes["bundles"] == {"authz": "W3sibCI6InN5cy9jYXRhbG9nIiwicyI6NDA3MX1d"}
    assert "input" not in s.attributes and "requested_by" not in s.attributes


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        ({"result": True}, ("allow", True)),
        ({"result": False}, ("deny", False)),
        ({"result": "false"}, ("deny", False)),
        ({"result": {"allow": False, "reasons": []}}, ("deny", False)),
        ({}, ("deny", False)),  # undefined decision
        ({"result": [1, 2]}, ("other", None)),
    ],
)
def test_opa_results_normalised(decision, expected):
    assert decision_result(decision) == expected


def test_opa_bearer_token_or_our_signature():
    body = b"[]"
    OpaSource().verify(request(body, Authorization="Bearer tok-1"), ["tok-0", "tok-1"])
    OpaSource().verify(request(body, X_CompanyOS_Signature="sha256=" + hmac_sha256_hex("k", body)), ["k"])
    with pytest.raises(SignatureInvalid):
        OpaSource().verify(request(body, Authorization="Bearer nope"), ["tok-1"])
    with pytest.raises(SignatureInvalid) as missing:
        OpaSource().verify(request(body), ["tok-1"])
    assert missing.value.code == "signature_missing"


def test_opa_missing_decision_id_is_422_with_path():
    with pytest.raises(InvalidPayload) as err:
        own("opa", [{"path": "a/b", "timestamp": "2024-01-01T00:00:00Z", "result": True}])
    assert err.value.details["path"] == "0.decision_id"


def test_launchdarkly_feature_event_from_the_docs():
    parsed = parse("feature_flags", "feature-flags/launchdarkly-feature-event.ld-docs.json")
    (s,) = parsed.signals
    a = s.attributes
    assert s.kind == "flag_evaluation" and a["flag"] == "my.feature.key"
    assert s.occurred_at == datetime(2016, 5, 2, 20, 29, 4, tzinfo=UTC)  # creationDate 1462220944000 ms
    assert a["variation"] == 0 and a["variation_name"] == "my variation" and a["value"] is False
    assert a["is_default"] is True and a["flag_version"] == 42 and a["reason"] == "FALLTHROUGH"
    assert a["prereq_of"] == "parent-flag" and a["context_kind"] == "anonymousUser"
    assert a["context_hash"] and "feature@test.com" not in json.dumps(a)  # no e-mail kept


def test_launchdarkly_array_skips_other_kinds_and_names_the_bad_item():
    feature = {
        "kind": "feature",
        "key": "f",
        "creationDate": 1700000000000,
        "value": True,
        "default": False,
        "context": {"kind": "user", "key": "u1"},
    }
    parsed = own("feature_flags", [{"kind": "index", "creationDate": 1}, feature, {"kind": "summary"}])
    assert [s.attributes["flag"] for s in parsed.signals] == ["f"]
    assert (
        own("feature_flags", [{"kind": "identify"}]).ignored_reason
        == "no feature events (1 other LaunchDarkly events)"
    )
    with pytest.raises(InvalidPayload) as err:
        own("feature_flags", [feature, {"kind": "feature", "key": "g"}])
    assert err.value.details["path"] == "1.creationDate"
    with pytest.raises(InvalidPayload) as typed:
        own("feature_flags", [{"kind": "feature", "key": "g", "creationDate": "yesterday"}])
    assert typed.value.details["path"] == "0.creationDate"


ANALYTICS = {
    "events": [
        {
            "id": "e1",
            "type": "session",
            "occurred_at": "2025-03-01T10:00:00Z",
            "user_id": "u1",
            "duration_s": 300,
        },
        {
            "id": "e2",
            "type": "active",
            "occurred_at": "2025-03-01T10:01:00+01:00",
            "user_id": "u1",
            "product": "cockpit",
        },
        {
            "id": "e3",
            "type": "feature_used",
            "occurred_at": "2025-03-01T10:02:00Z",
            "user_id": "u2",
            "feature": "export",
        },
    ]
}


def test_analytics_events_by_type():
    parsed = own("analytics", ANALYTICS, X_CompanyOS_Delivery="batch-7")
    assert parsed.delivery_id == "batch-7"
    assert [s.kind for s in parsed.signals] == ["product_session", "product_active", "feature_used"]
    assert parsed.signals[0].attributes["duration_s"] == 300
    assert (
        parsed.signals[1].occurred_at == datetime(2025, 3, 1, 9, 1, tzinfo=UTC)
        and parsed.signals[1].entity == "cockpit"
    )
    assert parsed.signals[2].attributes["feature"] == "export"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["events"][2].pop("feature"), "events.2.feature"),
        (lambda d: d["events"][0].pop("duration_s"), "events.0.duration_s"),
        (
            lambda d: d["events"][1].update(occurred_at="2025-03-01T10:01:00"),
            "events.1.occurred_at",
        ),  # no zone
        (lambda d: d["events"][1].update(type="login"), "events.1.type"),
        (lambda d: d["events"][1].update(colour="red"), "events.1.colour"),
        (lambda d: d.update(events=[]), "events"),
    ],
)
def test_analytics_schema_errors_name_the_field(mutate, path):
    doc = json.loads(json.dumps(ANALYTICS))
    mutate(doc)
    with pytest.raises(InvalidPayload) as err:
        own("analytics", doc)
    assert err.value.details["path"] == path and err.value.status == 422


def test_nps_categories_and_comment_not_stored():
    doc = {
        "responses": [
            {
                "id": "r1",
                "responded_at": "2025-02-01T00:00:00Z",
                "score": 10,
                "comment": "love it, call me on 555",
            },
            {"id": "r2", "responded_at": "2025-02-01T00:00:00Z", "score": 7},
            {"id": "r3", "responded_at": "2025-02-01T00:00:00Z", "score": 3},
        ]
    }
    parsed = own("nps", doc)
    assert [s.attributes["category"] for s in parsed.signals] == ["promoter", "passive", "detractor"]
    assert parsed.signals[0].attributes["has_comment"] is True and "555" not in json.dumps(
        parsed.signals[0].attributes
    )
    doc["responses"][1]["score"] = 11
    with pytest.raises(InvalidPayload) as err:
        own("nps", doc)
    assert err.value.details["path"] == "responses.1.score"


def billing(kind: str, before: float, after: float) -> dict:
    return {
        "events": [
            {
                "id": "b1",
                "type": kind,
                "occurred_at": "2025-01-31T12:00:00Z",
                "account_id": "cust-1",
                "currency": "EUR",
                "mrr_before": before,
                "mrr_after": after,
            }
        ]
    }


@pytest.mark.parametrize(
    ("kind", "before", "after", "delta"),
    [
        ("start", 0, 99, 99),
        ("expand", 99, 199, 100),
        ("contract", 199, 49, -150),
        ("churn", 49, 0, -49),
    ],
)
def test_billing_events_carry_mrr_and_delta(kind, before, after, delta):
    (s,) = own("billing", billing(kind, before, after)).signals
    assert s.kind == "billing_event" and s.attributes["type"] == kind and s.attributes["mrr_delta"] == delta


@pytest.mark.parametrize(
    ("kind", "before", "after"), [("start", 10, 99), ("expand", 99, 50), ("churn", 99, 1)]
)
def test_billing_inconsistent_mrr_is_422_on_mrr_after(kind, before, after):
    with pytest.raises(InvalidPayload) as err:
        own("billing", billing(kind, before, after))
    assert err.value.details["path"] == "events.0.mrr_after"


def test_okr_progress_is_computed_and_clamped():
    doc = {
        "updates": [
            {
                "id": "u1",
                "as_of": "2025-05-01T00:00:00Z",
                "period": "2025-Q2",
                "objective_id": "o1",
                "key_result_id": "kr1",
                "start_value": 10,
                "target_value": 20,
                "current_value": 15,
                "domain": "Sales",
            },
            {
                "id": "u2",
                "as_of": "2025-05-01T00:00:00Z",
                "period": "2025-Q2",
                "objective_id": "o1",
                "key_result_id": "kr2",
                "target_value": 100,
                "current_value": 140,
            },
        ]
    }
    parsed = own("okr", doc)
    assert [s.attributes["progress"] for s in parsed.signals] == [0.5, 1.0]
    doc["updates"][0]["period"] = "Q2"
    with pytest.raises(InvalidPayload) as err:
        own("okr", doc)
    assert err.value.details["path"] == "updates.0.period"


def test_published_json_schemas_are_generated_from_the_models():
    folder = ROOT / "docs" / "schemas"
    for name in formats.FORMATS:
        committed = json.loads((folder / f"{name}.json").read_text())
        assert committed == json.loads(json.dumps(formats.json_schema(name))), (
            f"regenerate docs/schemas/{name}.json"
        )


def test_examples_in_docs_validate_against_the_published_schemas():
    jsonschema = pytest.importorskip("jsonschema")
    folder = Path(ROOT / "docs" / "schemas")
    for name, doc in {"analytics": ANALYTICS, "billing": billing("start", 0, 10)}.items():
        jsonschema.Draft202012Validator(json.loads((folder / f"{name}.json").read_text())).validate(doc)
