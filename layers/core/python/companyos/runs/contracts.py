"""KPI contracts as data: what a KPI run reads, computes, checks, delivers, and when it runs.

A contract (kpi-observability-admin.md) names its sources (signals, Prometheus, a lake/CUR query,
other KPIs), its formula (a registered built-in, or SQL over the lake for user KPIs), pre- and
post-validation rules, verdict bands, SLA, schedule, time grain and extensions. Contracts live in
the catalog table (adapters/contract_repo.py), versioned and immutable per version, with a pointer
per KPI and owner naming the version that runs.

A run resolves the contract of (tenant, KPI) once, at the source step: the tenant's active version,
else the platform's, else the built-in packs shipped with the code (every `packs/*.yaml`: the health
model's DORA/incident/security/business contracts, and one pack per further source family).
The resolved contract travels in the run state, so every step of one run uses the same version.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from companyos.adapters.contract_repo import ContractItems
from companyos.domain import packs
from companyos.domain.errors import Conflict, InvalidPayload, NotFound

PERIODS: dict[str, int] = {"7d": 7, "28d": 28, "90d": 90, "365d": 365}
MAX_WINDOW_DAYS = max(PERIODS.values()) * 2  # current + previous window, for deltas
MAX_HISTORY_DAYS = 2555  # a contract's history_days: at most the longest retention (7 years)
DEFAULT_PACK = "health-contracts-v1.yaml"

PRE_RULE_TYPES = ("availability", "freshness", "non_negative", "row_count")
POST_RULE_TYPES = ("value_range", "variance", "cross_kpi")
SOURCE_TYPES = ("signal", "finding", "kpi", "lake", "prometheus")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rule(_Frozen):
    """One validation rule. Pre: availability / freshness / non_negative / row_count.
    Post: value_range / variance (vs the previous window) / cross_kpi (vs another KPI's value)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: str
    severity: Literal["warn", "error"]
    params: dict[str, Any] = Field(default_factory=dict)


class SourceRef(_Frozen):
    """Where inputs come from. `signal`: a signal kind of the signals table; `finding`: the current
    state (open/fixed, first seen) of scanner findings of a kind; `kpi`: another KPI's latest
    delivered values; `lake`: a SQL query over the lake (CUR, exports); `prometheus`: PromQL."""

    source_type: Literal["signal", "finding", "kpi", "lake", "prometheus"]
    kind: str  # signal kind / KPI id / lake table / metric name
    object: str  # human name of the source object, e.g. github.deployment_status
    query: str | None = None  # SQL (lake) or PromQL (prometheus)
    # `input`: rows the formula reads. `breakdown` (lake only): SQL returning a `dimension` column,
    # the formula's numeric `column` and optionally `billing_period`, over the contract's current
    # window; delivered next to the values (e.g. cost by service), not an input of the formula.
    # `rows` (signal only): read for the breakdown rows delivered with the value (runs/rows.py), not
    # by the formula; such rows cover what the kind's retention keeps and say so.
    role: Literal["input", "breakdown", "rows"] = "input"


class Formula(_Frozen):
    """A registered built-in (`builtin`), or SQL over the lake (`sql`) returning one row per day:
    a `day` column plus numeric columns, aggregated per window by `aggregate`."""

    builtin: str | None = None
    sql: str | None = None
    lake: str = "default"  # a registered lake (runs/lake.py); `{tenant}` becomes the run's tenant id
    aggregate: Literal["sum", "per_day", "mean", "ratio", "last"] = "sum"
    column: str = "value"
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0

    @model_validator(mode="after")
    def _one_kind(self) -> Formula:
        if (self.builtin is None) == (self.sql is None):
            raise ValueError("a formula is either `builtin` or `sql`")
        if self.aggregate == "ratio" and not (self.numerator and self.denominator):
            raise ValueError("aggregate `ratio` needs `numerator` and `denominator` columns")
        return self


class Band(_Frozen):
    """A verdict band: the first band whose [min, max) contains the value names the verdict."""

    label: str
    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)


class Sla(_Frozen):
    max_duration_s: float = Field(ge=0)
    finish_by: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")  # UTC, time-triggered runs


class Schedule(_Frozen):
    schedule_class: str  # a ScheduleSpec.schedule_class of companyos.topology
    cron: str  # the EventBridge expression of that class, logged on every run


class Contract(_Frozen):
    kpi_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    name: str = ""
    tenant_id: str | None = None  # None: a platform (pack) contract
    environment: str | None = None  # None: every environment
    variant_label: str | None = None
    sources: tuple[SourceRef, ...] = Field(min_length=1)
    formula: Formula
    params: dict[str, Any] = Field(default_factory=dict)
    pre_rules: tuple[Rule, ...] = ()
    post_rules: tuple[Rule, ...] = ()
    verdict_bands: tuple[Band, ...] = ()  # empty: bands from the KPI dictionary's target/critical
    sla: Sla
    schedule: Schedule
    time_grain: Literal["day", "week", "month"] = "day"
    # `rolling`: a period's value is over its last N days (PERIODS). `month_to_date`: every period
    # reports the calendar month up to as_of; `previous` is the previous month to the same day.
    window: Literal["rolling", "month_to_date"] = "rolling"
    # How far back the source step reads (days before as_of). None: the longest period plus its
    # previous window (MAX_WINDOW_DAYS). A stock folded from flows (MRR from billing events) needs
    # every retained event, else accounts that started before the read look like no revenue.
    history_days: int | None = Field(default=None, ge=1, le=MAX_HISTORY_DAYS)
    extensions: tuple[Literal["previous_window", "mom", "budget_vs_actual"], ...] = ("previous_window",)

    @model_validator(mode="after")
    def _rules_known(self) -> Contract:
        for rule in self.pre_rules:
            if rule.type not in PRE_RULE_TYPES:
                raise ValueError(f"{self.kpi_id}: unknown pre-validation rule type '{rule.type}'")
        for rule in self.post_rules:
            if rule.type not in POST_RULE_TYPES:
                raise ValueError(f"{self.kpi_id}: unknown post-validation rule type '{rule.type}'")
        if "budget_vs_actual" in self.extensions and "budget" not in self.params:
            raise ValueError(f"{self.kpi_id}: extension budget_vs_actual needs params.budget")
        for ref in self.sources:
            if ref.role == "breakdown" and (ref.source_type != "lake" or not ref.query):
                raise ValueError(f"{self.kpi_id}: a breakdown source is a lake source with its own query")
            if ref.role == "rows" and ref.source_type != "signal":
                raise ValueError(f"{self.kpi_id}: a rows source is a signal source")
        return self

    # conveniences used by the scheduler and steps
    @property
    def schedule_class(self) -> str:
        return self.schedule.schedule_class

    @property
    def schedule_cron(self) -> str:
        return self.schedule.cron

    @property
    def sla_max_duration_s(self) -> float:
        return self.sla.max_duration_s

    def signal_kinds(self) -> list[str]:
        return [s.kind for s in self.sources if s.source_type in ("signal", "finding")]

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> Contract:
        return cls.model_validate(data)


class ContractPack(_Frozen):
    pack: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    contracts: tuple[Contract, ...]

    @model_validator(mode="after")
    def _unique(self) -> ContractPack:
        ids = [c.kpi_id for c in self.contracts]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate KPI ids in the contract pack")
        return self


def parse_pack(text: str) -> ContractPack:
    """Validate a contract pack given as YAML text (pydantic.ValidationError when invalid)."""
    return packs.parse(ContractPack, text)


@cache
def load_pack(name: str = DEFAULT_PACK) -> ContractPack:
    return parse_pack(packs.text("companyos.runs", name))


def builtin_packs() -> tuple[ContractPack, ...]:
    """Every pack shipped in `companyos/runs/packs/` (sorted by file name). A KPI id may appear in
    one pack only: two built-in contracts for one KPI would make `resolve` ambiguous."""
    shipped = tuple(load_pack(n) for n in packs.names("companyos.runs"))
    seen: dict[str, str] = {}
    for pack in shipped:
        for c in pack.contracts:
            if c.kpi_id in seen:
                raise ValueError(f"KPI {c.kpi_id} has a contract in both {seen[c.kpi_id]} and {pack.pack}")
            seen[c.kpi_id] = pack.pack
    return shipped


# The built-in contracts (every shipped pack). Other modules read this as "KPIs with a contract".
CONTRACTS: dict[str, Contract] = {c.kpi_id: c for p in builtin_packs() for c in p.contracts}


def get(kpi_id: str) -> Contract:
    """The built-in contract of a KPI (no catalog lookup)."""
    try:
        return CONTRACTS[kpi_id]
    except KeyError as exc:
        raise NotFound(f"no contract for KPI '{kpi_id}'", code="contract_not_found") from exc


def paused_ids(tenant_id: str) -> set[str]:
    """KPIs whose active pointer for the tenant is paused (its own, else the platform's): two
    Queries, the scheduler's rule (runs/schedule.py), for the runs a delivery would start."""
    platform = {a["kpi_id"]: a for a in ContractStore(None).actives()}
    own = {a["kpi_id"]: a for a in ContractStore(tenant_id).actives()}
    return {k for k, a in {**platform, **own}.items() if a.get("paused")}


def consumers_of(signal_kind: str) -> list[str]:
    """KPIs whose inputs include a signal kind (event-triggered runs after ingestion)."""
    return [c.kpi_id for c in CONTRACTS.values() if signal_kind in c.signal_kinds()]


def of_schedule(schedule_class: str) -> list[str]:
    return [c.kpi_id for c in CONTRACTS.values() if c.schedule_class == schedule_class]


# ---------------------------------------------------------------------------- catalog store


class ContractStore:
    """Contract versions in the catalog (adapters.contract_repo), for one owner (a tenant, or the
    platform with None).

    Versions are immutable: publishing an existing version is a Conflict. The active pointer is
    guarded by the item's VersionAttribute, so two concurrent activations cannot both win."""

    def __init__(self, tenant_id: str | None) -> None:
        self.tenant_id = tenant_id
        self._items = ContractItems(tenant_id)

    def publish(self, contract: Contract) -> None:
        if contract.tenant_id != self.tenant_id:
            raise InvalidPayload(
                "the contract's tenant_id does not match the catalog owner",
                code="contract_owner_mismatch",
                details={"path": "tenant_id"},
            )
        if not self._items.put_version(contract.kpi_id, contract.version, contract.to_state()):
            raise Conflict(
                f"contract {contract.kpi_id} v{contract.version} already exists; publish a new version",
                code="contract_version_exists",
            )

    def activate(self, kpi_id: str, version: str, *, paused: bool = False, reason: str = "") -> None:
        contract = self.version(kpi_id, version)
        if contract is None:
            raise NotFound(f"contract {kpi_id} v{version} does not exist", code="contract_not_found")
        pointer = {
            "kpi_id": kpi_id,
            "version": version,
            "schedule_class": contract.schedule_class,
            "paused": paused,
            "reason": reason,
        }
        if not self._items.put_active(kpi_id, pointer):
            raise Conflict(f"the active version of {kpi_id} changed concurrently", code="version_conflict")

    def pause(self, kpi_id: str, reason: str) -> None:
        active = self.active(kpi_id)
        if active is None:
            raise NotFound(f"{kpi_id} has no active contract here", code="contract_not_found")
        self.activate(kpi_id, active["version"], paused=True, reason=reason)

    def resume(self, kpi_id: str) -> None:
        active = self.active(kpi_id)
        if active is None:
            raise NotFound(f"{kpi_id} has no active contract here", code="contract_not_found")
        self.activate(kpi_id, active["version"], paused=False)

    def version(self, kpi_id: str, version: str) -> Contract | None:
        data = self._items.version(kpi_id, version)
        return None if data is None else Contract.model_validate(data)

    def active(self, kpi_id: str) -> dict[str, Any] | None:
        return self._items.active(kpi_id)

    def actives(self) -> list[dict[str, Any]]:
        """Every active pointer of this owner: one Query (the scheduler's per-tenant read)."""
        return self._items.actives()

    def versions(self, kpi_id: str) -> list[Contract]:
        return [Contract.model_validate(d) for d in self._items.versions(kpi_id)]


def install_pack(pack: ContractPack | None = None) -> int:
    """Publish and activate the built-in packs (or one given pack) under PLATFORM (idempotent:
    existing versions stay)."""
    store, count = ContractStore(None), 0
    contracts = pack.contracts if pack is not None else tuple(CONTRACTS.values())
    for contract in contracts:
        if store.version(contract.kpi_id, contract.version) is None:
            store.publish(contract)
            count += 1
        active = store.active(contract.kpi_id)
        if active is None or active["version"] != contract.version:
            store.activate(contract.kpi_id, contract.version)
    return count


def resolve(tenant_id: str, kpi_id: str) -> tuple[Contract, dict[str, Any]]:
    """The contract a run of (tenant, KPI) uses, and its active pointer ({} for the built-in pack).

    Tenant's active version → platform's active version → built-in pack; NotFound otherwise."""
    for owner in (tenant_id, None):
        store = ContractStore(owner)
        active = store.active(kpi_id)
        if active:
            contract = store.version(kpi_id, active["version"])
            if contract is not None:
                return contract, active
    if kpi_id in CONTRACTS:
        return CONTRACTS[kpi_id], {}
    raise NotFound(f"no contract for KPI '{kpi_id}' in tenant '{tenant_id}'", code="contract_not_found")
