"""Inventory (compliance controls + evidence, certificates, vendors), the inventory snapshots the
roll-up reads, cross-tenant snapshot reads in batches, and board-pack export jobs.

Inventory items live in the catalog table under the tenant's partition (pk=TENANT#<id>):
`CONTROL#<framework>#<control>`, `EVIDENCE#<framework>#<control>#<evidence id>`, `CERT#<id>`,
`VENDOR#<id>`. Every write re-computes the tenant's inventory posture and stores it in the scores
table next to the KPI snapshots, with the same LATEST + end-of-day pattern: `INV#LATEST` and
`INV#<yyyy-mm-dd>`. Export jobs: pk=EXPORT#<job id>, sk=JOB in the catalog table.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from companyos.adapters.conditions import is_condition_failure
from companyos.adapters.models import CatalogItem, ScoreItem
from companyos.domain import clock
from companyos.domain import inventory as inv
from companyos.domain.errors import Conflict, NotFound

M = TypeVar("M", bound=BaseModel)
BATCH_GET_LIMIT = 100  # keys per BatchGetItem
SCANNED_SK = "SCANNED#compliance"


def _now() -> datetime:
    return clock.now()


class InventoryRepo:
    """The inventory of one tenant (constructed per tenant, like every repository)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._pk = f"TENANT#{tenant_id}"

    # ---- generic item helpers

    def _put(self, sk: str, kind: str, record: BaseModel, *, create_only: bool = False) -> None:
        item = CatalogItem(
            pk=self._pk, sk=sk, kind=kind, data=record.model_dump(mode="json"), updated_at=_now()
        )
        if create_only:
            try:
                item.save(condition=CatalogItem.pk.does_not_exist())
            except Exception as exc:  # PutError on the condition
                if is_condition_failure(exc):
                    raise Conflict(f"{kind} already exists", code=f"{kind}_exists") from exc
                raise
            return
        try:
            existing = CatalogItem.get(self._pk, sk)
            item.version = existing.version
        except CatalogItem.DoesNotExist:
            pass
        item.save()

    def _get(self, sk: str, model: type[M], kind: str) -> M:
        try:
            return model.model_validate(CatalogItem.get(self._pk, sk).data)
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(
                f"{kind} '{sk.split('#', 1)[1]}' does not exist", code=f"{kind}_not_found"
            ) from exc

    def _list(self, prefix: str, model: type[M]) -> list[M]:
        return [
            model.model_validate(i.data)
            for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith(prefix))
        ]

    def _delete(self, sk: str, kind: str) -> None:
        try:
            CatalogItem.get(self._pk, sk).delete()
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(
                f"{kind} '{sk.split('#', 1)[1]}' does not exist", code=f"{kind}_not_found"
            ) from exc

    # ---- controls and evidence

    def put_control(self, c: inv.ControlIn) -> inv.Control:
        sk = f"CONTROL#{c.framework}#{c.control_id}"
        try:
            created = self._get(sk, inv.Control, "control").created_at
        except NotFound:
            created = _now()
        control = inv.Control(**c.model_dump(), created_at=created)
        self._put(sk, "control", control)
        self.refresh_posture()
        return control

    def controls(self, framework: str | None = None) -> list[inv.Control]:
        return self._list(f"CONTROL#{framework}#" if framework else "CONTROL#", inv.Control)

    def control(self, framework: str, control_id: str) -> inv.Control:
        return self._get(f"CONTROL#{framework}#{control_id}", inv.Control, "control")

    def delete_control(self, framework: str, control_id: str) -> None:
        self._delete(f"CONTROL#{framework}#{control_id}", "control")
        for ev in self.evidence(framework, control_id):
            CatalogItem(pk=self._pk, sk=f"EVIDENCE#{framework}#{control_id}#{ev.evidence_id}").delete()
        self.refresh_posture()

    def add_evidence(self, framework: str, control_id: str, e: inv.EvidenceIn, by: str) -> inv.Evidence:
        self.control(framework, control_id)  # 404 when the control does not exist
        at = e.collected_at if e.collected_at.tzinfo else e.collected_at.replace(tzinfo=UTC)
        evidence_id = f"{at.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        ev = inv.Evidence(
            **e.model_dump(),
            evidence_id=evidence_id,
            framework=framework,
            control_id=control_id,
            recorded_by=by,
            recorded_at=_now(),
        )
        self._put(f"EVIDENCE#{framework}#{control_id}#{evidence_id}", "evidence", ev, create_only=True)
        self.refresh_posture()
        return ev

    def evidence(self, framework: str | None = None, control_id: str | None = None) -> list[inv.Evidence]:
        prefix = (
            "EVIDENCE#" + (f"{framework}#" if framework else "") + (f"{control_id}#" if control_id else "")
        )
        return self._list(prefix, inv.Evidence)

    # ---- certificates

    def put_certificate(self, c: inv.CertificateIn) -> inv.Certificate:
        cert = inv.Certificate(**c.model_dump(), updated_at=_now())
        self._put(f"CERT#{c.cert_id}", "certificate", cert)
        self.refresh_posture()
        return cert

    def certificates(self) -> list[inv.Certificate]:
        return self._list("CERT#", inv.Certificate)

    def sync_certificates(
        self, source: str, found: Sequence[inv.CertificateIn], keep_prefixes: Sequence[str] = ()
    ) -> dict[str, int]:
        """Make the certificates a connector keeps (`source`) equal to what it found: new and changed
        ones written, gone ones deleted, unchanged ones left alone (one Query when nothing moved);
        the posture is refreshed once when anything changed. Other sources' certificates stay, and
        so do this source's whose id starts with one of `keep_prefixes` (a part that failed to pull)."""
        held = {
            i.sk: i
            for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith("CERT#"))
            if i.data.get("source", "api") == source
        }
        wanted = {f"CERT#{c.cert_id}": c for c in found}
        written = 0
        for sk, cert in wanted.items():
            current = held.get(sk)
            if (
                current is not None
                and inv.CertificateIn.model_validate(
                    {k: v for k, v in current.data.items() if k != "updated_at"}
                )
                == cert
            ):
                continue
            self._put(sk, "certificate", inv.Certificate(**cert.model_dump(), updated_at=_now()))
            written += 1
        kept = tuple(f"CERT#{p}" for p in keep_prefixes)
        gone = [item for sk, item in held.items() if sk not in wanted and not sk.startswith(kept)]
        for item in gone:
            item.delete()
        if written or gone:
            self.refresh_posture()
        return {"found": len(wanted), "written": written, "deleted": len(gone)}

    def delete_certificate(self, cert_id: str) -> None:
        self._delete(f"CERT#{cert_id}", "certificate")
        self.refresh_posture()

    # ---- vendors

    def put_vendor(self, v: inv.VendorIn, *, create: bool = False) -> inv.Vendor:
        """Upsert a vendor; `create`: it must not exist yet (409 `vendor_exists`)."""
        now = _now()
        created = now if create else self._vendor_created(v.vendor_id, now)
        vendor = inv.Vendor(**v.model_dump(), updated_at=now, created_at=created)
        self._put(f"VENDOR#{v.vendor_id}", "vendor", vendor, create_only=create)
        self.refresh_posture()
        return vendor

    def _vendor_created(self, vendor_id: str, now: datetime) -> datetime:
        """When the vendor entered the register: its stored `created_at` (or first stored update)."""
        try:
            before = self.vendor(vendor_id)
        except NotFound:
            return now
        return before.created_at or before.updated_at

    def vendors(self) -> list[inv.Vendor]:
        return self._list("VENDOR#", inv.Vendor)

    def vendor(self, vendor_id: str) -> inv.Vendor:
        return self._get(f"VENDOR#{vendor_id}", inv.Vendor, "vendor")

    def import_vendors(self, vendors: Sequence[inv.VendorIn]) -> list[inv.Vendor]:
        """Upsert up to 100 vendors in one TransactWriteItems: all of them are written or none is
        (a concurrent change of one of them cancels the whole import: 409 `condition_failed`)."""
        if len(vendors) > 100:
            raise ValueError("one transaction holds at most 100 writes")
        versions = {
            i.sk: i.version for i in CatalogItem.query(self._pk, CatalogItem.sk.startswith("VENDOR#"))
        }
        now = _now()
        created = {v.vendor_id: v.created_at or v.updated_at for v in self.vendors()}
        stored = [
            inv.Vendor(**v.model_dump(), updated_at=now, created_at=created.get(v.vendor_id, now))
            for v in vendors
        ]
        try:
            with TransactWrite(connection=CatalogItem._get_connection().connection) as tx:
                for v in stored:
                    sk = f"VENDOR#{v.vendor_id}"
                    item = CatalogItem(
                        pk=self._pk, sk=sk, kind="vendor", data=v.model_dump(mode="json"), updated_at=now
                    )
                    if (version := versions.get(sk)) is not None:
                        item.version = version  # the save is conditional on it (optimistic lock)
                    tx.save(item)
        except TransactWriteError as exc:
            if is_condition_failure(exc):
                raise Conflict(
                    "a vendor of this import changed concurrently; nothing was imported, retry",
                    code="condition_failed",
                ) from exc
            raise
        self.refresh_posture(now)
        return stored

    def delete_vendor(self, vendor_id: str) -> None:
        self._delete(f"VENDOR#{vendor_id}", "vendor")
        self.refresh_posture()

    # ---- the inventory snapshot

    # ---- the delivered compliance_score run's framework history (views/compliance_feed.py)

    def scanned(self) -> dict[str, Any] | None:
        try:
            return dict(CatalogItem.get(self._pk, SCANNED_SK).data)
        except CatalogItem.DoesNotExist:
            return None

    def put_scanned(self, doc: dict[str, Any], now: datetime | None = None) -> dict[str, Any] | None:
        """Store the run's framework history (one item, replaced by each newer run) and the posture;
        None when a concurrent refresh stored one first (the next refresh catches up)."""
        item = CatalogItem(pk=self._pk, sk=SCANNED_SK, kind="scanned_compliance", data=doc, updated_at=_now())
        with contextlib.suppress(CatalogItem.DoesNotExist):
            item.version = CatalogItem.get(self._pk, SCANNED_SK).version  # the item is versioned
        try:
            item.save()
        except Exception as exc:  # another refresh stored a run's history at the same moment
            if not is_condition_failure(exc):
                raise
            return None
        return self.refresh_posture(now)

    def refresh_posture(self, now: datetime | None = None) -> dict[str, Any]:
        """Re-compute the posture (5 Queries) and store it as LATEST and as today's end-of-day item."""
        now = now or _now()
        doc = inv.posture(
            self.controls(), self.evidence(), self.certificates(), self.vendors(), now, self.scanned()
        )
        for sk in ("INV#LATEST", f"INV#{now.date().isoformat()}"):
            ScoreItem(pk=self._pk, sk=sk, computed_at=now, data=doc).save()
        return doc


# ---------------------------------------------------------------------------- cross-tenant reads


@dataclass(frozen=True)
class Snap:
    data: dict[str, Any]
    computed_at: datetime
    day: str  # the end-of-day item's day


def read_snapshots(
    tenant_ids: Sequence[str], period: str, as_of: date, today: date
) -> tuple[dict[str, Snap], dict[str, Snap]]:
    """Each tenant's newest end-of-day KPI snapshot of `period` and inventory snapshot, as of a day.

    As of today, the newest end-of-day item *is* the LATEST item (both are written together), so
    every tenant is read by key in BatchGetItem requests of up to 100 keys: ceil(2N / 100) requests.
    As of an earlier day, one Query per tenant and kind (newest item on or before that day)."""
    if as_of >= today:
        keys = [(f"TENANT#{t}", sk) for t in tenant_ids for sk in (f"SNAP#{period}#LATEST", "INV#LATEST")]
        kpi: dict[str, Snap] = {}
        posture: dict[str, Snap] = {}
        for item in ScoreItem.batch_get(keys):
            tenant_id = item.pk.removeprefix("TENANT#")
            snap = Snap(item.data, item.computed_at, item.computed_at.date().isoformat())
            (kpi if item.sk.startswith("SNAP#") else posture)[tenant_id] = snap
        return kpi, posture
    return (
        {t: s for t in tenant_ids if (s := _newest(t, f"SNAP#{period}#", as_of))},
        {t: s for t in tenant_ids if (s := _newest(t, "INV#", as_of))},
    )


def _newest(tenant_id: str, prefix: str, as_of: date) -> Snap | None:
    cond = ScoreItem.sk.between(f"{prefix}0000", f"{prefix}{as_of.isoformat()}")
    for item in ScoreItem.query(f"TENANT#{tenant_id}", cond, scan_index_forward=False, limit=1):
        return Snap(item.data, item.computed_at, item.sk.rsplit("#", 1)[1])
    return None


# ---------------------------------------------------------------------------- export jobs


class ExportJobs:
    """Board-pack export jobs (pk=EXPORT#<job id>, sk=JOB): who asked, for what, where it landed."""

    @staticmethod
    def new_id() -> str:
        return f"{_now().strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(6)}"

    def create(self, job_id: str, data: dict[str, Any]) -> dict[str, Any]:
        doc = {**data, "job_id": job_id, "status": "queued", "created_at": _now().isoformat()}
        CatalogItem(pk=f"EXPORT#{job_id}", sk="JOB", kind="export_job", data=doc, updated_at=_now()).save(
            condition=CatalogItem.pk.does_not_exist()
        )
        return doc

    def get(self, job_id: str) -> dict[str, Any]:
        try:
            return dict(CatalogItem.get(f"EXPORT#{job_id}", "JOB").data)
        except CatalogItem.DoesNotExist as exc:
            raise NotFound(f"export job '{job_id}' does not exist", code="export_not_found") from exc

    def update(self, job_id: str, **changes: Any) -> dict[str, Any]:
        item = CatalogItem.get(f"EXPORT#{job_id}", "JOB")
        item.data = {**item.data, **changes, "updated_at": _now().isoformat()}
        item.updated_at = _now()
        item.save()
        return dict(item.data)
