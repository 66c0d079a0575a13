"""Fault injection on the audit sealer (#17: the audit table's stream → `audit_sealer`, the only
signer): KMS refusing to sign the digest. A batch whose digest cannot be signed writes nothing (no
chain entry without its digest); the stream retries it, then gives it up to the sweep, and the sweep
chains every record exactly once under a valid signature — no audit event lost or chained twice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Running
from tests.faults import KMS_INTERNAL, inject
from tests.integration.conftest import make_tenant

TENANT = "fault-seal"
EVENTS = 3


def signs_our_chain(params: dict[str, Any]) -> bool:
    return f'"chain":"{TENANT}"'.encode() in bytes(params.get("Message") or b"")


def test_kms_down_while_sealing_chains_nothing_then_the_sweep_chains_each_record_once(local: Running):
    from companyos.adapters.audit import AuditEvent, AuditTrail

    make_tenant(local, TENANT, "Fault Seal Co")
    local.stack.seal_audit()  # what other tests left pending goes first
    trail = AuditTrail(TENANT)
    for n in range(EVENTS):
        trail.append(AuditEvent(actor="test", role="system", action="fault.probe", target=f"probe-{n}"))

    with inject("kms", "Sign", KMS_INTERNAL, calls=None, when=signs_our_chain) as fault:
        for _ in range(3):  # the stream's attempts at the batch (the poller may take some of them)
            try:
                local.stack.seal_audit()
            except Exception:  # the failed batch, retried by the next drain
                continue
        probes = [e for e in trail.events() if e["action"] == "fault.probe"]
        assert len(probes) == EVENTS and all(e["pending"] for e in probes)  # nothing chained
        assert trail.verify().pending_events >= EVENTS
    assert fault.raised >= 1

    local.stack.seal_audit()
    local.stack.invoke("audit_sealer", {"chains": [TENANT]})  # the sweep seals what was given up
    probes = [e for e in trail.events() if e["action"] == "fault.probe"]
    assert sorted(e["target"] for e in probes) == [f"probe-{n}" for n in range(EVENTS)]
    assert not any(e["pending"] for e in probes)
    seqs = [e["seq"] for e in trail.events()]
    assert len(seqs) == len(set(seqs))  # each record chained once
    result = trail.verify()
    assert result.ok and result.signature_valid and result.pending_events == 0, result


@pytest.fixture(autouse=True)
def _sealed_after(local: Running):
    """Leave no record of this tenant pending for the tests that run next in the session."""
    yield
    local.stack.invoke("audit_sealer", {"chains": [TENANT]})
