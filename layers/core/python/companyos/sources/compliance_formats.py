"""The three report shapes a compliance upload comes in, each read into the same check results:
Prowler's `;`-separated CSV (`-M csv`), Prowler's OCSF JSON (`-M json-ocsf`, class 2004 Detection
Finding) and ASFF (`-M json-asff`, or Security Hub's own findings: `aws securityhub get-findings`).

A result is one check on one resource: its status (pass / fail / manual / not_available), whether it
is muted, and the framework controls it maps to (`{framework: [control ids]}`). Framework names are
kept as the tool writes them (`CIS-3.0`, `SOC2`, `ISO27001-2013`, `NIST.800-53.r5`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from companyos.domain import clock
from companyos.domain.errors import InvalidPayload, MalformedBody
from companyos.sources.base import parse_time, require

STATUSES = ("pass", "fail", "manual", "not_available")
_PROWLER_STATUS = {"PASS": "pass", "FAIL": "fail", "MANUAL": "manual"}
# ASFF Compliance.Status: WARNING = the check ran but could not decide (Security Hub docs)
_ASFF_STATUS = {
    "PASSED": "pass",
    "FAILED": "fail",
    "WARNING": "not_available",
    "NOT_AVAILABLE": "not_available",
}
CSV_REQUIRED = ("TIMESTAMP", "ACCOUNT_UID", "PROVIDER", "CHECK_ID", "STATUS", "RESOURCE_UID", "COMPLIANCE")


@dataclass
class CheckResult:
    check_id: str
    status: str
    at: datetime
    account: str
    provider: str
    resource: str
    controls: dict[str, list[str]]
    region: str | None = None
    title: str | None = None
    severity: str | None = None
    muted: bool = False
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _bad(message: str, path: str, code: str = "invalid_payload") -> InvalidPayload:
    return InvalidPayload(message, code=code, details={"path": path})


def _status(raw: Any, table: Mapping[str, str], path: str) -> str:
    value = table.get(str(raw or "").strip().upper())
    if value is None:
        raise _bad(f"field '{path}' is '{raw}', not one of {', '.join(table)}", path)
    return value


# ------------------------------------------------------------------ Prowler CSV


def _csv_compliance(raw: str) -> dict[str, list[str]]:
    """`CIS-1.4: 1.20 | KISA-ISMS-P-2023: 2.5.6, 2.6.4` → {"CIS-1.4": ["1.20"], ...}."""
    out: dict[str, list[str]] = {}
    for part in raw.split(" | "):
        name, sep, ids = part.partition(": ")
        if sep and name.strip():
            out[name.strip()] = [i.strip() for i in ids.split(", ") if i.strip()]
    return out


def _csv_time(raw: str, path: str) -> datetime:
    """Prowler writes `2025-02-14 14:27:03.913874` (UTC, no zone)."""
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise _bad(f"field '{path}' is not a timestamp: '{raw}'", path) from exc
    return clock.utc(parsed)


def parse_prowler_csv(body: bytes) -> list[CheckResult]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the CSV is not UTF-8: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    missing = [c for c in CSV_REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise _bad(f"the Prowler CSV header lacks {', '.join(missing)}", "header", "invalid_report")
    out = []
    try:
        for n, row in enumerate(reader, start=2):
            out.append(
                CheckResult(
                    check_id=row["CHECK_ID"] or _missing(f"line {n}.CHECK_ID"),
                    status=_status(row["STATUS"], _PROWLER_STATUS, f"line {n}.STATUS"),
                    at=_csv_time(row["TIMESTAMP"] or "", f"line {n}.TIMESTAMP"),
                    account=row["ACCOUNT_UID"] or _missing(f"line {n}.ACCOUNT_UID"),
                    provider=row["PROVIDER"] or "aws",
                    resource=row["RESOURCE_UID"] or row.get("RESOURCE_NAME") or "",
                    controls=_csv_compliance(row["COMPLIANCE"] or ""),
                    region=row.get("REGION") or None,
                    title=row.get("CHECK_TITLE") or None,
                    severity=(row.get("SEVERITY") or "").lower() or None,
                    muted=(row.get("MUTED") or "").strip().lower() == "true",
                    detail=row.get("STATUS_EXTENDED") or None,
                )
            )
    except csv.Error as exc:
        raise MalformedBody(f"the CSV cannot be read: {exc}") from exc
    return out


def _missing(path: str) -> str:
    raise _bad(f"required field '{path}' is missing", path)


# ------------------------------------------------------------------ Prowler OCSF


def _ocsf_time(doc: Any, i: int) -> datetime:
    f = doc[i]
    if isinstance(f.get("time"), int | float):
        return datetime.fromtimestamp(f["time"], UTC)
    info = f.get("finding_info") or {}
    if isinstance(info.get("created_time"), int | float):
        return datetime.fromtimestamp(info["created_time"], UTC)
    return parse_time(require(doc, f"{i}.time_dt"), f"{i}.time_dt")


def parse_ocsf(doc: list[Any]) -> list[CheckResult]:
    out = []
    for i, f in enumerate(doc):
        if not isinstance(f, dict):
            raise _bad("each OCSF finding is an object", str(i))
        if f.get("class_uid") != 2004:
            raise _bad(f"finding {i} is OCSF class {f.get('class_uid')}, not 2004 (Detection Finding)",
                       f"{i}.class_uid", "invalid_report")  # fmt: skip
        unmapped = f.get("unmapped") or {}
        compliance = unmapped.get("compliance") or {}
        if not isinstance(compliance, dict):
            raise _bad("field 'unmapped.compliance' must be an object", f"{i}.unmapped.compliance")
        resources = f.get("resources") or [{}]
        cloud = f.get("cloud") or {}
        out.append(
            CheckResult(
                check_id=str(require(doc, f"{i}.metadata.event_code")),
                status=_status(require(doc, f"{i}.status_code"), _PROWLER_STATUS, f"{i}.status_code"),
                at=_ocsf_time(doc, i),
                account=str(require(doc, f"{i}.cloud.account.uid")),
                provider=str(cloud.get("provider") or "aws"),
                resource=str(resources[0].get("uid") or resources[0].get("name") or ""),
                controls={str(k): [str(c) for c in v or []] for k, v in compliance.items()},
                region=resources[0].get("region") or cloud.get("region"),
                title=(f.get("finding_info") or {}).get("title"),
                severity=str(f.get("severity") or "").lower() or None,
                muted=str(f.get("status") or "").lower() == "suppressed",
                detail=f.get("status_detail"),
            )
        )
    return out


# ------------------------------------------------------------------ ASFF (Prowler or Security Hub)


def _is_prowler(f: Mapping[str, Any]) -> bool:
    fields = f.get("ProductFields") or {}
    return fields.get("ProviderName") == "Prowler" or str(f.get("GeneratorId", "")).startswith("prowler-")


def _standard_name(standards_id: str) -> str:
    """`standards/cis-aws-foundations-benchmark/v/1.4.0` → `cis-aws-foundations-benchmark v1.4.0`."""
    parts = standards_id.split("/")
    if len(parts) >= 4 and parts[-2] == "v":
        return f"{parts[-3]} v{parts[-1]}"
    return standards_id


def asff_controls(f: Mapping[str, Any]) -> dict[str, list[str]]:
    """Prowler writes `RelatedRequirements` as `<framework> <id> <id>...`; Security Hub writes
    `<standard>/<requirement>` (PCI DSS v3.2.1/8.3.1) or `<standard> <requirement>`
    (NIST.800-53.r5 AC-3), and its control is `SecurityControlId` within each associated standard."""
    comp = f.get("Compliance") or {}
    out: dict[str, list[str]] = {}
    for raw in comp.get("RelatedRequirements") or []:
        text = str(raw).strip()
        if _is_prowler(f):
            name, *ids = text.split()
        elif "/" in text:
            name, _, last = text.rpartition("/")
            ids = [last]
        else:
            name, _, last = text.rpartition(" ")
            ids = [last] if name else []
        if name and ids:
            out.setdefault(name, []).extend(ids)
    control = comp.get("SecurityControlId")
    if control and not _is_prowler(f):
        for std in comp.get("AssociatedStandards") or []:
            if isinstance(std, dict) and std.get("StandardsId"):
                out.setdefault(_standard_name(str(std["StandardsId"])), []).append(str(control))
    return out


def parse_asff(doc: list[Any]) -> tuple[list[CheckResult], int]:
    """ASFF findings with a `Compliance` object; the others (GuardDuty threat findings, archived
    records) say nothing about a control and are counted as skipped."""
    out, skipped = [], 0
    for i, f in enumerate(doc):
        if not isinstance(f, dict):
            raise _bad("each ASFF finding is an object", str(i))
        if require(doc, f"{i}.SchemaVersion") != "2018-10-08":
            raise _bad(f"ASFF SchemaVersion {f['SchemaVersion']} is not 2018-10-08", f"{i}.SchemaVersion")
        if not isinstance(f.get("Compliance"), dict) or f.get("RecordState") == "ARCHIVED":
            skipped += 1
            continue
        resources = f.get("Resources") or [{}]
        generator = str(require(doc, f"{i}.GeneratorId"))
        at = f.get("UpdatedAt") or require(doc, f"{i}.CreatedAt")
        out.append(
            CheckResult(
                check_id=f["Compliance"].get("SecurityControlId") or generator.removeprefix("prowler-"),
                status=_status(
                    require(doc, f"{i}.Compliance.Status"), _ASFF_STATUS, f"{i}.Compliance.Status"
                ),
                at=parse_time(at, f"{i}.UpdatedAt"),
                account=str(require(doc, f"{i}.AwsAccountId")),
                provider="aws",
                resource=str(resources[0].get("Id") or ""),
                controls=asff_controls(f),
                region=resources[0].get("Region") or f.get("Region"),
                title=f.get("Title"),
                severity=str((f.get("Severity") or {}).get("Label") or "").lower() or None,
                muted=(f.get("Workflow") or {}).get("Status") == "SUPPRESSED",
                detail=f.get("Description"),
            )
        )
    return out, skipped
