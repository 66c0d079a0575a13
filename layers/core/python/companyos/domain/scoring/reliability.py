"""The seed's reliability cascade: service → domain (weighted by service weight) → company (mean of
the domains), each service scored by the share of its error budget left.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from companyos.domain import slo
from companyos.domain.kpis import KpiDictionary, load_dictionary
from companyos.domain.scoring.combine import (
    Combined,
    Part,
    clamp,
    combine,
    dimension_result,
    input_result,
    min_known,
)
from companyos.domain.scoring.results import DimensionResult, InputResult


class ServiceReliability(BaseModel):
    """One service of the seed's cascade. `slo_attainment` is the seed's service-level
    `1 - (error_budget_consumed / error_budget_total)` (a ratio; None = no data)."""

    model_config = ConfigDict(frozen=True)

    service: str
    domain: str
    weight: float = Field(default=1.0, gt=0)
    slo_attainment: float | None

    @classmethod
    def from_budget(
        cls, service: str, domain: str, consumed: float, total: float, weight: float = 1.0
    ) -> ServiceReliability:
        att = None if total <= 0 else 1.0 - consumed / total
        return cls(service=service, domain=domain, weight=weight, slo_attainment=att)

    @classmethod
    def from_counts(
        cls, service: str, domain: str, good: float, total: float, objective: float, weight: float = 1.0
    ) -> ServiceReliability:
        att = slo.error_budget_remaining(good, total, objective)
        return cls(service=service, domain=domain, weight=weight, slo_attainment=att)

    @property
    def score(self) -> float | None:
        """0-100: the share of error budget left; an overspent budget scores 0."""
        return None if self.slo_attainment is None else clamp(100.0 * self.slo_attainment)


def reliability_cascade(
    services: Sequence[ServiceReliability],
    domains: Sequence[str] | None = None,
    *,
    dictionary: KpiDictionary | None = None,
) -> DimensionResult:
    """Seed cascade: service -> domain (weighted by service weight) -> company (mean of domains).

    `domains` names domains that must count even when none of their services reported.
    """
    d = dictionary or load_dictionary()
    names = list(dict.fromkeys([*(domains or ()), *(s.domain for s in services)]))
    per_domain = [_domain(name, [s for s in services if s.domain == name], d) for name in names]
    parts = [
        Part(name, 1.0 / len(names), c.score, c.known_weight)
        for name, (c, _) in zip(names, per_domain, strict=True)
    ]
    combined = combine(parts, min_known(d))
    inputs = [
        input_result(p, combined, children=children, missing=c.missing, reason=c.reason)
        for p, (c, children) in zip(parts, per_domain, strict=True)
    ]
    return dimension_result("reliability", "service_cascade", combined, inputs, d)


def _domain(
    name: str, services: Sequence[ServiceReliability], d: KpiDictionary
) -> tuple[Combined, list[InputResult]]:
    parts = [Part(s.service, s.weight, s.score) for s in services]
    if not parts:
        return Combined(None, 0.0, {}, [], f"domain {name} has no services reporting"), []
    c = combine(parts, min_known(d))
    children = [
        input_result(p, c, value=s.slo_attainment, reason=None if p.score is not None else "no SLO data")
        for p, s in zip(parts, services, strict=True)
    ]
    return c, children
