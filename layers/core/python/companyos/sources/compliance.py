"""Compliance scan reports: Prowler (`POST /api/ingest/prowler`: `-M csv`, `-M json-ocsf`,
`-M json-asff`) and AWS Security Hub findings (`POST /api/ingest/securityhub`: ASFF, a JSON array
or the `{"Findings": [...]}` of `aws securityhub get-findings`). The format is read from the body.

Uploads are signed like our other CI uploads (`X-CompanyOS-Signature: sha256=<hex>`); the delivery
id is the report's content hash, so the same report uploaded twice is stored once. A report is a
*snapshot* of its scopes (the cloud account, `<provider>:<account id>`, or `X-CompanyOS-Target`):
every check result becomes one `compliance_check` signal at the report's time (its newest result),
and the compliance_score run reads, per scope, only the newest report (runs/formulas_compliance.py).
A control passes when every check mapped to it passes in that report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from companyos.domain.errors import InvalidPayload, MalformedBody
from companyos.sources.base import (
    ParsedDelivery,
    Signal,
    WebhookRequest,
    content_id,
    short_hash,
    verify_companyos_signature,
)
from companyos.sources.compliance_formats import CheckResult, parse_asff, parse_ocsf, parse_prowler_csv

KIND = "compliance_check"
TARGET_HEADER = "X-CompanyOS-Target"
DETAIL_CHARS = 300  # STATUS_EXTENDED kept per result (the drill-down's "why"), never the whole text
# A check failing on a resource is worse than the same check passing on it: a result listed twice
# (Security Hub keeps one finding per standard) keeps the worse status.
_RANK = {"fail": 3, "pass": 2, "manual": 1, "not_available": 0}


def _is_csv(request: WebhookRequest) -> bool:
    ctype = (request.header("Content-Type") or "").lower()
    head = request.body.lstrip()[:4096].split(b"\n", 1)[0]
    return "csv" in ctype or b";CHECK_ID;" in head


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedBody(f"the body is neither a Prowler CSV nor valid JSON: {exc}") from exc


def read_report(request: WebhookRequest) -> tuple[str, list[CheckResult], int]:
    """(format, results, skipped findings) of a report body."""
    if _is_csv(request):
        return "prowler_csv", parse_prowler_csv(request.body), 0
    doc = _json(request.body)
    if isinstance(doc, dict) and isinstance(doc.get("Findings"), list):
        doc = doc["Findings"]  # `aws securityhub get-findings`
    elif isinstance(doc, dict) and "SchemaVersion" in doc:
        doc = [doc]  # one ASFF finding (an EventBridge `detail.findings` item, a docs example)
    if not isinstance(doc, list):
        raise InvalidPayload(
            'a compliance report is a Prowler CSV, an OCSF or ASFF JSON array, or {"Findings": [...]}',
            code="invalid_report",
            details={"path": ""},
        )
    first = next((f for f in doc if isinstance(f, dict)), {})
    if "class_uid" in first:
        return "ocsf", parse_ocsf(doc), 0
    results, skipped = parse_asff(doc)
    return "asff", results, skipped


def _signal(scanner: str, fmt: str, scope: str, r: CheckResult, taken_at: Any) -> Signal:
    attrs = {
        "scanner": scanner,
        "format": fmt,
        "scope": scope,
        "check_id": r.check_id,
        "title": r.title,
        "status": r.status,
        "muted": r.muted,
        "severity": r.severity,
        "resource": r.resource,
        "region": r.region,
        "controls": r.controls,
        "checked_at": r.at.isoformat(),
        "detail": (r.detail or "")[:DETAIL_CHARS] or None,
    }
    key = short_hash(scanner, scope, r.check_id, r.resource, r.region or "")
    return Signal(KIND, taken_at, scope, attrs, key=key)


class ComplianceReportSource:
    """One upload = one snapshot report; `name` is the tool (prowler / securityhub)."""

    retention_days = 400

    def __init__(self, name: str) -> None:
        self.name = name

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        verify_companyos_signature(request, secrets)

    def parse(self, request: WebhookRequest) -> ParsedDelivery:
        fmt, results, skipped = read_report(request)
        if not results:
            why = f" ({skipped} findings without a Compliance object)" if skipped else ""
            raise InvalidPayload(
                f"the report holds no compliance check results{why}",
                code="no_compliance_results",
                details={"path": "", "skipped": skipped},
            )
        override = (request.header(TARGET_HEADER) or "").strip()[:512] or None
        taken_at = max(r.at for r in results)  # the report's time: its newest result
        by_key: dict[str, Signal] = {}
        for r in results:
            s = _signal(self.name, fmt, override or f"{r.provider}:{r.account}", r, taken_at)
            old = by_key.get(s.key)
            if old is not None:
                worse = s if _RANK[r.status] > _RANK[old.attributes["status"]] else old
                controls = _union(old.attributes["controls"], r.controls)
                s = Signal(KIND, taken_at, s.entity, {**worse.attributes, "controls": controls}, key=s.key)
            by_key[s.key] = s
        content = request.body if override is None else override.encode() + b"\n" + request.body
        return ParsedDelivery(f"{self.name}.{fmt}", content_id(content), list(by_key.values()))


def _union(a: dict[str, list[str]], b: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in a.items()}
    for k, ids in b.items():
        out[k] = sorted({*out.get(k, []), *ids})
    return out


PROWLER = ComplianceReportSource("prowler")
SECURITY_HUB = ComplianceReportSource("securityhub")
