"""The demo seed's progress (infra/local/demo_status.py): steps counted as they finish, a tenant's data
routes refused until the seed has finished it (all tenants for a route naming none), the routes the
first step serves let through, and a log line per step when the terminal is not a TTY."""

from __future__ import annotations

import io

import pytest

from infra.local.demo_status import FAILED, SEEDING, SeedProgress, TerminalLine


def test_steps_are_counted_when_they_finish() -> None:
    progress = SeedProgress(("a", "b"), total=3)
    assert progress.to_dict() | {"seconds": 0} == {
        "state": "starting",
        "step": "starting the local stack",
        "done": 0,
        "total": 3,
        "seconds": 0,
        "tenants": {"a": "starting", "b": "starting"},
        "run_status": None,
        "error": None,
    }
    with progress.step_of("one"):
        assert (progress.state, progress.step, progress.done) == ("seeding", "one", 0)
    assert progress.done == 1
    with pytest.raises(RuntimeError), progress.step_of("two"):
        raise RuntimeError("boom")
    assert progress.done == 1  # a failed step is not done


def test_a_tenant_is_refused_until_it_is_seeded_and_a_route_naming_none_until_all_are() -> None:
    progress = SeedProgress(("a", "b"), total=2)
    with progress.step_of("a: sources"):
        refusal = progress.refusal("/api/dashboards/ceo", "a")
    assert refusal is not None and refusal["code"] == SEEDING
    assert "a is still being seeded (step 1 of 2: a: sources)" in refusal["message"]
    assert refusal["progress"]["state"] == "seeding"
    assert progress.refusal("/api/platform/executive", None) is not None
    assert progress.refusal("/api/me", None) is None  # the first step wrote what it reads
    assert progress.refusal("/api/dashboards/ceo", "elsewhere") is None  # not a demo tenant: the API answers
    progress.finish(["a"], "SUCCEEDED")
    assert progress.refusal("/api/dashboards/ceo", "a") is None
    assert progress.refusal("/api/dashboards/ceo", "b") is not None
    assert progress.refusal("/api/platform/executive", None) is not None
    assert progress.state == "seeding"
    progress.finish(["b"], "SUCCEEDED")
    assert progress.state == "ready" and progress.refusal("/api/platform/executive", None) is None
    assert progress.to_dict()["tenants"] == {"a": "ready", "b": "ready"}


def test_a_failed_seed_says_so() -> None:
    progress = SeedProgress(("a",), total=1)
    progress.fail(ValueError("no moto"))
    refusal = progress.refusal("/api/dashboards/ceo", "a")
    assert refusal is not None and refusal["code"] == FAILED and "ValueError: no moto" in refusal["message"]
    assert progress.to_dict()["state"] == "failed"


def test_the_terminal_log_has_a_line_per_step_and_the_outcome() -> None:
    progress = SeedProgress(("a",), total=2)
    out = io.StringIO()
    TerminalLine(progress, out)
    for label in ("first", "second"):
        with progress.step_of(label):
            pass
    progress.finish(["a"], "SUCCEEDED")
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:2]] == [
        "seeding demo data [1/2] first",
        "seeding demo data [2/2] second",
    ]
    assert lines[2].startswith("demo data ready: seeded in ") and lines[2].endswith(
        "(final KPI run SUCCEEDED)"
    )
    assert len(lines) == 3
