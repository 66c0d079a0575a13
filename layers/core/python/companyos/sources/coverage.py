"""Test coverage reports uploaded by CI (`POST /api/ingest/coverage?tenant=<id>`, docs/sources.md
"Test coverage"): the report file as the tool wrote it — Cobertura XML, an lcov tracefile or JaCoCo
XML (coverage_formats.py) — signed like our other uploads (`X-CompanyOS-Signature: sha256=<hex>`).

Headers: `X-CompanyOS-Target` (required) the repository the report covers, mapped to its service by
the catalog (source `coverage`); `X-CompanyOS-Format` cobertura / lcov / jacoco (optional: the body
tells); `X-CompanyOS-Commit` the commit the tests ran on (optional). `Content-Encoding: gzip` is
inflated up to `MAX_REPORT_BYTES`.

A report is one `coverage_report` signal of its repository at the report's own time (lcov has none:
the upload time). Like the scanners' reports, its delivery id is the digest of repository, commit
and report: the same report uploaded again (a retried CI step) stores nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import timedelta

from companyos.domain import clock
from companyos.sources import coverage_formats
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    content_id,
    verify_companyos_signature,
)
from companyos.sources.coverage_formats import refused

KIND = "coverage_report"
TARGET_HEADER = "X-CompanyOS-Target"
FORMAT_HEADER = "X-CompanyOS-Format"
COMMIT_HEADER = "X-CompanyOS-Commit"
MAX_REPORT_BYTES = 16_000_000  # inflated (gzip) report; on the wire the ingest limit applies
FUTURE_SKEW = timedelta(hours=1)  # a CI runner's clock a little ahead is fine, a day is not
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,64}$")


class CoverageSource:
    name = "coverage"
    retention_days = 400
    max_decoded_bytes = MAX_REPORT_BYTES

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        repository = (request.header(TARGET_HEADER) or "").strip()[:512]
        if not repository:
            raise refused(f"name the repository the report covers in the {TARGET_HEADER} header",
                          "target_missing", TARGET_HEADER)  # fmt: skip
        commit = (request.header(COMMIT_HEADER) or "").strip() or None
        if commit is not None and not _COMMIT.match(commit):
            raise refused(
                f"{COMMIT_HEADER} '{commit[:80]}' is not a commit sha", "invalid_commit", COMMIT_HEADER
            )
        fmt = (request.header(FORMAT_HEADER) or "").strip().lower() or coverage_formats.sniff(request.body)
        report = coverage_formats.parse(request.body, fmt)
        now = clock.now()
        if report.generated_at and report.generated_at > now + FUTURE_SKEW:
            raise refused(f"the report's time {report.generated_at.isoformat()} is in the future",
                          "invalid_report_time", "timestamp")  # fmt: skip
        digest = hashlib.sha256(request.body).hexdigest()
        attrs = {
            "repository": repository,
            "format": report.format,
            "lines_covered": report.lines_covered,
            "lines_valid": report.lines_valid,
            "line_rate": round(report.lines_covered / report.lines_valid, 6),
            "branches_covered": report.branches_covered,
            "branches_valid": report.branches_valid,
            "files": report.files,
            "commit": commit,
            "tool_version": report.tool_version,
            "time_from": "report" if report.generated_at else "upload",
            "report_digest": digest[:32],
            "bytes": len(request.body),
        }
        taken_at = report.generated_at or now
        delivery_id = content_id(f"{repository}\n{commit or ''}\n".encode() + request.body)
        return ParsedDelivery(KIND, delivery_id, [Signal(KIND, taken_at, repository, attrs, key=digest[:24])])
