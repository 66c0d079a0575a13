"""Silences (Alertmanager-style) and maintenance: why an alert's notifications are held back.

A silence mutes the alerts its matchers select (every matcher must equal: `rule` the rule id, any
other name an alert label — `kpi`, `service`, `severity` of a row, `incident`…) between `starts_at`
and `ends_at`, with its author and reason. A KPI paused for maintenance mutes the rules that read it
(its value, the rows its runs deliver, its run outcomes). A muted alert still changes state and is
shown, with why; its notifications are recorded as silenced, never sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from companyos.domain.alert_engine import Alert
from companyos.domain.alert_rules import AlertPack

MAX_SPAN = timedelta(days=90)  # a longer silence is a disabled rule: tune it instead
MATCHER_NAME = r"^[a-z][a-z0-9_]{0,39}$"


class SilenceIn(BaseModel):
    """A silence as an operator writes it."""

    model_config = ConfigDict(extra="forbid")

    matchers: dict[str, str] = Field(min_length=1, max_length=8, description="rule, or any alert label")
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=500)

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for name, v in value.items():
            if not re.match(MATCHER_NAME, name):
                raise ValueError(f"matcher name {name[:40]!r} is not a label name (a-z, 0-9, _)")
            if not v or len(v) > 200:
                raise ValueError(f"matcher {name}: the value must be 1-200 characters")
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a silence needs a reason")
        return value.strip()


class Silence(BaseModel):
    silence_id: str
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    author: str
    created_at: datetime
    expired_at: datetime | None = None  # ended early by hand (kept: why alerts were muted stays shown)
    expired_by: str | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.ends_at - self.starts_at > MAX_SPAN:
            raise ValueError(f"a silence lasts at most {MAX_SPAN.days} days; disable the rule instead")
        return self

    def active(self, now: datetime) -> bool:
        ended = self.ends_at if self.expired_at is None else min(self.ends_at, self.expired_at)
        return self.starts_at <= now < ended

    def state_at(self, now: datetime) -> str:
        if self.active(now):
            return "active"
        return "pending" if now < self.starts_at and self.expired_at is None else "expired"

    def matches(self, alert: Alert) -> bool:
        def value(name: str) -> str | None:
            if name == "rule":
                return alert.rule_id
            if name == "tenant":
                return alert.tenant_id
            return alert.labels.get(name)

        return all(value(k) == v for k, v in self.matchers.items())

    def why(self) -> dict[str, Any]:
        return {
            "by": "silence",
            "silence_id": self.silence_id,
            "reason": self.reason,
            "author": self.author,
            "until": self.ends_at.isoformat(),
            "matchers": dict(self.matchers),
        }


def kpis_of(pack: AlertPack, alert: Alert) -> set[str]:
    """The KPIs whose runs produce the alert's input (its label `kpi`, or the rule's KPI/rows)."""
    try:
        rule = pack.rule(alert.rule_id)
    except KeyError:
        return set()
    from companyos.domain.panel_runs import PANEL_RUNS

    found = {alert.labels["kpi"]} if "kpi" in alert.labels else set()
    if rule.source == "kpi":
        found.add(rule.metric)
    if rule.source == "row" and rule.row is not None:
        found |= set(PANEL_RUNS.get(rule.row.panel, ()))
    return found


def muted(
    pack: AlertPack,
    alert: Alert,
    silences: Iterable[Silence],
    paused: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> dict[str, Any] | None:
    """Why the alert's notifications are held back right now (the first active matching silence,
    else the maintenance pause of a KPI it reads), or None."""
    for s in silences:
        if s.active(now) and s.matches(alert):
            return s.why()
    for kpi in sorted(kpis_of(pack, alert)):
        if kpi in paused:
            p = paused[kpi]
            return {"by": "maintenance", "kpi": kpi, "reason": p.get("reason", ""), "until": p.get("ends_at")}
    return None


def pauses_in_force(pauses: Iterable[Mapping[str, Any]], now: datetime) -> dict[str, Mapping[str, Any]]:
    """KPI → the pause in force at `now` that mutes its alerts: a global or time-window pause (an
    entity-scoped pause holds back only those entities' runs, so it does not mute the KPI's rules)."""
    from companyos.domain.clock import utc

    out: dict[str, Mapping[str, Any]] = {}
    for p in pauses:
        if p.get("scope") == "entities":
            continue
        start = p.get("starts_at")
        end = p.get("ends_at")
        if start and now < utc(datetime.fromisoformat(str(start))):
            continue
        if end and now >= utc(datetime.fromisoformat(str(end))):
            continue
        out.setdefault(str(p["kpi_id"]), p)
    return out
