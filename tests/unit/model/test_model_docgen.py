"""docs/kpi-dictionary.md is generated from the pack (`make docs`) and cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from companyos.domain.kpis import load_dictionary
from companyos.domain.scoring import security_score
from hypothesis import given, settings
from hypothesis import strategies as st

from tools import docgen

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "kpi-dictionary.md"
SEED = ROOT.parent / "shared" / "spec" / "kpi-health-model.md"
D = load_dictionary()


def test_the_committed_kpi_dictionary_is_the_generators_output():
    # Given the pack / When the dictionary is generated / Then it is what is committed
    assert DOC.read_text(encoding="utf-8") == docgen.render(D), (
        "docs/kpi-dictionary.md is stale: run make docs"
    )


def test_main_prints_the_document(capsys):
    assert docgen.main([]) == 0
    assert capsys.readouterr().out == docgen.render(D)


def test_every_kpi_and_every_dimension_input_is_documented_with_the_pack_version():
    doc = docgen.render(D)
    assert f"version **{D.version}**" in doc
    for k in D.all():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{k.id}` | {k.name} |"))
        assert all(cell in row for cell in (k.definition, k.unit, k.source, k.refresh, k.retention_class))
    for spec in D.dimensions.values():
        assert f"### {spec.name} ({spec.weight * 100:g}% of the composite)" in doc
        for i in spec.inputs:
            assert f"| `{i.id}` | {i.weight * 100:g}% |" in doc


def test_the_documented_security_formula_is_the_seeds_verbatim():
    if not SEED.is_file():
        pytest.skip("the seed (../shared/spec/kpi-health-model.md) is not available")
    assert docgen.SECURITY_FORMULA in SEED.read_text(encoding="utf-8")
    assert set(docgen.SECURITY_VARIABLES) == {i.id for i in D.dimensions["security"].inputs}


def _evaluate(formula: str, variables: dict[str, float]) -> float:
    expression = re.sub(r"^Security Score =", "", formula).strip()
    return float(eval(expression, {"__builtins__": {}, "min": min}, variables))  # the doc's own text


@settings(max_examples=50, deadline=None)
@given(
    days=st.floats(0, 30),
    vuln=st.floats(0, 100),
    abac=st.floats(0, 100),
    secrets=st.integers(0, 5),
    compliance=st.floats(0, 100),
)
def test_the_documented_security_formula_computes_what_the_code_computes(
    days, vuln, abac, secrets, compliance
):
    # Given valid raw inputs / When the documented formula text is evaluated
    variables = dict(
        zip(docgen.SECURITY_VARIABLES.values(), (days, vuln, abac, secrets, compliance), strict=True)
    )
    documented = _evaluate(docgen.SECURITY_FORMULA, variables)
    # Then it equals the security dimension score
    assert security_score(days, vuln, abac, secrets, compliance).score == pytest.approx(documented)
