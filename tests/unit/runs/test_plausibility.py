"""Post-validation plausibility (runs/validation.py `check_post`): every contract has a plausible range and
a plausible jump, and their messages name the value and the bound."""

from __future__ import annotations

from companyos.runs import contracts, validation
from companyos.runs.contracts import Rule

STATE = {"tenant_id": "t", "kpi_id": "arr_growth_rate"}


def rule(kpi_id: str, rule_id: str) -> Rule:
    return next(r for r in contracts.get(kpi_id).post_rules if r.id == rule_id)


def test_every_contract_has_a_blocking_plausible_range_and_jump():
    for c in contracts.CONTRACTS.values():
        by_id = {r.id: r for r in c.post_rules}
        span, jump = by_id.get("plausible_range"), by_id.get("plausible_jump")
        assert span is not None and span.type == "value_range" and span.severity == "error", c.kpi_id
        assert "min" in span.params and "max" in span.params, c.kpi_id
        assert jump is not None and jump.type == "variance" and jump.severity == "error", c.kpi_id
        assert jump.params["max_change_pct"] > 0 and jump.params["min_base"] > 0, c.kpi_id


def test_the_users_1203_percent_arr_growth_is_outside_the_range_and_says_so():
    ok, details = validation.check_post(rule("arr_growth_rate", "plausible_range"), 1203.31, 12.0, STATE)
    assert not ok and details == "1203 % outside the plausible range [-100, 300]"
    ok, details = validation.check_post(rule("arr_growth_rate", "plausible_range"), 14.2, 1977.06, STATE)
    assert not ok and details == "previous window 1977 % outside the plausible range [-100, 300]"
    assert validation.check_post(rule("arr_growth_rate", "plausible_range"), 14.2, 12.0, STATE)[0]


def test_nrr_of_179_percent_is_plausible_but_a_jump_from_105_is_not():
    nrr = {"tenant_id": "t", "kpi_id": "net_revenue_retention"}
    assert validation.check_post(rule("net_revenue_retention", "plausible_range"), 178.95, None, nrr)[0]
    # |178.95 - 105| / max(105, 100) = 70.4 % > 30 %
    ok, details = validation.check_post(rule("net_revenue_retention", "plausible_jump"), 178.95, 105.0, nrr)
    assert not ok and details == "70% change vs the previous window (105 % → 178.9 %, max 30%)"


def test_a_jump_from_zero_or_across_zero_is_measured_against_min_base():
    growth = rule("arr_growth_rate", "plausible_jump")  # max 200 % of max(|previous|, 10)
    # -2 % → +3 %: |5| / 10 = 50 %: plausible (relative to |-2| it would be 250 %)
    assert validation.check_post(growth, 3.0, -2.0, STATE)[0]
    # 0 → 25 %: 25 / 10 = 250 %: blocked (a relative change from 0 is otherwise undefined)
    ok, details = validation.check_post(growth, 25.0, 0.0, STATE)
    assert not ok and details.startswith("250% change")
    # a rule without min_base cannot compare with 0 (as before min_base): it passes, saying so
    bare = Rule(id="bare", type="variance", severity="error", params={"max_change_pct": 50})
    assert validation.check_post(bare, 4.0, 0.0, STATE) == (
        True,
        "0 % → 4 %: no relative change from 0 (no min_base)",
    )
    assert validation.check_post(bare, 4.0, None, STATE) == (True, "no previous value to compare")
