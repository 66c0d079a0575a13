"""The run state the kpi_run state machine passes between its steps, and what every step reads of it.

The state is JSON (the ASL's Choice states read `$.pre.hard_fail` and `$.post.blocked`, the score
refresh reads each item's result). `TaskEvent` / `RunState` / `RunResult` type it at the task
handler's boundary: the event is validated on the way in (strictly: a value of the wrong JSON type
is an error, never coerced) and a step's answer on the way out, and both are dumped back to exactly
the JSON they came from (`to_state`: only the keys that were there, unknown keys kept). The steps
themselves read the plain dict (`State`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from companyos.adapters.repos import RunLog
from companyos.domain import clock
from companyos.runs.contracts import Contract

State = dict[str, Any]
Status = Literal["success", "failed", "partial", "skipped"]


class _Part(BaseModel):
    """A part of the state: its known keys typed, any other key kept as it is."""

    model_config = ConfigDict(extra="allow", strict=True)

    def to_state(self) -> State:
        """The JSON this was validated from (the keys that were there, in their JSON types)."""
        return self.model_dump(exclude_unset=True)


class Trigger(_Part):
    type: str | None = None  # manual / time / event
    by: str | None = None
    as_of: str | None = None  # ISO time the run computes as of (backfills), else now
    coalesce_s: int | None = None  # an event run: seconds it waits for the rest of its window's burst


class RunHeader(_Part):
    """The attempt's RUN header (`attempts.new_header`), carried from step to step."""

    run_id: str
    base_run_id: str
    tenant_id: str
    kpi_id: str
    started_at: str
    as_of: str | None = None
    retry_seq: int = 0
    trigger_type: str | None = None
    lineage_ref: str | None = None


class Inputs(_Part):
    """What the source step read: per-day buckets, counts, freshness, sourcing rows."""

    daily: dict[str, dict[str, Any]]
    rows: int
    read: int
    latest_at: str | None = None
    sourcing: list[dict[str, Any]]
    breakdowns: list[dict[str, Any]] | None = None
    panels: list[str] | None = None


class PreValidation(_Part):
    hard_fail: bool  # the PreValidationGate's choice
    warnings: list[str]
    results: list[dict[str, Any]]


class PostValidation(_Part):
    blocked: bool  # the DeliveryGate's choice
    warnings: list[str]
    results: list[dict[str, Any]]


class Delivered(_Part):
    verdict: str | None = None
    time_range: str | None = None


class CaughtError(_Part):
    """What a Catch puts at `$.error`: the Lambda error name and its cause."""

    Error: str | None = None
    Cause: str | None = None


class RunState(_Part):
    """The state of one (tenant, KPI) item between two steps of an attempt."""

    tenant_id: str
    kpi_id: str
    execution_id: str | None = None
    execution_started_at: str | None = None
    trigger: Trigger | None = None
    environment: str | None = None
    region: str | None = None
    contract: dict[str, Any] | None = None  # Contract.to_state() of the version the run resolved
    contract_owner: str | None = None
    run: RunHeader | None = None
    inputs: Inputs | None = None
    kpis: dict[str, Any] | None = None  # other KPIs' latest delivered values (kpi sources)
    pre: PreValidation | None = None
    post: PostValidation | None = None
    values: dict[str, dict[str, Any]] | None = None  # period → value, previous, series, time range
    delivery: Delivered | None = None
    error: CaughtError | None = None

    @field_validator("contract")
    @classmethod
    def _a_contract(cls, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is not None:
            Contract.from_state(raw)  # validated, kept as the JSON it is
        return raw


class RunResult(_Part):
    """What a terminal step answers (`attempts.result_of`): the attempt's outcome, for the refresh."""

    tenant_id: str
    kpi_id: str
    run_id: str
    status: Status
    retry_seq: int
    sla_breached: bool
    events: list[dict[str, Any]]


class TaskEvent(_Part):
    """The task handler's event: {"step", "state", "retry_count"} (record_failure has no count)."""

    step: str
    state: RunState
    retry_count: int | None = None


def step_output(out: State) -> State:
    """A step's answer validated as what it is (a terminal result, else the next state), as JSON."""
    model: type[_Part] = RunResult if "status" in out and "run" not in out else RunState
    return model.model_validate(out).to_state()


def now() -> datetime:
    return clock.now()


def base_run_id(state: State) -> str:
    """Deterministic per (execution, tenant, KPI): a retried or failed step finds the same run."""
    seed = f"{state['execution_id']}|{state['tenant_id']}|{state['kpi_id']}"
    started = str(state.get("execution_started_at") or "")
    stamp = re.sub(r"[^0-9T]", "", started)[:15] or "run"
    return f"{stamp}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def attempt_id(base: str, seq: int) -> str:
    return base if seq == 0 else f"{base}-r{seq}"


def run_as_of(state: State) -> datetime:
    raw = (state.get("trigger") or {}).get("as_of")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else now()


def contract_of(state: State) -> Contract:
    return Contract.from_state(state["contract"])


def log_of(state: State) -> RunLog:
    return RunLog(state["tenant_id"])


def sourcing_sk(row: dict[str, Any]) -> str:
    return f"SOURCING#{row['source_type']}#{row['source_object']}"
