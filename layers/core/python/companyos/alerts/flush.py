"""The grouping window's flush (alerts/grouping.py): a step of the escalation state machine with
`{"kind": "flush"}` — first wait out the window, then deliver the tenant's outbox, where the held
alerts of the rule go out together as one message (silences and maintenance apply as at any
delivery)."""

from __future__ import annotations

from typing import Any

from companyos.adapters.alerts_repo import AlertRepo
from companyos.alerts.context import Runtime
from companyos.alerts.delivery import deliver
from companyos.alerts.evaluation import mute_of
from companyos.domain.alert_rules import load_pack


def flush_step(rt: Runtime, state: dict[str, Any]) -> dict[str, Any]:
    if state.get("phase") == "wait":  # the first step: the machine then waits `wait_s`
        return {**state, "phase": "flush", "done": False}
    pack, repo = load_pack(), AlertRepo(str(state["tenant_id"]))
    current = repo.alerts()
    delivered = deliver(rt, repo, pack, current, mute_of(pack, repo, rt.now()))
    return {**state, "phase": "done", "done": True, "wait_s": 0, **delivered}
