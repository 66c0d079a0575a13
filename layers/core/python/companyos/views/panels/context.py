"""What every panel builder reads and answers with: the snapshot of one tenant and period (`Ctx`:
its stored rows, the previous period's health, trends), model notes in words a reader knows, the
drill-down a panel item opens, and the `not_built` answer with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any
from urllib.parse import quote

from companyos.domain import kpis, scoring, verdict
from companyos.domain.layouts import Panel

NO_SNAPSHOT = "no score snapshot has been computed for this tenant yet"
INCIDENT_SOURCE = "PagerDuty incident ingestion"  # what the incident panels show when fed


@dataclass(frozen=True)
class Ctx:
    tenant_id: str
    period: str
    snapshot: dict[str, Any] | None

    @property
    def computed_at(self) -> str | None:
        return (self.snapshot or {}).get("computed_at")

    def rows(self, key: str) -> dict[str, Any] | None:
        """Stored panel rows of the snapshot, or None when the refresh stored none for this key."""
        entry = ((self.snapshot or {}).get("panels") or {}).get(key)
        return entry if isinstance(entry, dict) else None

    @cached_property
    def previous_health(self) -> scoring.HealthResult | None:
        """The previous period's health, scored by the model from the previous-period values the
        snapshot's KPI entries carry (None without a snapshot)."""
        entries = (self.snapshot or {}).get("kpis") or {}
        if not entries:
            return None
        return scoring.health({k: e.get("previous") for k, e in entries.items()})

    def previous_of(self, node: str) -> tuple[float | None, float] | None:
        """(score, coverage) of the composite or a dimension over the previous period: as the
        refresh judged it (`health.previous`), or, for a snapshot written before it stored one,
        scored by the model from the KPI entries' previous values."""
        stored = ((self.snapshot or {}).get("health") or {}).get("previous")
        if isinstance(stored, dict) and node in stored:
            return stored[node]["score"], stored[node]["known_weight"]
        prev = self.previous_health
        if prev is None:
            return None
        if node == "composite":
            return prev.composite.score, prev.composite.known_weight
        found = next((d for d in prev.composite.dimensions if d.dimension == node), None)
        return (found.score, found.known_weight) if found else None

    def trend(self, node: str, score: float | None, coverage: float | None) -> dict[str, Any] | None:
        """The change of a score against the previous period, or why it is no trend: a previous
        score measured on a share of its weight more than 10 points away is "coverage changed"."""
        prev = self.previous_of(node)
        if score is None or prev is None:
            return None
        prev_score, prev_cov = prev
        if prev_score is None:
            return {
                "previous": None,
                "change": None,
                "comparable": False,
                "known_weight": coverage,
                "previous_known_weight": prev_cov,
                "note": "no score for the previous period",
            }
        comparable = verdict.comparable(coverage, prev_cov)
        note = None
        if not comparable:
            now_pct = "?" if coverage is None else f"{100 * coverage:.0f} %"
            note = f"coverage changed: {100 * prev_cov:.0f} % → {now_pct} measured, not a trend"
        return {
            "previous": prev_score,
            "change": score - prev_score if comparable else None,
            "comparable": comparable,
            "known_weight": coverage,
            "previous_known_weight": prev_cov,
            "note": note,
        }

    def breakdown_evidence(self, node: str) -> dict[str, Any]:
        return {
            "type": "score",
            "computed_at": self.computed_at,
            "model_version": ((self.snapshot or {}).get("health") or {}).get("model_version"),
            "node": node,
            "href": f"/api/scores/breakdown?tenant={quote(self.tenant_id)}&period={self.period}",
        }


# Inputs of the health model that are not KPIs, where their id does not spell them
_INPUT_NAMES = {
    "nrr": "NRR",
    "nps_normalized": "NPS (normalised)",
    "dora_metrics_score": "DORA metrics score",
}


@cache
def _names(with_dimensions: bool) -> tuple[re.Pattern[str], dict[str, str]]:
    d = kpis.load_dictionary()
    names = {
        i.id: _INPUT_NAMES.get(i.id) or i.id.replace("_", " ").capitalize()
        for dim in d.dimensions.values()
        for i in dim.inputs
    }
    names.update({k.id: k.name for k in d.all()})
    if with_dimensions:
        names.update({k: v.name for k, v in d.dimensions.items()})
    ids = sorted(names, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, ids)) + r")\b"), names


def plain(text: str | None, with_dimensions: bool = False) -> str | None:
    """A model's note in words a reader knows: KPI and input ids become their names
    ("missing gross_margin" → "missing Gross Margin"); with `with_dimensions` (the composite's
    notes, which list dimensions) dimension ids too."""
    if not text:
        return text
    pattern, names = _names(with_dimensions)
    return pattern.sub(lambda m: names[m.group(1)], text)


def drill(kind: str, ident: str = "") -> dict[str, str]:
    return {"kind": kind, "id": ident}


def not_built_reason(panel: Panel, data: dict[str, Any] | None) -> str:
    """Why a panel whose source exists shows nothing: the tenant has not sent that data, or its
    run did not deliver (the run's own reason) — never "not built", the source is."""
    if data and data.get("reason"):
        return f"No data yet: {data['reason']} (source: {panel.needs})."
    return f"No data yet: nothing has arrived from {panel.needs}."


def not_built(panel: Panel, reason: str) -> dict[str, Any]:
    return {"kind": "not_built", "intended_kind": panel.kind, "reason": reason, "items": []}
