"""`python -m infra.local --port 8080`: the whole stack on embedded AWS, seeded, serving the cockpit."""

from __future__ import annotations

import argparse
import time

from infra.local.auth import LocalIdP
from infra.local.http import serve
from infra.local.seed import seed
from infra.local.stack import LocalStack


def main() -> None:
    parser = argparse.ArgumentParser(description="CompanyOS Exec Cockpit on embedded local AWS")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--no-scheduler", action="store_true", help="do not fire the schedules")
    args = parser.parse_args()
    started = time.monotonic()
    stack = LocalStack().start()
    idp = LocalIdP()
    print(f"moto server on 127.0.0.1:{stack.moto_port}; seeding demo tenants through the real pipeline…")
    report = seed(stack, idp)
    if not args.no_scheduler:
        stack.start_scheduler()
    httpd = serve(stack, idp, args.port)
    ready = time.monotonic() - started
    print(f"\nCompanyOS Exec Cockpit: http://127.0.0.1:{args.port}/  (ready in {ready:.0f}s)")
    print(f"seed run: {report['run']['status']}; deliveries per tenant: {report['tenants']}")
    print("demo logins (pick one on the login page):")
    for user in idp.users.values():
        print(f"  {user['username']:<28} {user['display']}")
    print("webhook secrets (POST /api/ingest/github?tenant=<id>, X-Hub-Signature-256):")
    for tenant_id, secret in report["secrets"].items():
        print(f"  {tenant_id:<12} {secret}")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.shutdown()
        stack.stop()


if __name__ == "__main__":
    main()
