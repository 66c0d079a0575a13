"""Prowler and Security Hub reports through HTTP on the embedded stack, then compliance_score through
the kpi_run state machine, its delivery, the CISO "Compliance controls" panel and the control drill.

The real files of shared/fixtures/real/prowler/ are posted byte for byte; the run test posts two
day-apart copies of the real OCSF example (the second with `accessanalyzer_enabled` fixed). Expected
numbers are counted here straight from those JSON documents."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_pipeline_runs import attempts

TENANT = "compco"
SECRET = "compco-prowler"
AS_OF = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
OCSF = "prowler/example_output_aws.ocsf.json"


def post(local: Running, body: bytes, source: str = "prowler", secret: str = SECRET, **headers: str):
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    hdrs = {"Content-Type": "application/json", "X-CompanyOS-Signature": f"sha256={sig}", **headers}
    return local.client.request("POST", f"/api/ingest/{source}?tenant={TENANT}", body, hdrs)


def stored(delivery_id: str | None = None) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    found = SignalStore(TENANT).query(
        "compliance_check", datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [s for s in found if delivery_id is None or s.delivery_id == delivery_id]


@pytest.fixture(scope="module")
def compco(local: Running) -> TenantFixture:
    from companyos.adapters.repos import Catalog

    t = make_tenant(local, TENANT, "Comp Co")
    local.stack.put_webhook_secret(TENANT, "prowler", SECRET)
    local.stack.put_webhook_secret(TENANT, "securityhub", SECRET)
    Catalog().put_member(TENANT, f"ciso@{TENANT}.test", "ciso", "ciso")
    local.idp.add_user(f"ciso@{TENANT}.test", "ciso of Comp Co", {TENANT: "ciso"})
    return t


def test_each_real_report_is_stored_once_and_bad_uploads_store_nothing(local, compco):
    for name, results in (
        ("example_output_aws.csv", 4),
        ("example_output_aws.ocsf.json", len(json.loads(real_fixture(OCSF)))),
        ("docs-reporting-example.asff.json", 1),
    ):
        body = real_fixture(f"prowler/{name}")
        ctype = "text/csv" if name.endswith(".csv") else "application/json"
        first = post(local, body, **{"Content-Type": ctype})
        assert first.status == 200 and first.body["status"] == "stored", (name, first.body)
        assert first.body["signals"] == results
        again = post(local, body, **{"Content-Type": ctype})
        assert again.status == 202 and again.body["status"] == "duplicate"
        assert len(stored(first.body["delivery_id"])) == results

    before = len(stored())
    body = real_fixture(OCSF).replace(b"accessanalyzer_enabled", b"accessanalyzer_on", 1)
    forged = post(local, body, secret="someone-else")
    assert forged.status == 401 and forged.body["code"] == "signature_invalid"
    huge = post(local, b"[" + b" " * 1_000_001 + b"]")
    assert huge.status == 413 and huge.body["code"] == "payload_too_large"
    broken = post(local, body[:-40])
    assert broken.status == 400 and broken.body["code"] == "malformed_body"
    odd = post(local, json.dumps([{**json.loads(body)[0], "status_code": "MAYBE"}]).encode())
    assert odd.status == 422 and odd.body["details"]["path"] == "0.status_code"
    guardduty = real_fixture("aws-guardduty/awsdocs-securityhub-asff-guardduty-ssh-bruteforce.json")
    threat = post(local, guardduty, source="securityhub")
    assert threat.status == 422 and threat.body["code"] == "no_compliance_results"
    assert len(stored()) == before


# ---------------------------------------------------------------------------- the run


def ocsf_on(at: datetime, passing: set[str]) -> list[dict[str, Any]]:
    doc = json.loads(real_fixture(OCSF))
    for f in doc:
        f["time"] = int(at.timestamp())
        if f["metadata"]["event_code"] in passing:
            f["status_code"] = "PASS"
    return doc


def counted(doc: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """framework -> (evaluated controls, passing), by hand: a control passes when all of its PASS/FAIL
    checks pass; MANUAL ones do not decide."""
    statuses: dict[tuple[str, str], list[str]] = {}
    for f in doc:
        for fw, ids in f["unmapped"]["compliance"].items():
            for cid in ids:
                statuses.setdefault((fw, cid), []).append(f["status_code"])
    out: dict[str, tuple[int, int]] = {}
    for (fw, _), sts in statuses.items():
        deciding = [s for s in sts if s in ("PASS", "FAIL")]
        if deciding:
            c, p = out.get(fw, (0, 0))
            out[fw] = (c + 1, p + int(all(s == "PASS" for s in deciding)))
    return out


@pytest.fixture(scope="module")
def compliance_run(local: Running, compco: TenantFixture) -> dict[str, Any]:
    day1 = ocsf_on(AS_OF - timedelta(days=2), set())
    day2 = ocsf_on(AS_OF - timedelta(days=1), {"accessanalyzer_enabled"})
    for doc in (day1, day2):
        answer = post(local, json.dumps(doc).encode(), **{"X-CompanyOS-Target": "aws:prod"})
        assert answer.body["status"] == "stored", answer.json()
    run_kpis(local, TENANT, ["compliance_score"], AS_OF, "compliance-1")
    return {"attempt": attempts(TENANT, "compliance_score")[-1], "day1": day1, "day2": day2}


def test_compliance_score_is_the_newest_reports_passing_controls(compliance_run):
    attempt = compliance_run["attempt"]
    assert attempt["end"][0]["status"] in ("success", "partial"), attempt["end"][0].get("error_message")
    now = counted(compliance_run["day2"])
    controls, passing = sum(c for c, _ in now.values()), sum(p for _, p in now.values())
    values = attempt["delivery"][0]["values"]
    assert values["7d"]["value"] == pytest.approx(100.0 * passing / controls)
    before = counted(compliance_run["day1"])
    day1 = {p["t"]: p["v"] for p in values["7d"]["series"]}[(AS_OF - timedelta(days=2)).date().isoformat()]
    assert day1 == pytest.approx(
        100.0 * sum(p for _, p in before.values()) / sum(c for c, _ in before.values())
    )
    entry = attempt["rows"][0]["periods"]["7d"]["compliance"]
    shown = {f["id"]: (f["controls"], f["passing"]) for f in entry["items"] if f["controls"]}
    assert shown == now
    # frameworks whose controls only have MANUAL checks are shown as not evaluated, never as 0 %
    manual = [f for f in entry["items"] if not f["controls"]]
    assert manual and all(f["pass_rate"] is None and f["not_evaluated"] > 0 for f in manual)


def test_the_ciso_panel_shows_framework_rates_and_control_chips_from_the_run(local, compliance_run):
    token = local.client.login(f"ciso@{TENANT}.test")
    dash = local.client.request("GET", f"/api/dashboards/ciso?tenant={TENANT}&period=7d", token=token)
    assert dash.status == 200, dash.body
    panel = next(p for p in dash.body["panels"] if p["id"] == "compliance")
    assert panel["kind"] == "table", panel
    # the cockpit shows the delivered run with the newest as_of: the uploads' event-triggered run
    run_id = panel["summary"]["evidence"]["run_id"]
    assert run_id in {
        a["delivery"][0]["run_id"] for a in attempts(TENANT, "compliance_score") if a.get("delivery")
    }
    now = counted(compliance_run["day2"])
    rows = {r["id"]: r for r in panel["items"]}
    assert {k for k, r in rows.items() if r["value"] is not None} == set(now)
    assert all(r["status"] == "unknown" for r in rows.values() if r["value"] is None)
    cis = rows["CIS-3.0"]
    assert cis["value"] == 100.0 and cis["status"] == "excellent" and cis["evidence"]["run_id"] == run_id
    kisa = rows["KISA-ISMS-P-2023"]
    assert kisa["value"] == pytest.approx(100.0 * now["KISA-ISMS-P-2023"][1] / now["KISA-ISMS-P-2023"][0])
    chip = next(c for c in kisa["chips"] if c["control_id"] == "2.1.3")
    assert chip["text"] == "2.1.3 ⚠" and chip["status"] == "critical"
    assert panel["summary"]["kpi_id"] == "compliance_score"

    fw, cid = chip["drill"]["id"].split("::")
    drill = local.client.request("GET", f"/api/drill/compliance/{fw}/{cid}?tenant={TENANT}", token=token)
    assert drill.status == 200 and drill.body["status"] == "fail", drill.body
    (failing,) = drill.body["failing"]
    assert (
        failing["check_id"] == "account_maintain_different_contact_details_to_security_billing_and_operations"
    )
    assert failing["first_seen"] == (AS_OF - timedelta(days=2)).isoformat()
    missing = local.client.request("GET", f"/api/drill/compliance/{fw}/9.9.9?tenant={TENANT}", token=token)
    assert missing.status == 404 and missing.body["code"] == "control_not_found"


def test_the_delivered_score_below_95_fires_compliance_dropped(local, compliance_run):
    """The kpi_run state machine evaluates the alert rules after the score refresh: the ciso rule
    ComplianceDropped (compliance_score < 95) reads the delivered value from the snapshot."""
    from companyos.adapters.repos import ScoreStore

    from tests.integration.test_alerts_flow import alert_of, evaluate

    snap, _ = ScoreStore(TENANT).latest("7d")
    value = snap["kpis"]["compliance_score"]["value"]
    assert value is not None and value < 95.0
    evaluate(local, TENANT)
    alert = alert_of(TENANT, "ComplianceDropped")
    assert alert.state == "firing" and alert.value == pytest.approx(value)


def test_the_score_refresh_feeds_the_rollups_compliance_inventory(local, compliance_run):
    """The roll-up reads the inventory posture: the refresh stored the delivered run's framework
    history there, so the compliance domain has the run's values per day."""
    from companyos.adapters.inventory_repo import InventoryRepo, read_snapshots
    from companyos.adapters.repos import ScoreStore
    from companyos.domain import clock
    from companyos.domain import inventory as inv

    snap, _ = ScoreStore(TENANT).latest("7d")
    panel = snap["panels"]["compliance"]
    scanned = InventoryRepo(TENANT).scanned()
    assert scanned is not None and scanned["run_id"] == panel["evidence"]["run_id"]
    _, postures = read_snapshots([TENANT], "7d", clock.now().date(), clock.now().date())
    doc = postures[TENANT].data
    day1, day2 = ((AS_OF - timedelta(days=n)).date() for n in (2, 1))
    expected1, expected2 = counted(compliance_run["day1"]), counted(compliance_run["day2"])
    for day, expected in ((day1, expected1), (day2, expected2)):
        got = {fw: (f["controls"], f["passing"]) for fw, f in inv.compliance(doc, day).items()}
        assert got == expected, day
