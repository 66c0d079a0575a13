"""The steps of the kpi_run state machine.

Each step takes the run state (a JSON dict, typed as `run_state.RunState` at the handler) and
returns it updated, writing its own append-only run-log rows. `dispatch` is the one entry point (the
Lambda handler calls it). The steps live by responsibility: `attempts` (RUN / END bookkeeping,
retries, record_failure), `sourcing`, `validation` (pre / post, skip / block), `computation`,
`delivery`; corrections of delivered runs are `corrections.correct_run`.
"""

from __future__ import annotations

from collections.abc import Callable

from companyos.domain.errors import TransientError
from companyos.runs import attempts, failures
from companyos.runs.attempts import TERMINAL, record_failure
from companyos.runs.computation import compute
from companyos.runs.delivery import deliver, verdict
from companyos.runs.restatement import correct_run
from companyos.runs.run_state import State, attempt_id
from companyos.runs.sourcing import latest_delivered, source
from companyos.runs.validation import block, post_validate, pre_validate, skip

__all__ = [
    "STEPS",
    "TERMINAL",
    "State",
    "TransientError",
    "attempt_id",
    "correct_run",
    "dispatch",
    "latest_delivered",
    "verdict",
]

STEPS: dict[str, Callable[[State], State]] = {
    "source": source,
    "pre_validate": pre_validate,
    "compute": compute,
    "post_validate": post_validate,
    "deliver": deliver,
    "skip": skip,
    "block": block,
}


def dispatch(step: str, state: State, *, environment: str, retry_count: int = 0) -> State:
    """Run one step of one attempt; an exception ends the attempt `failed` before it propagates —
    a throttled or conflicting AWS call as `TransientError`, which the state machine retries."""
    try:
        return _dispatch(step, state, environment, retry_count)
    except Exception as exc:
        err = failures.retryable(exc)
        if err is exc:
            raise
        raise err from exc


def _dispatch(step: str, state: State, environment: str, retry_count: int) -> State:
    if step == "record_failure":
        return record_failure(state)
    if step == "source":
        state = attempts.begin(state, environment, retry_count)
    elif retry_count and "run" in state:
        state = attempts.new_attempt(state, retry_count)
    try:
        return STEPS[step](state)
    except Exception as exc:
        err = failures.retryable(exc)
        attempts.finish(state, "failed", failures.code_of(err), failures.message_of(err))
        raise
