"""The built-in contract pack is valid data: every contract is computable and fits the dictionary."""

from __future__ import annotations

import pytest
from companyos.domain import kpis
from companyos.runs import contracts, delivery, formulas
from companyos.runs.contracts import Contract
from pydantic import ValidationError

BASE = {
    "kpi_id": "x",
    "version": "1.0.0",
    "sources": [{"source_type": "signal", "kind": "deployment", "object": "github"}],
    "formula": {"builtin": "deployment_frequency"},
    "sla": {"max_duration_s": 60},
    "schedule": {"schedule_class": "daily", "cron": "cron(0 2 * * ? *)"},
}


def test_every_pack_contract_has_a_registered_formula_a_dictionary_kpi_and_a_known_schedule():
    from companyos import topology

    classes = {s.schedule_class: s.expression for s in topology.SCHEDULES}
    dictionary = kpis.load_dictionary()
    for c in contracts.load_pack().contracts:
        assert c.formula.builtin in formulas.BUILTINS, c.kpi_id
        assert dictionary.get(c.kpi_id).refresh == c.schedule_class, c.kpi_id
        assert classes[c.schedule_class] == c.schedule_cron, c.kpi_id
        assert c.pre_rules and c.post_rules, c.kpi_id


def test_the_two_walking_skeleton_kpis_keep_their_contracts():
    # 2.0.0: DORA's definitions (issue #14); CFR reads the incidents it links to deployments
    assert contracts.get("deployment_frequency").version == "2.0.0"
    assert set(contracts.consumers_of("deployment")) >= {"deployment_frequency", "change_failure_rate"}
    assert "change_failure_rate" in contracts.consumers_of("incident")
    assert "mttr" in contracts.of_schedule("realtime")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pre_rules": [{"id": "r", "type": "vibes", "severity": "error"}]}, "unknown pre-validation rule"),
        ({"formula": {"builtin": "a", "sql": "SELECT 1"}}, "either `builtin` or `sql`"),
        ({"formula": {"sql": "SELECT 1", "aggregate": "ratio"}}, "needs `numerator`"),
        ({"extensions": ["budget_vs_actual"]}, "needs params.budget"),
        ({"version": "v1"}, "String should match pattern"),
    ],
)
def test_invalid_contracts_are_refused_with_a_reason(change, message):
    with pytest.raises(ValidationError, match=message):
        Contract.model_validate({**BASE, **change})


def test_verdicts_from_the_dictionary_and_from_contract_bands():
    # The run's verdict is the one verdict model's band (the word the cockpit shows):
    # deployment frequency target 10/day, critical 1/day, stretch 14.5, ideal 19
    df = contracts.get("deployment_frequency")
    assert [delivery.verdict(df, v) for v in (20, 12, 10, 5, 1, 0.5, None)] == [
        # 100; 80 + 10 * 2 / 4.5 = 84.4; 80; 40 + 40 * 4 / 9 = 57.8; 40 (the floor); 40 * (1 - 0.5 / 9)
        "Excellent", "Healthy", "Healthy", "Warning", "Warning", "Critical", None,
    ]  # fmt: skip
    secrets = contracts.get("secret_scan_violations")  # target 0 = critical 0, decay span 2
    assert (delivery.verdict(secrets, 0), delivery.verdict(secrets, 1)) == ("Excellent", "Critical")
    banded = Contract.model_validate(
        {**BASE, "verdict_bands": [{"label": "Adequate", "max": 2}, {"label": "Critical", "min": 2}]}
    )
    assert (delivery.verdict(banded, 1.9), delivery.verdict(banded, 2)) == ("Adequate", "Critical")


def test_sql_is_rendered_with_date_literals_and_hashed_whitespace_insensitively():
    from datetime import date

    from companyos.adapters import lake

    sql = "SELECT day FROM cur WHERE day BETWEEN {start} AND {end}"
    assert lake.render(sql, date(2024, 1, 1), date(2024, 1, 7)).endswith(
        "BETWEEN DATE '2024-01-01' AND DATE '2024-01-07'"
    )
    assert lake.sql_hash(sql) == lake.sql_hash(sql.replace(" ", "  ")) != lake.sql_hash(sql + " LIMIT 1")
