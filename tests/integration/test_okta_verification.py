"""Okta's one-time event hook verification through HTTP on the embedded stack.

Okta activates a new event hook only after a GET to its URL carrying `X-Okta-Verification-Challenge`
(and the hook's configured authentication header) is answered `{"verification": "<the challenge>"}`
(developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request; the request shape is
Okta's sample there: `x-okta-verification-challenge: rVIvGSLfuvqp2mEoyhqvUuVWT55HUZqz_VjG6EL8`).
Before, the GET was not routed at all, so the hook could only be created with verification skipped.
"""

from __future__ import annotations

import pytest

from tests.conftest import Running
from tests.integration.conftest import make_tenant

TENANT = "okta-verify"
SECRET = "okta-hook-secret-for-okta-verify"
CHALLENGE = "rVIvGSLfuvqp2mEoyhqvUuVWT55HUZqz_VjG6EL8"  # Okta's documented sample challenge


@pytest.fixture(scope="module")
def tenant(local: Running) -> str:
    make_tenant(local, TENANT, "Okta Verify")
    local.stack.put_webhook_secret(TENANT, "okta", SECRET)
    return TENANT


def verify(local: Running, headers: dict[str, str], source: str = "okta", tenant: str = TENANT):
    return local.client.request("GET", f"/api/ingest/{source}?tenant={tenant}", None, headers)


def stored_auth_events() -> int:
    from datetime import UTC, datetime

    from companyos.adapters.repos import SignalStore

    start, end = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    return len(list(SignalStore(TENANT).query("auth_event", start, end)))


def test_the_challenge_is_echoed_to_a_caller_with_the_hook_secret(local: Running, tenant) -> None:
    reply = verify(local, {"Authorization": SECRET, "X-Okta-Verification-Challenge": CHALLENGE})
    assert reply.status == 200
    assert reply.body == {"verification": CHALLENGE}
    assert stored_auth_events() == 0  # a verification stores nothing


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Authorization": "wrong", "X-Okta-Verification-Challenge": CHALLENGE}, 401, "signature_invalid"),
        ({"X-Okta-Verification-Challenge": CHALLENGE}, 401, "signature_missing"),
        ({"Authorization": SECRET}, 400, "verification_challenge_missing"),
        (
            {"Authorization": SECRET, "X-Okta-Verification-Challenge": "x" * 300},
            400,
            "verification_challenge_invalid",
        ),
    ],
)
def test_a_verification_without_the_secret_or_the_challenge_is_refused(
    local: Running, tenant, headers, status, code
) -> None:
    reply = verify(local, headers)
    assert (reply.status, reply.body["code"]) == (status, code)
    assert "verification" not in reply.body


def test_an_unknown_tenant_is_answered_as_a_wrong_secret(local: Running, tenant) -> None:
    known = verify(local, {"Authorization": "wrong", "X-Okta-Verification-Challenge": CHALLENGE})
    unknown = verify(
        local, {"Authorization": "wrong", "X-Okta-Verification-Challenge": CHALLENGE}, tenant="no-such-tenant"
    )
    assert (unknown.status, unknown.body) == (known.status, known.body)


def test_a_source_without_a_handshake_answers_404_with_a_code(local: Running, tenant) -> None:
    reply = verify(local, {"Authorization": SECRET, "X-Okta-Verification-Challenge": CHALLENGE}, "github")
    assert (reply.status, reply.body["code"]) == (404, "no_verification_handshake")
