"""Compliance controls and evidence, certificates, vendors: the inventory a tenant manages through the
API, and the pure rules that turn an inventory posture into the roll-up's numbers on a given day.

A *posture* is the tenant's inventory as one document (written on every inventory change, like a
score snapshot). The rules below evaluate a posture at the end of a day, so the same document gives
the value today, at the start of the period (delta) and at every sparkline point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from companyos.domain import clock, verdict

Framework = Literal["SOC2", "ISO27001", "HIPAA"]
FRAMEWORKS: tuple[str, ...] = ("SOC2", "ISO27001", "HIPAA")
CERT_WINDOWS: tuple[int, ...] = (7, 30, 90)
# A certificate cell is "over threshold" (linked to the tenant's list) above these counts.
CERT_THRESHOLDS = verdict.CERT_THRESHOLDS  # the certificate rule owns its thresholds
EVIDENCE_KEPT_PER_CONTROL = 20  # newest evidence items per control carried in the posture
SCANNED_FRAMEWORKS_MAX = 25  # frameworks of a scan history the roll-up reads (the run's rows keep 25)

Ident = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ API inputs


class ControlIn(_Model):
    framework: Framework
    control_id: str = Ident
    title: str = Field(min_length=1, max_length=200)
    owner: str = Field(default="", max_length=200)
    evidence_max_age_days: int = Field(default=90, ge=1, le=730)
    in_scope_since: date | None = Field(
        default=None, description="the day the control became applicable (default: the day it was created)"
    )


class EvidenceIn(_Model):
    result: Literal["pass", "fail"]
    collected_at: datetime
    source: str = Field(min_length=1, max_length=500, description="where the evidence lives (URL, system)")
    note: str = Field(default="", max_length=1000)


CertSource = Literal["api", "acm", "prometheus"]
VendorStatus = Literal["active", "onboarding", "offboarded"]
VENDOR_STATUSES: tuple[str, ...] = ("active", "onboarding", "offboarded")


class CertificateIn(_Model):
    cert_id: str = Ident
    common_name: str = Field(min_length=1, max_length=255)
    not_after: datetime
    issuer: str = Field(default="", max_length=200)
    service: str = Field(default="", max_length=200)
    source: CertSource = Field(
        default="api", description="who keeps it: the API, or a pull connector (acm, prometheus)"
    )
    locator: str = Field(
        default="", max_length=500, description="where it lives: the ACM ARN, or the series' labels"
    )


class VendorIn(_Model):
    vendor_id: str = Ident
    name: str = Field(min_length=1, max_length=200)
    tier: int = Field(ge=1, le=3, description="1 = critical to the business … 3 = low risk")
    owner: str = Field(default="", max_length=200, description="who owns the relationship")
    last_review: date | None = None
    review_interval_days: int = Field(
        default=365, ge=30, le=1095, description="the review cadence: days between two reviews"
    )
    status: VendorStatus = Field(default="active", description="offboarded vendors need no review")


# ------------------------------------------------------------------ stored records


class Control(ControlIn):
    created_at: datetime


class Evidence(EvidenceIn):
    evidence_id: str
    framework: Framework
    control_id: str
    recorded_by: str
    recorded_at: datetime


class Certificate(CertificateIn):
    updated_at: datetime


class Vendor(VendorIn):
    updated_at: datetime
    # when the vendor entered the register (kept by updates and re-imports; records from before this
    # field was kept read their last update as the day they were added)
    created_at: datetime | None = None

    def review_due(self) -> date | None:
        return self.last_review + timedelta(days=self.review_interval_days) if self.last_review else None


def _day(value: str | datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return _day(datetime.fromisoformat(value))


utc = clock.utc


# ------------------------------------------------------------------ the posture document


def posture(
    controls: Iterable[Control],
    evidence: Iterable[Evidence],
    certificates: Iterable[Certificate],
    vendors: Iterable[Vendor],
    computed_at: datetime,
    scanned: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The compact document stored as the tenant's inventory snapshot (what the roll-up reads)."""
    by_control: dict[str, list[dict[str, Any]]] = {}
    for ev in sorted(evidence, key=lambda e: utc(e.collected_at)):
        by_control.setdefault(f"{ev.framework}#{ev.control_id}", []).append(
            {"at": utc(ev.collected_at).isoformat(), "result": ev.result}
        )
    return {
        "computed_at": computed_at.isoformat(),
        # the delivered compliance_score run's framework history (views/compliance_feed.py)
        **({"scanned": dict(scanned)} if scanned else {}),
        "controls": [
            {
                "framework": c.framework,
                "control_id": c.control_id,
                "created": (c.in_scope_since or _day(c.created_at)).isoformat(),
                "max_age": c.evidence_max_age_days,
                "evidence": by_control.get(f"{c.framework}#{c.control_id}", [])[-EVIDENCE_KEPT_PER_CONTROL:],
            }
            for c in controls
        ],
        "certificates": [
            {
                "cert_id": c.cert_id,
                "name": c.common_name,
                "not_after": utc(c.not_after).isoformat(),
                "source": c.source,
            }
            for c in certificates
        ],
        "vendors": [
            {
                "vendor_id": v.vendor_id,
                "name": v.name,
                "tier": v.tier,
                "review_due": d.isoformat() if (d := v.review_due()) else None,
                "added": _day(v.created_at or v.updated_at).isoformat(),
                "status": v.status,
            }
            for v in vendors
        ],
    }


# ------------------------------------------------------------------ rules, evaluated at the end of a day


def control_passes(control: Mapping[str, Any], day: date) -> bool:
    """Passing on `day`: its newest evidence collected by then says pass and is not older than the
    control's maximum evidence age. No evidence is not a pass."""
    latest = None
    for ev in control.get("evidence", []):
        if _day(ev["at"]) <= day:
            latest = ev
    if latest is None or latest["result"] != "pass":
        return False
    return (day - _day(latest["at"])).days <= int(control["max_age"])


def scanned_on(doc: Mapping[str, Any] | None, day: date) -> dict[str, tuple[int, int]]:
    """Per framework of the delivered compliance_score run (Prowler / Security Hub), its evaluated
    controls and passing ones on `day`: the newest change point of its history up to that day."""
    history = ((doc or {}).get("scanned") or {}).get("frameworks") or {}
    out: dict[str, tuple[int, int]] = {}
    for fw, points in sorted(history.items())[:SCANNED_FRAMEWORKS_MAX]:
        latest = None
        for p in points:  # [day, controls, passing], oldest first
            if _day(p[0]) <= day:
                latest = p
        if latest is not None and latest[1]:
            out[fw] = (int(latest[1]), int(latest[2]))
    return out


def scanned_evidence(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The compliance_score run whose framework history the posture carries (a cell's evidence)."""
    scanned = (doc or {}).get("scanned") or {}
    if not scanned.get("run_id"):
        return None
    return {"type": "kpi_run", "kpi_id": scanned.get("kpi_id", "compliance_score"),
            "run_id": scanned["run_id"], "as_of": scanned.get("as_of")}  # fmt: skip


def compliance(doc: Mapping[str, Any] | None, day: date) -> dict[str, dict[str, Any]]:
    """Per framework on `day`: controls, passing, pass rate (percent). The controls managed with
    evidence and the controls of the scan reports add up (a framework may have both)."""
    out: dict[str, dict[str, Any]] = {}
    for c in (doc or {}).get("controls", []):
        if _day(c["created"]) > day:
            continue
        f = out.setdefault(c["framework"], {"controls": 0, "passing": 0})
        f["controls"] += 1
        f["passing"] += int(control_passes(c, day))
    for fw, (controls, passing) in scanned_on(doc, day).items():
        f = out.setdefault(fw, {"controls": 0, "passing": 0})
        f["controls"] += controls
        f["passing"] += passing
    for f in out.values():
        f["pass_rate"] = round(100.0 * f["passing"] / f["controls"], 2)
    return {k: out[k] for k in framework_order(out)}


# Security Hub standards by the slug of their StandardsArn (`standards/<slug>/v/<version>`, kept as
# `<slug> v<version>`), by the short names AWS's documentation gives them (they fit a table cell).
_STANDARD_NAMES = {
    "aws-foundational-security-best-practices": "AWS FSBP",  # AWS's own short name of the standard
    "cis-aws-foundations-benchmark": "CIS AWS Foundations",
    "pci-dss": "PCI DSS",
    "nist-800-53": "NIST SP 800-53",
    "nist-800-171": "NIST SP 800-171",
    "aws-resource-tagging-standard": "AWS Resource Tagging",
}


def framework_label(framework: str) -> str:
    """How a framework is named on a page: a Security Hub standard by its short name
    (`aws-foundational-security-best-practices v1.0.0` → `AWS FSBP v1.0.0`); every other name as the
    tool wrote it (`SOC2`, `CIS-3.0`, `ISO27001-2022`)."""
    slug, sep, version = framework.partition(" v")
    name = _STANDARD_NAMES.get(slug)
    return f"{name}{sep}{version}" if name else framework


def framework_order(names: Iterable[str]) -> list[str]:
    """The managed frameworks first (SOC2, ISO27001, HIPAA), then the scanned ones by name."""
    present = set(names)
    return [f for f in FRAMEWORKS if f in present] + sorted(present - set(FRAMEWORKS))


def has_certificates(doc: Mapping[str, Any] | None) -> bool:
    """A posture with certificates (a posture without any — e.g. one holding only a compliance scan
    — is no certificate inventory: its counts are Unknown, never 0)."""
    return bool((doc or {}).get("certificates"))


def has_vendors(doc: Mapping[str, Any] | None, day: date | None = None) -> bool:
    """The register holds a vendor (by the end of `day`, when given: before that there was nothing
    to count, which is no data, not zero overdue)."""
    vendors = (doc or {}).get("vendors") or []
    return any(day is None or _day(v["added"]) <= day for v in vendors)


def certificate_windows(doc: Mapping[str, Any] | None, day: date) -> dict[str, int]:
    """Certificates expired by the start of `day` (UTC) and those expiring within 7/30/90 days from
    then (cumulative windows: within_30 includes within_7)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    counts = {"expired": 0, **{f"within_{w}": 0 for w in CERT_WINDOWS}}
    for c in (doc or {}).get("certificates", []):
        not_after = utc(datetime.fromisoformat(c["not_after"]))
        if not_after < start:
            counts["expired"] += 1
            continue
        for w in CERT_WINDOWS:
            if not_after < start + timedelta(days=w):
                counts[f"within_{w}"] += 1
    return counts


def certificates_in_window(
    certs: Iterable[Certificate], within: int | None, status: str | None, now: datetime
) -> list[Certificate]:
    """The tenant's certificate list filtered like the roll-up's cells (`?within=7&status=expiring`)."""
    out = []
    for c in certs:
        left = utc(c.not_after) - now
        expired = left.total_seconds() < 0
        if status == "expired" and not expired:
            continue
        if status == "expiring" and expired:
            continue
        if within is not None and left > timedelta(days=within):
            continue
        out.append(c)
    return sorted(out, key=lambda c: utc(c.not_after))


def vendors_out_of_review(doc: Mapping[str, Any] | None, day: date) -> dict[str, Any]:
    """Tier-1 vendors on `day` whose review is overdue: last review + review cadence before `day`
    (never reviewed counts as overdue). Offboarded vendors need no review and are not counted."""
    tier1 = [
        v
        for v in (doc or {}).get("vendors", [])
        if v["tier"] == 1 and _day(v["added"]) <= day and v.get("status", "active") != "offboarded"
    ]
    late = [v for v in tier1 if v["review_due"] is None or _day(v["review_due"]) < day]
    return {"tier1": len(tier1), "out_of_review": len(late), "names": sorted(v["name"] for v in late)}
