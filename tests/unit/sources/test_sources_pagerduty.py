"""PagerDuty v3: signatures with rotation, and every real fixture as an `incident` signal."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from companyos.domain.errors import SignatureInvalid
from companyos.sources.base import hmac_sha256_hex
from companyos.sources.pagerduty import PagerDutySource

from tests.conftest import real_fixture
from tests.unit.sources.helpers import parse, request

BODY = "pagerduty/incident.triggered.json"


def sig(secret: str, body: bytes) -> str:
    return "v1=" + hmac_sha256_hex(secret, body)


def test_several_v1_signatures_any_match_is_valid():
    body = real_fixture(BODY)
    header = f"{sig('old-secret', body)},{sig('new-secret', body)}"
    PagerDutySource().verify(request(body, X_PagerDuty_Signature=header), ["new-secret"])
    PagerDutySource().verify(request(body, X_PagerDuty_Signature=header), ["old-secret"])
    # spaces after the comma and unknown versions are tolerated
    spaced = f"v0=abc, {sig('new-secret', body)}"
    PagerDutySource().verify(request(body, X_PagerDuty_Signature=spaced), ["x", "new-secret"])


def test_rotation_on_our_side_accepts_the_previous_secret():
    body = real_fixture(BODY)
    PagerDutySource().verify(
        request(body, X_PagerDuty_Signature=sig("previous", body)), ["current", "previous"]
    )


@pytest.mark.parametrize("header", ["", "v0=abc", "sha256=abc"])
def test_missing_v1_signature_is_refused(header):
    with pytest.raises(SignatureInvalid) as err:
        PagerDutySource().verify(request(real_fixture(BODY), X_PagerDuty_Signature=header), ["s"])
    assert err.value.code == "signature_missing"


def test_wrong_secret_or_tampered_body_is_refused():
    body = real_fixture(BODY)
    with pytest.raises(SignatureInvalid):
        PagerDutySource().verify(request(body, X_PagerDuty_Signature=sig("a", body)), ["b"])
    with pytest.raises(SignatureInvalid):
        PagerDutySource().verify(request(body + b"\n", X_PagerDuty_Signature=sig("a", body)), ["a"])


@pytest.mark.parametrize(
    ("fixture", "event_id", "incident", "status", "priority", "service", "at"),
    [
        (
            "incident.triggered.json",
            "01BZYIL05THJDFF2Y08X9SVMTU",
            "PFQZPSY",
            "triggered",
            None,
            "PA2P440",
            datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC),
        ),
        (
            "incident.acknowledged.json",
            "01BZYK8N47N5JG55J1EEEHPEJI",
            "PQ1K5C8",
            "acknowledged",
            None,
            "PA2P440",
            datetime(2021, 6, 4, 13, 55, 30, 394000, tzinfo=UTC),
        ),
        (
            "incident.resolved.json",
            "01BZYH1JJY09P9LEIST8HG2PMN",
            "PCPZE64",
            "resolved",
            None,
            "PA2P440",
            datetime(2021, 6, 4, 13, 16, 53, 816000, tzinfo=UTC),
        ),
        (
            "incident.priority_updated.json",
            "01GI0KJAEAC3CFEOFSC8BIJF3O",
            "Q3B15VLMF3ASBD",
            "triggered",
            "P2",
            "PLVTM9H",
            datetime(2026, 4, 1, 2, 15, 36, 315000, tzinfo=UTC),
        ),
        (
            "incident.priority_updated.pagerduty-docs.json",
            "5ac64822-4adc-4fda-ade0-410becf0de4f",
            "PGR0VU2",
            "triggered",
            "P1",
            "PF9KMXH",
            datetime(2020, 10, 2, 18, 45, 22, 169000, tzinfo=UTC),
        ),
    ],
)
def test_every_fixture_is_one_incident_signal_keyed_by_event_id(
    fixture, event_id, incident, status, priority, service, at
):
    parsed = parse("pagerduty", f"pagerduty/{fixture}")
    (s,) = parsed.signals
    assert parsed.delivery_id == event_id and s.key == event_id and s.kind == "incident"
    assert s.attributes["incident_id"] == incident and s.attributes["status"] == status
    assert s.attributes["priority"] == priority and s.attributes["urgency"] == "high"
    assert s.entity == service == s.attributes["service_id"] and s.occurred_at == at
    assert (
        s.attributes["event_type"] == parsed.event
        and s.attributes["transition"] == parsed.event.split(".")[1]
    )


def test_docs_example_keeps_incident_created_at_and_team():
    (s,) = parse("pagerduty", "pagerduty/incident.priority_updated.pagerduty-docs.json").signals
    assert s.attributes["incident_created_at"] == "2020-04-09T15:16:27+00:00"
    assert s.attributes["teams"] == ["Engineering"] and s.attributes["service_summary"] == "API Service"


def test_unknown_event_types_and_ping_are_ignored():
    ping = PagerDutySource().parse(request(b'{"event": {"id": "p1", "event_type": "pagey.ping"}}'))
    assert ping.signals == [] and ping.ignored_reason == "ping acknowledged"
    other = PagerDutySource().parse(request(b'{"event": {"id": "x1", "event_type": "service.created"}}'))
    assert other.signals == [] and "not used" in (other.ignored_reason or "")
