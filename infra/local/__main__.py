"""`python -m infra.local --port 8080`: the whole stack on embedded AWS, serving the cockpit at once and
seeding the demo tenants in the background (progress in the terminal, on the pages and at
GET /api/demo/status; a tenant's data routes answer 503 `demo_seeding` until its data is seeded)."""

from __future__ import annotations

import argparse
import threading
import time
import traceback
from typing import Any

from infra.local.auth import LocalIdP
from infra.local.demo_status import SeedProgress, TerminalLine
from infra.local.demo_tenants import DEMO
from infra.local.http import serve
from infra.local.seed import seed_data, seed_tenants, total_steps
from infra.local.stack import LocalStack


def _seed_in_background(
    stack: LocalStack, report: dict[str, Any], progress: SeedProgress, scheduler: bool
) -> None:
    try:
        seed_data(stack, report, None, progress)
    except Exception as exc:
        progress.fail(exc)
        traceback.print_exc()
        return
    if scheduler:  # the schedules fire on seeded data only, as before
        stack.start_scheduler()
    print(f"seed run: {report['run']['status']}; deliveries per tenant: {report['tenants']}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="CompanyOS Exec Cockpit on embedded local AWS")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-scheduler", action="store_true", help="do not fire the schedules")
    args = parser.parse_args()
    started = time.monotonic()
    progress = SeedProgress(tuple(d.tenant.id for d in DEMO), total_steps())
    stack = LocalStack().start()
    idp = LocalIdP()
    print(f"moto server on 127.0.0.1:{stack.moto_port}", flush=True)
    report = seed_tenants(stack, idp, progress)
    httpd = serve(stack, idp, args.port, progress)
    ready = time.monotonic() - started
    print(f"\nCompanyOS Exec Cockpit: http://127.0.0.1:{args.port}/  (login page ready in {ready:.0f}s)")
    print("demo logins (pick one on the login page):")
    for user in idp.users.values():
        print(f"  {user['username']:<28} {user['display']}")
    print("webhook secrets (POST /api/ingest/github?tenant=<id>, X-Hub-Signature-256):")
    for tenant_id, secret in report["secrets"].items():
        print(f"  {tenant_id:<12} {secret}")
    print(
        "seeding the demo tenants through the real pipeline in the background; dashboards answer 503 "
        "demo_seeding until it is done (GET /api/demo/status):",
        flush=True,
    )
    TerminalLine(progress)
    seeder = threading.Thread(
        target=_seed_in_background,
        args=(stack, report, progress, not args.no_scheduler),
        daemon=True,
        name="demo-seed",
    )
    seeder.start()
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.shutdown()
        stack.stop()


if __name__ == "__main__":
    main()
