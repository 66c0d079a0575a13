"""The board-pack PDF through the local stack: synchronous under the threshold (the PDF in the
response), asynchronous above it (202 → Step Functions → S3 object + SNS message with a
time-limited link → job status ready)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from companyos.domain import clock

from tests.conftest import Running
from tests.integration.rollup_helpers import bulk_tenants, get, post, user

pypdf = pytest.importorskip("pypdf", reason="pypdf (dev dependency) reads the PDF's text")

PLATFORM = "pack-admin@rp.test"


def pages_text(pdf: bytes) -> list[str]:
    return [p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def tenants(local: Running) -> list[str]:
    """Three tenants with KPI and inventory snapshots (independent of the demo seed)."""
    from companyos.adapters.inventory_repo import InventoryRepo
    from companyos.adapters.repos import ScoreStore
    from companyos.domain.inventory import CertificateIn, VendorIn

    now = clock.now()
    ids = bulk_tenants("rp-pack", 3, now)
    snaps = (judged_snapshot(10.0, 75.0, 0.4), judged_snapshot(4.0, 45.0, -0.2))
    for tenant_id, snap in zip(ids[1:], snaps, strict=True):
        ScoreStore(tenant_id).put_snapshot("28d", snap, now)
    repo = InventoryRepo(ids[0])
    repo.put_certificate(
        CertificateIn(cert_id="api", common_name="api.rp.test", not_after=now + timedelta(days=4))
    )
    repo.put_vendor(VendorIn(vendor_id="aws", name="AWS", tier=1))
    return ids


def judged_snapshot(cfr: float, mttr: float, budget_left: float) -> dict[str, Any]:
    """All four DORA keys and one service's SLO row, with the bands worked by hand on the KPI
    dictionary (target scores 80, critical 40, linear between; worse than critical is Critical)."""

    def kpi(value: float, status: str) -> dict[str, Any]:
        return {"value": value, "previous": value, "series": [], "status": status, "score": None}

    return {
        "kpis": {
            "deployment_frequency": kpi(10.0, "healthy"),  # on target
            "lead_time_for_changes": kpi(4.0, "healthy"),  # on target
            # change failure rate: target 5 %, critical 15 %: 10 % -> 60 Attention, 4 % -> 84 Healthy
            "change_failure_rate": kpi(cfr, "attention" if cfr == 10.0 else "healthy"),
            # MTTR: target 30 min, critical 60 min: 75 min is Critical, 45 min -> 60 Attention
            "mttr": kpi(mttr, "critical" if mttr > 60 else "attention"),
        },
        "panels": {
            "slo": {
                "available": True,
                "items": [
                    {"id": "api", "service": "api", "value": 99.97 if budget_left > 0 else 99.85,
                     "budget_left": budget_left, "burn_rate": 0.6 if budget_left > 0 else 1.2}
                ],
            }
        },
    }  # fmt: skip


@pytest.fixture(scope="module")
def token(local: Running, tenants: list[str]) -> str:
    return user(local, PLATFORM, dict.fromkeys(tenants, "platform_admin"))


def raw_post(
    local: Running, path: str, body: dict[str, Any], token: str
) -> tuple[int, dict[str, str], bytes]:
    """POST returning the unmodified bytes (the shared client decodes bodies as JSON or text)."""
    req = urllib.request.Request(
        local.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, dict(resp.headers), bytes(resp.read())


@pytest.fixture(scope="module")
def sync_export(local: Running, token: str) -> dict[str, Any]:
    rollup = get(local, "/api/platform/executive?period=28d", token).body
    status, headers, body = raw_post(
        local, "/api/platform/executive/exports", {"period": "28d", "purpose": "Q4 board pack"}, token
    )
    return {"rollup": rollup, "status": status, "headers": headers, "pdf": body}


@pytest.fixture(scope="module")
def pdf(sync_export: dict[str, Any]) -> bytes:
    return bytes(sync_export["pdf"])


def test_sync_export_answers_the_pdf_with_its_filename(sync_export):
    assert sync_export["status"] == 200
    assert sync_export["headers"]["Content-Type"] == "application/pdf"
    today = clock.now().strftime("%Y%m%d")
    disposition = sync_export["headers"]["Content-Disposition"]
    assert disposition == f'attachment; filename="companyos-executive-{today}.pdf"'
    assert sync_export["pdf"].startswith(b"%PDF")


def test_pdf_pages_are_cover_six_domains_and_appendix_with_the_api_numbers(pdf, sync_export):
    rollup = sync_export["rollup"]
    assert pdf.startswith(b"%PDF")
    text = pages_text(pdf)
    domains = rollup["domains"]

    assert len(domains) == 6
    appendix = text[7:]
    assert len(text) == 1 + 6 + len(appendix) and appendix  # cover + one page per domain + appendix
    assert rollup["org"]["name"] in text[0] and "Executive board pack" in text[0]
    assert rollup["period"]["start"] in text[0] and rollup["period"]["end"] in text[0]
    for page, domain in zip(text[1:7], domains, strict=True):
        assert domain["name"] in page
        assert domain["display"] in page
        for metric in domain["metrics"]:
            assert metric["name"] in page and metric["display"] in page
        for card in domain["tenants"]:
            assert card["tenant"]["name"] in page and card["display"] in page
    assert "Appendix" in appendix[0]
    appendix_text = "\n".join(appendix)
    for domain in domains:
        for card in domain["tenants"]:
            for m in card["metrics"].values():
                assert m["display"] in appendix_text


def lines_after(page: str, first: str, n: int) -> list[str]:
    lines = [x.strip() for x in page.splitlines()]
    return lines[lines.index(first) + 1 : lines.index(first) + 1 + n]


def test_the_pdf_shows_the_apis_value_and_band_per_tenant_and_domain(pdf, sync_export):
    words = {
        "excellent": "Excellent",
        "healthy": "Healthy",
        "attention": "Attention",
        "warning": "Warning",
        "critical": "Critical",
        "unknown": "Unknown",
    }  # the roll-up page's labels (web/js/format.js)
    text = pages_text(pdf)
    for page, domain in zip(text[1:7], sync_export["rollup"]["domains"], strict=True):
        assert f"Org verdict: {words[domain['status']]}" in page
        for m in domain["metrics"]:  # metric: org value, its band
            assert lines_after(page, m["name"], 2) == [m["display"], words[m["status"]]]
        for card in domain["tenants"]:  # tenant: verdict, headline value, its band
            assert lines_after(page, card["tenant"]["name"], 3) == [
                words[card["status"]],
                card["display"],
                words[card["headline_status"]],
            ]
    by_domain = {
        d["id"]: {c["tenant"]["id"]: c for c in d["tenants"]} for d in sync_export["rollup"]["domains"]
    }
    ids = sorted(by_domain["dora"])
    # worked by hand: MTTR 75 min is Critical, so is the card; 45 min is Attention, so is that card
    assert [by_domain["dora"][t]["status"] for t in ids[1:]] == ["critical", "attention"]
    assert [by_domain["dora"][t]["headline_status"] for t in ids[1:]] == ["attention", "healthy"]
    # one service in budget, one overspent (Critical); the CFR-only tenant has no SLO rows
    slos = by_domain["slos"]
    assert [slos[t]["display"] for t in ids] == ["Unknown", "1 of 1 in budget", "0 of 1 in budget"]
    # in budget at 99.97 % is Excellent, but its burn of 0.6x (between the 1x target, 80, and the 0.5x
    # stretch, 90: 80 + 10 x 0.4 / 0.5 = 88) is Healthy: the card is its worst metric
    assert [slos[t]["headline_status"] for t in ids] == ["unknown", "excellent", "critical"]
    assert [slos[t]["status"] for t in ids] == ["unknown", "healthy", "critical"]
    assert slos[ids[1]]["decided_by"]["metric"] == "fastest_burn"


def test_watermark_with_email_and_export_time_is_on_every_page(pdf):
    text = pages_text(pdf)
    stamp = clock.now().strftime("%Y-%m-%d")
    for page in text:
        assert f"Exported by {PLATFORM} at {stamp}" in page


def test_page_one_renders_to_png(pdf, tmp_path: Path):
    exe = shutil.which("pdftoppm")
    if exe is None:
        pytest.skip("pdftoppm is not installed (apt-get install -y poppler-utils)")
    src = tmp_path / "pack.pdf"
    src.write_bytes(pdf)

    subprocess.run(
        [exe, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(src), str(tmp_path / "p1")],
        check=True,
        timeout=60,
    )

    png = (tmp_path / "p1.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000


def test_sync_export_is_audited_with_its_purpose(local, pdf):
    from companyos.adapters.audit import AuditTrail

    local.stack.seal_audit()
    last = AuditTrail("PLATFORM").events(limit=1, newest_first=True)[0]
    assert last["action"] == "platform:export" and not last["pending"]
    assert last["reason"] == "Q4 board pack"
    assert last["actor"] == PLATFORM


def test_export_is_forbidden_to_non_platform_admins(local, tenants):
    for email, role in (("cto@rp.test", "cto"), ("admin@rp.test", "tenant_admin")):
        reply = post(
            local,
            "/api/platform/executive/exports",
            {"period": "28d"},
            user(local, email, {tenants[0]: role}),
        )
        assert reply.status == 403 and reply.body["code"] == "platform_admin_required"


# ------------------------------------------------------------------ asynchronous export


@pytest.fixture(scope="module")
def exports_queue(local: Running) -> str:
    """An SQS queue subscribed to the exports topic: what an email subscriber would receive."""
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName="rollup-exports-test")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=local.stack.settings.exports_topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


def test_large_export_is_async_202_then_s3_object_sns_link_and_ready_status(local, token, exports_queue):
    ids = bulk_tenants("rb-bulk", 25, clock.now())  # 25 x rows per tenant > the 400-row threshold
    email = "bulk-platform@rb.test"
    big = user(local, email, dict.fromkeys(ids, "platform_admin"))

    reply = post(local, "/api/platform/executive/exports", {"period": "28d", "purpose": "board async"}, big)

    assert reply.status == 202, reply.body
    job = reply.body
    assert job["status"] == "queued" and job["tenants"] == 25 and job["rows"] > 400
    assert (
        reply.headers["Location"] == job["status_url"] == f"/api/platform/executive/exports/{job['job_id']}"
    )
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + 30
    arn = None
    while arn is None and time.monotonic() < deadline:
        runs = sfn.list_executions(stateMachineArn=local.stack.state_machines["board_pack"])["executions"]
        arn = next((e["executionArn"] for e in runs if e["name"] == job["job_id"]), None)
        time.sleep(0.1)
    assert arn, "no board_pack execution was started"
    desc = local.stack.wait_for_execution(arn, timeout_s=120)
    assert desc["status"] == "SUCCEEDED", desc

    status = get(local, job["status_url"], big).body
    assert status["status"] == "ready" and status["filename"].startswith("companyos-executive-")
    assert status["download_url"] and status["expires_at"]
    # only the requester sees the job
    assert get(local, job["status_url"], token).status == 404

    from companyos.adapters.inventory_repo import ExportJobs

    stored = ExportJobs().get(job["job_id"])
    obj = boto3.client("s3").get_object(Bucket=stored["bucket"], Key=stored["key"])
    body = obj["Body"].read()
    assert body.startswith(b"%PDF") and obj["ContentType"] == "application/pdf"
    text = pages_text(body)
    assert all(f"Exported by {email}" in page for page in text)
    assert len(text) > 7

    messages = boto3.client("sqs").receive_message(
        QueueUrl=exports_queue, WaitTimeSeconds=2, MaxNumberOfMessages=10
    )
    notes = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    note = next(n for n in notes if n["MessageAttributes"]["job_id"]["Value"] == job["job_id"])
    assert note["MessageAttributes"]["recipient"]["Value"] == email
    assert "X-Amz-Expires=86400" in note["Message"] and stored["key"] in note["Message"]
    assert f"/rollup.html#/exports/{job['job_id']}" in note["Message"]  # where a fresh link is issued
    link = next(line for line in note["Message"].splitlines() if line.startswith("http"))
    with urllib.request.urlopen(link, timeout=30) as resp:  # the time-limited link works
        assert resp.read().startswith(b"%PDF")

    from companyos.adapters.audit import AuditTrail

    events = AuditTrail("PLATFORM").events(limit=10, newest_first=True)  # pending sealing first
    actions = {(e["action"], e["request_id"] or "") for e in events if e["actor"] == email}
    assert ("platform:export", job["job_id"]) in actions  # the render's cross-tenant read
    assert any(a == "platform:export_requested" for a, _ in actions)


def test_an_event_of_neither_shape_is_refused_with_what_was_expected(local):
    """The function parses its event as an API Gateway request or a board_pack task, not by sniffing
    a key: a task of an unknown step, a bare `httpMethod`, or anything else is refused by name."""
    board_pack = local.stack.registry.module("board_pack")
    for event in ({"job_id": "j-1"}, {"step": "publish", "job_id": "j-1"}, {"httpMethod": "GET"}):
        with pytest.raises(
            board_pack.UnknownEvent, match="API Gateway REST proxy request or a board_pack task"
        ):
            local.stack.invoke("board_pack", event)
