"""The admin side of the KPI catalog: one record per (tenant, KPI) with its versions' lifecycle, its
per-environment pointers, canary and metadata; pauses; the change window; the search revision.

Key layout (catalog table, all under pk = TENANT#<tenant id>):

    KPI#<kpi>#V#<ver>          contract version, immutable (runs/contracts.ContractStore; written on approval)
    ACTIVEKPI#<kpi>            runtime pointer the runner and scheduler read (ContractStore); this module
                               moves it when the pointer of the tenant's own environment moves, deletes
                               it on unpublish, and sets its `paused` flag for a global pause
    ADMINKPI#<kpi>             the admin record (this module): metadata, versions {ver: lifecycle + contract},
                               envs {dev|stg|prod: {active, history}}, canary; VersionAttribute = revision
    PAUSE#<kpi>#<pause id>     one pause scope: global / entities / time window, reason and ETA
    ADMINREV                   search revision of the tenant's catalog: {rev, log: [[rev, kpi], ...]}
    SETTINGS#CHANGEWINDOW      the tenant's production change window

Every write of a record is a read-modify-write guarded by the record's VersionAttribute, so two
concurrent edits can never both win: the loser gets 409 `version_conflict` with the current revision.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from companyos.adapters import admin_store
from companyos.adapters.admin_store import Stored
from companyos.domain import clock
from companyos.domain.errors import Conflict, NotFound
from companyos.runs.contracts import Contract, ContractStore

ENVIRONMENTS: tuple[str, ...] = ("dev", "stg", "prod")
STATUSES: tuple[str, ...] = ("draft", "approved", "active", "deprecated", "retired")
Criticality = Literal["low", "medium", "high"]
REV_LOG = 200  # revisions kept in ADMINREV's change log (search caches patch from it)


def _now() -> datetime:
    return clock.now()


def record_sk(kpi_id: str) -> str:
    return f"ADMINKPI#{kpi_id}"


def semver_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def next_version(versions: list[str]) -> str:
    if not versions:
        return "1.0.0"
    major, minor, _ = semver_key(max(versions, key=semver_key))
    return f"{major}.{minor + 1}.0"


# ---------------------------------------------------------------------------- the record


@dataclass
class KpiRecord:
    """The admin record of one KPI of one tenant. `revision` is the optimistic-lock token."""

    tenant_id: str
    kpi_id: str
    data: dict[str, Any]
    revision: int | None = None

    @property
    def versions(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("versions", {})

    @property
    def envs(self) -> dict[str, dict[str, Any]]:
        envs = self.data.setdefault("envs", {})
        for env in ENVIRONMENTS:
            envs.setdefault(env, {"active": None, "history": []})
        return envs

    @property
    def criticality(self) -> str:
        return str(self.data.get("criticality", "medium"))

    def version(self, ver: str) -> dict[str, Any]:
        try:
            return self.versions[ver]
        except KeyError as exc:
            raise NotFound(f"{self.kpi_id} has no version {ver}", code="version_not_found") from exc

    def contract(self, ver: str) -> Contract:
        return Contract.model_validate(self.version(ver)["contract"])

    def active_in(self, env: str) -> str | None:
        return self.envs[env]["active"]

    def current_version(self, runtime_env: str | None = None) -> str | None:
        """The version that describes this KPI best: active in the runtime env, else in any env
        (prod first), else the newest version."""
        for env in ((runtime_env,) if runtime_env else ()) + tuple(reversed(ENVIRONMENTS)):
            if env in self.envs and self.envs[env]["active"]:
                return str(self.envs[env]["active"])
        return max(self.versions, key=semver_key) if self.versions else None

    def refresh_statuses(self) -> None:
        """Active = active in some environment; a version that left every env falls back to approved."""
        live = {e["active"] for e in self.envs.values() if e["active"]}
        for ver, meta in self.versions.items():
            if meta["status"] in ("deprecated", "retired", "draft"):
                continue
            meta["status"] = "active" if ver in live else "approved"

    def to_dict(self, include_contracts: bool = True) -> dict[str, Any]:
        out = {**self.data, "tenant_id": self.tenant_id, "kpi_id": self.kpi_id, "revision": self.revision}
        if not include_contracts:
            out["versions"] = {
                v: {k: x for k, x in m.items() if k != "contract"} for v, m in self.versions.items()
            }
        self.envs  # noqa: B018 — materialise the env defaults
        return out


def load(tenant_id: str, kpi_id: str) -> KpiRecord | None:
    item = admin_store.get(tenant_id, record_sk(kpi_id), consistent=True)
    return None if item is None else KpiRecord(tenant_id, kpi_id, item.data, item.version)


def require(tenant_id: str, kpi_id: str) -> KpiRecord:
    rec = load(tenant_id, kpi_id)
    if rec is None:
        raise NotFound(f"KPI '{kpi_id}' is not in tenant '{tenant_id}''s catalog", code="kpi_not_found")
    return rec


def conflict(rec: KpiRecord | None, tenant_id: str, kpi_id: str) -> Conflict:
    current = load(tenant_id, kpi_id)
    return Conflict(
        f"{kpi_id} was changed by someone else (revision {current.revision if current else None}); "
        "reload and retry",
        code="version_conflict",
        details={
            "current_revision": current.revision if current else None,
            "current": current.to_dict(include_contracts=False) if current else None,
        },
    )


def save(rec: KpiRecord, expected_revision: int | None = None, *, create: bool = False) -> KpiRecord:
    """Write the record under its VersionAttribute; 409 with the current record when it moved."""
    if expected_revision is not None and rec.revision != expected_revision:
        raise conflict(rec, rec.tenant_id, rec.kpi_id)
    item = Stored(rec.tenant_id, record_sk(rec.kpi_id), "kpi_admin", rec.data, rec.revision)
    try:
        admin_store.put(item, create=create)
    except Conflict as exc:
        raise conflict(rec, rec.tenant_id, rec.kpi_id) from exc
    rec.revision = item.version
    bump_revision(rec.tenant_id, rec.kpi_id)
    return rec


def mutate(
    tenant_id: str, kpi_id: str, expected_revision: int | None, change: Callable[[KpiRecord], Any]
) -> tuple[KpiRecord, Any]:
    """Load, apply `change` (which validates and edits the record in place), save with the lock."""
    rec = require(tenant_id, kpi_id)
    if expected_revision is not None and rec.revision != expected_revision:
        raise conflict(rec, tenant_id, kpi_id)
    result = change(rec)
    save(rec)
    return rec, result


def records(tenant_id: str) -> Iterator[KpiRecord]:
    """Every admin record of a tenant (one paginated Query; the search index's full rebuild)."""
    for item in admin_store.query(tenant_id, "ADMINKPI#"):
        yield KpiRecord(tenant_id, item.sk.removeprefix("ADMINKPI#"), item.data, item.version)


# ---------------------------------------------------------------------------- runtime pointer


def move_runtime_pointer(tenant_id: str, kpi_id: str, version: str | None, paused: bool = False) -> None:
    """Point the runner at `version` of the tenant's own contracts (None: remove the tenant pointer,
    so runs fall back to the platform's contract)."""
    store = ContractStore(tenant_id)
    if version is not None:
        store.activate(kpi_id, version, paused=paused, reason="paused by admin" if paused else "")
        return
    admin_store.delete(tenant_id, f"ACTIVEKPI#{kpi_id}")


def ensure_published(tenant_id: str, contract: Contract) -> None:
    """Write the immutable contract version the runner reads (once; an identical copy is fine)."""
    store = ContractStore(tenant_id)
    if store.version(contract.kpi_id, contract.version) is None:
        with contextlib.suppress(Conflict):
            store.publish(contract)


# ---------------------------------------------------------------------------- search revision


REV_SK = "ADMINREV"


def revision_of(tenant_id: str) -> int:
    """One GetItem: the tenant catalog's search revision (0 when nothing was ever written)."""
    item = admin_store.get(tenant_id, REV_SK)
    return 0 if item is None else int(item.data.get("rev", 0))


def changes_since(tenant_id: str, rev: int) -> tuple[int, list[str] | None]:
    """(current rev, KPIs changed after `rev`) — None when the log no longer reaches back that far."""
    item = admin_store.get(tenant_id, REV_SK)
    if item is None:
        return 0, []
    data = item.data
    current, log = int(data.get("rev", 0)), [tuple(x) for x in data.get("log", [])]
    if current == rev:
        return current, []
    if not log or int(log[0][0]) > rev + 1:
        return current, None
    return current, sorted({str(k) for r, k in log if int(r) > rev})


def bump_revision(tenant_id: str, kpi_id: str) -> int:
    for _ in range(16):
        item = admin_store.get(tenant_id, REV_SK) or Stored(
            tenant_id, REV_SK, "catalog_rev", {"rev": 0, "log": []}
        )
        rev = int(item.data.get("rev", 0)) + 1
        item.data = {"rev": rev, "log": [*item.data.get("log", []), [rev, kpi_id]][-REV_LOG:]}
        try:
            admin_store.put(item)
            return rev
        except Conflict:
            continue
    raise Conflict("the catalog revision is busy; retry", code="catalog_contention")


# ---------------------------------------------------------------------------- pauses


@dataclass(frozen=True)
class Pause:
    pause_id: str
    kpi_id: str
    scope: Literal["global", "entities", "window"]
    reason: str
    created_by: str
    created_at: str
    entities: tuple[str, ...] = ()
    starts_at: str | None = None
    ends_at: str | None = None
    eta: str | None = None

    def covers(self, now: datetime, entity: str | None = None) -> bool:
        if self.starts_at and now < _moment(self.starts_at):
            return False
        if self.ends_at and now >= _moment(self.ends_at):
            return False
        if self.entities:
            return entity is not None and entity in self.entities
        return True

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "entities": list(self.entities)}


def _moment(stored: str) -> datetime:
    """A stored pause bound. The API takes aware times only; a naive one stored before it did is UTC
    (so comparing it with the aware clock never raises and takes the tenant's dashboards down)."""
    return clock.utc(datetime.fromisoformat(stored))


def _pause(data: dict[str, Any]) -> Pause:
    return Pause(**{**data, "entities": tuple(data.get("entities") or ())})


def put_pause(tenant_id: str, pause: Pause) -> None:
    item = Stored(tenant_id, f"PAUSE#{pause.kpi_id}#{pause.pause_id}", "kpi_pause", pause.to_dict())
    admin_store.put(item, create=True)


def new_pause_id() -> str:
    return uuid.uuid4().hex[:12]


def pauses(tenant_id: str, kpi_id: str | None = None) -> list[Pause]:
    """One Query: the pauses of a KPI (or of every KPI of the tenant)."""
    prefix = f"PAUSE#{kpi_id}#" if kpi_id else "PAUSE#"
    return [_pause(i.data) for i in admin_store.query(tenant_id, prefix)]


def delete_pauses(tenant_id: str, kpi_id: str, pause_id: str | None = None) -> list[Pause]:
    removed = []
    for p in pauses(tenant_id, kpi_id):
        if pause_id is None or p.pause_id == pause_id:
            admin_store.delete(tenant_id, f"PAUSE#{kpi_id}#{p.pause_id}")  # loaded: its version guards it
            removed.append(p)
    return removed


def is_paused(tenant_id: str, kpi_id: str, now: datetime | None = None, entity: str | None = None) -> bool:
    """Should a run of (tenant, KPI[, entity]) be skipped at `now`? For the scheduler and runner.

    A global pause or a time window covering `now` pauses the whole KPI; an entity-scoped pause
    pauses only those entities (so without `entity` it does not pause the KPI's run as a whole)."""
    now = now or _now()
    return any(p.covers(now, entity) for p in pauses(tenant_id, kpi_id))


def paused_kpis(tenant_id: str, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """One Query per tenant: KPI id → the pauses in force at `now` (entity-scoped ones included,
    with their entities). The scheduler's per-tenant read; dashboards' maintenance badges."""
    now = now or _now()
    out: dict[str, list[dict[str, Any]]] = {}
    for p in pauses(tenant_id):
        in_window = (not p.starts_at or now >= _moment(p.starts_at)) and (
            not p.ends_at or now < _moment(p.ends_at)
        )
        if in_window:
            out.setdefault(p.kpi_id, []).append(p.to_dict())
    return out


def maintenance(tenant_id: str, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """The maintenance badge per paused KPI: {reason, eta, scope, entities} (dashboards show it)."""
    return {
        kpi: {
            "reason": ps[0]["reason"],
            "eta": ps[0]["eta"],
            "scope": ps[0]["scope"],
            "entities": ps[0]["entities"],
        }
        for kpi, ps in paused_kpis(tenant_id, now).items()
    }


# ---------------------------------------------------------------------------- canary


def in_canary(entity: str, percent: int, entities: list[str] | None = None) -> bool:
    """Deterministic: the same entity is always in (or out of) a canary of a given percentage."""
    if entities:
        return entity in entities
    bucket = int(hashlib.sha256(entity.encode()).hexdigest()[:8], 16) % 100
    return bucket < percent


def canary_version(tenant_id: str, kpi_id: str, env: str, entity: str) -> str | None:
    """The version a run for `entity` uses in `env`: the canary's when the entity is in it."""
    rec = load(tenant_id, kpi_id)
    if rec is None:
        return None
    canary = (rec.data.get("canary") or {}).get(env)
    if canary and in_canary(entity, int(canary["percent"]), canary.get("entities")):
        return str(canary["version"])
    return rec.active_in(env)


# ---------------------------------------------------------------------------- change window


@dataclass(frozen=True)
class ChangeWindow:
    """Production changes are allowed on `days` (0 = Monday) between `start` and `end` (UTC)."""

    days: tuple[int, ...] = (0, 1, 2, 3)
    start: str = "09:00"
    end: str = "17:00"

    def is_open(self, now: datetime) -> bool:
        now = now.astimezone(UTC)
        start, end = time.fromisoformat(self.start), _end_time(self.end)
        return now.weekday() in self.days and start <= now.time() < end

    def next_open(self, now: datetime) -> str | None:
        if not self.days:
            return None
        for offset in range(8):
            day = (now.astimezone(UTC) + timedelta(days=offset)).date()
            at = datetime.combine(day, time.fromisoformat(self.start), tzinfo=UTC)
            if day.weekday() in self.days and (at > now or self.is_open(now)):
                return at.isoformat()
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"days": list(self.days), "start": self.start, "end": self.end, "timezone": "UTC"}


WINDOW_SK = "SETTINGS#CHANGEWINDOW"


def _end_time(value: str) -> time:
    return time.max if value in ("24:00", "23:59") else time.fromisoformat(value)


def change_window(tenant_id: str) -> ChangeWindow:
    item = admin_store.get(tenant_id, WINDOW_SK)
    if item is None:
        return ChangeWindow()
    data = item.data
    return ChangeWindow(days=tuple(data["days"]), start=data["start"], end=data["end"])


def put_change_window(tenant_id: str, window: ChangeWindow) -> None:
    current = admin_store.get(tenant_id, WINDOW_SK)
    item = Stored(tenant_id, WINDOW_SK, "settings", window.to_dict(), current.version if current else None)
    try:
        admin_store.put(item)
    except Conflict as exc:
        raise Conflict("the change window was changed concurrently; retry", code="version_conflict") from exc
