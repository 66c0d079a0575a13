"""Operator CLI. `python -m tools.audit_cli audit verify --tenant X` re-walks a tenant's audit chain and
its KMS-signed digest chain (exit 0 when intact, 1 when not; `--every-signature` checks each digest's
signature, `--anchor digests.json` requires the latest digest of an earlier export to be still there,
so a rolled-back tail is caught at once); `audit export --tenant X --out DIR`
writes an evidence bundle (files + manifest.json + SHA256SUMS, checkable with `sha256sum -c`).

Uses the same environment as the functions (Settings.from_env: table names, region, signing key)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from companyos.adapters.audit import AuditTrail, configure_signer
from companyos.adapters.audit_verify import evidence_bundle
from companyos.adapters.config import Settings
from companyos.adapters.models import bind_tables


def _trail(tenant: str) -> AuditTrail:
    s = Settings.from_env()
    bind_tables(s.tables, s.region)
    signer = configure_signer(s.audit_signing_key_id)
    return AuditTrail(tenant, signer)


def verify(tenant: str, anchor: Path | None = None, every_signature: bool = False) -> int:
    last = json.loads(anchor.read_text(encoding="utf-8"))[-1] if anchor else None
    result = _trail(tenant).verify(anchor=last, every_signature=every_signature)
    print(json.dumps({"tenant": tenant, **result.to_dict()}, indent=2, default=str))
    return 0 if result.ok else 1


def export(tenant: str, out: Path) -> int:
    bundle = evidence_bundle(_trail(tenant), generated_by="cli")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in bundle["files"].items():
        (out / name).write_text(text, encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(bundle["manifest"], indent=2) + "\n", encoding="utf-8")
    sums = "".join(f"{digest}  {name}\n" for name, digest in bundle["manifest"]["checksums"].items())
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
    print(
        json.dumps(
            {
                "out": str(out),
                "manifest_sha256": bundle["manifest_sha256"],
                "chain_ok": bundle["manifest"]["chain_ok"],
            }
        )
    )
    return 0 if bundle["manifest"]["chain_ok"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit_cli", description="CompanyOS operator CLI")
    sub = parser.add_subparsers(dest="group", required=True)
    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="command", required=True)
    v = audit.add_parser("verify", help="re-walk the chain and check the signed digest")
    v.add_argument("--tenant", required=True)
    v.add_argument("--anchor", type=Path, help="digests.json of an earlier export: its latest must remain")
    v.add_argument("--every-signature", action="store_true", help="check every digest's signature")
    e = audit.add_parser("export", help="write an evidence bundle with SHA-256 checksums")
    e.add_argument("--tenant", required=True)
    e.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "verify":
        return verify(args.tenant, args.anchor, args.every_signature)
    return export(args.tenant, args.out)


if __name__ == "__main__":
    sys.exit(main())
