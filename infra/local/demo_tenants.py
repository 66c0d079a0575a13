"""The two demo tenants: one ops-heavy (many services and deploys), one admin-heavy (many admins, an
approval waiting), and the platform admin who sees both. Every demo source reads its volumes here."""

from __future__ import annotations

from dataclasses import dataclass

from companyos.adapters.repos import Tenant


@dataclass(frozen=True)
class DemoTenant:
    tenant: Tenant
    users: tuple[tuple[str, str, str], ...]  # (email, role, display)
    repos: tuple[tuple[str, str, str], ...]  # (repo full name, service, domain)
    deploys_per_day: float
    failure_rate: float
    days: int = 45
    # PagerDuty services (id, service) of the repos' services, incidents per day, share of P1s
    pd_services: tuple[tuple[str, str], ...] = ()
    incidents_per_day: float = 0.0
    p1_share: float = 0.15
    products: tuple[str, ...] = ("cockpit",)
    accounts: int = 40  # paying customer accounts (billing, NPS, analytics)
    # NPS survey answers over the demo's days (0: two thirds of the accounts). A small tenant surveys
    # several users per account, or a week holds a handful of answers and its NPS swings past the
    # contract's plausible_jump gate (45 points), which then rightly blocks the delivery.
    nps_responses: int = 0
    requests_per_s: float = 20.0  # Prometheus traffic per service
    # Monthly cloud budget = last month's CUR cost x (1 + this): a tenant contract version of
    # infra_cost_mtd with budget_vs_actual ("vs plan" on the Ops tile). None: no plan.
    cost_plan_growth: float | None = None
    # every n-th resolved P1/P2 incident has no postmortem yet (demo_postmortems): 6 -> 5 of 6 covered
    postmortem_gap: int = 6


DEMO = (
    DemoTenant(
        Tenant("northwind", "Northwind Ops", "prod", True, "us-east-1", "dora-2024", "ops-heavy"),
        cost_plan_growth=0.05,
        users=(
            ("ceo@northwind.demo", "ceo", "Nora (CEO)"),
            ("cto@northwind.demo", "cto", "Casey (CTO)"),
            ("ciso@northwind.demo", "ciso", "Sam (CISO)"),
            ("ops@northwind.demo", "head_ops", "Omar (Head of Ops)"),
            ("product@northwind.demo", "head_product", "Priya (Head of Product)"),
        ),
        repos=(
            ("northwind/api", "api", "API Gateway"),
            ("northwind/web", "web", "Frontend"),
            ("northwind/ingest", "ingest", "Data Platform"),
            ("northwind/gateway", "gateway", "API Gateway"),
        ),
        deploys_per_day=6.0,
        failure_rate=0.08,
        pd_services=(("PNW0API", "api"), ("PNW0WEB", "web"), ("PNW0ING", "ingest"), ("PNW0GW", "gateway")),
        incidents_per_day=1.0,
        products=("fleet", "routing"),
        accounts=120,
        requests_per_s=60.0,
    ),
    DemoTenant(
        Tenant("globex", "Globex Admin", "prod", True, "eu-west-1", "dora-2023", "admin-heavy"),
        users=(
            ("admin@globex.demo", "tenant_admin", "Ada (Tenant admin)"),
            ("admin2@globex.demo", "tenant_admin", "Ben (Tenant admin)"),
            ("auditor@globex.demo", "auditor", "Aud (Auditor)"),
            ("cto@globex.demo", "cto", "Gwen (CTO)"),
        ),
        repos=(("globex/portal", "portal", "Frontend"),),
        deploys_per_day=0.8,
        failure_rate=0.2,
        pd_services=(("PGX0PORTAL", "portal"),),
        incidents_per_day=0.2,
        postmortem_gap=2,
        products=("portal",),
        accounts=25,
        nps_responses=150,
        requests_per_s=4.0,
    ),
)
PLATFORM_ADMIN = ("platform@companyos.demo", "Pat (Platform admin)")
