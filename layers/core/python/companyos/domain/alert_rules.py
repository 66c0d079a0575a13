"""The alert pack as data: rules, the persona severity matrix, channels and escalation routes.

`packs/alerts-v1.yaml` is validated by pydantic when loaded. Tenants tune a rule's threshold, `for`
duration or enablement (`RuleTuning`, validated against the rule) and edit their escalation routes;
`effective_rules()` applies a tenant's tuning to the shipped pack.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from companyos.domain import packs

DEFAULT_PACK = "alerts-v1.yaml"

Severity = Literal["critical", "high", "warning", "medium", "info"]
Channel = Literal["sms", "pagerduty", "email", "slack"]
Op = Literal["<", "<=", ">", ">=", "==", "!="]
Source = Literal["kpi", "health", "dimension", "metric", "signal", "run", "slo_burn", "row"]
SEVERITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "warning": 2, "medium": 3, "info": 4}
DASHBOARD_PERSONAS = ("ceo", "cto", "ciso", "ops", "product")

_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str | int | float) -> int:
    """ "30s", "5m", "1h", "3d" (or a number of seconds) → seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return int(text)
    m = _DURATION.match(str(text).strip())
    if not m:
        raise ValueError(f"'{text}' is not a duration like 30s, 5m, 1h or 3d")
    return int(m.group(1)) * _UNIT_S[m.group(2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalSelector(_Frozen):
    """The newest signal per `key` attribute within `lookback`; the sample is its `field`, or
    nothing (condition false) once a `closed_field` reaches one of `closed_values`."""

    kind: str
    key: str
    field: str
    lookback_s: int = Field(default=86400, gt=0)
    closed_field: str | None = None
    closed_values: tuple[str, ...] = ()
    label: str = "key"


class RowSelector(_Frozen):
    """Breakdown rows a KPI run delivered (the snapshot's `panels[panel].items`, each with its run
    as evidence): one sample per row, labelled `label: row[key]`, valued `row[field]`; `where_field`
    / `where_values` keep only the rows whose field is one of the values (e.g. severity critical).
    `rows` names the panel's list the rows come from (`items`, else e.g. the per-segment counts
    `segments` of the accounts at risk)."""

    panel: str
    field: str
    rows: str = Field(default="items", pattern=r"^[a-z][a-z_]*$")
    key: str = "id"
    label: str = "row"
    where_field: str | None = None
    where_values: tuple[str, ...] = ()


class Route(_Frozen):
    persona: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # a dashboard persona or a team
    channels: tuple[Channel, ...] = Field(min_length=1)


class Inhibit(_Frozen):
    """While this rule fires, `rule` is suppressed for alerts with equal values of `equal` labels."""

    rule: str
    equal: tuple[str, ...] = ()


class Rule(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*$")
    summary: str  # format string: {value} {threshold} {op} and every label
    source: Source
    metric: str = ""  # kpi id / dimension id / metric name / run outcome; unused for health
    op: Op
    threshold: float | str | bool
    for_s: int = Field(default=0, ge=0)
    severity: Severity
    dimension: str  # one of the five health dimensions, "company" or "platform"
    persona: str = Field(pattern=r"^(ceo|cto|ciso|ops|product)$")  # the drill-down dashboard
    alert_type: str | None = None  # a row of the severity matrix
    routes: tuple[Route, ...] = ()  # the persona block's delivery; notified with the matrix row
    burn: Literal["page", "ticket"] | None = None  # slo_burn: which multiwindow rules count
    signal: SignalSelector | None = None
    row: RowSelector | None = None
    inhibits: tuple[Inhibit, ...] = ()
    period: str = "7d"
    seed: str = ""  # where the rule comes from (spec and condition as written there)

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: Any) -> Any:
        if isinstance(data, dict) and "for" in data:
            data = {**data, "for_s": parse_duration(data["for"])}
            data.pop("for")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.alert_type is None and not self.routes:
            raise ValueError(f"{self.id}: give its matrix row (alert_type), its own routes, or both")
        if self.source == "slo_burn" and self.burn is None:
            raise ValueError(f"{self.id}: slo_burn rules name the burn severity (page or ticket)")
        if self.source == "signal" and self.signal is None:
            raise ValueError(f"{self.id}: signal rules need a signal selector")
        if (self.source == "row") != (self.row is not None):
            raise ValueError(f"{self.id}: row rules, and only they, name their delivered rows")
        if self.source not in ("health", "signal", "slo_burn", "row") and not self.metric:
            raise ValueError(f"{self.id}: a {self.source} rule names its metric")
        if self.op not in ("==", "!=") and not isinstance(self.threshold, int | float):
            raise ValueError(f"{self.id}: ordering operators need a numeric threshold")
        return self

    @property
    def sample_key(self) -> tuple[str, str]:
        """The (source, metric) of the samples this rule reads."""
        if self.source == "slo_burn":
            return (self.source, str(self.burn))
        if self.source == "signal" and self.signal is not None:
            return (self.source, f"{self.signal.kind}.{self.signal.field}")
        if self.source == "row" and self.row is not None:
            sel = self.row
            where = f"[{sel.where_field}={'|'.join(sel.where_values)}]" if sel.where_field else ""
            rows = "" if sel.rows == "items" else f".{sel.rows}"
            return (self.source, f"{self.row.panel}{rows}{where}.{self.row.field}")
        return (self.source, self.metric)


class ChannelSpec(_Frozen):
    send_resolved: bool = True
    max_chars: int | None = None


class EscalationStep(_Frozen):
    after_s: int = Field(ge=0)
    notify: str = Field(pattern=r"^[a-z][a-z0-9_]*$")

    @model_validator(mode="before")
    @classmethod
    def _after(cls, data: Any) -> Any:
        if isinstance(data, dict) and "after" in data:
            data = {**data, "after_s": parse_duration(data["after"])}
            data.pop("after")
        return data


class Repeat(_Frozen):
    """After the last level, the last target is paged again every `after` while the alert fires
    unacknowledged, at most `times` times (PagerDuty's "repeat this policy")."""

    after_s: int = Field(ge=60, le=86400)
    times: int = Field(ge=1, le=24)

    @model_validator(mode="before")
    @classmethod
    def _after(cls, data: Any) -> Any:
        if isinstance(data, dict) and "after" in data:
            data = {**data, "after_s": parse_duration(data["after"])}
            data.pop("after")
        return data


class EscalationRoute(_Frozen):
    """A PagerDuty-style route: alerts matching severity and dimension page `receiver`, then each
    step's target `after` the alert fired unless it was acknowledged (or resolved) before; then,
    with `repeat`, the last target again at that interval."""

    severity: Severity
    dimension: str
    receiver: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    escalation: tuple[EscalationStep, ...] = ()
    repeat: Repeat | None = None

    @field_validator("escalation")
    @classmethod
    def _increasing(cls, steps: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        afters = [s.after_s for s in steps]
        if afters != sorted(afters) or len(set(afters)) != len(afters):
            raise ValueError("escalation steps must be in strictly increasing order of 'after'")
        return steps


class EscalationRoutes(_Frozen):
    routes: tuple[EscalationRoute, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> Self:
        keys = [(r.severity, r.dimension) for r in self.routes]
        if len(keys) != len(set(keys)):
            raise ValueError("two escalation routes match the same severity and dimension")
        return self

    def match(self, severity: str, dimension: str) -> EscalationRoute | None:
        return next((r for r in self.routes if r.severity == severity and r.dimension == dimension), None)


class AlertPack(_Frozen):
    @model_validator(mode="before")
    @classmethod
    def _grouping(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("grouping"), dict):
            data = {**data, "group_interval_s": parse_duration(data["grouping"].get("interval", 0))}
            data.pop("grouping")
        return data

    pack: Literal["alerts"]
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    personas: tuple[str, ...]
    channels: dict[Channel, ChannelSpec]
    matrix: dict[str, dict[str, Channel]]  # alert type -> persona -> channel ("-" cells omitted)
    rules: tuple[Rule, ...]
    escalation: EscalationRoutes
    runtime_anomaly: dict[str, float] = Field(default_factory=dict)
    # Alertmanager's group_interval: after a message of a rule, the rule's alerts that fire (or
    # resolve) within this many seconds wait and go out together, in one message, when it ends
    group_interval_s: int = Field(default=300, ge=0, le=3600)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate rule ids")
        for r in self.rules:
            if r.alert_type is not None and r.alert_type not in self.matrix:
                raise ValueError(f"{r.id}: alert type '{r.alert_type}' is not a row of the matrix")
            for inh in r.inhibits:
                if inh.rule not in ids:
                    raise ValueError(f"{r.id} inhibits unknown rule '{inh.rule}'")
        for row, cells in self.matrix.items():
            unknown = set(cells) - set(self.personas)
            if unknown:
                raise ValueError(f"matrix row {row}: unknown personas {sorted(unknown)}")
        return self

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def rules_reading(self, kpi_id: str) -> list[Rule]:
        """The rules whose input a KPI's runs produce: its delivered value (kpi rules), the rows it
        delivers (row rules over its panels), its run outcomes (run rules read every KPI's)."""
        from companyos.domain.panel_runs import PANEL_RUNS

        def reads(r: Rule) -> bool:
            if r.source == "kpi":
                return r.metric == kpi_id
            if r.source == "row" and r.row is not None:
                return kpi_id in PANEL_RUNS.get(r.row.panel, ())
            return r.source == "run"

        return [r for r in self.rules if reads(r)]

    def routes_of(self, rule: Rule) -> list[tuple[str, str]]:
        """(persona, channel) pairs the rule notifies: the union of its severity-matrix row and its
        own routes (the persona block's `delivery` of the spec), the matrix's first."""
        matrix = list(self.matrix[rule.alert_type].items()) if rule.alert_type is not None else []
        own = [(r.persona, c) for r in rule.routes for c in r.channels]
        return list(dict.fromkeys([*matrix, *own]))


class RuleTuning(_Frozen):
    """A tenant's change to one rule. Absent fields keep the shipped value."""

    threshold: float | str | bool | None = None
    for_s: int | None = Field(default=None, ge=0, le=7 * 86400)
    enabled: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _durations(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("for") is not None:
            data = {**data, "for_s": parse_duration(data["for"])}
            data.pop("for")
        return data


def tune(rule: Rule, tuning: RuleTuning) -> Rule:
    """The rule with a tenant's tuning applied; the result is re-validated as a whole."""
    changes = tuning.model_dump(exclude_none=True, exclude={"enabled"})
    if "threshold" in changes and type(changes["threshold"]) is not type(rule.threshold):
        if isinstance(rule.threshold, bool) or isinstance(changes["threshold"], bool):
            raise ValueError(f"{rule.id}: threshold must be a {type(rule.threshold).__name__}")
        if isinstance(rule.threshold, str) or isinstance(changes["threshold"], str):
            raise ValueError(f"{rule.id}: threshold must be a {type(rule.threshold).__name__}")
    return Rule.model_validate({**rule.model_dump(), **changes})


def effective_rules(pack: AlertPack, tunings: dict[str, RuleTuning]) -> list[Rule]:
    """The pack's rules with a tenant's tuning applied, disabled rules left out."""
    out = []
    for r in pack.rules:
        t = tunings.get(r.id)
        if t is not None and t.enabled is False:
            continue
        out.append(tune(r, t) if t is not None else r)
    return out


def parse_pack(text: str) -> AlertPack:
    return packs.parse(AlertPack, text)


@cache
def load_pack(name: str = DEFAULT_PACK) -> AlertPack:
    return parse_pack(packs.text("companyos.domain", name))
