"""Fault injection on the snapshot refresh (`score_refresh`: read the run log → build every period's
snapshot → write them): whichever write to the scores table fails, the dashboards read either the
previous refresh or this one, for every period alike — never a 7d snapshot of this refresh next to
a 28d one of the last; the task fails as `TransientError` (RefreshScores retries it) and its retry
writes every period, each pointing at the run that delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Running
from tests.faults import THROTTLED, TX_CONFLICT, inject, on_table
from tests.integration.conftest import make_tenant
from tests.integration.test_faults_runs import DEPLOYS, KPI, expected_7d, run
from tests.integration.test_pipeline_runs import put_deploys

PERIODS = ("7d", "28d", "90d", "365d")
WRITES = ("PutItem", "TransactWriteItems", "UpdateItem", "BatchWriteItem")


def snapshots(tenant_id: str) -> dict[str, tuple[dict[str, Any], datetime]]:
    from companyos.adapters.repos import ScoreStore

    store = ScoreStore(tenant_id)
    found = {p: store.latest(p) for p in PERIODS}
    return {p: s for p, s in found.items() if s is not None}


def refresh(local: Running, tenant_id: str) -> Any:
    """The RefreshScores task as the kpi_run state machine calls it."""
    return local.stack.invoke("score_refresh", {"trigger": "kpi_run", "results": [{"tenant_id": tenant_id}]})


@pytest.fixture(scope="module")
def delivered(local: Running) -> tuple[str, str]:
    """A tenant whose deployment frequency was delivered and refreshed once: (tenant, run id)."""
    tenant_id = "fault-refresh"
    make_tenant(local, tenant_id, "Fault Refresh Co")
    put_deploys(tenant_id, DEPLOYS)
    out = run(local, tenant_id)
    return tenant_id, str(out["results"][0]["run_id"])


@pytest.mark.parametrize("nth", [1, 2, 3, 5, 8])
def test_the_nth_snapshot_write_failing_leaves_every_period_at_one_refresh(local, delivered, nth):
    from companyos.domain.errors import TransientError

    tenant_id, run_id = delivered
    before = snapshots(tenant_id)
    assert set(before) == set(PERIODS) and len({at for _, at in before.values()}) == 1
    with inject("dynamodb", WRITES, THROTTLED, calls=(nth,), when=on_table("scores")) as fault:
        try:
            refresh(local, tenant_id)
            failed = False
        except TransientError:
            failed = True
    after = snapshots(tenant_id)
    assert failed == (fault.raised == 1)
    times = {at for _, at in after.values()}
    assert set(after) == set(PERIODS) and len(times) == 1, times  # one refresh, all periods alike
    assert times == ({before["7d"][1]} if failed else times - {before["7d"][1]})
    if failed:  # the retried task writes them all
        refresh(local, tenant_id)
        times = {at for _, at in snapshots(tenant_id).values()}
        assert len(times) == 1 and times != {before["7d"][1]}
    for data, _ in snapshots(tenant_id).values():
        assert data["kpis"][KPI]["evidence"]["run_id"] == run_id
    assert snapshots(tenant_id)["7d"][0]["kpis"][KPI]["value"] == pytest.approx(expected_7d())


@pytest.mark.parametrize("error", [THROTTLED, TX_CONFLICT], ids=["throttled", "tx_conflict"])
def test_a_failed_refresh_is_refused_whole_and_named_for_the_retry(local, delivered, error):
    from companyos.domain.errors import TransientError

    tenant_id, _ = delivered
    before = snapshots(tenant_id)
    with (
        inject("dynamodb", "TransactWriteItems", error, when=on_table("scores")) as fault,
        pytest.raises(TransientError, match=error.code),
    ):
        refresh(local, tenant_id)
    assert fault.raised == 1 and snapshots(tenant_id) == before


def test_the_run_log_read_throttled_writes_nothing(local, delivered):
    from companyos.domain.errors import TransientError

    tenant_id, _ = delivered
    before = snapshots(tenant_id)
    with (
        inject("dynamodb", "Query", THROTTLED, when=on_table("kpi-log")) as fault,
        pytest.raises(TransientError),
    ):
        refresh(local, tenant_id)
    assert fault.raised == 1 and snapshots(tenant_id) == before
