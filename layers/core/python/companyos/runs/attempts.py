"""The bookkeeping of attempts in the run log (kpi_log_run).

- An *attempt* is one row of kpi_log_run: it has a RUN header and exactly one END row whose status
  is success / failed / partial / skipped. When the state machine retries a step (Retry on
  TransientError), the failed attempt is ended `failed` by the step that raised, and the retry is a
  new attempt (`retry_seq` + 1, run id `<base>-r<n>`, lineage_ref → the previous attempt) that
  carries the sourcing and validation rows it reuses.
- Every END also writes one row of the per-tenant run index (pk `<tenant>#RUNS`), the
  pre-joined overview the monitoring views read with one Query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from companyos.runs import contracts, failures
from companyos.runs.contracts import Contract
from companyos.runs.run_state import (
    State,
    attempt_id,
    base_run_id,
    contract_of,
    log_of,
    now,
    run_as_of,
    sourcing_sk,
)

TERMINAL = ("success", "failed", "partial", "skipped")
MAX_ATTEMPTS_PROBED = 12  # record_failure looks this far for retried attempts


def new_header(state: State, contract: Contract | None, seq: int, previous: str | None) -> dict[str, Any]:
    trigger = state.get("trigger") or {}
    started = now()
    base = base_run_id(state)
    run_id = attempt_id(base, seq)
    return {
        "run_id": run_id,
        "base_run_id": base,
        "tenant_id": state["tenant_id"],
        "environment": state.get("environment"),
        "region": state.get("region"),
        "kpi_id": state["kpi_id"],
        "contract_version": contract.version if contract else "unknown",
        "contract_owner": state.get("contract_owner", "builtin"),
        "variant_label": contract.variant_label if contract else None,
        "trigger_type": trigger.get("type", "manual"),
        "triggered_by": trigger.get("by", ""),
        "schedule_cron": contract.schedule_cron if contract else None,
        "started_at": started.isoformat(),
        "as_of": run_as_of(state).isoformat(),
        "retry_seq": seq,
        "lineage_ref": f"retry-of:{previous}" if previous else f"execution:{state.get('execution_id', '')}",
        "execution_id": state.get("execution_id"),
    }


def write_header(state: State, header: dict[str, Any], gsi_started_at: str | None = None) -> None:
    log_of(state).append(
        header["run_id"],
        "RUN",
        "run",
        header,
        kpi_id=state["kpi_id"],
        started_at=gsi_started_at or header["started_at"],
    )


def begin(state: State, environment: str, retry_count: int = 0) -> State:
    """Resolve the contract and write the attempt's RUN header (retry_seq = the step's retry count)."""
    contract, active = contracts.resolve(state["tenant_id"], state["kpi_id"])
    owner = "tenant" if active and contract.tenant_id else ("platform" if active else "builtin")
    state = {**state, "environment": environment, "contract": contract.to_state(), "contract_owner": owner}
    base = base_run_id(state)
    previous = attempt_id(base, retry_count - 1) if retry_count else None
    if previous:
        end_if_open(state, previous)
    header = new_header(state, contract, retry_count, previous)
    write_header(state, header)
    return {**state, "run": header}


def new_attempt(state: State, retry_count: int) -> State:
    """The state machine retried a step: end the previous attempt if it was left open, start the next
    one, and carry the rows it reuses (sourcing, pre-validation) so each attempt's log is whole."""
    run = state["run"]
    seq = int(run["retry_seq"]) + retry_count
    previous = attempt_id(run["base_run_id"], seq - 1)
    end_if_open(state, previous)
    header = new_header(state, contract_of(state), seq, previous)
    write_header(state, header)
    log = log_of(state)
    for row in state.get("inputs", {}).get("sourcing", []):
        log.append(header["run_id"], sourcing_sk(row), "sourcing", {**row, "run_id": header["run_id"]})
    for phase, record in (("pre", "pre_validation"),):
        for row in (state.get(phase) or {}).get("results", []):
            data = {**row, "run_id": header["run_id"], "carried_from": previous}
            log.append(header["run_id"], f"PRE#{row['rule_id']}", record, data)
    return {**state, "run": header}


def end_if_open(state: State, run_id: str) -> None:
    """An attempt left without an END (its Lambda crashed or timed out) is ended `failed` now."""
    log = log_of(state)
    header = log.row(run_id, "RUN")
    if header is not None and log.row(run_id, "END") is None:
        finish(
            {**state, "run": header}, "failed", failures.ATTEMPT_LOST, "the attempt ended without a result"
        )


def record_failure(state: State) -> State:
    """Catch target: end the newest attempt of this run `failed` unless its step already did."""
    err = state.get("error") or {}
    log = log_of(state)
    base = (state.get("run") or {}).get("base_run_id") or base_run_id(state)
    seq = int((state.get("run") or {}).get("retry_seq", 0))
    newest = None
    for n in range(seq, seq + MAX_ATTEMPTS_PROBED):
        header = log.row(attempt_id(base, n), "RUN")
        if header is None and n > seq:
            break
        newest = header or newest
    if newest is None:  # failed before any header existed (e.g. no contract): log the attempt anyway
        newest = new_header(state, None, 0, None)
        write_header(state, newest)
    end = log.row(newest["run_id"], "END")
    if end is not None:
        return result_of(state, newest, end)
    return finish({**state, "run": newest}, "failed", failures.caught_code(err), failures.caught_message(err))


def _sla(state: State, started: datetime, finished: datetime, duration: float) -> tuple[bool, str | None]:
    raw = state.get("contract")
    if not raw:
        return False, None
    sla = Contract.from_state(raw).sla
    if duration > sla.max_duration_s:
        return True, f"took {duration:.1f} s (max {sla.max_duration_s:g} s)"
    if sla.finish_by and (state["run"].get("trigger_type") == "time"):
        hh, mm = (int(x) for x in sla.finish_by.split(":"))
        deadline = started.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if finished > deadline:
            return True, f"finished at {finished:%H:%M} UTC, after the {sla.finish_by} UTC deadline"
    return False, None


def finish(
    state: State,
    status: str,
    code: str | None = None,
    message: str | None = None,
    *,
    delivery: dict[str, Any] | None = None,
) -> State:
    """End the attempt: its END row, its index row and (delivered) its DELIVERY row, all or none."""
    run = state["run"]
    finished = now()
    started = datetime.fromisoformat(run["started_at"])
    duration = (finished - started).total_seconds()
    breached, sla_reason = _sla(state, started, finished, duration)
    inputs = state.get("inputs") or {}
    end = {
        "run_id": run["run_id"],
        "status": status,
        "finished_at": finished.isoformat(),
        "duration_s": round(duration, 3),
        "rows_processed": inputs.get("read", 0),
        "sla_breached": breached,
        "sla_reason": sla_reason,
        "retry_seq": run.get("retry_seq", 0),
        "error_code": code,
        "error_message": message,
    }
    end["events"] = _events(state, status, end)
    log = log_of(state)
    if not log.end(run["run_id"], end, (run["started_at"], _overview(state, end)), delivery):
        end = log.row(run["run_id"], "END") or end  # ended already (a retried terminal step): as recorded
    return result_of(state, run, end)


def result_of(state: State, run: dict[str, Any], end: dict[str, Any]) -> State:
    return {
        "tenant_id": state["tenant_id"],
        "kpi_id": state["kpi_id"],
        "run_id": run["run_id"],
        "status": end["status"],
        "retry_seq": run.get("retry_seq", 0),
        "sla_breached": end.get("sla_breached", False),
        "events": end.get("events", []),
    }


def _events(state: State, status: str, end: dict[str, Any]) -> list[dict[str, Any]]:
    """Alert hooks for the alert router: SLA breach and hard validation failures, with a deep link."""
    run = state["run"]
    link = f"/api/runs/{run['run_id']}?tenant={state['tenant_id']}"
    events = []
    if end["sla_breached"]:
        events.append(
            {"type": "kpi_sla_breach", "severity": "high", "reason": end["sla_reason"], "href": link}
        )
    if end["error_code"] in failures.VALIDATION_FAILED:
        events.append(
            {
                "type": "kpi_validation_failed",
                "severity": "medium",
                "reason": end["error_message"],
                "href": link,
            }
        )
    return events


_HEADER_FIELDS = (
    "run_id", "base_run_id", "tenant_id", "environment", "kpi_id", "contract_version", "variant_label",
    "trigger_type", "triggered_by", "schedule_cron", "started_at", "as_of", "retry_seq", "lineage_ref",
)  # fmt: skip
_END_FIELDS = (
    "status", "finished_at", "duration_s", "rows_processed", "sla_breached", "sla_reason", "error_code",
    "error_message",
)  # fmt: skip


def _overview(state: State, end: dict[str, Any]) -> dict[str, Any]:
    """One pre-joined row per attempt (vw_kpi_run_overview + validation summary + lineage + SLA)."""
    run = state["run"]
    checks = (state.get("pre") or {}).get("results", []) + (state.get("post") or {}).get("results", [])
    failed_rules = [
        {k: r[k] for k in ("rule_id", "rule_type", "severity")}
        | {"phase": "pre" if r in (state.get("pre") or {}).get("results", []) else "post"}
        for r in checks
        if r["result"] == "fail"
    ]
    delivery = state.get("delivery") or {}
    return {
        **{k: run.get(k) for k in _HEADER_FIELDS},
        **{k: end[k] for k in _END_FIELDS},
        "verdict": delivery.get("verdict"),
        "time_range": delivery.get("time_range"),
        "pre_fail_count": sum(1 for r in failed_rules if r["phase"] == "pre"),
        "post_fail_count": sum(1 for r in failed_rules if r["phase"] == "post"),
        "failed_rules": failed_rules,
        "sources": [
            {k: s.get(k) for k in ("source_type", "source_object", "source_version", "sql_hash")}
            for s in (state.get("inputs") or {}).get("sourcing", [])
        ],
    }
