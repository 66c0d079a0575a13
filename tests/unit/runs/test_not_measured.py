"""A KPI of the dictionary that no built-in contract computes is Unknown with what it still needs;
the list of those reasons follows the contract packs (a KPI that gains a contract leaves it)."""

from __future__ import annotations

from companyos.domain import kpis
from companyos.runs import contracts
from companyos.views.snapshots import NOT_MEASURED, not_measured_reason


def test_every_kpi_without_a_contract_says_what_it_still_needs():
    dictionary = kpis.load_dictionary()
    without = {d.id for d in dictionary.kpis if d.id not in contracts.CONTRACTS}
    assert without == set(NOT_MEASURED)
    for kpi_id in without:
        reason = not_measured_reason(dictionary.get(kpi_id))
        assert reason.startswith("not measured yet: needs "), reason


def test_a_kpi_with_a_contract_has_no_not_measured_reason():
    assert not set(NOT_MEASURED) & set(contracts.CONTRACTS)
