"""CI coverage uploads through HTTP on the embedded stack (`POST /api/ingest/coverage`), then
test_coverage through the kpi_run state machine, its per-service rows and the CTO page's
"Architecture health" tile.

The bodies are the real reports of shared/fixtures/real/coverage/, byte for byte (and, for the run,
copies of the Cobertura and JaCoCo ones with this week's timestamps: the originals are from 2016-2018).
Expected values are plain counts over the report text, worked out here.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Running, real_fixture
from tests.integration.conftest import TenantFixture, make_tenant, run_kpis
from tests.integration.test_pipeline_runs import attempts

TENANT = "covco"
ARCHIVE = "covarch"  # the tenant of the byte-for-byte uploads (their lcov ones are today's reports)
SECRET = "covco-coverage"
# repository -> (service, domain)
REPOS = {
    "covco/api": ("api", "Platform"),
    "covco/web": ("web", "Frontend"),
    "covco/ledger": ("ledger", "Finance"),
}


def post(
    local: Running, body: bytes, repo: str | None, secret: str = SECRET, tenant: str = TENANT, **extra: str
):
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/octet-stream", "X-CompanyOS-Signature": f"sha256={sig}"}
    if repo:
        headers["X-CompanyOS-Target"] = repo
    headers.update({k.replace("_", "-"): v for k, v in extra.items()})
    return local.client.request("POST", f"/api/ingest/coverage?tenant={tenant}", body, headers)


def stored(delivery_id: str | None = None, tenant: str = ARCHIVE) -> list[Any]:
    from companyos.adapters.repos import SignalStore

    found = SignalStore(tenant).query(
        "coverage_report", datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    return [s for s in found if delivery_id is None or s.delivery_id == delivery_id]


@pytest.fixture(scope="module")
def covco(local: Running) -> TenantFixture:
    from companyos.adapters.repos import Catalog

    t = make_tenant(local, TENANT, "Cov Co")
    local.stack.put_webhook_secret(TENANT, "coverage", SECRET)
    for repo, (service, domain) in REPOS.items():
        Catalog().tenant(TENANT).map_source_entity("coverage", repo, service, domain)
    return t


FIXTURES = [
    "coverage/coveragepy-gold-y_xml_branch-cobertura.xml",
    "coverage/reportgenerator-Cobertura2.1.1-java.xml",
    "coverage/reportgenerator-JaCoCo0.8.3.xml",
    "coverage/diffcover-real_python_coverage.lcov",
    "coverage/reportgenerator-cpp-lcov.info",
    "coverage/reportgenerator-csharp-lcov.info",
]


@pytest.fixture(scope="module")
def archive(local: Running) -> str:
    make_tenant(local, ARCHIVE, "Coverage Archive")
    local.stack.put_webhook_secret(ARCHIVE, "coverage", SECRET)
    return ARCHIVE


def test_each_real_report_is_stored_once_and_bad_uploads_store_nothing(local, archive):
    def send(body: bytes, repo: str | None = "covarch/api", **extra: str):
        return post(local, body, repo, tenant=archive, **extra)

    for name in FIXTURES:
        body = real_fixture(name)
        first = send(body, "covarch/monolith")
        assert first.status == 200 and first.body["status"] == "stored", (name, first.body)
        assert first.body["unmapped"] == ["covarch/monolith"]  # kept and reported, never dropped
        again = send(body, "covarch/monolith")  # a retried CI step: the same report digest
        assert again.status == 202 and again.body["status"] == "duplicate", name
        assert len(stored(first.body["delivery_id"])) == 1, name
    count = len(stored())

    body = real_fixture(FIXTURES[0])
    forged = post(local, body, "covarch/api", secret="someone-else", tenant=archive)
    assert forged.status == 401 and forged.body["code"] == "signature_invalid"
    records = local.stack.settings.max_webhook_bytes // 28 + 1  # over the limit on the wire
    too_big = send(b"TN:\n" + b"SF:a.py\nDA:1,1\nend_of_record\n" * records)
    assert too_big.status == 413 and too_big.body["code"] == "payload_too_large"
    bomb = gzip.compress(b"TN:\nSF:a.py\n" + b"DA:1,1\n" * 2_500_000 + b"end_of_record\n")  # 17.5 MB inflated
    big = send(bomb, Content_Encoding="gzip")
    assert big.status == 413 and big.body["code"] == "payload_too_large"
    entity = b'<!DOCTYPE coverage [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n<coverage '
    xxe = body.replace(b"<coverage ", entity, 1).replace(b'filename="y.py"', b'filename="&x;"')
    refused = send(xxe)
    assert refused.status == 422 and refused.body["code"] == "xml_entities_forbidden", refused.body
    truncated = send(body[: len(body) // 2])
    assert truncated.status == 422 and truncated.body["code"] == "malformed_report"
    html = send(b"<html><body>Bad Gateway</body></html>")
    assert html.status == 422 and html.body["code"] == "unsupported_format"
    no_repo = send(body, None)
    assert no_repo.status == 422 and no_repo.body["code"] == "target_missing"
    assert len(stored()) == count  # none of them stored anything


# ---------------------------------------------------------------------------- the run


def recent(body: bytes, at: datetime) -> bytes:
    """A copy of a Cobertura / JaCoCo report taken at `at` (its timestamp / session dump)."""
    ms = str(int(at.timestamp() * 1000)).encode()
    body = re.sub(rb'timestamp="\d+"', b'timestamp="' + ms + b'"', body)
    return re.sub(rb'(start|dump)="\d+"', rb'\1="' + ms + b'"', body)


def cobertura_lines(text: str) -> tuple[int, int]:
    lines: dict[tuple[str, str], bool] = {}
    for filename, block in re.findall(r'<class [^>]*filename="([^"]+)"[^>]*>(.*?)</class>', text, re.S):
        for line in re.findall(r"<line [^>]*>", block.rsplit("</methods>", 1)[-1]):
            key = (filename, re.search(r'number="(\d+)"', line).group(1))  # type: ignore[union-attr]
            hits = int(re.search(r'hits="(\d+)"', line).group(1))  # type: ignore[union-attr]
            lines[key] = lines.get(key, False) or hits > 0
    return sum(lines.values()), len(lines)


def lcov_lines(text: str) -> tuple[int, int]:
    lines: dict[tuple[str, str], bool] = {}
    sf = ""
    for raw in text.splitlines():
        sf = raw[3:] if raw.startswith("SF:") else sf
        if raw.startswith("DA:"):
            number, hits = raw[3:].split(",")[:2]
            lines[(sf, number)] = lines.get((sf, number), False) or int(hits) > 0
    return sum(lines.values()), len(lines)


def jacoco_lines(text: str) -> tuple[int, int]:
    ci = [int(c) for c in re.findall(r'<line nr="\d+" mi="\d+" ci="(\d+)"', text)]
    return sum(1 for c in ci if c > 0), len(ci)


def settle(local: Running, timeout_s: float = 60) -> None:
    """Wait until no kpi_run execution is running (each upload started one)."""
    import time

    import boto3

    sfn, arn = boto3.client("stepfunctions"), local.stack.state_machines["kpi_run"]
    deadline = time.monotonic() + timeout_s
    while sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
        assert time.monotonic() < deadline, "kpi_run executions still running"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def coverage_run(local: Running, covco: TenantFixture) -> dict[str, Any]:
    from companyos.domain import clock

    now = clock.now()
    old_api = recent(real_fixture(FIXTURES[1]), now - timedelta(days=20))  # superseded by the newer one
    api = recent(real_fixture(FIXTURES[0]), now - timedelta(days=2))
    ledger = recent(real_fixture(FIXTURES[2]), now - timedelta(days=1))
    web = real_fixture(FIXTURES[5])  # lcov: no time of its own, the upload's
    for body, repo, extra in (
        (old_api, "covco/api", {}),
        (api, "covco/api", {"X_CompanyOS_Commit": "9fceb02d0ae598e95dc970b74767f19372d61af8"}),
        (gzip.compress(ledger), "covco/ledger", {"Content_Encoding": "gzip"}),
        (web, "covco/web", {"X_CompanyOS_Format": "lcov"}),
    ):
        answer = post(local, body, repo, **extra)
        assert answer.status == 200 and answer.body["status"] == "stored", answer.body
        assert answer.body["runs_started"] == ["test_coverage"]
    settle(local)  # the event runs of the uploads first: the manual run is then the newest as_of
    run_kpis(local, TENANT, ["test_coverage"], clock.now(), "coverage-run-1")
    settle(local)
    expected = {
        "api": cobertura_lines(api.decode()),
        "ledger": jacoco_lines(ledger.decode()),
        "web": lcov_lines(web.decode("utf-8-sig")),
    }
    old = cobertura_lines(old_api.decode())
    manual = [a for a in attempts(TENANT, "test_coverage") if a["run"][0]["triggered_by"] == "test"]
    return {"attempt": manual[-1], "expected": expected, "old_api": old}


def test_test_coverage_is_the_newest_reports_weighted_by_lines(coverage_run):
    attempt, expected = coverage_run["attempt"], coverage_run["expected"]
    assert attempt["end"][0]["status"] == "success", attempt["end"][0].get("error_message")
    values = attempt["delivery"][0]["values"]
    covered = sum(c for c, _ in expected.values())
    valid = sum(v for _, v in expected.values())
    assert values["7d"]["value"] == pytest.approx(100.0 * covered / valid, rel=1e-12)
    assert values["28d"]["detail"] == {"lines_covered": covered, "lines_valid": valid, "repositories": 3}
    assert values["365d"]["value"] == values["7d"]["value"]  # a level: the same at every period's end
    old_covered, old_valid = coverage_run["old_api"]  # a week ago: only api's older report
    assert values["7d"]["previous"] == pytest.approx(100.0 * old_covered / old_valid, rel=1e-12)
    assert values["28d"]["previous"] is None  # 28 days ago: no report yet
    assert {s["source_object"] for s in attempt["sourcing"]} == {"coverage.ci_reports"}


def test_the_rows_are_per_service_with_report_time_format_and_commit(coverage_run):
    attempt, expected = coverage_run["attempt"], coverage_run["expected"]
    (rows,) = attempt["rows"]
    entry = rows["periods"]["28d"]["coverage"]
    by_id = {r["id"]: r for r in entry["items"]}
    assert set(by_id) == {"api", "web", "ledger"}
    for service, (covered, valid) in expected.items():
        row = by_id[service]
        assert (row["lines_covered"], row["lines_valid"]) == (covered, valid), service
        assert row["coverage_pct"] == round(100.0 * covered / valid, 2)
    assert by_id["api"]["format"] == "cobertura" and by_id["ledger"]["format"] == "jacoco"
    assert by_id["api"]["commit"] == "9fceb02d0ae598e95dc970b74767f19372d61af8"
    assert by_id["web"]["format"] == "lcov" and by_id["web"]["commit"] is None
    assert by_id["api"]["previous_pct"] is None  # 28 days ago there was no report yet
    week = {r["id"]: r for r in rows["periods"]["7d"]["coverage"]["items"]}
    old_covered, old_valid = coverage_run["old_api"]
    assert week["api"]["previous_pct"] == round(100.0 * old_covered / old_valid, 2)
    assert entry["evidence"]["sources"][0]["object"] == "coverage.coverage_report"


def test_the_cto_architecture_tile_shows_test_coverage(local, covco, coverage_run):
    dash = local.client.request("GET", f"/api/dashboards/cto?tenant={TENANT}", token=covco.cto_token).body
    (panel,) = [p for p in dash["panels"] if p["id"] == "architecture"]
    tile = next(i for i in panel["items"] if i["kpi_id"] == "test_coverage")
    covered = sum(c for c, _ in coverage_run["expected"].values())
    valid = sum(v for _, v in coverage_run["expected"].values())
    assert tile["value"] == pytest.approx(100.0 * covered / valid) and tile["status"] != "unknown"
    # the evidence is the delivered run (the manual one, or an event run of the last upload)
    delivered = {
        a["delivery"][0]["run_id"]: a for a in attempts(TENANT, "test_coverage") if a.get("delivery")
    }
    assert tile["evidence"]["run_id"] in delivered


def test_the_kpi_deep_dive_shows_the_delivered_rows_per_service(local, covco, coverage_run):
    path = f"/api/drill/kpi/test_coverage?tenant={TENANT}&period=28d"
    drill = local.client.request("GET", path, token=covco.cto_token).body
    breakdown = drill["breakdown"]
    assert breakdown["available"], breakdown
    rows = {r["id"]: r for r in breakdown["panels"]["coverage"]["items"]}
    for service, (covered, valid) in coverage_run["expected"].items():
        assert (rows[service]["lines_covered"], rows[service]["lines_valid"]) == (covered, valid)
        assert rows[service]["evidence"]["type"] == "kpi_run"
    assert {r["id"] for r in drill["services"]["items"]} == set(coverage_run["expected"])
