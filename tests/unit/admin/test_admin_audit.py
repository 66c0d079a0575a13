"""The audit chain detects every edit, deletion and reordering; the head digest is KMS-signed
(ECDSA P-256, moto's KMS Sign/Verify); evidence bundles carry SHA-256 checksums that match."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

N = 8


def chain(name: str, n: int = N):
    from companyos.adapters.audit import AuditEvent, AuditTrail

    trail = AuditTrail(name)
    for i in range(n):
        trail.append(AuditEvent(f"user{i}@t", "tenant_admin", f"kpi.action{i}", f"kpi_{i}", reason=f"r{i}"))
    return trail


def items(name: str):
    from companyos.adapters.models import AuditItem

    return list(AuditItem.query(name))


def test_an_untouched_chain_verifies_with_a_valid_kms_signature(aws):
    trail = chain("t-ok")
    result = trail.verify()
    assert result.ok and result.events == N and result.signature_valid is True and result.unsigned_events == 0
    assert result.digest is not None and result.digest["seq"] == N and result.digest["key_id"] == aws


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_editing_any_event_is_detected(aws, seq):
    trail = chain(f"t-edit-{seq}")
    item = items(trail.chain)[seq - 1]
    item.event = {**item.event, "reason": "nothing to see here"}
    item.save()
    result = trail.verify()
    assert not result.ok and result.broken_at == seq and result.problem == "hash_mismatch"


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_editing_an_event_and_recomputing_its_hash_is_detected(aws, seq):
    from companyos.adapters.audit import chain_hash

    trail = chain(f"t-rehash-{seq}")
    item = items(trail.chain)[seq - 1]
    item.event = {**item.event, "actor": "mallory"}
    item.hash = chain_hash(item.prev_hash, item.event)
    item.save()
    result = trail.verify()
    # the next link breaks, or (for the head) the signed digest no longer matches
    assert not result.ok
    assert result.problem == ("digest_head_mismatch" if seq == N else "link_broken")


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_deleting_any_event_is_detected(aws, seq):
    trail = chain(f"t-del-{seq}")
    items(trail.chain)[seq - 1].delete()
    result = trail.verify()
    assert not result.ok
    assert result.problem in ("sequence_gap", "digest_head_mismatch")


@pytest.mark.parametrize("a,b", [(1, 2), (3, 6), (7, 8), (1, 8)])
def test_reordering_events_is_detected(aws, a, b):
    from companyos.adapters.models import AuditItem

    trail = chain(f"t-swap-{a}-{b}")
    rows = items(trail.chain)
    x, y = rows[a - 1], rows[b - 1]
    # swap the two events' content (event, hashes) between the two positions
    for target, source in ((x, y), (y, x)):
        AuditItem(
            pk=target.pk,
            sk=target.sk,
            seq=target.seq,
            prev_hash=source.prev_hash,
            hash=source.hash,
            event=source.event,
        ).save()
    assert not trail.verify().ok


def test_rewriting_the_whole_chain_without_the_key_is_detected(aws):
    from companyos.adapters.audit import GENESIS, chain_hash
    from companyos.adapters.models import AuditItem

    trail = chain("t-forge")
    prev = GENESIS
    for item in items(trail.chain):  # a consistent forged chain: every link and hash recomputed
        event = {**item.event, "actor": "mallory"}
        h = chain_hash(prev, event)
        AuditItem(pk=item.pk, sk=item.sk, seq=item.seq, prev_hash=prev, hash=h, event=event).save()
        prev = h
    result = trail.verify()
    assert not result.ok and result.problem == "digest_head_mismatch" and result.signature_valid is True


def test_a_forged_digest_signature_is_detected(aws):
    from companyos.adapters.models import AuditItem

    trail = chain("t-sig")
    digest = next(iter(AuditItem.query("t-sig#DIGEST", scan_index_forward=False, limit=1)))
    sig = bytearray(base64.b64decode(digest.event["signature"]))
    sig[-1] ^= 0x01
    digest.event = {**digest.event, "signature": base64.b64encode(bytes(sig)).decode()}
    digest.save()
    result = trail.verify()
    assert not result.ok and result.problem == "digest_signature_invalid" and result.signature_valid is False


def test_events_after_the_last_signed_head_are_reported(aws):
    from companyos.adapters.audit import AuditEvent, AuditTrail

    trail = chain("t-tail", 3)
    AuditTrail("t-tail", signer=None).append(AuditEvent("x", "tenant_admin", "unsigned.write", "t"))
    result = trail.verify()
    assert not result.ok and result.problem == "unsigned_tail" and result.unsigned_events == 1
    trail.sign_head()  # the next signed head covers it
    assert trail.verify().ok


def test_evidence_bundle_checksums_match_and_catch_an_altered_file(aws):
    from companyos.adapters.audit import check_bundle, evidence_bundle

    trail = chain("t-bundle", 4)
    bundle = evidence_bundle(trail, {"catalog.json": [{"kpi_id": "x"}]}, generated_by="unit")
    files, sums = bundle["files"], bundle["manifest"]["checksums"]
    assert set(files) == {"events.json", "digests.json", "verify.json", "catalog.json", "public_key.json"}
    for name, text in files.items():
        assert hashlib.sha256(text.encode()).hexdigest() == sums[name]
    assert check_bundle(bundle) == [] and bundle["manifest"]["chain_ok"] is True
    assert len(json.loads(files["events.json"])) == 4
    assert "BEGIN PUBLIC KEY" in json.loads(files["public_key.json"])["pem"]
    bundle["files"]["events.json"] = files["events.json"].replace("user1@t", "user9@t")
    assert check_bundle(bundle) == ["events.json"]


def test_the_signature_verifies_offline_with_the_exported_public_key(aws):
    from companyos.adapters.audit import current_signer, digest_message
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    trail = chain("t-offline", 2)
    digest = trail.latest_digest()
    assert digest is not None
    signer = current_signer()
    assert signer is not None
    key = serialization.load_pem_public_key(signer.public_key_pem().encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    message = digest_message("t-offline", digest["seq"], digest["head"], digest["signed_at"])
    key.verify(base64.b64decode(digest["signature"]), message, ec.ECDSA(hashes.SHA256()))  # raises if invalid
