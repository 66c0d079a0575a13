"""The admin API's request bodies (pydantic models: validated by the resolver, in the OpenAPI spec)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


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
    entities: list[str] = Field(default_factory=list, description="empty: every entity")
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    eta: str | None = Field(default=None, description="shown on the maintenance badge")


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
    finish_by: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")


class ValidationIn(EditIn):
    pre_rules: list[dict[str, Any]] | None = None
    post_rules: list[dict[str, Any]] | None = None


class DeprecateIn(Write):
    grace_days: int = Field(default=30, ge=0, le=3650)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1000)


class WindowIn(BaseModel):
    days: list[int] = Field(description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")
    reason: str = ""
