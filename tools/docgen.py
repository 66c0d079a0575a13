"""Generate `docs/kpi-dictionary.md` from the KPI pack, so the documented dictionary cannot drift.

    python -m tools.docgen > docs/kpi-dictionary.md      (or: make docs)

A unit test compares the committed file with this generator's output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import cast

from companyos.domain.kpis import (
    DEFAULT_PACK,
    DIMENSIONS,
    Dimension,
    DimensionSpec,
    Direction,
    KpiDefinition,
    KpiDictionary,
)
from companyos.domain.kpis import load_dictionary as _load
from companyos.domain.verdict import Band, band, three_way

# The seed's "Security Scoring Formula", verbatim (kpi-health-model.md v0.1.0). `scoring.SECURITY_TERMS`
# implements it; a unit test evaluates this text and compares it with `scoring.security_score`.
SECURITY_FORMULA = """Security Score = (
  (100 - min(critical_cve_age_days * 10, 100)) * 0.30 +
  vuln_sla_compliance_pct * 0.25 +
  abac_coverage_pct * 0.20 +
  (100 - min(secret_violations * 50, 100)) * 0.15 +
  compliance_control_pct * 0.10
)"""

# The formula's variable for each security KPI of the pack.
SECURITY_VARIABLES: dict[str, str] = {
    "critical_cve_age": "critical_cve_age_days",
    "vuln_sla_compliance": "vuln_sla_compliance_pct",
    "abac_policy_coverage": "abac_coverage_pct",
    "secret_scan_violations": "secret_violations",
    "compliance_score": "compliance_control_pct",
}

_METHODS: dict[str, str] = {
    "weighted_inputs": (
        'weighted sum of its inputs (the seed\'s "Cascading Metrics"); each input is the mean of its '
        "KPIs' normalised scores"
    ),
    "security_formula": "the seed's security scoring formula, on the raw KPI values (not normalised scores)",
}


def _spec(d: KpiDictionary, name: str) -> DimensionSpec:
    return d.dimensions[cast(Dimension, name)]


def _num(x: float) -> str:
    return f"{x:g}"


def _pct(w: float) -> str:
    return f"{w * 100:g}%"


def _hours(seconds: int) -> str:
    return f"{seconds / 3600:g} h"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _threshold(k: KpiDefinition, value: float) -> str:
    return k.format_value(value) if k.unit != "percent" else f"{_num(value)}%"


def _weighted_sum(terms: Iterable[tuple[float, str]]) -> str:
    return " + ".join(f"{w:.2f} * {name}" for w, name in terms)


def _bands() -> list[str]:
    """The status bands, read back from `verdict.band` over integer scores 0-100."""
    rows = []
    for b in Band:
        scores = [s for s in range(101) if band(s) is b]
        if scores:
            low, high = min(scores), max(scores)
            rows.append((f"{low}-{high}", b.label, three_way(b), "yes" if b.is_healthy else "no"))
    rows.append(("not computable", Band.UNKNOWN.label, three_way(Band.UNKNOWN), "no"))
    return _table(("Score", "Band", "Seed status", "Counts as healthy"), rows)


def _overview(d: KpiDictionary) -> list[str]:
    dims = [_spec(d, name) for name in DIMENSIONS]
    n = d.normalisation
    floor, known, full = n.critical_floor, n.min_known_weight, n.full_coverage
    target, stretch = n.target_score, n.stretch_score
    return [
        "## Composite",
        "",
        "```",
        "Composite = " + _weighted_sum((s.weight, s.name) for s in dims),
        "```",
        "",
        *_table(
            ("Dimension", "Weight", "Method", "Inputs"),
            ((s.name, _pct(s.weight), f"`{s.method}`", str(len(s.inputs))) for s in dims),
        ),
        "",
        *_bands(),
        "",
        "## Normalisation",
        "",
        "Each KPI value is scored 0-100 on a line through four anchors: its ideal value → 100, its "
        f"stretch value → {_num(stretch)} (Excellent), its target → {_num(target)} (Healthy), its "
        f"critical threshold → {_num(floor)}; linear in between; worse than critical → linear from "
        f"{_num(floor)} down to 0 over the KPI's decay span (default |target - critical|), then 0. "
        "So a KPI that misses its target is never Healthy. Stretch defaults to half the "
        "target-critical distance beyond the target, ideal to as far again beyond stretch (the "
        "table lists both). A missing, non-finite or stale value is **Unknown**: never 0, never 100.",
        "",
        "```",
        f"between critical and target: score = {_num(floor)} + {_num(target - floor)} * "
        "|value - critical| / |target - critical|",
        f"between target and stretch:  score = {_num(target)} + {_num(stretch - target)} * "
        "|value - target| / |stretch - target|",
        f"between stretch and ideal:   score = {_num(stretch)} + {_num(100 - stretch)} * "
        "|value - stretch| / |ideal - stretch|",
        f"worse than critical:         score = max(0, {_num(floor)} * (1 - |value - critical| / span))",
        "```",
        "",
        "Every weighted mean (KPIs into an input, inputs into a dimension, services into a domain, "
        "domains into reliability, dimensions into the composite) is taken over its known parts and "
        "re-weighted to their weight. Its coverage is the measured share of its weight (a part "
        f"counts with its own coverage). Under {_pct(known)} coverage it is Unknown, with the reason; "
        f'under {_pct(full)} its band is capped at Attention and it says "partial: N % measured, '
        'missing …".',
        "",
    ]


def _dimension(d: KpiDictionary, name: str) -> list[str]:
    spec = _spec(d, name)
    out = [f"### {spec.name} ({_pct(spec.weight)} of the composite)", "", f"Method: {_METHODS[spec.method]}."]
    if spec.method == "security_formula":
        variables = ", ".join(f"`{v}` = `{k}`" for k, v in SECURITY_VARIABLES.items())
        out += [
            "",
            "```",
            SECURITY_FORMULA,
            "```",
            "",
            f"Variables: {variables}. Each term is clamped to 0-100.",
        ]
    else:
        out += ["", "```", f"{spec.name} = " + _weighted_sum((i.weight, i.id) for i in spec.inputs), "```"]
    if name == "reliability":
        out += [
            "",
            "With per-service SLO data the dimension is the seed's cascade instead: service score = "
            "100 * (1 - error_budget_consumed / error_budget_total), clamped to 0-100; domain = mean of "
            "its services weighted by service weight; reliability = mean of the domains. The inputs "
            "below are the fallback when only company-level KPIs are known.",
        ]
    kpis = {k.id: k.name for k in d.all()}
    rows = (
        (f"`{i.id}`", _pct(i.weight), ", ".join(f"{kpis[k]} (`{k}`)" for k in i.kpis)) for i in spec.inputs
    )
    return [*out, "", *_table(("Input", "Weight", "Fed by"), rows), ""]


def _kpi_row(k: KpiDefinition, d: KpiDictionary) -> tuple[str, ...]:
    trend = f"yes: MoM change of {k.base_unit}" if k.trend else "no"
    better = "higher" if k.direction is Direction.HIGHER else "lower"
    refresh = d.refresh_classes[k.refresh]
    return (
        f"`{k.id}`",
        k.name,
        k.definition,
        k.unit,
        better,
        _threshold(k, k.target),
        _threshold(k, k.critical),
        _threshold(k, k.stretch_value),
        _threshold(k, k.ideal_value),
        trend,
        k.source,
        f"{k.refresh} (stale after {_hours(refresh.stale_after_s)})",
        k.retention_class,
    )


def _kpis(d: KpiDictionary) -> list[str]:
    header = (
        "KPI",
        "Name",
        "Definition",
        "Unit",
        "Better",
        "Target",
        "Critical",
        "Stretch",
        "Ideal",
        "Trend",
        "Source",
        "Refresh",
        "Retention",
    )
    out = [f"## KPIs ({len(d.kpis)})", ""]
    for name in DIMENSIONS:
        out += [
            f"### {_spec(d, name).name}",
            "",
            *_table(header, (_kpi_row(k, d) for k in d.by_dimension(name))),
        ]
        out.append("")
    spans = [k for k in d.all() if k.decay_span is not None]
    for k in spans:
        out.append(
            f"- `{k.id}`: target and critical coincide; past them the score decays to 0 over {_num(k.span)}."
        )
    fed = {kpi for spec in d.dimensions.values() for i in spec.inputs for kpi in i.kpis}
    shown = [f"`{k}`" for k in d.ids() if k not in fed]
    if shown:
        out.append(f"- Shown, but feeding no dimension score: {', '.join(shown)}.")
    out.append(
        "- Trend KPIs are scored on the month-over-month change in percent; target and critical are on "
        "that change."
    )
    return [*out, ""]


def _classes(d: KpiDictionary) -> list[str]:
    refresh = ((name, f"{c.interval_s} s", _hours(c.stale_after_s)) for name, c in d.refresh_classes.items())
    retention = (
        (name, f"{c.raw_days} d", f"{c.aggregated_days} d", c.rollup)
        for name, c in d.retention_classes.items()
    )
    return [
        "## Refresh classes",
        "",
        *_table(("Class", "Interval", "Stale after"), refresh),
        "",
        "## Retention classes",
        "",
        *_table(("Class", "Raw", "Aggregated", "Rollup"), retention),
    ]


def render(d: KpiDictionary, pack: str = DEFAULT_PACK) -> str:
    """The whole document, as Markdown."""
    lines = [
        "<!-- Generated from companyos/domain/packs/" + pack + " by `python -m tools.docgen`"
        " (make docs). Do not edit: a unit test fails when this file and the pack differ. -->",
        "",
        "# KPI dictionary",
        "",
        f"Pack `{d.pack}` version **{d.version}**, from the seed {d.seed}. {len(d.kpis)} primary KPIs in "
        f"{len(d.dimensions)} dimensions. How the scores are explained: `docs/health-model.md`.",
        "",
        *_overview(d),
        "## Dimensions",
        "",
    ]
    for name in DIMENSIONS:
        lines += _dimension(d, name)
    lines += [*_kpis(d), *_classes(d)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    pack = args[0] if args else DEFAULT_PACK
    sys.stdout.write(render(_load(pack), pack))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
