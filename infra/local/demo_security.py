"""Demo security and policy reports: Trivy and Snyk dependency scans and a Gitleaks report, two
uploads each so findings get fixed (real advisories), and seven days of OPA decision logs (gzip)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from companyos.sources.base import hmac_sha256_hex

from infra.local.demo_deliver import Deliverer, ts

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant

# (id, package, installed, fixed, severity, title, published) — real advisories
VULNS = (
    (
        "CVE-2024-3094",
        "xz-utils",
        "5.6.0-0.1",
        "5.6.1+really5.4.5-1",
        "CRITICAL",
        "xz: malicious code in distributed source",
        "2024-03-29",
    ),
    (
        "CVE-2023-44487",
        "golang.org/x/net",
        "0.15.0",
        "0.17.0",
        "HIGH",
        "HTTP/2 rapid reset can cause excessive work",
        "2023-10-10",
    ),
    (
        "CVE-2023-4863",
        "libwebp7",
        "1.2.4-0.2",
        "1.2.4-0.2+deb12u1",
        "HIGH",
        "libwebp: heap buffer overflow in WebP codec",
        "2023-09-12",
    ),
    (
        "CVE-2023-32681",
        "requests",
        "2.28.2",
        "2.31.0",
        "MEDIUM",
        "requests: Proxy-Authorization header leak",
        "2023-05-26",
    ),
    (
        "CVE-2022-40897",
        "setuptools",
        "65.5.0",
        "65.5.1",
        "MEDIUM",
        "setuptools: ReDoS in package_index.py",
        "2022-12-23",
    ),
    (
        "CVE-2024-35195",
        "requests",
        "2.28.2",
        "2.32.0",
        "MEDIUM",
        "requests: verify=False persists on the session",
        "2024-05-20",
    ),
    (
        "CVE-2023-37920",
        "certifi",
        "2022.12.7",
        "2023.7.22",
        "HIGH",
        "certifi: removal of e-Tugra root certificate",
        "2023-07-25",
    ),
    ("CVE-2022-42969", "py", "1.11.0", "", "LOW", "py: ReDoS via a Subversion repository", "2022-10-16"),
)


def scanners(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    for r, (repo, _service, _domain) in enumerate(demo.repos):
        picked = rng.sample(VULNS, k=min(len(VULNS), 3 + r % 3))
        first_at, second_at = now - timedelta(days=30 - r), now - timedelta(days=4 - r % 3)
        kept = [v for i, v in enumerate(picked) if i % 2 == 1 or v[4] == "LOW"]  # half fixed since
        new = [v for v in VULNS if v not in picked][:1]
        for at, vulns in ((first_at, picked), (second_at, kept + new)):
            out.send("trivy", _trivy(repo, at, vulns), {"X-CompanyOS-Target": repo})
        if r < 2:  # Snyk on the first repos (their dependency manifests)
            for vulns in (picked[:3], picked[1:3]):
                out.send("snyk", _snyk(repo, vulns), {"X-CompanyOS-Target": repo})
    repo = demo.repos[0][0]
    leaks = [
        _leak(repo, i, now - timedelta(days=20 + i), rng) for i in range(2 if len(demo.repos) > 1 else 1)
    ]
    out.send("gitleaks", leaks, {"X-CompanyOS-Target": repo})
    out.send("gitleaks", leaks[1:], {"X-CompanyOS-Target": repo})  # the first secret was rotated


def _trivy(repo: str, at: datetime, vulns: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    return {
        "SchemaVersion": 2,
        "CreatedAt": at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "ArtifactName": repo,
        "ArtifactType": "repository",
        "Metadata": {"ImageConfig": {"architecture": "", "os": "", "rootfs": {"type": "", "diff_ids": None}}},
        "Results": [
            {
                "Target": "requirements.txt",
                "Class": "lang-pkgs",
                "Type": "pip",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": vid,
                        "PkgName": pkg,
                        "InstalledVersion": installed,
                        "FixedVersion": fixed,
                        "Status": "fixed" if fixed else "affected",
                        "Severity": severity,
                        "Title": title,
                        "PublishedDate": f"{published}T00:00:00Z",
                    }
                    for vid, pkg, installed, fixed, severity, title, published in vulns
                ],
            }
        ],
    }


def _snyk(repo: str, vulns: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    return {
        "ok": not vulns,
        "vulnerabilities": [
            {
                "id": f"SNYK-PYTHON-{pkg.upper().replace('.', '').replace('/', '')}-{vid[-5:]}",
                "title": title,
                "severity": severity.lower(),
                "packageName": pkg,
                "version": installed,
                "fixedIn": [fixed] if fixed else [],
                "identifiers": {"CVE": [vid], "CWE": []},
                "from": [f"{repo.split('/')[1]}@0.0.0", f"{pkg}@{installed}"],
                "isUpgradable": bool(fixed),
                "publicationTime": f"{published}T00:00:00Z",
            }
            for vid, pkg, installed, fixed, severity, title, published in vulns
        ],
        "dependencyCount": 42,
        "packageManager": "pip",
        "projectName": repo.split("/")[1],
        "displayTargetFile": "requirements.txt",
        "path": f"/home/runner/work/{repo}",
    }


def _leak(repo: str, i: int, at: datetime, rng: random.Random) -> dict[str, Any]:
    rule = ("aws-access-token", "generic-api-key")[i % 2]
    commit = f"{rng.getrandbits(160):040x}"
    return {
        "Description": {"aws-access-token": "AWS", "generic-api-key": "Generic API Key"}[rule],
        "StartLine": 10 + i,
        "EndLine": 10 + i,
        "StartColumn": 15,
        "EndColumn": 55,
        "Match": "REDACTED",
        "Secret": "REDACTED",
        "File": f"deploy/config-{i}.env",
        "SymlinkFile": "",
        "Commit": commit,
        "Entropy": round(rng.uniform(3.5, 4.9), 6),
        "Author": "REDACTED",
        "Email": "REDACTED",
        "Date": ts(at),
        "Message": "REDACTED",
        "Tags": [],
        "RuleID": rule,
        "Fingerprint": f"{commit}:deploy/config-{i}.env:{rule}:{10 + i}",
    }


# ---------------------------------------------------------------------------- OPA


def opa(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    deny = 0.12 if demo.tenant.profile == "admin-heavy" else 0.04
    for day in range(6, -1, -1):
        batch = []
        for i in range(40):
            service = rng.choice(demo.repos)[1]
            at = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            if at > now:
                continue
            batch.append(
                {
                    "labels": {"app": service, "id": f"opa-{service}-1", "version": "0.68.0"},
                    "decision_id": f"{demo.tenant.id}-{day}-{i}-"
                    + hmac_sha256_hex("opa", f"{day}{i}".encode())[:12],
                    "bundles": {"authz": {"revision": f"r{40 + day % 3}"}},
                    "path": rng.choice(("companyos/authz/allow", "companyos/authz/admin")),
                    "input": {"method": "GET", "path": ["api", "kpis"], "subject": {"role": "cto"}},
                    "result": rng.random() >= deny,
                    "requested_by": "10.0.3.14:42118",
                    "timestamp": at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
                    "metrics": {"timer_rego_query_eval_ns": rng.randint(20_000, 400_000)},
                }
            )
        out.send("opa", batch, gzipped=True)
