"""AWS Certificate Manager, read-only: ListCertificates (every key type) + DescribeCertificate, in one
region of the tenant's AWS account — our own account, or the tenant's through a read-only role the
function assumes (`sts:AssumeRole`, optionally with an external id).

ListCertificates returns only RSA_1024/RSA_2048 certificates unless `Includes.keyTypes` says
otherwise (ACM's documented default), so every key type ACM issues or imports is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config

from companyos.adapters.aws import AwsError, error_code

KEY_TYPES = (
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
)
SESSION_NAME = "companyos-certificate-pull"
_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=5, read_timeout=10)


class AcmUnavailable(Exception):
    """ACM (or the role to reach it) said no or did not answer; `code` is AWS's error code."""

    def __init__(self, region: str, code: str, message: str) -> None:
        super().__init__(f"{region}: {code}: {message}")
        self.region, self.code = region, code


def _client(region: str, role_arn: str | None, external_id: str | None) -> Any:
    make: Any = boto3.client
    if not role_arn:
        return make("acm", region_name=region, config=_CONFIG)
    args = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": 900}
    if external_id:
        args["ExternalId"] = external_id
    creds = make("sts", region_name=region, config=_CONFIG).assume_role(**args)["Credentials"]
    return make(
        "acm",
        region_name=region,
        config=_CONFIG,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def describe_certificates(
    region: str, role_arn: str | None = None, external_id: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every certificate of the account in `region`, as DescribeCertificate's `Certificate` object
    (1 + N calls: one paginated list, one describe per certificate)."""
    try:
        acm = _client(region, role_arn, external_id)
        pages = acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": list(KEY_TYPES)})
        arns = [s["CertificateArn"] for page in pages for s in page.get("CertificateSummaryList", [])]
    except AwsError as exc:
        raise AcmUnavailable(region, error_code(exc), str(exc)) from exc
    for arn in arns:
        try:
            yield dict(acm.describe_certificate(CertificateArn=arn).get("Certificate") or {})
        except AwsError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                continue  # deleted between the list and the describe: gone, as the next list says
            raise AcmUnavailable(region, error_code(exc), str(exc)) from exc
