"""Demo deliveries for every source, in each tool's real format, signed with the tool's own scheme
and ingested through `companyos.ingest.ingest()` (the webhook function's logic): GitHub pushes and
builds leading to the seeded deployments, PagerDuty v3 incident events, Trivy / Snyk / Gitleaks
reports (two uploads each, so findings get fixed), OPA decision logs (gzip, bearer token), our own
analytics / feature-flag / NPS / billing / OKR formats, Prometheus through the pull connector against
a local fake Prometheus, and a CUR 2.0 Parquet export queried through `CostQuery`.

Everything is deterministic per tenant (seeded RNGs) and batched where the source batches.
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from companyos.adapters import lake
from companyos.adapters.repos import Catalog
from companyos.ingest import ingest, secrets_from_value
from companyos.runs import contracts
from companyos.sources import cur, prometheus
from companyos.sources.base import WebhookRequest, hmac_sha256_hex

from infra.local import demo_billing, demo_product
from infra.local.demo_billing import BillingProfile
from infra.local.demo_billing import poisson as _poisson
from infra.local.fake_prometheus import DemoSeries, FakePrometheus, ServiceProfile

if TYPE_CHECKING:
    from infra.local.seed import DemoTenant
    from infra.local.stack import LocalStack

SOURCES = (
    "pagerduty",
    "trivy",
    "snyk",
    "gitleaks",
    "opa",
    "analytics",
    "feature_flags",
    "nps",
    "billing",
    "okr",
)
FAKE_PROMETHEUS: dict[str, FakePrometheus] = {}  # per tenant; kept running for later pulls
CUR_EXPORTS: dict[str, str] = {}  # tenant -> Parquet folder


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Deliverer:
    """Signs a body the way the tool does and hands it to `ingest()`; counts what was stored."""

    def __init__(self, stack: LocalStack, tenant_id: str, secrets: dict[str, str]) -> None:
        assert stack.settings
        sm, prefix = boto3.client("secretsmanager"), stack.settings.webhook_secret_prefix
        self.tenant_id = tenant_id
        self.counts: dict[str, int] = {}
        cache: dict[tuple[str, str], list[str]] = {}

        def lookup(tenant: str, source: str) -> list[str]:  # cached like the function's (max_age)
            if (tenant, source) not in cache:
                raw = sm.get_secret_value(SecretId=f"{prefix}/{tenant}/{source}")["SecretString"]
                cache[(tenant, source)] = secrets_from_value(raw)
            return cache[(tenant, source)]

        self.lookup, self.secrets = lookup, secrets
        self.sends = 0

    def send(
        self, source: str, doc: Any, headers: dict[str, str] | None = None, *, gzipped: bool = False
    ) -> None:
        body = json.dumps(doc).encode()
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if gzipped:
            body = gzip.compress(body, mtime=0)
            hdrs["content-encoding"] = "gzip"
        secret = self.secrets[source]
        if source == "github":
            hdrs["x-hub-signature-256"] = "sha256=" + hmac_sha256_hex(secret, body)
        elif source == "pagerduty":  # PagerDuty may send several v1= (rotation); one is enough here
            hdrs["x-pagerduty-signature"] = "v1=" + hmac_sha256_hex(secret, body)
        elif source == "opa":
            hdrs["authorization"] = f"Bearer {secret}"  # OPA's services[].credentials.bearer
        else:
            hdrs["x-companyos-signature"] = "sha256=" + hmac_sha256_hex(secret, body)
        result = ingest(
            self.tenant_id,
            source,
            WebhookRequest(hdrs, body),
            max_bytes=1_000_000,
            secrets=self.lookup,
            start_run=lambda *_: None,  # the seed runs every KPI once at the end
        )
        if result.status == "stored":
            self.counts[source] = self.counts.get(source, 0) + 1


def seed_sources(
    stack: LocalStack,
    demo: DemoTenant,
    github_secret: str,
    now: datetime,
    deployed: Sequence[tuple[str, str, str, datetime]],
) -> dict[str, Any]:
    tenant_id = demo.tenant.id
    catalog = Catalog().tenant(tenant_id)
    domains = {service: domain for _, service, domain in demo.repos}
    secrets = {"github": github_secret}
    for source in SOURCES:
        secrets[source] = hmac_sha256_hex(github_secret, source.encode())[:32]  # distinct, reproducible
        stack.put_webhook_secret(tenant_id, source, secrets[source])
    for repo, service, domain in demo.repos:
        for scanner in ("trivy", "snyk", "gitleaks"):
            catalog.map_source_entity(scanner, repo, service, domain)
        catalog.map_source_entity("opa", service, service, domain)
        catalog.map_source_entity("prometheus", service, service, domain)
    for pd_id, service in demo.pd_services:
        catalog.map_source_entity("pagerduty", pd_id, service, domains[service])
    for product in demo.products:
        catalog.map_source_entity("analytics", product, demo.repos[0][1], "Product")
        catalog.map_source_entity("nps", product, demo.repos[0][1], "Product")
    out = Deliverer(stack, tenant_id, secrets)
    rng = random.Random(f"{tenant_id}-sources")
    seconds: dict[str, float] = {}

    def timed(name: str, step: Callable[[], object]) -> object:
        started = time.monotonic()
        result = step()
        seconds[name] = round(time.monotonic() - started, 1)
        return result

    timed("github", lambda: _github_builds(out, demo, deployed, rng))
    timed("pagerduty", lambda: _pagerduty(out, demo, now, rng))
    timed("scanners", lambda: _scanners(out, demo, now, rng))
    timed("opa", lambda: _opa(out, demo, now, rng))
    telemetry = timed("analytics_flags", lambda: demo_product.seed(out, demo, now, rng))
    timed("business", lambda: _business(out, demo, now, rng))
    counts: dict[str, Any] = dict(out.counts)
    counts["product"] = telemetry
    counts["prometheus_signals"] = timed("prometheus", lambda: _prometheus(demo, now))
    counts["cur_rows"] = timed("cur", lambda: _cur(demo, now))
    counts["seconds"] = seconds
    return counts


# ---------------------------------------------------------------------------- GitHub


def _repo(full_name: str) -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": int(hmac_sha256_hex("repo", full_name.encode())[:7], 16),
        "name": name,
        "full_name": full_name,
        "private": True,
        "owner": {"login": owner, "type": "Organization"},
        "default_branch": "main",
    }


BUILD_DAYS = 14  # pushes and builds for the deployments of the last 14 days (demo start time)
AUTHORS = ("alice", "bruno", "chen", "dara", "eli", "fatima", "goran")


def _github_builds(
    out: Deliverer, demo: DemoTenant, deployed: Sequence[tuple[str, str, str, datetime]], rng: random.Random
) -> None:
    """For every deployment: the push of its commits (the last one is the deployed sha), the CI
    workflow run on it, and sometimes a lint check run; a share of extra runs fail."""
    previous: dict[str, str] = {}
    recent = [d for d in deployed if d[3] >= max(x[3] for x in deployed) - timedelta(days=BUILD_DAYS)]
    for n, (repo, sha, _state, at) in enumerate(sorted(recent, key=lambda d: d[3])):
        built = at - timedelta(minutes=rng.randint(2, 20))
        commits: list[dict[str, Any]] = []
        for i in range(rng.choice((1, 1, 2, 3))):
            cid = sha if i == 0 else f"{rng.getrandbits(160):040x}"
            committed = built - timedelta(minutes=rng.randint(15, 60 * 30)) - timedelta(minutes=20 * i)
            author = rng.choice(AUTHORS)
            commits.append(
                {
                    "id": cid,
                    "tree_id": f"{rng.getrandbits(160):040x}",
                    "distinct": True,
                    "message": f"{rng.choice(('fix', 'feat', 'chore', 'refactor'))}: change {n}.{i}",
                    "timestamp": _ts(committed),
                    "author": {
                        "name": author.title(),
                        "email": f"{author}@users.noreply.github.com",
                        "username": author,
                    },
                    "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
                    "added": [],
                    "removed": [],
                    "modified": ["src/app.py"],
                }
            )
        commits.reverse()  # oldest first, as GitHub lists them; the head is the deployed sha
        pusher = rng.choice(AUTHORS)
        before = previous.get(repo, "0" * 40)
        previous[repo] = sha
        out.send(
            "github",
            {
                "ref": "refs/heads/main",
                "before": before,
                "after": sha,
                "created": False,
                "deleted": False,
                "forced": False,
                "compare": f"https://github.com/{repo}/compare/{before[:12]}...{sha[:12]}",
                "commits": commits,
                "head_commit": commits[-1],
                "repository": _repo(repo),
                "pusher": {"name": pusher},
                "sender": {"login": pusher, "type": "User"},
            },
            {"X-GitHub-Event": "push", "X-GitHub-Delivery": f"{demo.tenant.id}-push-{n}"},
        )
        runs = [("success", sha)] + ([("failure", commits[0]["id"])] if rng.random() < 0.12 else [])
        for k, (conclusion, head) in enumerate(runs):
            duration = rng.randint(240, 900) + (300 if demo.tenant.profile == "admin-heavy" else 0)
            finished = built - timedelta(minutes=30 * k)
            started = finished - timedelta(seconds=duration)
            run_id = 7_000_000 + n * 10 + k
            out.send(
                "github",
                {
                    "action": "completed",
                    "workflow_run": {
                        "id": run_id,
                        "name": "CI",
                        "head_branch": "main",
                        "head_sha": head,
                        "run_number": n + 1,
                        "event": "push",
                        "status": "completed",
                        "conclusion": conclusion,
                        "workflow_id": 4242,
                        "run_attempt": 1,
                        "created_at": _ts(started - timedelta(seconds=rng.randint(5, 90))),
                        "run_started_at": _ts(started),
                        "updated_at": _ts(finished),
                    },
                    "workflow": {"id": 4242, "name": "CI", "path": ".github/workflows/ci.yml"},
                    "repository": _repo(repo),
                    "sender": {"login": "github-actions[bot]", "type": "Bot"},
                },
                {"X-GitHub-Event": "workflow_run", "X-GitHub-Delivery": f"{demo.tenant.id}-wr-{run_id}"},
            )
        if n % 6 == 0:
            out.send(
                "github",
                {
                    "action": "completed",
                    "check_run": {
                        "id": 8_000_000 + n,
                        "head_sha": sha,
                        "name": "lint",
                        "status": "completed",
                        "conclusion": "failure" if rng.random() < 0.1 else "success",
                        "started_at": _ts(built - timedelta(seconds=150)),
                        "completed_at": _ts(built - timedelta(seconds=60)),
                        "app": {"slug": "github-actions", "name": "GitHub Actions"},
                        "check_suite": {"id": 9_000_000 + n, "head_branch": "main", "head_sha": sha},
                    },
                    "repository": _repo(repo),
                    "sender": {"login": "github-actions[bot]", "type": "Bot"},
                },
                {"X-GitHub-Event": "check_run", "X-GitHub-Delivery": f"{demo.tenant.id}-cr-{n}"},
            )


# ---------------------------------------------------------------------------- PagerDuty v3

PRIORITIES = {"P1": "PRIO0P1", "P2": "PRIO0P2", "P3": "PRIO0P3"}
TITLES = ("High error rate", "Latency above SLO", "Queue backlog growing", "Pod crash loop", "5xx spike")


def _pagerduty(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    sub = demo.tenant.id
    number = 0
    for day in range(demo.days, -1, -1):
        for _ in range(_poisson(rng, demo.incidents_per_day)):
            number += 1
            pd_id, service = rng.choice(demo.pd_services)
            r = rng.random()
            priority = "P1" if r < demo.p1_share else "P2" if r < demo.p1_share + 0.35 else "P3"
            triggered = now - timedelta(days=day, seconds=rng.randint(0, 86000))
            fast = {"P1": 1, "P2": 2, "P3": 4}[priority]
            acked = triggered + timedelta(minutes=rng.uniform(0.5, 12) * fast)
            resolved = acked + timedelta(minutes=rng.uniform(10, 80) * fast)
            incident = f"Q{sub[:3].upper()}{number:05d}"
            title = f"[{service}] {rng.choice(TITLES)}"
            steps = [
                ("incident.triggered", "triggered", triggered),
                ("incident.acknowledged", "acknowledged", acked),
            ]
            if priority == "P2" and rng.random() < 0.25:  # escalated after the acknowledgement
                steps.append(("incident.priority_updated", "acknowledged", acked + timedelta(minutes=3)))
                priority_after = "P1"
            else:
                priority_after = priority
            steps.append(("incident.resolved", "resolved", resolved))
            for k, (event_type, status, at) in enumerate(steps):
                if at > now:
                    break
                prio = (
                    priority_after
                    if event_type in ("incident.priority_updated", "incident.resolved")
                    else priority
                )
                out.send("pagerduty", _pd_event(sub, incident, number, event_type, status, at, triggered,
                                                pd_id, service, prio, title, f"{incident}-{k}"))  # fmt: skip


def _pd_event(
    sub: str,
    incident: str,
    number: int,
    event_type: str,
    status: str,
    at: datetime,
    created: datetime,
    pd_id: str,
    service: str,
    priority: str,
    title: str,
    event_key: str,
) -> dict[str, Any]:
    base = f"https://{sub}.pagerduty.com"
    return {
        "event": {
            "id": "01" + hmac_sha256_hex("pd", event_key.encode())[:24].upper(),
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "agent": {
                "html_url": f"{base}/users/PUSR01",
                "id": "PUSR01",
                "self": "https://api.pagerduty.com/users/PUSR01",
                "summary": "On-call engineer" if status != "triggered" else "Alertmanager",
                "type": "user_reference" if status != "triggered" else "service_reference",
            },
            "client": None,
            "data": {
                "id": incident,
                "type": "incident",
                "self": f"https://api.pagerduty.com/incidents/{incident}",
                "html_url": f"{base}/incidents/{incident}",
                "number": number,
                "status": status,
                "incident_key": hmac_sha256_hex("key", incident.encode())[:32],
                "created_at": _ts(created),
                "title": title,
                "service": {
                    "html_url": f"{base}/services/{pd_id}",
                    "id": pd_id,
                    "self": f"https://api.pagerduty.com/services/{pd_id}",
                    "summary": service,
                    "type": "service_reference",
                },
                "assignees": [],
                "escalation_policy": {
                    "id": "PESC01",
                    "summary": f"{service} on-call",
                    "type": "escalation_policy_reference",
                },
                "teams": [{"id": "PTEAM1", "summary": "Platform", "type": "team_reference"}],
                "priority": {
                    "html_url": f"{base}/account/incident_priorities",
                    "id": PRIORITIES[priority],
                    "self": f"https://api.pagerduty.com/priorities/{PRIORITIES[priority]}",
                    "summary": priority,
                    "type": "priority_reference",
                },
                "urgency": "high" if priority != "P3" else "low",
                "conference_bridge": None,
                "resolve_reason": None,
            },
        }
    }


# ---------------------------------------------------------------------------- security reports

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


def _scanners(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
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
        "Date": _ts(at),
        "Message": "REDACTED",
        "Tags": [],
        "RuleID": rule,
        "Fingerprint": f"{commit}:deploy/config-{i}.env:{rule}:{10 + i}",
    }


# ---------------------------------------------------------------------------- OPA


def _opa(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
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


# ---------------------------------------------------------------------------- product, business


def _business(out: Deliverer, demo: DemoTenant, now: datetime, rng: random.Random) -> None:
    responses = []
    for n in range(demo.accounts * 2 // 3):
        r = rng.random()
        score = rng.randint(9, 10) if r < 0.5 else rng.randint(7, 8) if r < 0.78 else rng.randint(0, 6)
        responses.append(
            {
                "id": f"nps-{n}",
                "responded_at": (now - timedelta(days=rng.uniform(0, demo.days))).isoformat(),
                "score": score,
                "respondent_id": f"u{n:04d}",
                "account_id": f"acct-{n % demo.accounts:03d}",
                "survey_id": "relationship-q",
                "product": rng.choice(demo.products),
            }
        )
    out.send("nps", {"responses": responses})
    for batch in demo_billing.batches(
        demo_billing.billing_events(demo.tenant.id, BillingProfile(demo.accounts), now)
    ):
        out.send("billing", batch)
    quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    okrs = [
        ("o1", "Ship reliably", "kr1", "Change failure rate under 10%", 100, 100 - demo.failure_rate * 400),
        ("o1", "Ship reliably", "kr2", "Deploy every service daily", 30, 12 + demo.deploys_per_day * 2),
        ("o2", "Grow revenue", "kr3", "Net new MRR", 50000, 21000 * rng.uniform(0.8, 1.2)),
        ("o2", "Grow revenue", "kr4", "Enterprise logos", 10, 4),
        ("o3", "Delight customers", "kr5", "NPS above 40", 40, 31),
    ]
    out.send(
        "okr",
        {
            "updates": [
                {
                    "id": f"okr-{kr}-{now:%Y%m%d}",
                    "as_of": (now - timedelta(hours=6)).isoformat(),
                    "period": quarter,
                    "objective_id": oid,
                    "objective": obj,
                    "key_result_id": kr,
                    "key_result": text,
                    "owner": demo.users[0][0],
                    "start_value": 0,
                    "target_value": target,
                    "current_value": round(current, 2),
                    "confidence": 0.6,
                }
                for oid, obj, kr, text, target, current in okrs
            ]
        },
    )


# ---------------------------------------------------------------------------- Prometheus, CUR

DEMO_QUERIES = (
    demo_product.API_REQUESTS_QUERY,
    (
        "slo_good_1d",
        "slo_good",
        "slo_window",
        'sum by (service) (increase(http_requests_total{code!~"5.."}[1d]))',
        86400,
        28,
    ),
    (
        "slo_total_1d",
        "slo_total",
        "slo_window",
        "sum by (service) (increase(http_requests_total[1d]))",
        86400,
        28,
    ),
    (
        "slo_good_1h",
        "slo_good",
        "slo_window",
        'sum by (service) (increase(http_requests_total{code!~"5.."}[1h]))',
        3600,
        12,
    ),
    (
        "slo_total_1h",
        "slo_total",
        "slo_window",
        "sum by (service) (increase(http_requests_total[1h]))",
        3600,
        12,
    ),
    (
        "availability_1d",
        "availability",
        "slo_window",
        'avg by (service) (avg_over_time(up{job="app"}[1d]))',
        86400,
        14,
    ),
    (
        "latency_p95",
        "latency_p95_s",
        "prom_sample",
        "histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))",
        3600,
        12,
    ),
    (
        "latency_p99",
        "latency_p99_s",
        "prom_sample",
        "histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))",
        3600,
        12,
    ),
    (  # used share of the provisioned CPU / memory (container limits): infra_utilization, capacity
        "cpu_utilisation",
        "cpu_utilisation",
        "prom_sample",
        'sum by (service) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="cpu"})',
        3600,
        24,
    ),
    (
        "memory_utilisation",
        "memory_utilisation",
        "prom_sample",
        'sum by (service) (container_memory_working_set_bytes{container!=""})'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="memory"})',
        3600,
        24,
    ),
    (  # their daily means (prom_daily, kept 2 years): what 28/90/365-day utilisation windows read
        "cpu_utilisation_1d",
        "cpu_utilisation",
        "prom_daily",
        "avg by (service) (avg_over_time(("
        'sum by (service) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="cpu"}))[1d:5m]))',
        86400,
        28,
    ),
    (
        "memory_utilisation_1d",
        "memory_utilisation",
        "prom_daily",
        "avg by (service) (avg_over_time(("
        'sum by (service) (container_memory_working_set_bytes{container!=""})'
        ' / sum by (service) (kube_pod_container_resource_limits{resource="memory"}))[1d:5m]))',
        86400,
        28,
    ),
)


def demo_prometheus_config(base_url: str) -> prometheus.PrometheusConfig:
    return prometheus.PrometheusConfig(
        base_url=base_url,
        queries=tuple(
            prometheus.PromQuerySpec(id=i, metric=m, kind=k, promql=q, step_s=step, lookback_steps=lb)
            for i, m, k, q, step, lb in DEMO_QUERIES
        ),
    )


def _prometheus(demo: DemoTenant, now: datetime) -> int:
    rng = random.Random(f"{demo.tenant.id}-prom")
    profiles = [
        ServiceProfile(
            service,
            demo.requests_per_s * rng.uniform(0.4, 1.6),
            rng.uniform(0.0003, 0.004),
            rng.uniform(80, 450),
            rng.uniform(0.25, 0.75),
            random.Random(f"{demo.tenant.id}-{service}-memory").uniform(0.3, 0.93),
        )
        for _, service, _ in demo.repos
    ]
    if demo.tenant.id in FAKE_PROMETHEUS:
        FAKE_PROMETHEUS.pop(demo.tenant.id).stop()
    fake = FAKE_PROMETHEUS[demo.tenant.id] = FakePrometheus(DemoSeries(profiles)).start()
    config = demo_prometheus_config(fake.url)
    prometheus.save_config(demo.tenant.id, config)
    return int(prometheus.pull_tenant(demo.tenant.id, config, now=now)["signals"])


def _cur(demo: DemoTenant, now: datetime) -> int:
    accounts = [
        cur.DemoAccount(
            f"{abs(hash_int(demo.tenant.id, i)) % 10**12:012d}",
            f"{demo.tenant.id}-{name}",
            tuple(s for _, s, _ in demo.repos),
            demo.requests_per_s * factor,
        )
        for i, (name, factor) in enumerate((("prod", 9.0), ("shared", 2.5)))
    ]
    folder = tempfile.mkdtemp(prefix=f"companyos-cur-{demo.tenant.id}-")
    start = (now - timedelta(days=75)).date().replace(day=1)
    cur.write_demo_cur(folder, accounts, start, (now.date() - start).days + 1, seed=demo.tenant.id)
    CUR_EXPORTS[demo.tenant.id] = folder
    # the table name of the CUR 2.0 Glue table in AWS (infra/aws/cost.py), which the cost contracts read
    lake.register(f"cur_{demo.tenant.id}", lake.DuckDbLake({"cur2": cur.parquet_glob(folder)}))
    costs = cur.CostQuery(lake.get(f"cur_{demo.tenant.id}"), table="cur2")
    if demo.cost_plan_growth is not None:
        _cost_plan(demo.tenant.id, costs, now.date(), demo.cost_plan_growth)
    return len(costs.monthly("service", start, now.date()))


def _cost_plan(tenant_id: str, costs: cur.CostQuery, today: date, growth: float) -> None:
    """The tenant's monthly cloud budget: last month's amortized CUR cost x (1 + growth), as a tenant
    version of the infra_cost_mtd contract with the budget_vs_actual extension (pro rata to date)."""
    last_end = today.replace(day=1) - timedelta(days=1)
    spent = sum(r.cost for r in costs.monthly("account", last_end.replace(day=1), last_end, "amortized"))
    base = contracts.get("infra_cost_mtd")
    plan = contracts.Contract.model_validate(
        {
            **base.to_state(),
            "tenant_id": tenant_id,
            "variant_label": f"monthly budget: last month x {1 + growth:g}",
            "params": {**base.params, "budget": round(spent * (1 + growth), -2), "budget_period": "7d"},
            "extensions": [*base.extensions, "budget_vs_actual"],
        }
    )
    store = contracts.ContractStore(tenant_id)
    if store.version(plan.kpi_id, plan.version) is None:
        store.publish(plan)
    store.activate(plan.kpi_id, plan.version)


def hash_int(*parts: object) -> int:
    return int(hmac_sha256_hex("cur", "|".join(map(str, parts)).encode())[:12], 16)
