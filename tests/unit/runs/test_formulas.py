"""Built-in formulas on synthetic signals: the numbers a KPI run delivers (Given/When/Then)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from companyos.runs import formulas
from companyos.runs.formulas import SignalRow

END = date(2024, 3, 1)
NOON = datetime(2024, 3, 1, 12, tzinfo=UTC)


def sig(kind: str, hours_ago: float, i: int = 0, **attrs: Any) -> SignalRow:
    return SignalRow(kind, f"{kind}-{i}-{hours_ago}", NOON - timedelta(hours=hours_ago), attrs)


def outcome(
    name: str, signals: list[SignalRow], days: int = 7, params: dict | None = None
) -> formulas.Outcome:
    builtin = formulas.BUILTINS[name]
    by_kind: dict[str, list[SignalRow]] = {}
    for s in signals:
        by_kind.setdefault(s.kind, []).append(s)
    buckets, _ = formulas.accumulate(builtin.fold(by_kind, params or {}))
    return builtin.value(buckets, END, days)


def value(name: str, signals: list[SignalRow], days: int = 7, params: dict | None = None) -> float | None:
    return outcome(name, signals, days, params).value


def test_deployment_frequency_counts_successful_production_deployments_once():
    # Given a deploy a day for 7 days, two of them failed, one retried (two statuses of one id), and
    # a staging deploy
    deploys = [
        sig("deployment", h * 24, i, deployment_id=f"d{i}", environment="production", succeeded=i % 4 != 0)
        for i, h in enumerate(range(7))
    ]
    deploys.append(sig("deployment", 23, 50, deployment_id="d1", environment="production", succeeded=True))
    deploys.append(sig("deployment", 1, 99, deployment_id="s", environment="staging", succeeded=True))
    prod = {"environments": ["production"]}
    # Then 5 successful production deployments in 7 days (d1 once); 5 deployment days in the week
    out = outcome("deployment_frequency", deploys, params=prod)
    assert out.value == pytest.approx(5 / 7)
    assert out.detail["deployments"] == 5 and out.detail["median_deployment_days_per_week"] == 5.0


def incident_at(iid: str, hours_ago: float, service: str | None, **attrs: Any) -> SignalRow:
    at = NOON - timedelta(hours=hours_ago)
    return SignalRow("incident", f"{iid}-t", at, {"incident_id": iid, "transition": "triggered", **attrs},
                     None, service)  # fmt: skip


def deploy_of(service: str, hours_ago: float, dep_id: str, **attrs: Any) -> SignalRow:
    at = NOON - timedelta(hours=hours_ago)
    base = {"deployment_id": dep_id, "environment": "production", "succeeded": True, **attrs}
    return SignalRow("deployment", f"s-{dep_id}", at, base, "org/" + service, service)


def test_change_failure_rate_is_deployments_linked_to_an_incident_over_production_deployments():
    signals = [
        deploy_of("api", 50, "a1", sha="s1"),
        deploy_of("api", 30, "a2", sha="s2"),
        deploy_of("web", 20, "w1", sha="s3"),
        deploy_of("api", 10, "a3", sha="s4"),
        deploy_of("web", 5, "w2", sha="s5", ref="hotfix/login"),  # remediates w1
        sig("deployment", 3, 9, deployment_id="f1", environment="production", succeeded=False),
        incident_at("i1", 25, "api"),  # after a2, before a3: a2 caused it
        incident_at("i2", 24, "api"),  # a2 again: a deployment fails once
        incident_at("i3", 8, "web", deployment_id="a1"),  # names its deployment explicitly
        incident_at("i4", 60, "api"),  # before any deployment: not linked
    ]
    out = outcome("change_failure_rate", signals, params={"environments": ["production"]})
    # Then 5 successful production deployments, 3 failed (a2, a1, w1): 60 %
    assert out.value == pytest.approx(100 * 3 / 5)
    links = {(lk["deployment_id"], lk["by"], lk["how"]) for lk in out.detail["links"]}
    assert links == {("a2", "i1", "service"), ("a2", "i2", "service"), ("a1", "i3", "explicit"),
                     ("w1", "w2", "hotfix")}  # fmt: skip
    assert (out.detail["deployments"], out.detail["failed_deployments"]) == (5, 3)


def test_redeploying_an_older_sha_is_a_rollback_of_the_deployment_before_it():
    signals = [deploy_of("api", 30, "a1", sha="s1"), deploy_of("api", 20, "a2", sha="s2"),
               deploy_of("api", 10, "a3", sha="s1")]  # fmt: skip
    out = outcome("change_failure_rate", signals)
    assert out.value == pytest.approx(100 / 3)
    assert [(lk["deployment_id"], lk["by"], lk["how"]) for lk in out.detail["links"]] == [
        ("a2", "a3", "rollback")
    ]


def test_change_failure_rate_without_successful_production_deployments_is_unknown():
    failed = [sig("deployment", 5, 1, deployment_id="x", environment="production", succeeded=False)]
    out = outcome("change_failure_rate", failed, params={"environments": ["production"]})
    assert out.value is None and "no successful production deployments" in (out.reason or "")


def test_lead_time_is_the_median_commit_to_first_production_deploy():
    # Given three commits deployed 2 h, 4 h and 30 h after they were made, one sha deployed twice
    commits = [
        sig("commit", 10, 1, sha="a", committed_at=(NOON - timedelta(hours=10)).isoformat()),
        sig("commit", 20, 2, sha="b", committed_at=(NOON - timedelta(hours=20)).isoformat()),
        sig("commit", 40, 3, sha="c"),  # no timestamp attribute: the signal time counts
    ]
    deploys = [
        sig("deployment", 8, 1, sha="a", environment="production", succeeded=True),
        sig("deployment", 16, 2, sha="b", environment="production", succeeded=True),
        sig("deployment", 1, 3, sha="b", environment="production", succeeded=True),  # redeploy: ignored
        sig("deployment", 10, 4, sha="c", environment="production", succeeded=True),
        sig("deployment", 5, 5, sha="zzz", environment="production", succeeded=True),  # unknown commit
    ]
    # Then the median of 2, 4 and 30 hours is 4
    assert value("lead_time_for_changes", commits + deploys) == pytest.approx(4.0)
    assert value("lead_time_for_changes", deploys) is None


def test_lead_time_per_pull_request_runs_from_its_first_commit_to_production():
    # Given a PR whose branch got commits 30 h and 20 h ago, opened 18 h ago, merged 6 h ago; its merge
    # commit went out in a push whose head was deployed 2 h ago; and a repo without PRs
    branch = [
        sig("commit", h, i, sha=f"b{i}", branch="feat", repository="org/api") for i, h in ((1, 30), (2, 20))
    ]
    merge = sig("commit", 6, 3, sha="m1", head_sha="h1", branch="main", repository="org/api")
    pr = sig("change", 6, 4, number=7, created_at=(NOON - timedelta(hours=18)).isoformat(),
             merged_at=(NOON - timedelta(hours=6)).isoformat(), merge_commit_sha="m1", head_ref="feat",
             repository="org/api")  # fmt: skip
    other = sig("commit", 12, 5, sha="c9", repository="org/web")
    deploys = [
        sig("deployment", 2, 6, deployment_id="d1", sha="h1", environment="production", succeeded=True),
        sig("deployment", 1, 7, deployment_id="d2", sha="c9", environment="production", succeeded=True),
    ]
    lead = {lt.change: lt.hours for lt in formulas.change_lead_times(
        {"commit": [*branch, merge, other], "change": [pr], "deployment": deploys}, {})}  # fmt: skip
    # Then the PR's lead time is 30 - 2 = 28 h (its branch commits are not changes of their own), the
    # web commit's 12 - 1 = 11 h; the median of the two is 19.5 h
    assert lead == {"pr:org/api#7": pytest.approx(28.0), "commit:c9": pytest.approx(11.0)}
    assert value("lead_time_for_changes", [*branch, merge, other, pr, *deploys]) == pytest.approx(19.5)


def test_build_success_rate_ignores_cancelled_builds():
    builds = [
        sig("build", 1, 1, conclusion="success", succeeded=True),
        sig("build", 2, 2, conclusion="success", succeeded=True),
        sig("build", 3, 3, conclusion="failure", succeeded=False),
        sig("build", 4, 4, conclusion="cancelled", succeeded=None),
        sig("build", 5, 5, conclusion="timed_out"),  # older signal shape: conclusion only
    ]
    assert value("build_success_rate", builds) == pytest.approx(50.0)
    assert value("build_success_rate", []) is None


def incident(iid: str, transition: str, hours_ago: float, priority: str | None = None) -> SignalRow:
    at = NOON - timedelta(hours=hours_ago)
    return SignalRow(
        "incident",
        f"{iid}-{transition}",
        at,
        {"incident_id": iid, "transition": transition, "priority": priority, "occurred_at": at.isoformat()},
    )


def test_mttr_and_p1_count_from_incident_event_sequences():
    events = [
        incident("i1", "triggered", 10),
        incident("i1", "acknowledged", 9.5),
        incident("i1", "priority_updated", 9, "P1"),
        incident("i1", "resolved", 9),  # 60 min
        incident("i2", "triggered", 5, "P2"),
        incident("i2", "resolved", 4.5),  # 30 min
        incident("i3", "triggered", 2, "P1"),  # still open
    ]
    assert value("mttr", events) == pytest.approx(45.0)  # the median of 60 and 30 minutes
    # two P1 incidents in 7 days → per 30 days
    assert value("p1_incident_count", events, params={"priorities": ["P1"]}) == pytest.approx(2 * 30 / 7)


def test_a_resolved_incident_whose_start_is_not_on_record_is_left_out_of_mttr():
    """#17: a `resolved` without its `triggered` (and without the incident's created_at) counted as a
    0-minute recovery and pulled MTTR down. Its start is unknown: it is left out, never 0."""
    known = [incident("i1", "triggered", 10), incident("i1", "resolved", 9)]  # 60 min
    lone = [incident("i9", "acknowledged", 3), incident("i9", "resolved", 2)]  # the triggered never came
    assert value("mttr", known + lone) == pytest.approx(60.0)  # not the median of 60 and 0 (or 60)
    assert value("mttr", lone) is None
    # with the incident's own created_at (PagerDuty V3 events carry it) the start is known again
    created = (NOON - timedelta(hours=4)).isoformat()
    dated = [
        SignalRow(r.kind, r.signal_id, r.occurred_at, {**r.attributes, "incident_created_at": created})
        for r in lone
    ]
    assert value("mttr", known + dated) == pytest.approx((60.0 + 120.0) / 2)


def test_the_incident_rows_show_no_duration_for_an_unknown_start():
    from companyos.runs.rows_ops import fold_incidents

    rows = {
        r["id"]: r
        for r in fold_incidents(
            [incident("i1", "triggered", 10), incident("i1", "resolved", 9), incident("i9", "resolved", 2)]
        )
    }
    assert rows["i1"]["duration_s"] == 3600 and rows["i1"]["start_known"]
    assert rows["i9"]["duration_s"] is None and not rows["i9"]["start_known"]


def vuln(vid: str, severity: str, first_days_ago: int, fixed_days_ago: int | None) -> SignalRow:
    first = NOON - timedelta(days=first_days_ago)
    fixed = NOON - timedelta(days=fixed_days_ago) if fixed_days_ago is not None else None
    return SignalRow(
        "vulnerability",
        vid,
        NOON,
        {
            "vuln_id": vid,
            "severity": severity,
            "first_seen": first.isoformat(),
            "fixed_at": fixed.isoformat() if fixed else None,
            "status": "fixed" if fixed else "open",
        },
    )


def test_critical_cve_age_is_the_oldest_open_critical():
    vulns = [
        vuln("c-open-9", "critical", 9, None),
        vuln("c-fixed", "critical", 30, 20),
        vuln("h-open", "high", 50, None),
    ]
    assert value("critical_cve_age", vulns) == 9.0
    assert value("critical_cve_age", [vuln("c-fixed", "critical", 30, 20)]) == 0.0


def test_vuln_sla_compliance_counts_vulnerabilities_that_came_due_in_the_window():
    vulns = [
        vuln("c-met", "critical", 10, 8),  # due 3 days ago, fixed after 2 days: met
        vuln("c-missed", "critical", 12, None),  # due 5 days ago, still open: missed
        vuln("h-late", "high", 33, 1),  # due 3 days ago, fixed after 32 days: missed
        vuln("h-not-due", "high", 5, None),  # not due yet: not counted
    ]
    assert value("vuln_sla_compliance", vulns) == pytest.approx(100 / 3)


def test_secret_findings_count_once_and_auth_failures_per_hour():
    findings = [sig("secret_finding", 5, 1, fingerprint="f1"), sig("secret_finding", 2, 2, fingerprint="f1")]
    findings.append(sig("secret_finding", 1, 3, fingerprint="f2"))
    assert value("secret_scan_violations", findings) == 2.0
    decisions = [sig("authz_decision", h, h, allowed=h % 2 == 0) for h in range(1, 11)]  # 5 denied today
    decisions.append(sig("authz_decision", 24 * 8, 99, result="deny"))  # before the window
    assert value("failed_auth_attempts", decisions) == pytest.approx(5 / (7 * 24))


def test_nps_is_promoters_minus_detractors():
    scores = [10, 9, 9, 8, 7, 6, 3, 10, 0, 9]
    responses = [sig("nps_response", i, i, score=s) for i, s in enumerate(scores)]
    assert value("nps_score", responses) == pytest.approx(100 * (5 - 3) / 10)


# NRR and ARR growth: test_formulas_billing.py


def test_sql_rows_aggregate_per_window():
    rows = [{"day": date(2024, 2, 28) + timedelta(days=i), "cost": 10.0, "users": 5} for i in range(3)]
    buckets, n = formulas.accumulate(formulas.fold_rows(rows))
    assert n == 3
    assert formulas.aggregate(buckets, END, 7, "ratio", "value", "cost", "users", 1.0).value == pytest.approx(
        2.0
    )
    assert formulas.aggregate(buckets, END, 7, "per_day", "cost", None, None, 1.0).value == pytest.approx(
        30 / 7
    )
    assert formulas.aggregate(buckets, END, 7, "mean", "cost", None, None, 1.0).value == pytest.approx(10.0)
    assert formulas.aggregate(buckets, date(2023, 1, 1), 7, "sum", "cost", None, None, 1.0).value is None
