"""Demo compliance reports: Prowler scans of each tenant's AWS account, uploaded through the signed
ingest path like a CI job would (`POST /api/ingest/prowler`, `X-CompanyOS-Signature`), daily for
the last 10 days and weekly before that back to 5 weeks, so the run's framework history has a
day-over-day series and the roll-up's previous-period value.

Northwind uploads `-M json-ocsf` (OCSF Detection Findings, as examples/output/ of Prowler); Globex
uploads `-M csv` (`;`-separated) and, for its second account, Security Hub's own findings (ASFF, the
`aws securityhub get-findings` answer). The checks are real Prowler check ids with mappings in
Prowler's framework naming; which resources fail follows a story per tenant:

* Northwind: steady at ~93 %, until 3 days ago new S3 buckets came without public-access blocks and
  default encryption (SOC2 / ISO 27001 / CIS / HIPAA drop by more than 5 points: the roll-up's red
  chevron, and ComplianceDropped fires).
* Globex: starts at ~65 % and fixes its IAM, GuardDuty and CloudWatch findings over the weeks, up to
  ~93 % (one KMS key without rotation stays open).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

# (check id, title, service, severity, "FW:control FW:control ...") in Prowler's naming
_CATALOGUE = (
    ("iam_root_mfa_enabled", "Ensure MFA is enabled for the root account", "iam", "critical",
     "CIS-3.0:1.5 SOC2:cc_6_1 ISO27001-2022:A.8.5 HIPAA:164_312_d"),
    ("iam_user_mfa_enabled_console_access", "Ensure MFA is enabled for all IAM users with a console password",
     "iam", "high", "CIS-3.0:1.10 SOC2:cc_6_2 ISO27001-2022:A.5.17 HIPAA:164_312_a_2_i"),
    ("iam_password_policy_minimum_length_14", "Ensure IAM password policy requires minimum length of 14",
     "iam", "medium", "CIS-3.0:1.8 SOC2:cc_6_3 ISO27001-2022:A.5.18"),
    ("iam_no_root_access_key", "Ensure no root account access key exists", "iam", "critical",
     "CIS-3.0:1.4 SOC2:cc_6_4 ISO27001-2022:A.8.2 HIPAA:164_308_a_4_ii_b"),
    ("cloudtrail_multi_region_enabled", "Ensure CloudTrail is enabled in all regions", "cloudtrail", "high",
     "CIS-3.0:3.1 SOC2:cc_7_2 ISO27001-2022:A.8.15 HIPAA:164_312_b"),
    ("config_recorder_all_regions_enabled", "Ensure AWS Config is enabled in all regions", "config", "medium",
     "CIS-3.0:3.3 SOC2:cc_7_4 ISO27001-2022:A.8.9 HIPAA:164_308_a_1_ii_a"),
    ("s3_bucket_level_public_access_block", "Check S3 Buckets have Public Access Block enabled", "s3", "high",
     "CIS-3.0:2.1.4 SOC2:cc_6_6 ISO27001-2022:A.8.3 HIPAA:164_308_a_3_i"),
    ("s3_bucket_default_encryption", "Check if S3 buckets have default encryption (SSE) enabled", "s3",
     "medium", "CIS-3.0:2.1.1 SOC2:cc_6_7 ISO27001-2022:A.8.24 HIPAA:164_312_a_2_iv"),
    ("ec2_ebs_default_encryption", "Check if EBS Default Encryption is activated", "ec2", "medium",
     "CIS-3.0:2.2.1 SOC2:cc_6_5 ISO27001-2022:A.8.11 HIPAA:164_312_e_2_ii"),
    ("rds_instance_storage_encrypted", "Check if RDS instances storage is encrypted", "rds", "medium",
     "CIS-3.0:2.3.1 SOC2:cc_8_1 ISO27001-2022:A.8.12 HIPAA:164_312_c_1"),
    ("guardduty_is_enabled", "Check if GuardDuty is enabled", "guardduty", "medium",
     "SOC2:cc_7_1 ISO27001-2022:A.8.16 HIPAA:164_308_a_1_ii_d"),
    ("cloudwatch_log_metric_filter_unauthorized_api_calls", "Ensure a log metric filter and alarm exist for"
     " unauthorized API calls", "cloudwatch", "medium", "CIS-3.0:4.1 SOC2:cc_7_3 ISO27001-2022:A.8.17"),
    ("vpc_flow_logs_enabled", "Ensure VPC Flow Logging is Enabled in all VPCs", "vpc", "medium",
     "CIS-3.0:3.7 SOC2:cc_7_5 ISO27001-2022:A.8.20"),
    ("kms_cmk_rotation_enabled", "Ensure rotation for customer created KMS CMKs is enabled", "kms", "medium",
     "CIS-3.0:3.6 SOC2:cc_6_8 ISO27001-2022:A.8.26"),
    ("account_maintain_current_contact_details", "Maintain current contact details.", "account", "medium",
     "CIS-3.0:1.1 SOC2:cc_2_3"),
)  # fmt: skip


def _controls(spec: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in spec.split():
        fw, control = pair.split(":", 1)
        out.setdefault(fw, []).append(control)
    return out


CHECKS = tuple((c, t, svc, sev, _controls(spec)) for c, t, svc, sev, spec in _CATALOGUE)
MANUAL = {"account_maintain_current_contact_details"}  # Prowler reports it MANUAL


def _resources(service: str, account: str, n: int) -> list[str]:
    if service in ("s3", "rds", "vpc", "kms"):
        kind = {"s3": "bucket", "rds": "db", "vpc": "vpc", "kms": "key"}[service]
        return [f"arn:aws:{service}:eu-west-1:{account}:{kind}/{kind}-{i}" for i in range(n)]
    return [f"arn:aws:{service}:eu-west-1:{account}:account"]  # an account-level check


def _fails(tenant: str, check: str, resource_index: int, days_ago: int) -> bool:
    """The tenant's story of which checks fail on which day."""
    if tenant == "northwind":
        if check in ("s3_bucket_level_public_access_block", "s3_bucket_default_encryption"):
            return days_ago <= 3 and resource_index >= 3  # the new buckets of 3 days ago
        if check == "kms_cmk_rotation_enabled":
            return resource_index == 0
        return check == "vpc_flow_logs_enabled" and resource_index == 1 and days_ago > 20
    fixed_after = {  # Globex fixes its findings one after another
        "iam_root_mfa_enabled": 28,
        "iam_user_mfa_enabled_console_access": 18,
        "guardduty_is_enabled": 14,
        "iam_password_policy_minimum_length_14": 8,
        "cloudwatch_log_metric_filter_unauthorized_api_calls": 2,
        "kms_cmk_rotation_enabled": -1,  # still open
    }
    return check in fixed_after and days_ago > fixed_after[check]


def results(tenant: str, account: str, days_ago: int) -> list[dict[str, Any]]:
    out = []
    for check, title, service, severity, controls in CHECKS:
        buckets = 5 if tenant == "northwind" and days_ago <= 3 else 3
        for i, resource in enumerate(_resources(service, account, buckets if service == "s3" else 2)):
            status = (
                "MANUAL" if check in MANUAL else ("FAIL" if _fails(tenant, check, i, days_ago) else "PASS")
            )
            out.append(
                {
                    "check": check,
                    "title": title,
                    "service": service,
                    "severity": severity,
                    "controls": controls,
                    "resource": resource,
                    "status": status,
                }
            )
    return out


def ocsf(account: str, at: datetime, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prowler's `-M json-ocsf` shape (class 2004 Detection Finding), as in its examples/output/."""
    return [
        {
            "message": f"{r['title']}: {r['status']}",
            "metadata": {
                "event_code": r["check"],
                "product": {
                    "name": "Prowler",
                    "uid": "prowler",
                    "vendor_name": "Prowler",
                    "version": "5.0.0",
                },
                "version": "1.4.0",
            },
            "severity_id": {"low": 2, "medium": 3, "high": 4, "critical": 5}[r["severity"]],
            "severity": r["severity"].capitalize(),
            "status": "New",
            "status_code": r["status"],
            "status_detail": f"{r['resource']}: {r['title']} ({r['status']})",
            "unmapped": {"compliance": r["controls"]},
            "finding_info": {
                "created_time": int(at.timestamp()),
                "created_time_dt": at.isoformat(),
                "title": r["title"],
                "uid": f"prowler-aws-{r['check']}-{account}-{r['resource']}",
            },
            "resources": [
                {
                    "region": "eu-west-1",
                    "group": {"name": r["service"]},
                    "uid": r["resource"],
                    "name": r["resource"].rsplit("/", 1)[-1],
                    "type": "Other",
                }
            ],
            "class_name": "Detection Finding",
            "class_uid": 2004,
            "cloud": {
                "account": {"uid": account, "type": "AWS Account"},
                "provider": "aws",
                "region": "eu-west-1",
            },
            "time": int(at.timestamp()),
            "time_dt": at.isoformat(),
        }
        for r in rows
    ]


CSV_HEADER = [
    "AUTH_METHOD",
    "TIMESTAMP",
    "ACCOUNT_UID",
    "PROVIDER",
    "CHECK_ID",
    "CHECK_TITLE",
    "STATUS",
    "STATUS_EXTENDED",
    "MUTED",
    "SERVICE_NAME",
    "SEVERITY",
    "RESOURCE_UID",
    "REGION",
    "COMPLIANCE",
]


def prowler_csv(account: str, at: datetime, rows: list[dict[str, Any]]) -> bytes:
    """Prowler's `-M csv`: `;`-separated, `COMPLIANCE` as `FW: id, id | FW2: id` (a subset of its columns)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        compliance = " | ".join(f"{fw}: {', '.join(ids)}" for fw, ids in r["controls"].items())
        w.writerow(
            [
                "profile",
                at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                account,
                "aws",
                r["check"],
                r["title"],
                r["status"],
                f"{r['title']} ({r['status']})",
                "False",
                r["service"],
                r["severity"],
                r["resource"],
                "eu-west-1",
                compliance,
            ]
        )
    return buf.getvalue().encode()


def security_hub(account: str, at: datetime, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """`aws securityhub get-findings` answer: ASFF control findings (Security Hub's own standards)."""
    controls = {
        "iam_root_mfa_enabled": "IAM.6",
        "cloudtrail_multi_region_enabled": "CloudTrail.1",
        "s3_bucket_level_public_access_block": "S3.8",
        "guardduty_is_enabled": "GuardDuty.1",
    }
    return {
        "Findings": [
            {
                "SchemaVersion": "2018-10-08",
                "Id": f"{HUB}:{account}:security-control/{controls[r['check']]}/finding/{i}",
                "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
                "GeneratorId": f"security-control/{controls[r['check']]}",
                "AwsAccountId": account,
                "CreatedAt": ts(at),
                "UpdatedAt": ts(at),
                "Severity": {"Label": r["severity"].upper()},
                "Title": r["title"],
                "Resources": [{"Type": "AwsAccount", "Id": r["resource"], "Region": "eu-west-1"}],
                "Compliance": {
                    "Status": "PASSED" if r["status"] == "PASS" else "FAILED",
                    "SecurityControlId": controls[r["check"]],
                    "AssociatedStandards": [{"StandardsId": FSBP}],
                },
                "RecordState": "ACTIVE",
                "Workflow": {"Status": "NEW"},
            }
            for i, r in enumerate(rows)
            if r["check"] in controls
        ]
    }


HUB = "arn:aws:securityhub:eu-west-1"
FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
REPORT_DAYS = (*range(35, 10, -7), *range(10, -1, -1))  # weekly, then daily up to today


ACCOUNTS = {"northwind": ("111122223333",), "globex": ("444455556666", "777788880000")}


def scopes(tenant: str) -> list[str]:
    """The report scopes (`aws:<account>`) the tenant's uploads name: mapped to its platform service."""
    return [f"aws:{a}" for a in ACCOUNTS.get(tenant, ("999900001111",))]


def seed_compliance(out: Deliverer, demo: DemoTenant, now: datetime) -> int:
    """Upload the tenant's reports oldest first; returns how many were stored."""
    tenant = demo.tenant.id
    account, *others = ACCOUNTS.get(tenant, ("999900001111",))
    before = out.counts.get("prowler", 0) + out.counts.get("securityhub", 0)
    for days_ago in REPORT_DAYS:
        at = datetime.combine((now - timedelta(days=days_ago)).date(), time(4, 30), UTC)
        at = min(at, now - timedelta(minutes=5))
        rows = results(tenant, account, days_ago)
        target = {"X-CompanyOS-Target": f"aws:{account}"}
        if tenant == "globex":
            out.send_raw("prowler", prowler_csv(account, at, rows), {"Content-Type": "text/csv", **target})
            second = others[0]
            hub = security_hub(second, at, results(tenant, second, days_ago))
            out.send("securityhub", hub, {"X-CompanyOS-Target": f"aws:{second}"})
        else:
            out.send("prowler", ocsf(account, at, rows), target)
    return out.counts.get("prowler", 0) + out.counts.get("securityhub", 0) - before
