"""Demo deliveries for every source, in each tool's real format, signed with the tool's own scheme
and ingested through `companyos.ingest.ingest()` (the webhook function's logic; `demo_deliver`):
GitHub pushes and builds leading to the seeded deployments (`demo_github`), PagerDuty v3 incident
events (`demo_incidents`) and GitHub postmortem issues naming them (`demo_postmortems`),
Trivy / Snyk / Gitleaks reports (two uploads each, so findings get fixed)
and OPA decision logs (gzip, bearer token) (`demo_security`), Okta / Auth0 / CloudTrail sign-ins,
WAF logs in Firehose requests, GuardDuty findings and GitHub security review requests
(`demo_threats`), our own analytics / feature-flag
(`demo_product`) and NPS / billing / OKR formats (`demo_business`), Prometheus through the pull
connector against a local fake Prometheus (`demo_prometheus`), a CUR 2.0 Parquet export queried
through `CostQuery` (`demo_cur`), Toggl CSV / Jira worklog time tracking (`demo_toil`), Stripe
webhook events and monthly finance uploads (`demo_finance`), CI test coverage reports (Cobertura,
lcov, JaCoCo; `demo_coverage`), Prowler / Security Hub compliance reports (`demo_compliance`), and
ACM certificates pulled through the ACM connector and a vendor register imported through the admin
API's CSV import (`demo_inventory`).

Everything is deterministic per tenant (seeded RNGs) and batched where the source batches.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from companyos.adapters.repos import Catalog
from companyos.sources.base import hmac_sha256_hex

from infra.local import (
    demo_business,
    demo_compliance,
    demo_coverage,
    demo_cur,
    demo_finance,
    demo_github,
    demo_incidents,
    demo_integrations,
    demo_inventory,
    demo_postmortems,
    demo_product,
    demo_prometheus,
    demo_security,
    demo_threats,
    demo_toil,
)
from infra.local.demo_deliver import Deliverer
from infra.local.demo_status import SeedProgress

if TYPE_CHECKING:
    from infra.local.demo_tenants import DemoTenant
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
    "time_tracking",
    "stripe",
    "finance",
    *("okta", "auth0", "cloudtrail", "aws_waf", "guardduty"),
    "coverage",
    "prowler",
    "securityhub",
)
# the seed's steps per tenant after its deployments (`SeedProgress` labels), in the order they run
STEPS = {
    "github": "GitHub pushes and builds",
    "pagerduty": "PagerDuty incidents",
    "postmortems": "GitHub postmortem issues",
    "scanners": "Trivy, Snyk and Gitleaks reports",
    "opa": "OPA decision logs",
    "analytics_flags": "product analytics and feature flags",
    "business": "NPS, billing and OKRs",
    "prometheus": "Prometheus pull",
    "cur": "CUR 2.0 cost export",
    "time_tracking": "Toggl and Jira time tracking",
    "finance": "Stripe events and finance uploads",
    "threats": "sign-in, WAF and GuardDuty logs, security reviews",
    "coverage": "CI coverage reports",
    "compliance": "Prowler and Security Hub compliance reports",
    "inventory": "ACM certificates and the vendor register",
}


def seed_sources(
    stack: LocalStack,
    demo: DemoTenant,
    github_secret: str,
    now: datetime,
    deployed: Sequence[tuple[str, str, str, datetime]],
    progress: SeedProgress | None = None,
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
        catalog.map_source_entity("coverage", repo, service, domain)
        catalog.map_source_entity("opa", service, service, domain)
        catalog.map_source_entity("prometheus", service, service, domain)
    for scope in demo_compliance.scopes(tenant_id):
        for tool in ("prowler", "securityhub"):
            catalog.map_source_entity(tool, scope, demo.repos[0][1], demo.repos[0][2])
    for pd_id, service in demo.pd_services:
        catalog.map_source_entity("pagerduty", pd_id, service, domains[service])
    for product in demo.products:
        catalog.map_source_entity("analytics", product, demo.repos[0][1], "Product")
        catalog.map_source_entity("nps", product, demo.repos[0][1], "Product")
    out = Deliverer(stack, tenant_id, secrets)
    rng = random.Random(f"{tenant_id}-sources")
    seconds: dict[str, float] = {}
    progress = progress or SeedProgress()

    def timed(name: str, step: Callable[[], object]) -> object:
        with progress.step_of(f"{tenant_id}: {STEPS[name]}"):
            started = time.monotonic()
            result = step()
            seconds[name] = round(time.monotonic() - started, 1)
        return result

    timed("github", lambda: demo_github.github_builds(out, demo, deployed, rng))
    resolved = timed("pagerduty", lambda: demo_incidents.pagerduty(out, demo, now, rng))
    timed("postmortems", lambda: demo_postmortems.seed(out, demo, now, resolved))  # type: ignore[arg-type]
    timed("scanners", lambda: demo_security.scanners(out, demo, now, rng))
    timed("opa", lambda: demo_security.opa(out, demo, now, rng))
    timed("threats", lambda: demo_threats.seed(out, demo, now, rng))
    telemetry = timed("analytics_flags", lambda: demo_product.seed(out, demo, now, rng))
    timed("business", lambda: demo_business.business(out, demo, now, rng))
    counts: dict[str, Any] = dict(out.counts)
    counts["product"] = telemetry
    counts["prometheus_signals"] = timed("prometheus", lambda: demo_prometheus.seed_prometheus(demo, now))
    demo_integrations.save_deeplinks(stack, demo)  # trace / log links, as an admin sets them
    counts["cur_rows"] = timed("cur", lambda: demo_cur.seed_cur(demo, now))
    counts["time_tracking"] = timed("time_tracking", lambda: demo_toil.seed(out, demo, now, rng))
    counts["finance"] = timed("finance", lambda: demo_finance.seed_finance(out, demo, now))
    counts["coverage"] = timed("coverage", lambda: demo_coverage.seed_coverage(out, demo, now, rng))
    counts["compliance_reports"] = timed(
        "compliance", lambda: demo_compliance.seed_compliance(out, demo, now)
    )
    counts.update({k: v for k, v in out.counts.items() if k in ("stripe", "finance", "coverage")})
    counts["inventory"] = timed("inventory", lambda: demo_inventory.seed(stack, demo, now))
    counts["seconds"] = seconds
    return counts
