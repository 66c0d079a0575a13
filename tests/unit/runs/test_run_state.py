"""The run state typed at the kpi_run handler (runs/run_state.py) and the error codes of failed
attempts (runs/failures.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pydantic
import pytest
from companyos.domain.errors import NotFound, TransientError
from companyos.runs import contracts, failures
from companyos.runs.run_state import RunState, TaskEvent, step_output

STATE: dict[str, Any] = {
    "tenant_id": "acme",
    "kpi_id": "deployment_frequency",
    "trigger": {"type": "manual", "by": "test", "as_of": "2024-03-01T12:00:00+00:00"},
    "execution_id": "arn:aws:states:us-east-1:1:execution:kpi-run:x",
    "execution_started_at": "2024-03-01T12:00:00.000Z",
    "environment": "dev",
    "contract": contracts.get("deployment_frequency").to_state(),
    "contract_owner": "builtin",
    "run": {
        "run_id": "20240301T120000-abc",
        "base_run_id": "20240301T120000-abc",
        "tenant_id": "acme",
        "environment": "dev",
        "region": None,
        "kpi_id": "deployment_frequency",
        "retry_seq": 0,
        "started_at": "2024-03-01T12:00:01+00:00",
        "as_of": "2024-03-01T12:00:00+00:00",
        "lineage_ref": "execution:x",
    },
    "inputs": {
        "daily": {"2024-03-01": {"deploys": 2.0, "lead_h": [1.5, 2]}},
        "rows": 2,
        "read": 2,
        "latest_at": None,
        "sourcing": [{"source_type": "signal", "count": 2}],
    },
    "kpis": {},
    "pre": {"hard_fail": False, "warnings": [], "results": [{"rule_id": "a", "result": "pass"}]},
    "values": {"7d": {"value": 3, "previous": None, "series": [{"t": "2024-03-01", "v": 0.5}]}},
    "something_new": {"kept": True},
}


def test_a_state_dumps_back_to_exactly_the_json_it_came_from():
    state = copy.deepcopy(STATE)
    out = RunState.model_validate(state).to_state()
    assert json.dumps(out, sort_keys=True) == json.dumps(STATE, sort_keys=True)
    assert isinstance(out["values"]["7d"]["value"], int)  # nothing coerced


def test_the_task_event_and_a_terminal_result_are_typed_too():
    event = TaskEvent.model_validate({"step": "compute", "state": STATE, "retry_count": 1})
    assert event.retry_count == 1 and event.state.run is not None and event.state.run.retry_seq == 0
    result = {
        "tenant_id": "acme",
        "kpi_id": "deployment_frequency",
        "run_id": "r",
        "status": "success",
        "retry_seq": 0,
        "sla_breached": False,
        "events": [],
    }
    assert step_output(result) == result
    with pytest.raises(pydantic.ValidationError):
        step_output({**result, "status": "done"})


@pytest.mark.parametrize(
    "broken",
    [
        {"pre": {**STATE["pre"], "hard_fail": "no"}},  # the gate's flag is a boolean, never coerced
        {"run": {**STATE["run"], "retry_seq": "1"}},
        {"contract": {**STATE["contract"], "version": "one"}},
        {"tenant_id": None},
    ],
)
def test_a_malformed_state_is_refused_at_the_boundary(broken):
    with pytest.raises(pydantic.ValidationError):
        RunState.model_validate({**STATE, **broken})


def test_error_codes_are_mapped_by_type():
    assert failures.code_of(NotFound("x", code="contract_not_found")) == "contract_not_found"
    assert failures.code_of(NotFound("x")) == "not_found"
    assert failures.code_of(TransientError("x")) == "TransientError"
    assert failures.code_of(ZeroDivisionError("x")) == "ZeroDivisionError"
    assert failures.caught_code({}) == "UNKNOWN"
    assert failures.caught_message({"Cause": json.dumps({"errorMessage": "boom"})}) == "boom"
    assert failures.caught_message({"Cause": "not json"}) == "not json"
