"""The admin API's request bodies (pydantic models: validated by the resolver, in the OpenAPI spec)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StringConstraints

HHMM = r"^(?:[01]\d|2[0-3]):[0-5]\d$"  # a wall-clock time of day, 00:00 … 23:59
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _sane(moment: datetime) -> datetime:
    """A timestamp a person meant: time-zone aware (pydantic refuses naive ones) and in 2000 … 2099."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError("must be between 2000-01-01 and 2099-12-31")
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_sane)]
Entity = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Write(BaseModel):
    reason: str = Field(default="", max_length=1000)
    expected_revision: int | None = Field(default=None, description="optimistic lock: 409 when it moved")


class DraftIn(Write):
    contract: dict[str, Any] | None = Field(
        default=None, description="full contract; omitted: copy the newest"
    )
    version: str | None = Field(default=None, pattern=r"^\d+\.\d+\.\d+$")
    name: str | None = None
    purpose: str | None = None
    pack: str | None = None
    layer: Literal["primary", "secondary", "composite"] | None = None
    owner: str | None = None
    criticality: Literal["low", "medium", "high"] | None = None


class MetaIn(Write):
    name: str | None = None
    purpose: str | None = None
    pack: str | None = None
    layer: Literal["primary", "secondary", "composite"] | None = None
    owner: str | None = None
    criticality: Literal["low", "medium", "high"] | None = None


class ContractIn(Write):
    contract: dict[str, Any]


class EnvIn(Write):
    env: Literal["dev", "stg", "prod"]


class PauseIn(Write):
    entities: list[Entity] = Field(default_factory=list, max_length=500, description="empty: every entity")
    starts_at: Moment | None = Field(default=None, description="ISO 8601 with a UTC offset")
    ends_at: Moment | None = Field(default=None, description="ISO 8601 with a UTC offset")
    eta: str | None = Field(default=None, max_length=200, description="shown on the maintenance badge")


class ResumeIn(Write):
    pause_id: str | None = Field(default=None, description="omitted: lift every pause of the KPI")


class CanaryIn(EnvIn):
    percent: int = Field(ge=0, le=100)
    entities: list[str] = Field(default_factory=list)


class EditIn(Write):
    preview: bool = Field(default=False, description="only return the impact preview")


class ScheduleIn(EditIn):
    schedule_class: str


class SlaIn(EditIn):
    max_duration_s: float = Field(ge=0)
    finish_by: str | None = Field(default=None, pattern=HHMM, description="HH:MM UTC")


class ValidationIn(EditIn):
    pre_rules: list[dict[str, Any]] | None = None
    post_rules: list[dict[str, Any]] | None = None


class DeprecateIn(Write):
    grace_days: int = Field(default=30, ge=0, le=3650)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1000)


class WindowIn(BaseModel):
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(max_length=7, description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=HHMM, description="HH:MM UTC, 00:00 … 23:59")
    end: str = Field(
        pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$", description="HH:MM UTC; 24:00 = midnight"
    )
    reason: str = Field(default="", max_length=1000, description="required: why the window changes")


class DeepLinksIn(Write):
    """A tenant's trace and log URL templates (Admin → Integrations); an omitted or empty template
    removes that link. Checked by the use case: https only, known placeholders, bounded length."""

    trace_system: Literal["tempo", "xray"] | None = Field(
        default=None, description="Grafana Tempo / AWS X-Ray"
    )
    trace_url_template: str | None = Field(
        default=None, max_length=8192, description="https URL with {{service}}, {{start_ms}}, … placeholders"
    )
    log_system: Literal["loki", "cloudwatch"] | None = Field(
        default=None, description="Grafana Loki / CloudWatch Logs Insights"
    )
    log_url_template: str | None = Field(default=None, max_length=8192)
