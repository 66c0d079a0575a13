"""Report snapshots → transitions (pure): opened, unchanged, fixed, reopened, replay, stale."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from companyos.adapters.repos import FindingState
from companyos.ingest import plan_report
from companyos.sources.scanners import TrivySource

from tests.conftest import real_fixture
from tests.unit.sources.helpers import request

T0 = datetime(2021, 8, 25, 12, 20, 30, tzinfo=UTC)


def report(drop: int | None = None, at: datetime = T0):
    doc = json.loads(real_fixture("trivy/fluentd-multiple-lockfiles.json.golden"))
    doc["CreatedAt"] = at.isoformat()
    if drop is not None:
        del doc["Results"][0]["Vulnerabilities"][drop]
    return TrivySource().parse(request(json.dumps(doc).encode()))


def applied(plan) -> list[FindingState]:
    return [w.state for w in plan.writes]


def test_first_report_opens_everything_with_first_seen():
    parsed = report()
    plan = plan_report(parsed.snapshot, parsed.signals, [], parsed.delivery_id, {})
    assert plan.counts["opened"] == 3 and plan.counts["open"] == 3 and plan.counts["fixed"] == 0
    assert {s.attributes["transition"] for s in plan.signals} == {"opened"}
    assert all(s.attributes["first_seen"] == T0.isoformat() for s in plan.signals)
    assert all(w.expected_change is None for w in plan.writes)


def test_same_findings_again_write_nothing_and_a_removed_one_is_fixed():
    first = report()
    state = applied(plan_report(first.snapshot, first.signals, [], first.delivery_id, {}))
    later = T0 + timedelta(days=3)
    again = report(at=later)
    unchanged = plan_report(again.snapshot, again.signals, state, again.delivery_id, {})
    assert unchanged.signals == [] and unchanged.writes == [] and unchanged.counts["open"] == 3
    fixed_one = report(drop=1, at=later)  # libidn2-0 CVE-2019-18224 (critical) is gone
    plan = plan_report(fixed_one.snapshot, fixed_one.signals, state, fixed_one.delivery_id, {})
    (signal,) = plan.signals
    assert signal.attributes["transition"] == "fixed" and signal.attributes["vuln_id"] == "CVE-2019-18224"
    assert signal.attributes["severity"] == "critical" and signal.attributes["fixed_at"] == later.isoformat()
    assert signal.attributes["first_seen"] == T0.isoformat() and signal.attributes["open_for_s"] == 3 * 86400
    assert plan.counts == plan.counts | {"fixed": 1, "opened": 0, "unchanged": 2, "open": 2}
    (write,) = plan.writes
    assert write.expected_change == first.delivery_id and write.state.status == "fixed"


def test_a_fixed_finding_that_comes_back_is_reopened_with_its_first_seen():
    first = report()
    state = applied(plan_report(first.snapshot, first.signals, [], first.delivery_id, {}))
    gone = report(drop=1, at=T0 + timedelta(days=1))
    state2 = {(s.scope, s.key): s for s in state}
    for w in plan_report(gone.snapshot, gone.signals, state, gone.delivery_id, {}).writes:
        state2[(w.state.scope, w.state.key)] = w.state
    back = report(at=T0 + timedelta(days=2))
    plan = plan_report(back.snapshot, back.signals, list(state2.values()), back.delivery_id, {})
    (signal,) = plan.signals
    assert signal.attributes["transition"] == "reopened" and signal.attributes["first_seen"] == T0.isoformat()
    assert plan.counts["open"] == 3


def test_replay_of_a_half_applied_delivery_only_writes_what_is_missing():
    parsed = report()
    full = plan_report(parsed.snapshot, parsed.signals, [], parsed.delivery_id, {})
    half = applied(full)[:2]  # the first chunk committed, then the writer died
    replay = plan_report(parsed.snapshot, parsed.signals, half, parsed.delivery_id, {})
    assert [w.state.key for w in replay.writes] == [applied(full)[2].key]
    assert {s.key for s in replay.signals} < {s.key for s in full.signals}  # same deterministic keys


def test_an_older_report_than_the_stored_state_is_ignored():
    new = report(at=T0 + timedelta(days=5))
    state = applied(plan_report(new.snapshot, new.signals, [], new.delivery_id, {}))
    old = report(drop=0, at=T0)
    plan = plan_report(old.snapshot, old.signals, state, old.delivery_id, {})
    assert plan.writes == [] and "older" in (plan.stale_reason or "")


def test_mapped_scope_puts_the_service_on_the_state():
    parsed = report()
    scope = parsed.snapshot.scopes[0]
    plan = plan_report(
        parsed.snapshot, parsed.signals, [], parsed.delivery_id, {scope: {"service": "fluentd"}}
    )
    assert {w.state.service for w in plan.writes} == {"fluentd"}
    assert replace(plan.writes[0].state, service=None).service is None
