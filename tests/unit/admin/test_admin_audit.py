"""The audit chain (#17): the sealer chains what the request path recorded and signs a digest chain
(ECDSA P-256, moto's KMS); the verifier detects every edit, deletion (middle and tail), reordering,
truncation, an emptied chain and a forged digest, and reports records pending sealing apart from
tampering. Evidence bundles carry SHA-256 checksums that match."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest

from tests.conftest import clock_at
from tests.unit.admin.audit_helpers import audit_stream, digest_items, entries, write

N = 8


@pytest.fixture(scope="module")
def stream(aws):
    s, _ = audit_stream()
    return s


def sealed(name: str, stream, n: int = N):
    trail = write(name, n)
    stream.drain()
    return trail


def test_an_untouched_chain_verifies_with_a_valid_kms_signature(aws, stream):
    trail = sealed("t-ok", stream)
    result = trail.verify()
    assert result.ok and result.events == N and result.signature_valid is True
    assert result.unsigned_events == 0 and result.pending_events == 0 and result.problem == ""
    assert result.digest is not None and result.digest["seq"] == N and result.digest["key_id"] == aws
    assert [e["seq"] for e in trail.events()] == list(range(1, N + 1))
    assert [e["action"] for e in trail.events()] == [f"kpi.action{i}" for i in range(N)]  # written order


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_editing_any_event_is_detected(aws, stream, seq):
    trail = sealed(f"t-edit-{seq}", stream)
    item = entries(trail.chain)[seq - 1]
    item.event = {**item.event, "reason": "nothing to see here"}
    item.save()
    result = trail.verify()
    assert not result.ok and result.broken_at == seq and result.problem == "hash_mismatch"


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_editing_an_event_and_recomputing_its_hash_is_detected(aws, stream, seq):
    from companyos.adapters.audit import chain_hash

    trail = sealed(f"t-rehash-{seq}", stream)
    item = entries(trail.chain)[seq - 1]
    item.event = {**item.event, "actor": "mallory"}
    item.hash = chain_hash(item.prev_hash, item.event)
    item.save()
    result = trail.verify()
    # the next link breaks, or (for the head) the signed digest no longer matches
    assert not result.ok
    assert result.problem == ("digest_head_mismatch" if seq == N else "link_broken")


@pytest.mark.parametrize("seq", range(1, N + 1))
def test_deleting_any_event_middle_or_tail_is_detected(aws, stream, seq):
    trail = sealed(f"t-del-{seq}", stream)
    entries(trail.chain)[seq - 1].delete()
    result = trail.verify()
    assert not result.ok
    assert result.problem == ("digest_head_mismatch" if seq == N else "sequence_gap")


def test_deleting_the_last_event_together_with_its_digest_is_detected(aws, stream):
    trail = sealed("t-tail", stream, 5)  # digest 1 signs 1..5
    write("t-tail", 3, start=5)
    stream.drain()  # digest 2 signs 6..8
    assert [d.event["seq"] for d in digest_items("t-tail")] == [5, 8]
    entries("t-tail")[-1].delete()
    digest_items("t-tail")[-1].delete()
    result = trail.verify()
    # 6 and 7 are sealed, but no digest covers them: the sealer writes entries and digest together
    assert not result.ok and result.problem == "unsigned_tail" and result.unsigned_events == 2


def test_rolling_back_a_whole_sealing_batch_is_caught_by_the_heartbeat_and_by_an_anchor(aws, stream):
    from companyos.domain import clock

    trail = sealed("t-rollback", stream, 5)
    write("t-rollback", 3, start=5)
    stream.drain()
    exported = trail.digests()[-1]  # what an auditor's earlier evidence bundle holds
    for item in entries("t-rollback")[5:] + digest_items("t-rollback")[-1:]:
        item.delete()  # the chain now looks exactly like it did after the first batch
    result = trail.verify(anchor=exported)
    assert not result.ok and result.problem == "anchor_missing"
    # without an anchor: the chain is signed at least every HEARTBEAT, so its latest digest goes stale
    from companyos.adapters.audit_verify import STALE_AFTER

    with clock_at(clock.now() + STALE_AFTER + timedelta(minutes=1)):
        assert trail.verify().problem == "digest_stale"


def test_an_idle_chain_gets_heartbeat_digests_and_stays_verifiable(aws, stream):
    from companyos.adapters.audit import current_signer
    from companyos.adapters.audit_seal import HEARTBEAT, Sealer
    from companyos.adapters.audit_verify import STALE_AFTER
    from companyos.domain import clock

    trail = sealed("t-idle", stream, 2)
    signer = current_signer()
    assert signer is not None
    sealer = Sealer(signer)
    assert sealer.heartbeat("t-idle") is False  # the latest digest is fresh
    later = clock.now() + STALE_AFTER + timedelta(minutes=1)
    with clock_at(later - HEARTBEAT):
        assert sealer.heartbeat("t-idle") is True
    with clock_at(later):
        result = trail.verify()
    assert result.ok and result.digests == 2 and result.events == 2
    assert trail.digests()[-1]["first_seq"] == 3 and trail.digests()[-1]["seq"] == 2  # covers nothing new


@pytest.mark.parametrize("keep", [0, 3, 7])
def test_truncating_the_chain_is_detected(aws, stream, keep):
    trail = sealed(f"t-trunc-{keep}", stream)
    for item in entries(trail.chain)[keep:]:
        item.delete()
    result = trail.verify()
    assert not result.ok and result.problem == "digest_head_mismatch"


def test_an_emptied_chain_is_detected_and_a_new_one_is_pending_not_tampered(aws, stream):
    trail = sealed("t-empty", stream, 3)
    for item in entries("t-empty") + digest_items("t-empty"):
        item.delete()
    result = trail.verify()
    assert not result.ok and result.problem == "chain_empty" and result.events == 0
    fresh = write("t-new", 2)  # written, not sealed yet
    result = fresh.verify()
    assert result.ok and result.pending_events == 2 and result.events == 0 and not result.sealing_overdue


@pytest.mark.parametrize("a,b", [(1, 2), (3, 6), (7, 8), (1, 8)])
def test_reordering_events_is_detected(aws, stream, a, b):
    from companyos.adapters.models import AuditItem

    trail = sealed(f"t-swap-{a}-{b}", stream)
    rows = entries(trail.chain)
    x, y = rows[a - 1], rows[b - 1]
    for target, source in ((x, y), (y, x)):  # swap the two events' content (event, hashes)
        AuditItem(
            pk=target.pk,
            sk=target.sk,
            seq=target.seq,
            prev_hash=source.prev_hash,
            hash=source.hash,
            event=source.event,
        ).save()
    assert not trail.verify().ok


def test_rewriting_the_whole_chain_without_the_key_is_detected(aws, stream):
    from companyos.adapters.audit import GENESIS, chain_hash
    from companyos.adapters.models import AuditItem

    trail = sealed("t-forge", stream)
    prev = GENESIS
    for item in entries(trail.chain):  # a consistent forged chain: every link and hash recomputed
        event = {**item.event, "actor": "mallory"}
        h = chain_hash(prev, event)
        AuditItem(pk=item.pk, sk=item.sk, seq=item.seq, prev_hash=prev, hash=h, event=event).save()
        prev = h
    result = trail.verify()
    assert not result.ok and result.problem == "digest_head_mismatch"


def _flip(signature: str) -> str:
    sig = bytearray(base64.b64decode(signature))
    sig[-1] ^= 0x01
    return base64.b64encode(bytes(sig)).decode()


def two_batches(name: str, stream):
    trail = sealed(name, stream, 4)
    write(name, 4, start=4)
    stream.drain()
    assert len(digest_items(name)) == 2
    return trail


def test_a_forged_digest_is_detected_latest_or_earlier(aws, stream):
    trail = two_batches("t-sig", stream)
    latest = digest_items("t-sig")[-1]
    latest.event = {**latest.event, "signature": _flip(latest.event["signature"])}
    latest.save()
    result = trail.verify()
    assert not result.ok and result.problem == "digest_signature_invalid" and result.signature_valid is False

    trail = two_batches("t-sig-mid", stream)
    first = digest_items("t-sig-mid")[0]
    first.event = {**first.event, "signature": _flip(first.event["signature"])}
    first.save()  # its successor names the real signature
    assert trail.verify().problem == "digest_chain_broken"
    assert trail.verify(every_signature=True).problem == "digest_signature_invalid"  # checked first

    trail = two_batches("t-sig-head", stream)
    first = digest_items("t-sig-head")[0]
    first.event = {**first.event, "head": "f" * 64}
    first.save()
    assert trail.verify().problem == "digest_head_mismatch"


def test_pending_records_are_reported_apart_from_tampering(aws, stream):
    from companyos.adapters.audit_verify import SEALING_DELAY
    from companyos.domain import clock

    trail = sealed("t-pending", stream, 3)
    write("t-pending", 2, start=3)  # the sealer has not seen these yet
    result = trail.verify()
    assert result.ok and result.events == 3 and result.pending_events == 2 and not result.sealing_overdue
    events = trail.events()
    assert [e["pending"] for e in events] == [False] * 3 + [True] * 2 and events[-1]["seq"] is None
    assert [e["action"] for e in trail.events(newest_first=True, limit=3)] == [
        "kpi.action4",
        "kpi.action3",
        "kpi.action2",
    ]
    with clock_at(clock.now() + SEALING_DELAY + timedelta(seconds=30)):
        late = trail.verify()
    assert late.ok and late.sealing_overdue  # an operational alarm, not tampering
    stream.drain()
    result = trail.verify()
    assert result.ok and result.events == 5 and result.pending_events == 0


def test_evidence_bundle_checksums_match_and_catch_an_altered_file(aws, stream):
    from companyos.adapters.audit_verify import check_bundle, evidence_bundle

    trail = sealed("t-bundle", stream, 4)
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


def test_every_signature_verifies_offline_with_the_exported_public_key(aws, stream):
    from companyos.adapters.audit import current_signer, digest_message
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    trail = two_batches("t-offline", stream)
    signer = current_signer()
    assert signer is not None
    key = serialization.load_pem_public_key(signer.public_key_pem().encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    previous = ""
    for digest in trail.digests():
        assert digest["prev_signature"] == previous  # each digest names its predecessor's signature
        key.verify(base64.b64decode(digest["signature"]), digest_message(digest), ec.ECDSA(hashes.SHA256()))
        previous = digest["signature"]


def test_a_chain_written_before_17_verifies_and_the_sealer_continues_it(aws, stream):
    """Per-append entries and per-append digests (four signed fields), with an unsigned tail entry
    (an old writer without the key): the first new digest covers it and chains from the old one."""
    from companyos.adapters.audit import GENESIS, AuditTrail, chain_hash, current_signer, digest_message
    from companyos.adapters.models import AuditItem
    from companyos.domain import clock

    signer = current_signer()
    assert signer is not None
    prev = GENESIS
    for seq in (1, 2, 3):
        event = {"actor": "old@t", "action": f"old{seq}", "tenant": "t-legacy", "seq": seq, "at": "x"}
        h = chain_hash(prev, event)
        AuditItem(pk="t-legacy", sk=f"{seq:012d}", seq=seq, prev_hash=prev, hash=h, event=event).save()
        if seq < 3:
            legacy = {"chain": "t-legacy", "seq": seq, "head": h, "signed_at": clock.now().isoformat()}
            legacy |= {"key_id": signer.key_id, "algorithm": "ECDSA_SHA_256"}
            legacy["signature"] = signer.sign(digest_message(legacy))
            AuditItem(
                pk="t-legacy#DIGEST", sk=f"{seq:012d}", seq=seq, prev_hash="", hash=h, event=legacy
            ).save()
        prev = h
    trail = AuditTrail("t-legacy")
    assert trail.verify().problem == "unsigned_tail"  # as before #17
    write("t-legacy", 2)
    stream.drain()
    result = trail.verify(every_signature=True)
    assert result.ok and result.events == 5
    new = trail.digests()[-1]
    assert (new["number"], new["first_seq"], new["seq"]) == (3, 3, 5)
